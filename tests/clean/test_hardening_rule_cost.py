"""No Clean rule is super-linear in the document's length.

Each rule (with the statistics it reads, on a fresh `Measures`, so nothing is cached from another
rule), the normalisation pass and the whole cleaning entry point are timed on adversarial shapes of
growing length n, 2n, 4n, 8n. The growth exponent — the slope of log(time) against log(length) — must
stay near 1 (linear; n log n is ~1.1, quadratic is 2). This is a complexity check, not a speed
assertion: times are the best of k runs of the thread's CPU time (robust to a busy machine), with a
floor under which a time is noise, and a shape that looks super-linear is measured once more with
more repeats before the test fails.

This test found the quadratic sentence-end regex of c4_min_sentences ("!" × 40,000 then a letter took
35 s; it now takes 2 ms).
"""
from __future__ import annotations

import math
import time

import pytest

from corpusforge.conf import load_config
from corpusforge.udfs import clean_rules
from corpusforge.udfs.cleaning import Cleaner, settings_from_conf
from corpusforge.udfs.text_normalise import normalise

CLEANER = Cleaner(settings_from_conf(load_config(None, []).clean.model_dump()))
BASE_CHARS = 2_000
SIZES = (1, 2, 4, 8)
FLOOR_SECONDS = 50e-6          # below this a time is timer and cache noise
MAX_EXPONENT = 1.45            # linear is 1.0, n log n ~1.1, quadratic 2.0


def cycle(unit: str, n: int) -> str:
    return (unit * (n // len(unit) + 1))[:n]


SHAPES = {
    "one_long_line": lambda n: cycle("The quick brown fox jumps over the lazy dog, again; ", n),
    "many_tiny_lines": lambda n: cycle("a\n", n),
    "repeated_punctuation": lambda n: "!" * (n - 1) + "x",      # a run not followed by a space
    "punctuation_soup": lambda n: cycle(".!?…。！？,;:—-=|\"')]】", n),
    "no_spaces": lambda n: cycle("abcdefghijklmnopqrstuvwxyz", n),
    "cjk_prose": lambda n: cycle("这座老桥建于一八九零年横跨河流至今每天仍有车辆通行", n),
    "cjk_sentences": lambda n: cycle("这是一个句子。", n),
    "mojibake": lambda n: cycle("CafÃ© â€™ ", n),
    "separators": lambda n: cycle("-=_*~#+|·•", n),
    "blank_lines": lambda n: cycle("word\n\n\n\n", n),
    "citations": lambda n: cycle("[1][edit][", n),
}
LANGUAGES = ("en", "zh")


def best_time(call, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        started = time.thread_time()
        call()
        best = min(best, time.thread_time() - started)
    return max(best, FLOOR_SECONDS)


def exponent(times: list[float]) -> float:
    """Least-squares slope of log(time) over log(length)."""
    xs = [math.log(s) for s in SIZES]
    ys = [math.log(t) for t in times]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def steps(language: str):
    """name → function(text) timing one step of cleaning a text from scratch."""
    thresholds = CLEANER.overrides.resolve(language).values
    options = CLEANER.settings.normalise

    def rule_step(rule):
        def run(text, normalised):
            rule(clean_rules.Measures(normalised, text, thresholds, language), thresholds)
        return run

    out = {"normalise": lambda text, normalised: normalise(text, options),
           "clean (entry point)": lambda text, normalised: CLEANER.clean(text, language)}
    out.update({rule.__name__: rule_step(rule) for rule in clean_rules.RULES})
    return out


def growth(step, shape, repeats: int) -> tuple[float, list[float]]:
    times = []
    for size in SIZES:
        text = SHAPES[shape](BASE_CHARS * size)
        normalised = normalise(text, CLEANER.settings.normalise)
        times.append(best_time(lambda: step(text, normalised), repeats))
    return exponent(times), times


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_no_rule_is_super_linear(shape, language):
    CLEANER.clean("warm up: character table, jieba dictionary 中文", language)
    too_steep = {}
    for name, step in steps(language).items():
        slope, times = growth(step, shape, repeats=3)
        if slope > MAX_EXPONENT:
            slope, times = growth(step, shape, repeats=9)  # once more, harder, before calling it a failure
            if slope > MAX_EXPONENT:
                too_steep[name] = (round(slope, 2), [f"{t * 1e3:.2f}ms" for t in times])
    assert not too_steep, f"super-linear on {shape} ({language}), n={BASE_CHARS}..{BASE_CHARS * SIZES[-1]}: {too_steep}"
