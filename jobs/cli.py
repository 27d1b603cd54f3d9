"""The `corpusforge` command line: one command per stage of jobs/registry.py, generated with the
same flags everywhere, plus `run` (every stage in order, accepting every stage's options) and the tools.

Configuration and input problems are reported in one line naming the key or path and the fix,
before Spark starts, with exit status 2; a stage that cannot keep its contract exits with 1.
Nothing here is imported by a stage: stages know nothing of the command line.
"""
from __future__ import annotations

import inspect
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from corpusforge.conf import Config, ConfigError, load_config
from corpusforge.jobs.registry import NAMES, STAGES
from corpusforge.jobs.stage import InputError, Stage, StageFailed

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="corpusforge: Common Crawl WARC files to clean LLM pretraining text, on Spark.")

ConfOption = Annotated[Optional[Path], typer.Option(
    "--conf", help="YAML file merged over conf/default.yaml (default: the bundled conf/local.yaml).")]
SetOption = Annotated[Optional[list[str]], typer.Option(
    "--set", help="Override one key, e.g. --set format.max_html_bytes=2000000 (repeatable).")]
OutputOption = Annotated[str, typer.Option("--output", help="Output directory (local path, s3://, hdfs://…).")]
MoreInputs = Annotated[Optional[list[str]], typer.Argument(
    help="More inputs, so that `--input a.warc.gz b.warc.gz` and shell globs work.", show_default=False)]


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
    from corpusforge.jobs.session import build_session  # imported late: --help must not start a JVM

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


# ---------------------------------------------------------------------------------------------- stages

def _option_parameters(stages: tuple[Stage, ...]) -> list[inspect.Parameter]:
    """The extra options of the given stages as command parameters (str, default None)."""
    params, seen = [], {}
    for s in stages:
        for option in s.options:
            if seen.setdefault(option.name, s.name) != s.name:
                raise RuntimeError(f"option {option.flag} is declared by both {seen[option.name]} and {s.name}")
            params.append(inspect.Parameter(option.name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                            annotation=Annotated[Optional[str], typer.Option(option.flag, help=option.help)]))
    return params


def _command(function, params: list[inspect.Parameter], doc: str):
    """`function(**values)` as a typer command whose options are `params` (built at import time from
    the registry, so a new stage gets its command without a line here)."""
    def command(**values):
        return function(**values)
    command.__signature__ = inspect.Signature(params)
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = doc
    return command


def _common_parameters(input_help: str) -> list[inspect.Parameter]:
    kw = inspect.Parameter.KEYWORD_ONLY
    return [
        inspect.Parameter("output", kw, annotation=OutputOption),
        inspect.Parameter("inputs", kw, default=None,
                          annotation=Annotated[Optional[list[str]], typer.Option("--input", help=input_help)]),
        inspect.Parameter("more_inputs", kw, default=None, annotation=MoreInputs),
    ]


def _config_parameters() -> list[inspect.Parameter]:
    kw = inspect.Parameter.KEYWORD_ONLY
    return [inspect.Parameter("conf", kw, default=None, annotation=ConfOption),
            inspect.Parameter("sets", kw, default=None, annotation=SetOption)]


def run_one_stage(stage: Stage, output: str, inputs: Optional[list[str]], more_inputs: Optional[list[str]],
                  conf: Optional[Path], sets: Optional[list[str]], **options: Any) -> None:
    """`corpusforge <stage>`: the stage's checks (conf first, then the input), then Spark, then the stage."""
    from corpusforge.jobs.stage import run_stage

    cfg = load(conf, sets)
    source = [*(inputs or []), *(more_inputs or [])]
    options = stage.with_defaults(options)
    with refused(ConfigError, InputError):
        stage.check(cfg, options)
        if not source:
            raise InputError(f"--input is required ({stage.input_help})")
        stage.input_identity(cfg, source, options)
    with spark_for(cfg) as spark:
        report(run_stage(spark, cfg, stage, source, output, options))


def _register_stage(stage: Stage) -> None:
    params = _common_parameters(stage.input_help) + _option_parameters((stage,)) + _config_parameters()
    app.command(stage.name)(_command(lambda **v: run_one_stage(stage, **v), params, stage.summary))


def run_pipeline_command(output: str, inputs: Optional[list[str]], more_inputs: Optional[list[str]],
                         first: Optional[str], last: Optional[str], conf: Optional[Path], sets: Optional[list[str]],
                         **options: Any) -> None:
    """`corpusforge run`: every stage's checks before Spark starts, then the stages in order."""
    from corpusforge.jobs.pipeline import check_start_up, run_pipeline

    cfg = load(conf, sets)
    every_input = [*(inputs or []), *(more_inputs or [])]
    first, last = first or NAMES[0], last or NAMES[-1]
    with refused(InputError, ConfigError):
        check_start_up(cfg, every_input, output, first, last, options)
    with spark_for(cfg) as spark:
        summary = run_pipeline(spark, cfg, every_input, output, first, last, options)
    typer.echo(json.dumps({"funnel": summary["funnel"], "final": summary["final"],
                           "seconds": summary["seconds"]}, indent=2))


