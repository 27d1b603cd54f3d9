"""The `corpusforge` command line: one command per stage, same flags everywhere.

Configuration and input problems are reported in one line naming the key or path and the fix,
before Spark starts, with exit status 2; a stage that cannot keep its contract exits with 1.
"""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import typer

from jobs.config import Config, ConfigError, load_config
from jobs.stage_io import InputError, StageFailed

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="corpusforge: Common Crawl WARC files to clean LLM pretraining text, on Spark.")

ConfOption = Annotated[Optional[Path], typer.Option(
    "--conf", help="YAML file merged over conf/default.yaml (default: the bundled conf/local.yaml).")]
SetOption = Annotated[Optional[list[str]], typer.Option(
    "--set", help="Override one key, e.g. --set format.max_html_bytes=2000000 (repeatable).")]
OutputOption = Annotated[str, typer.Option("--output", help="Output directory (local path, s3://, hdfs://…).")]


@app.callback()
def corpusforge() -> None:
    """corpusforge: Common Crawl WARC files to clean LLM pretraining text, on Spark."""


@contextmanager
def refused(*errors: type[Exception]):
    """A user-facing error (bad conf, bad input, bad recipe) becomes one clear line and exit status 2."""
    try:
        yield
    except errors as err:
        typer.echo(f"corpusforge: {err}", err=True)
        raise typer.Exit(2) from None


def load(conf: Optional[Path], sets: Optional[list[str]]) -> Config:
    with refused(ConfigError):
        return load_config(conf, sets or [])


@contextmanager
def spark_for(cfg: Config):
    """A SparkSession for one command; user-facing errors become one clear line and an exit status."""
    from jobs.session import build_session  # imported late: --help must not start a JVM

    spark = None
    try:
        spark = build_session(cfg)
        typer.echo(f"corpusforge: Spark UI at {spark.sparkContext.uiWebUrl}", err=True)
        yield spark
    except (InputError, ConfigError) as err:
        typer.echo(f"corpusforge: {err}", err=True)
        raise typer.Exit(2) from None
    except StageFailed as err:
        typer.echo(f"corpusforge: stage failed: {err}", err=True)
        raise typer.Exit(1) from None
    finally:
        if spark is not None:
            spark.stop()


def report(stats: dict) -> None:
    shown = {k: v for k, v in stats.items() if k not in ("files",)}
    typer.echo(json.dumps(shown, indent=2, ensure_ascii=False))


@app.command("format")
def format_command(
    output: OutputOption,
    inputs: Annotated[Optional[list[str]], typer.Option(
        "--input", help="WARC/ARC files, directories, globs or paths files (warc.paths.gz); local, http(s)://, s3://")] = None,
    more_inputs: Annotated[Optional[list[str]], typer.Argument(
        help="More inputs, so that `--input a.warc.gz b.warc.gz` and shell globs work.", show_default=False)] = None,
    conf: ConfOption = None,
    sets: SetOption = None,
):
    """Format: WARC records → extracted, language-tagged documents."""
    from jobs import format as format_stage

    cfg = load(conf, sets)
    every_input = [*(inputs or []), *(more_inputs or [])]
    if not every_input:
        typer.echo("corpusforge: --input is required (WARC files, directories, globs or a paths file).", err=True)
        raise typer.Exit(2)
    check_warc_inputs(cfg, every_input)
    with spark_for(cfg) as spark:
        report(format_stage.run(spark, cfg, every_input, output))


def check_warc_inputs(cfg: Config, inputs: list[str]) -> None:
    """A missing input is reported before Spark starts (the run resolves the inputs again)."""
    from jobs.inputs import resolve_warc_inputs

    with refused(InputError):
        resolve_warc_inputs(inputs, cfg.io.storage_options, cfg.format.paths_prefix)


def check_stage_input(cfg: Config, input_dir: str) -> None:
    """A stage input that is not a finished stage output is reported before Spark starts."""
    from jobs.stage_io import read_success

    if read_success(cfg, input_dir) is None:
        typer.echo(f"corpusforge: input {input_dir} is not a finished stage output (no _SUCCESS there). Fix: point "
                   f"--input at the output directory of the previous stage, and run that stage first.", err=True)
        raise typer.Exit(2)


@app.command("clean")
def clean_command(
    output: OutputOption,
    input_dir: Annotated[str, typer.Option("--input", help="Output directory of the previous stage (format).")],
    conf: ConfOption = None,
    sets: SetOption = None,
):
    """Clean: line-level normalisation, then the report's rule families and the Gopher, C4 and FineWeb rules."""
    from jobs import clean as clean_stage

    cfg = load(conf, sets)
    check_stage_input(cfg, input_dir)
    with spark_for(cfg) as spark:
        report(clean_stage.run(spark, cfg, input_dir, output))


