"""The stages of `corpusforge run`, in pipeline order. The runner, the command line (one command per
stage) and the run report read this tuple: adding a stage is one module and one line here."""
from __future__ import annotations

from corpusforge.jobs.clean import CleanStage
from corpusforge.jobs.dedup import DedupStage
from corpusforge.jobs.format import FormatStage
from corpusforge.jobs.longtext import LongTextStage
from corpusforge.jobs.quality import QualityStage
from corpusforge.jobs.safety import SafetyStage
from corpusforge.jobs.stage import InputError, Stage

STAGES: tuple[Stage, ...] = (FormatStage(), CleanStage(), DedupStage(), SafetyStage(), QualityStage(),
                             LongTextStage())
NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)


def stage(name: str) -> Stage:
    for s in STAGES:
        if s.name == name:
            return s
    raise InputError(f"unknown stage {name!r}. Fix: use one of {', '.join(NAMES)}.")