def _register_run() -> None:
    kw = inspect.Parameter.KEYWORD_ONLY
    params = _common_parameters(f"Inputs of the first stage, as for `{NAMES[0]}` (needed unless --from names a "
                                f"later stage).") + [
        inspect.Parameter("first", kw, default=None, annotation=Annotated[Optional[str], typer.Option(
            "--from", help=f"First stage to run (default: {NAMES[0]}).")]),
        inspect.Parameter("last", kw, default=None, annotation=Annotated[Optional[str], typer.Option(
            "--to", help=f"Last stage to run (default: {NAMES[-1]}).")]),
    ] + _option_parameters(STAGES) + _config_parameters()
    doc = ("Run the stages in order into OUTPUT/<stage>, then OUTPUT/final (JSONL), stats.json and report.html.\n\n"
           "Rerunning skips every stage already finished with the same input and configuration.")
    app.command("run")(_command(run_pipeline_command, params, doc))


for _stage in STAGES:
    _register_stage(_stage)
_register_run()


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
    from corpusforge.jobs.clean import find_document
    from corpusforge.udfs.cleaning import Cleaner, explain, settings_from_conf
    from corpusforge.udfs.language import detect_language
    from corpusforge.udfs.urls import host_of

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


@app.command("calibrate")
def calibrate_command(
    labels: Annotated[str, typer.Option("--labels", help="JSONL of judged pages: warc_file, warc_record_id, label keep|remove, reason.")],
    input_dir: Annotated[str, typer.Option("--input", help="Format output holding the labelled pages.")],
    output: Annotated[str, typer.Option("--output", help="Conf overlay (YAML) to write: the proposed thresholds.")],
    report_file: Annotated[Optional[str], typer.Option("--report", help="Also write every figure as JSON here.")] = None,
    conf: ConfOption = None,
    sets: SetOption = None,
):
    """Calibrate Clean's thresholds per language and site on labelled pages; write them as a conf overlay."""
    from corpusforge.jobs import calibrate

    cfg = load(conf, sets)
    with refused(InputError, ConfigError):
        out = calibrate.run(cfg, labels, input_dir, output, report_file)
    typer.echo(calibrate.summary(out))


@app.command("inspect")
def inspect_command(
    files: Annotated[list[str], typer.Argument(help="WARC/ARC files, directories, globs or paths files.")],
    extract: Annotated[bool, typer.Option(
        "--extract", help="Also run the extraction, so removed pages show Format's removal reasons (slower).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file, then the total.")] = False,
    conf: ConfOption = None,
    sets: SetOption = None,
):
    """Inspect archives without Spark: record types, HTTP statuses, content types, and what Format does
    with each record (read as is, repaired by kind, removed or skipped by reason, first bytes of the
    unreadable ones) — per file and in total."""
    from corpusforge.jobs.format import format_options
    from corpusforge.jobs.inputs import resolve_warc_inputs
    from corpusforge.jobs.storage import Storage
    from corpusforge.udfs.inspection import Inspection, inspect_archive, render, unreadable

    cfg = load(conf, sets)
    with refused(InputError):
        paths = resolve_warc_inputs(files, cfg.io.storage_options, cfg.format.paths_prefix)
    options, storage, total = format_options(cfg), Storage.of(cfg), Inspection(file="total", files=0)
    for path in paths:
        try:
            with storage.open_binary(path) as stream:
                found = inspect_archive(stream, path, options, extract)
        except OSError as err:
            found = unreadable(path, err)
        total.add(found)
        typer.echo(json.dumps(found.to_dict(), ensure_ascii=False) if as_json else render(found, extract))
    if len(paths) > 1 or as_json:
        typer.echo(json.dumps(total.to_dict(), ensure_ascii=False) if as_json else render(total, extract))


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
    from corpusforge.jobs.training import classifier as train
    from corpusforge.jobs.training.recipes import ClassifierRecipe, RecipeError, Source, load_recipe

    cfg = load(conf, sets)
    with refused(RecipeError, ConfigError):
        if recipe is not None:
            chosen = load_recipe(recipe, ClassifierRecipe)
        elif data:
            chosen = ClassifierRecipe(name=name, output=name, sources=[
                Source(path=d, text=text_column, label=label_column, positive=positive or ["1"],
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
    from corpusforge.jobs.training import fluency
    from corpusforge.jobs.training.recipes import RecipeError

    cfg = load(conf, sets)
    with refused(RecipeError, ConfigError):
        metrics = fluency.run(cfg, fluency.load_fluency_recipe(recipe), data_root, output)
    shown = {k: metrics[k] for k in ("name", "threshold", "threshold_rule", "seconds")}
    shown["split"] = {k: v["examples"] for k, v in metrics["split"].items()}
    for part in ("validation", "test"):
        if part in metrics:
            shown[part] = {"combined_roc_auc": metrics[part]["combined"]["all"]["roc_auc"],
                           **{a: m["vs_clean"]["roc_auc"] for a, m in metrics[part]["aspects"].items()}}
    typer.echo(json.dumps(shown, indent=2, ensure_ascii=False))


@app.command("report")
def report_command(
    run_dir: Annotated[str, typer.Argument(help="Output directory of `corpusforge run`.")],
    conf: ConfOption = None,
    sets: SetOption = None,
):
    """Rebuild RUN_DIR/report.html (and the numbers in RUN_DIR/stats.json) from the stage outputs."""
    from corpusforge.jobs.report import build_report

    cfg = load(conf, sets)
    with spark_for(cfg) as spark:
        data = build_report(spark, cfg, run_dir, NAMES)
    typer.echo(f"corpusforge: wrote {run_dir.rstrip('/')}/report.html ({len(data['stages'])} stages)")


def main(argv: list[str] | None = None) -> None:
    app(args=argv if argv is not None else sys.argv[1:], prog_name="corpusforge")
