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


def load(conf: Optional[Path], sets: Optional[list[str]]) -> Config:
    try:
        return load_config(conf, sets or [])
    except ConfigError as err:
        typer.echo(f"corpusforge: {err}", err=True)
        raise typer.Exit(2) from None


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
    with spark_for(cfg) as spark:
        report(format_stage.run(spark, cfg, every_input, output))


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
    from jobs.pipeline import STAGES, run_pipeline

    cfg = load(conf, sets)
    every_input = [*(inputs or []), *(more_inputs or [])]
    first, last = first or STAGES[0], last or STAGES[-1]
    if first == STAGES[0] and not every_input:
        typer.echo("corpusforge: --input is required when the run starts at format.", err=True)
        raise typer.Exit(2)
    with spark_for(cfg) as spark:
        summary = run_pipeline(spark, cfg, every_input, output, first, last)
    typer.echo(json.dumps({"funnel": summary["funnel"], "final": summary["final"],
                           "seconds": summary["seconds"]}, indent=2))


def main(argv: list[str] | None = None) -> None:
    app(args=argv if argv is not None else sys.argv[1:], prog_name="corpusforge")


if __name__ == "__main__":
    main()