@app.command("explain")
def explain_command(
    text: Annotated[Optional[str], typer.Option("--text", help="The document's text.")] = None,
    file: Annotated[Optional[Path], typer.Option("--file", help="A UTF-8 text file holding the document.")] = None,
    doc_id: Annotated[Optional[str], typer.Option("--id", help="A document id, looked up in --input.")] = None,
    input_dir: Annotated[Optional[str], typer.Option(
        "--input", help="A stage output directory to look --id up in (its kept/, then removed/).")] = None,
    language: Annotated[Optional[str], typer.Option(
        "--language", help="CLD2 language code; default: the document's, or detected with pycld2 as Format does.")] = None,
    url: Annotated[Optional[str], typer.Option("--url", help="The page URL, for per-site thresholds.")] = None,
    conf: ConfOption = None,
    sets: SetOption = None,
):
    """Explain: every Clean rule's statistic against its threshold for one document, and the verdict."""
    from jobs.clean import find_document
    from udfs.cleaning import Cleaner, explain, settings_from_conf
    from udfs.language import detect_language
    from udfs.urls import host_of

    cfg = load(conf, sets)
    if sum(x is not None for x in (text, file, doc_id)) != 1:
        typer.echo("corpusforge: give exactly one of --text, --file or --id (with --input).", err=True)
        raise typer.Exit(2)
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            typer.echo(f"corpusforge: cannot read {file}: {err}. Fix: pass a readable UTF-8 text file.", err=True)
            raise typer.Exit(2) from None
    if doc_id is not None:
        if input_dir is None:
            typer.echo("corpusforge: --id needs --input, the stage output directory holding the document.", err=True)
            raise typer.Exit(2)
        doc = find_document(cfg, input_dir, doc_id)
        if doc is None:
            typer.echo(f"corpusforge: no document with id {doc_id} in {input_dir}/kept or {input_dir}/removed.", err=True)
            raise typer.Exit(2)
        typer.echo(f"document {doc_id} ({doc['found_in']} in {input_dir}): {doc.get('url') or '-'}")
        text, url, language = doc["text"], url or doc.get("url"), language or doc.get("language")
    if language is None:
        language = detect_language(text or "")[0]
    host = host_of(url) if url else None
    cleaned = Cleaner(settings_from_conf(cfg.clean.model_dump())).clean(text, language, host, url)
    typer.echo(explain(cleaned, language, host))


@app.command("dedup")
def dedup_command(
    output: OutputOption,
    input_dir: Annotated[str, typer.Option("--input", help="Output directory of the previous stage (clean or format).")],
    index: Annotated[Optional[str], typer.Option(
        "--index", help="index/ of an earlier dedup output: deduplicate against it too (incremental, newest wins).")] = None,
    conf: ConfOption = None,
    sets: SetOption = None,
):
    """Dedup: exact and MinHash-LSH near duplicates removed, the copy from the newest dump kept."""
    from jobs import dedup as dedup_stage

    cfg = load(conf, sets)
    check_stage_input(cfg, input_dir)
    with refused(ConfigError):
        dedup_stage.check_settings(cfg)  # before Spark starts
    with spark_for(cfg) as spark:
        report(dedup_stage.run(spark, cfg, input_dir, output, index=index))


@app.command("safety")
def safety_command(
    output: OutputOption,
    input_dir: Annotated[str, typer.Option("--input", help="Output directory of the previous stage (dedup).")],
    conf: ConfOption = None,
    sets: SetOption = None,
):
    """Safety: block-domain list, block-word lists, toxicity and pornography classifiers."""
    from jobs import safety as safety_stage

    cfg = load(conf, sets)
    with refused(ConfigError):
        safety_stage.check_start_up(cfg)  # unusable lists or models are conf problems: reported first
    check_stage_input(cfg, input_dir)
    with spark_for(cfg) as spark:
        report(safety_stage.run(spark, cfg, input_dir, output))


@app.command("quality")
def quality_command(
    output: OutputOption,
    input_dir: Annotated[str, typer.Option("--input", help="Output directory of the previous stage (safety).")],
    conf: ConfOption = None,
    sets: SetOption = None,
):
    """Quality: advertisement and fluency classifiers, thresholds per language and site."""
    from jobs import quality as quality_stage

    cfg = load(conf, sets)
    with refused(ConfigError):
        quality_stage.check_models(cfg)  # an unusable model is a conf problem: reported first
    check_stage_input(cfg, input_dir)
    with spark_for(cfg) as spark:
        report(quality_stage.run(spark, cfg, input_dir, output))


@app.command("train-classifier")
def train_classifier_command(
    output: OutputOption,
    recipe: Annotated[Optional[Path], typer.Option(
        "--recipe", help="YAML recipe: name, output, sources (path, columns, positive labels, language…).")] = None,
    data: Annotated[Optional[list[str]], typer.Option(
        "--data", help="Labelled JSONL/CSV/TSV file (repeatable), instead of a recipe.")] = None,
    text_column: Annotated[str, typer.Option("--text-column", help="Text column of --data files.")] = "text",
    label_column: Annotated[str, typer.Option("--label-column", help="Label column of --data files.")] = "label",
    positive: Annotated[Optional[list[str]], typer.Option(
        "--positive", help="Label value meaning positive (repeatable); other values are negative.")] = None,
    name: Annotated[str, typer.Option("--name", help="Classifier name (with --data).")] = "classifier",
    language: Annotated[str, typer.Option("--language", help="Language of --data files, for the figures.")] = "und",
    data_root: Annotated[Path, typer.Option("--data-root", help="Base of relative paths in a recipe.")] = Path("."),
    conf: ConfOption = None,
    sets: SetOption = None,
):
    """Train a classifier (frozen-encoder head, or full fine-tuning) and write it with metrics.json."""
    from jobs import train

    cfg = load(conf, sets)
    with refused(train.RecipeError, ConfigError):
        if recipe is not None:
            chosen = train.load_recipe(recipe)
        elif data:
            chosen = train.Recipe(name=name, output=name, sources=[
                train.Source(path=d, text=text_column, label=label_column, positive=positive or ["1"],
                             language=language) for d in data])
        else:
            typer.echo("corpusforge: give --recipe FILE or --data FILE.", err=True)
            raise typer.Exit(2)
        metrics = train.run(cfg, chosen, data_root, output)
    shown = {k: metrics[k] for k in ("name", "mode", "threshold", "target_precision_reached", "split", "seconds")}
    shown["validation"], shown["test"] = metrics["validation"]["all"], (metrics["test"] or {}).get("all")
    typer.echo(json.dumps(shown, indent=2, ensure_ascii=False))


@app.command("train-fluency")
def train_fluency_command(
    output: OutputOption,
    recipe: Annotated[Path, typer.Option(
        "--recipe", help="YAML recipe: fluent-text sources, real pages for boilerplate, passage sizes, combination.")],
    data_root: Annotated[Path, typer.Option("--data-root", help="Base of relative paths in the recipe.")] = Path("."),
    conf: ConfOption = None,
    sets: SetOption = None,
):
    """Train the four-aspect fluency classifier from real fluent text and controlled corruptions of it."""
    from jobs import train_fluency
    from jobs.train import RecipeError

    cfg = load(conf, sets)
    with refused(RecipeError, ConfigError):
        chosen = train_fluency.load_recipe(recipe)
        train_fluency.check(cfg, chosen)
        metrics = train_fluency.run(cfg, chosen, data_root, output)
    shown = {k: metrics[k] for k in ("name", "threshold", "threshold_rule", "seconds")}
    shown["split"] = {k: v["examples"] for k, v in metrics["split"].items()}
    for part in ("validation", "test"):
        if part in metrics:
            shown[part] = {"combined_roc_auc": metrics[part]["combined"]["all"]["roc_auc"],
                           **{a: m["vs_clean"]["roc_auc"] for a, m in metrics[part]["aspects"].items()}}
    typer.echo(json.dumps(shown, indent=2, ensure_ascii=False))


@app.command("run")
def run_command(
    output: OutputOption,
    inputs: Annotated[Optional[list[str]], typer.Option(
        "--input", help="WARC inputs, as for `format` (needed unless --from names a later stage).")] = None,
    more_inputs: Annotated[Optional[list[str]], typer.Argument(help="More inputs.", show_default=False)] = None,
    first: Annotated[Optional[str], typer.Option("--from", help="First stage to run (default: format).")] = None,
    last: Annotated[Optional[str], typer.Option("--to", help="Last stage to run (default: the last).")] = None,
    conf: ConfOption = None,
    sets: SetOption = None,
):
    """Run the stages in order into OUTPUT/<stage>, then OUTPUT/final (JSONL), stats.json and report.html.

    Rerunning skips every stage already finished with the same input and configuration."""
    from jobs.pipeline import STAGES, check_start_up, run_pipeline

    cfg = load(conf, sets)
    every_input = [*(inputs or []), *(more_inputs or [])]
    first, last = first or STAGES[0], last or STAGES[-1]
    with refused(InputError, ConfigError):
        check_start_up(cfg, first, last)  # every stage's settings, models and lists, before Spark starts
    if first == STAGES[0] and not every_input:
        typer.echo("corpusforge: --input is required when the run starts at format.", err=True)
        raise typer.Exit(2)
    if first == STAGES[0]:
        check_warc_inputs(cfg, every_input)
    with spark_for(cfg) as spark:
        summary = run_pipeline(spark, cfg, every_input, output, first, last)
    typer.echo(json.dumps({"funnel": summary["funnel"], "final": summary["final"],
                           "seconds": summary["seconds"]}, indent=2))


@app.command("report")
def report_command(
    run_dir: Annotated[str, typer.Argument(help="Output directory of `corpusforge run`.")],
    conf: ConfOption = None,
    sets: SetOption = None,
):
    """Rebuild RUN_DIR/report.html (and the numbers in RUN_DIR/stats.json) from the stage outputs."""
    from jobs.pipeline import STAGES
    from jobs.report import build_report

    cfg = load(conf, sets)
    with spark_for(cfg) as spark:
        data = build_report(spark, cfg, run_dir, STAGES)
    typer.echo(f"corpusforge: wrote {run_dir.rstrip('/')}/report.html ({len(data['stages'])} stages)")


def main(argv: list[str] | None = None) -> None:
    app(args=argv if argv is not None else sys.argv[1:], prog_name="corpusforge")


if __name__ == "__main__":
    main()
