"""Calibrating Clean's thresholds on pages people judged: per language, per site pattern, per rule.

The report asks for thresholds tailored per language and per domain; the published English defaults
(Gopher, C4, FineWeb) remove good Chinese pages. Here thresholds are fitted to labelled pages —
each judged *keep* or *remove* by a person reading it, never by a rule — as a search that catches the
most remove pages under two caps on false removals (keep pages removed): one per rule, one for all
rules together, each a share of a group's keep pages.

Pages are measured once (every rule's statistic, by Clean's own Cleaner: jobs/calibrate.py);
thresholds only compare, so the search never re-measures. Groups are calibrated one after the other, each changing its own entry of
the override table (udfs/overrides.py), in the order: `default` (the pages of languages too rare to
have their own group), each language with enough pages (a variant such as zh-Hant moves with its
base), each site pattern of conf with enough pages, then each host that dominates a group's keep or
remove pages. A page of a calibrated site pattern is calibrated with that pattern, not its language.

In a group, starting from the current thresholds:
1. every rule that alone removes more keep pages than the per-rule cap is loosened until it does not;
2. while all rules together remove more than the overall cap, the cheapest rescue is made: the keep
   page whose release (loosening every rule that fails it, just enough) loses the fewest remove pages
   per keep page saved;
3. then rules are tightened while that catches at least `min_catches` more remove pages, from at
   least `min_catch_hosts` hosts, at least `min_catches_per_false_removal` per keep page it costs,
   within both caps;
4. every rule that catches remove pages is loosened to the middle of the gap after its last catch.
A host counts for at most `max_pages_per_site` pages of a label in a group (its pages are weighted
down), so one big site cannot decide a language's thresholds; it gets its own proposal instead.
A loosened rule lets through everything up to the next remove page (the same catches, fewer false
removals), and a new threshold is the simplest number (fewest digits) in the gap between the two
pages it separates, closest to the gap's middle, so that it does not hug the last page it lets through.

Calibrate on one half and report on the other: `split_halves` splits by a hash of each page's key,
stratified by language and label, so the figures of the held-out half are of pages the thresholds
were not fitted to. Rules that conf turns off (null) for a group stay off: that is a decision made
by hand (a rule meaningless for a language), not something labels can overturn; so do the rules
listed in `fixed_rules` (guards against failures a labelled sample rarely holds).
"""
from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from corpusforge.udfs.overrides import OverrideTable, Overrides

KEEP, REMOVE = "keep", "remove"
CALIBRATE, HELD_OUT = "calibrate", "held_out"
DEFAULT = "default"


@dataclass(frozen=True)
class LabelledPage:
    """One judged page and every rule's statistic on it (as Clean measures it)."""
    key: str                        # "<WARC file base name>#<WARC-Record-ID>"
    label: str                      # keep | remove
    language: str | None            # CLD2 code, as Format detected it
    host: str | None
    url: str | None
    values: Mapping[str, float]     # rule → its statistic; NaN where the rule does not judge the page
    reason: str | None = None       # the annotator's reason for a remove


@dataclass(frozen=True)
class CalibrationSettings:
    """conf calibration, as plain values (conf/default.yaml documents each)."""
    max_false_removal_per_rule: float
    max_false_removal: float
    cap_floor_pages: float
    min_group_pages: int
    min_site_pages: int
    site_dominance: float
    max_pages_per_site: int
    min_catches: int
    min_catch_hosts: int
    min_catches_per_false_removal: float
    split_seed: str
    fixed_rules: tuple[str, ...]     # rules the search never changes


def settings_from_conf(section: Mapping[str, Any]) -> CalibrationSettings:
    """CalibrationSettings from conf calibration as plain data (Config.calibration.model_dump())."""
    return CalibrationSettings(**{**section, "fixed_rules": tuple(section["fixed_rules"])})


def language_base(language: str | None) -> str:
    """The group of a CLD2 code: its base (zh-Hant → zh); unknown → "un"."""
    return (language or "un").split("-", 1)[0]


def page_key(warc_file: str, warc_record_id: str) -> str:
    return f"{warc_file.rsplit('/', 1)[-1]}#{warc_record_id}"


# ------------------------------------------------------------------------------------------ splitting
def split_halves(pages: Iterable[LabelledPage], seed: str) -> dict[str, str]:
    """page key → CALIBRATE or HELD_OUT: within each (language, label) stratum the pages are ordered by
    a hash of seed and key and dealt alternately, so both halves get the same mix (±1 per stratum)."""
    strata: dict[tuple[str, str], list[str]] = defaultdict(list)
    for page in pages:
        strata[language_base(page.language), page.label].append(page.key)
    split = {}
    for stratum, keys in sorted(strata.items()):
        keys.sort(key=lambda k: hashlib.sha1(f"{seed}\0{k}".encode()).hexdigest())
        first = int(hashlib.sha1(f"{seed}\0{stratum}".encode()).hexdigest(), 16) % 2  # odd strata alternate
        for i, k in enumerate(keys):
            split[k] = CALIBRATE if (i + first) % 2 == 0 else HELD_OUT
    return split


# ------------------------------------------------------------------------------------ simple numbers
def simple_number(lo: float, hi: float, lo_open: bool, hi_open: bool) -> float:
    """The number with the fewest significant digits inside the interval, closest to its middle."""
    def inside(x: float) -> bool:
        return (x > lo if lo_open else x >= lo) and (x < hi if hi_open else x <= hi)

    if hi < lo or (hi == lo and (lo_open or hi_open)):
        raise ValueError(f"empty interval {lo}..{hi}")
    if hi == lo:
        return lo
    middle = (lo + hi) / 2
    top = math.floor(math.log10(hi - lo)) + 1
    for exponent in range(top, top - 16, -1):
        step = 10.0 ** exponent
        found = [x for x in (float(f"{i}e{exponent}") for i in range(math.ceil(lo / step), math.floor(hi / step) + 1))
                 if inside(x)]
        if found:
            return min(found, key=lambda x: (abs(x - middle), x))
    return middle


# --------------------------------------------------------------------------------------- the table
@dataclass
class Table:
    """A mutable copy of an override table: what the search changes, entry by entry."""
    default: dict[str, Any]
    languages: dict[str, dict[str, Any]]
    sites: list[tuple[str, dict[str, Any]]]

    @classmethod
    def of(cls, table: OverrideTable) -> "Table":
        return cls(dict(table.default), {k: dict(v) for k, v in table.languages.items()},
                   [(p, dict(v)) for p, v in table.sites])

    def frozen(self) -> OverrideTable:
        return OverrideTable(dict(self.default), {k: dict(v) for k, v in self.languages.items()},
                             tuple((p, dict(v)) for p, v in self.sites))

    def site(self, pattern: str) -> dict[str, Any]:
        return next(v for p, v in self.sites if p == pattern)


@dataclass(frozen=True)
class Group:
    """A set of pages calibrated together, and the entries of the table it changes."""
    name: str                       # "default", "language:zh", "site:*.github.io"
    kind: str                       # default | language | site
    entries: tuple[str, ...]        # language codes (zh, zh-Hant) or the one site pattern
    keys: tuple[str, ...]           # its pages (calibration half)


@dataclass
class PageIndex:
    """Where each page's thresholds come from: its language entry and the site patterns it matches."""
    entry: dict[str, str | None]
    sites: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, pages: Sequence[LabelledPage], table: Table) -> "PageIndex":
        resolver = Overrides(table.frozen())
        entry, sites = {}, {}
        for page in pages:
            resolved = resolver.resolve(page.language, page.host, page.url)
            entry[page.key], sites[page.key] = resolved.language, resolved.sites
        return cls(entry, sites)


def owner(table: Table, index: PageIndex, key: str, rule: str) -> tuple[str, str | None]:
    """The entry that decides a page's threshold for a rule (the last matching site that sets it,
    else its language entry if it sets it, else the default)."""
    for pattern in reversed(index.sites[key]):
        if rule in table.site(pattern):
            return "site", pattern
    language = index.entry[key]
    if language is not None and rule in table.languages[language]:
        return "language", language
    return DEFAULT, None


def threshold_of(table: Table, where: tuple[str, str | None], rule: str) -> Any:
    kind, name = where
    if kind == "site":
        return table.site(name)[rule]
    if kind == "language":
        return table.languages[name][rule]
    return table.default[rule]


def fails(value: float, bound: str, threshold: float | None) -> bool:
    """The rule's verdict, as udfs/clean_rules.py at_least / at_most decide it (NaN: the rule does not
    judge the page, e.g. stop words in a language without a list)."""
    if threshold is None or value != value:
        return False
    return not (value >= threshold if bound == "min" else value <= threshold)


def evaluate(pages: Sequence[LabelledPage], table: OverrideTable, bounds: Mapping[str, str]) -> dict[str, list[str]]:
    """page key → the rules that remove it under a table (resolved as udfs/overrides.py does)."""
    resolver = Overrides(table)
    out = {}
    for page in pages:
        values = resolver.resolve(page.language, page.host, page.url).values
        out[page.key] = [r for r in bounds if fails(page.values[r], bounds[r], values[r])]
    return out


# -------------------------------------------------------------------------------------- the search
@dataclass
class Move:
    """One change of a group's entry: a rule's new threshold, and why."""
    rule: str
    old: Any
    new: Any
    step: str                       # per_rule_cap | overall_cap | tighten | centre
    note: str = ""


class GroupSearch:
    """The search in one group (see the module docstring), over the pages' statistics as arrays."""

    def __init__(self, group: Group, pages: Mapping[str, LabelledPage], table: Table, index: PageIndex,
                 bounds: Mapping[str, str], limits: Mapping[str, float | None], settings: CalibrationSettings,
                 single_host: bool, decisions: Table):
        self.group, self.table, self.index, self.settings = group, table, index, settings
        self.decisions = decisions   # the table as conf had it, before any group was calibrated
        self.keys = list(group.keys)
        self.rules = [r for r in bounds]
        self.bounds, self.limits = bounds, limits
        members = [pages[k] for k in self.keys]
        self.keep = np.array([p.label == KEEP for p in members])
        self.hosts = [p.host or "" for p in members]
        self.weights = self._weights(members)
        self.values = {r: np.array([p.values[r] for p in members], dtype=float) for r in self.rules}
        self.min_hosts = 1 if single_host else settings.min_catch_hosts
        self.keep_weight = float(self.weights[self.keep].sum())
        self.moves: list[Move] = []
        self.fail = np.zeros((len(self.keys), len(self.rules)), dtype=bool)
        for j, rule in enumerate(self.rules):
            self._refresh(j)

    def _weights(self, members: list[LabelledPage]) -> np.ndarray:
        cap = self.settings.max_pages_per_site
        per_host = Counter((p.host, p.label) for p in members)
        return np.array([min(1.0, cap / per_host[p.host, p.label]) for p in members])

    # --- state ---------------------------------------------------------------------------------
    def movable(self, rule: str) -> np.ndarray:
        """Pages whose threshold for the rule this group's entry decides once it sets the rule."""
        out = np.zeros(len(self.keys), dtype=bool)
        for i, key in enumerate(self.keys):
            where = owner(self.table, self.index, key, rule)
            if self.group.kind == "site":
                sites = self.index.sites[key]
                later = sites[sites.index(self.group.entries[0]) + 1:]
                out[i] = not any(rule in self.table.site(p) for p in later)
            elif where[0] == "site":
                out[i] = False
            elif self.group.kind == "language":
                out[i] = True
            else:
                out[i] = where[0] == DEFAULT
        return out

    def current(self, rule: str) -> Any:
        """The group's threshold for the rule (its entry's value, else what its pages inherit)."""
        kind, entries = self.group.kind, self.group.entries
        if kind == "site" and rule in self.table.site(entries[0]):
            return self.table.site(entries[0])[rule]
        if kind == "language" and rule in self.table.languages[entries[0]]:
            return self.table.languages[entries[0]][rule]
        if kind == "language" or kind == DEFAULT:
            return self.table.default[rule]
        # a site inherits per page; report the most common inherited value
        inherited = Counter(json.dumps(threshold_of(self.table, owner(self.table, self.index, k, rule), rule))
                            for k in self.keys)
        return json.loads(inherited.most_common(1)[0][0]) if inherited else None

    def _refresh(self, j: int) -> None:
        rule = self.rules[j]
        for i, key in enumerate(self.keys):
            limit = threshold_of(self.table, owner(self.table, self.index, key, rule), rule)
            self.fail[i, j] = fails(self.values[rule][i], self.bounds[rule], limit)

    def _set(self, rule: str, value: Any, step: str, note: str) -> None:
        old = self.current(rule)
        if self.group.kind == "site":
            self.table.site(self.group.entries[0])[rule] = value
        elif self.group.kind == "language":
            for entry in self.group.entries:
                self.table.languages[entry][rule] = value
        else:
            self.table.default[rule] = value
        self.fail[:, self.rules.index(rule)] = self._fails_with(rule, value)
        self.moves.append(Move(rule, old, value, step, note))

    def _fails_with(self, rule: str, value: Any) -> np.ndarray:
        j = self.rules.index(rule)
        movable = self.movable(rule)
        column = self.fail[:, j].copy()
        column[movable] = [fails(v, self.bounds[rule], value) for v in self.values[rule][movable]]
        return column

    def tunable(self, rule: str) -> bool:
        """Not fixed, not off, and decided by this group's entry for some page. A site pattern leaves
        alone a rule that conf turned off for some of its pages (a language's decision, e.g. C4's
        sentence count for Chinese): a value set for the site would turn it back on for them."""
        if rule in self.settings.fixed_rules or self.current(rule) is None or not self.movable(rule).any():
            return False
        if self.group.kind == "site" and rule not in self.table.site(self.group.entries[0]):
            decided = self.decisions
            return all(threshold_of(decided, owner(decided, self.index, k, rule), rule) is not None for k in self.keys)
        return True

    # --- figures ---------------------------------------------------------------------------------
    def false_removals(self, fail: np.ndarray | None = None) -> float:
        removed = (self.fail if fail is None else fail).any(axis=1)
        return float(self.weights[removed & self.keep].sum())

    def catches(self, fail: np.ndarray | None = None) -> float:
        removed = (self.fail if fail is None else fail).any(axis=1)
        return float(self.weights[removed & ~self.keep].sum())

    def rule_false_removals(self, rule: str, column: np.ndarray | None = None) -> float:
        column = self.fail[:, self.rules.index(rule)] if column is None else column
        return float(self.weights[column & self.keep].sum())

    # --- cuts: the thresholds that separate the group's pages ----------------------------------------
    def cuts(self, rule: str) -> tuple[list[float], np.ndarray]:
        """The movable pages' distinct values from the most to the least severe (descending for a max
        rule, ascending for a min rule), and for each page its position in that order."""
        values = self.values[rule]
        movable = self.movable(rule) & ~np.isnan(values)
        distinct = sorted(set(values[movable].tolist()), reverse=self.bounds[rule] == "max")
        position = np.full(len(values), -1)
        lookup = {v: i for i, v in enumerate(distinct)}
        for i in np.flatnonzero(movable):
            position[i] = lookup[values[i]]
        return distinct, position

    def threshold_for_cut(self, rule: str, distinct: list[float], removed_groups: int) -> float | None:
        """A threshold that removes exactly the first `removed_groups` distinct values; None (off) where
        the rule would remove nothing at all (a minimum of 0, a share's maximum of 1)."""
        value = self._threshold_for_cut(rule, distinct, removed_groups)
        limit = self.limits.get(rule)
        if (self.bounds[rule] == "min" and value <= 0) or (self.bounds[rule] == "max" and limit is not None
                                                            and value >= limit):
            return None
        return int(value) if float(value).is_integer() else value

    def _threshold_for_cut(self, rule: str, distinct: list[float], removed_groups: int) -> float:
        bound, limit, n = self.bounds[rule], self.limits.get(rule), len(distinct)
        if bound == "max":
            if removed_groups == 0:
                top = distinct[0]
                if all(float(v).is_integer() for v in distinct):   # counts: a whole number, at least the highest
                    return simple_number(top, max(top, math.floor(top * 1.25)), False, False)
                hi = top * 1.25 if top > 0 else 0.0
                if limit is not None:
                    hi = min(hi, limit)
                return top if hi <= top else simple_number(top, hi, True, False)
            lo = distinct[removed_groups] if removed_groups < n else min(0.0, distinct[-1] - 1)
            return simple_number(lo, distinct[removed_groups - 1], False, True)
        if removed_groups == 0:
            low = distinct[0]
            if low <= 0:
                return low
            if all(float(v).is_integer() for v in distinct):   # counts: a whole number, at most the lowest
                return simple_number(math.floor(low * 0.8), low, False, False)
            return simple_number(low * 0.8, low, False, True)
        hi = distinct[removed_groups] if removed_groups < n else distinct[-1] + 1
        return simple_number(distinct[removed_groups - 1], hi, True, False)

    def widened(self, rule: str, position: np.ndarray, cut: int) -> int:
        """A looser cut with the same catches: values that hold no remove page are let through too,
        up to the next remove page, so that the threshold sits in the middle of the gap between the
        junk it still catches and the keep pages it lets through, not at the last keep page seen."""
        junk_positions = set(position[(position >= 0) & ~self.keep].tolist())
        while cut > 0 and cut - 1 not in junk_positions:
            cut -= 1
        return cut

    def current_cut(self, rule: str, distinct: list[float]) -> int:
        """How many of the distinct values the group's current threshold removes."""
        value = self.current(rule)
        return sum(1 for v in distinct if fails(v, self.bounds[rule], value))

    # --- the three steps -------------------------------------------------------------------------
    def run(self) -> list[Move]:
        s = self.settings
        rule_cap = max(s.max_false_removal_per_rule * self.keep_weight, min(s.cap_floor_pages, self.keep_weight))
        overall_cap = max(s.max_false_removal * self.keep_weight, min(s.cap_floor_pages, self.keep_weight))
        for rule in self.rules:
            if self.tunable(rule) and self.rule_false_removals(rule) > rule_cap + 1e-9:
                self._loosen_to_rule_cap(rule, rule_cap)
        while self.false_removals() > overall_cap + 1e-9:
            if not self._rescue_one():
                break
        while self._tighten_one(rule_cap, overall_cap):
            pass
        for rule in self.rules:
            if self.tunable(rule):
                self._centre(rule)
        return self.moves

    def _centre(self, rule: str) -> None:
        """A rule that catches remove pages is loosened to the middle of the gap after the last one it
        catches: the keep pages beyond are let through (its catches stay), and unseen pages close to
        that gap are judged by the gap's middle, not by the last page seen. Never tightened here; a
        rule that catches nothing in the group stays where it is (it guards against junk the sample
        does not hold)."""
        distinct, position = self.cuts(rule)
        cut = self.current_cut(rule, distinct)
        caught = (position >= 0) & (position < cut) & ~self.keep
        if not caught.any():
            return
        last = int(position[caught].max()) + 1
        if last >= len(distinct):   # it removes every page of the group: no gap after it
            return
        value, current = self.threshold_for_cut(rule, distinct, last), self.current(rule)
        looser = value is None or (value > current if self.bounds[rule] == "max" else value < current)
        if looser:
            released = float(self.weights[(position >= last) & (position < cut) & self.keep].sum())
            self._set(rule, value, "centre", f"middle of the gap after its last catch; lets {released:.3g} keep pages through")

    def _loosen_to_rule_cap(self, rule: str, rule_cap: float) -> None:
        distinct, position = self.cuts(rule)
        before = self.rule_false_removals(rule)
        fixed = self.rule_false_removals(rule, self.fail[:, self.rules.index(rule)] & (position < 0))
        for cut in range(self.current_cut(rule, distinct), -1, -1):
            removed_keep = float(self.weights[(position >= 0) & (position < cut) & self.keep].sum())
            if fixed + removed_keep <= rule_cap + 1e-9:
                value = self.threshold_for_cut(rule, distinct, self.widened(rule, position, cut))
                self._set(rule, value, "per_rule_cap",
                          f"alone it removed {before:.3g} keep pages (cap {rule_cap:.3g})")
                return

    def _rescue_one(self) -> bool:
        """Release the keep page whose rescue loses the fewest remove pages per keep page saved."""
        removed = self.fail.any(axis=1)
        fr, caught = self.false_removals(), self.catches()
        best = None
        for i in np.flatnonzero(removed & self.keep):
            changes = {}
            for j in np.flatnonzero(self.fail[i]):
                rule = self.rules[j]
                if not self.tunable(rule):
                    changes = None
                    break
                distinct, position = self.cuts(rule)
                if position[i] < 0:
                    changes = None
                    break
                changes[rule] = self.threshold_for_cut(rule, distinct, self.widened(rule, position, int(position[i])))
            if not changes:
                continue
            trial = self.fail.copy()
            for rule, value in changes.items():
                trial[:, self.rules.index(rule)] = self._fails_with(rule, value)
            saved, lost = fr - self.false_removals(trial), caught - self.catches(trial)
            if saved <= 0:
                continue
            score = (lost / saved, lost, len(changes), self.keys[i])
            if best is None or score < best[0]:
                best = (score, changes, saved, lost, self.keys[i])
        if best is None:
            return False
        _, changes, saved, lost, key = best
        for rule, value in sorted(changes.items()):
            self._set(rule, value, "overall_cap", f"releases {saved:.3g} keep pages ({key}), loses {lost:.3g} catches")
        return True

    def _tighten_one(self, rule_cap: float, overall_cap: float) -> bool:
        s = self.settings
        fr = self.false_removals()
        removed = self.fail.any(axis=1)
        best = None
        for rule in self.rules:
            if not self.tunable(rule):
                continue
            j = self.rules.index(rule)
            distinct, position = self.cuts(rule)
            start = self.current_cut(rule, distinct)
            fixed_rule_fr = self.rule_false_removals(rule, self.fail[:, j] & (position < 0))
            for cut in range(start + 1, len(distinct)):   # never every value: that removes the whole group
                newly = (position >= 0) & (position < cut) & ~removed
                new_catch = newly & ~self.keep
                gain = float(self.weights[new_catch].sum())
                cost = float(self.weights[newly & self.keep].sum())
                if int(new_catch.sum()) < s.min_catches or len({self.hosts[i] for i in np.flatnonzero(new_catch)}) < self.min_hosts:
                    continue
                if gain < s.min_catches_per_false_removal * cost:
                    continue
                rule_fr = fixed_rule_fr + float(self.weights[(position >= 0) & (position < cut) & self.keep].sum())
                if rule_fr > rule_cap + 1e-9 or fr + cost > overall_cap + 1e-9:
                    continue
                score = (-(gain / (cost + 0.1)), -gain, self.rules.index(rule), cut)
                if best is None or score < best[0]:
                    best = (score, rule, cut, distinct, gain, cost)
        if best is None:
            return False
        _, rule, cut, distinct, gain, cost = best
        self._set(rule, self.threshold_for_cut(rule, distinct, cut), "tighten",
                  f"catches {gain:.3g} more remove pages for {cost:.3g} keep pages")
        return True


# -------------------------------------------------------------------------------- the whole calibration
@dataclass
class GroupResult:
    group: Group
    moves: list[Move]
    pages: int
    keep_pages: int
    remove_pages: int


@dataclass
class Calibration:
    """What `calibrate` found: the proposed table, the groups and their moves, the split."""
    before: OverrideTable
    after: OverrideTable
    groups: list[GroupResult]
    split: dict[str, str]
    skipped_groups: dict[str, str] = field(default_factory=dict)   # group → why it was not calibrated


def plan_groups(pages: Sequence[LabelledPage], table: Table, split: Mapping[str, str],
                settings: CalibrationSettings) -> tuple[list[Group], dict[str, str]]:
    """The groups to calibrate, in order, and the groups left out (with why). Adds to `table` the
    empty entries new groups need (a language without an entry, a dominant host)."""
    s = settings
    train = [p for p in pages if split[p.key] == CALIBRATE]
    skipped: dict[str, str] = {}
    index = PageIndex.of(pages, table)

    # site patterns of conf with enough pages (a page belongs to the last calibrated pattern it matches)
    by_pattern: dict[str, list[str]] = defaultdict(list)
    for page in train:
        if index.sites[page.key]:
            by_pattern[index.sites[page.key][-1]].append(page.key)
    site_groups = []
    for pattern, _ in table.sites:
        keys = by_pattern.get(pattern, [])
        if len(keys) >= s.min_site_pages:
            site_groups.append(Group(f"site:{pattern}", "site", (pattern,), tuple(sorted(keys))))
        elif keys:
            skipped[f"site:{pattern}"] = f"{len(keys)} labelled pages < min_site_pages {s.min_site_pages}"
    in_sites = {k for g in site_groups for k in g.keys}

    by_language: dict[str, list[LabelledPage]] = defaultdict(list)
    for page in train:
        if page.key not in in_sites:
            by_language[language_base(page.language)].append(page)
    languages, pool = [], []
    for base, members in sorted(by_language.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(members) >= s.min_group_pages and base != "un":
            languages.append((base, members))
        else:
            pool += members
            if len(members) >= 1:
                skipped[f"language:{base}"] = (f"{len(members)} labelled pages < min_group_pages {s.min_group_pages}"
                                               if base != "un" else "unknown language") + "; calibrated with the default"
    groups = []
    if len(pool) >= s.min_group_pages:
        groups.append(Group(DEFAULT, DEFAULT, (), tuple(sorted(p.key for p in pool))))
    elif pool:
        skipped[DEFAULT] = f"{len(pool)} labelled pages < min_group_pages {s.min_group_pages}"
    dominant = []
    for base, members in languages:
        entries = tuple(sorted({base} | {k for k in table.languages if language_base(k) == base}))
        for entry in entries:
            table.languages.setdefault(entry, {})
        groups.append(Group(f"language:{base}", "language", entries, tuple(sorted(p.key for p in members))))
        dominant += _dominant_hosts(members, s)
    if len(pool) >= s.min_group_pages:
        dominant += _dominant_hosts(pool, s)
    groups += site_groups
    known = {p for p, _ in table.sites}
    for host in dominant:
        if host in known:
            continue
        known.add(host)
        table.sites.append((host, {}))
    if dominant:
        index = PageIndex.of(pages, table)
        for host in dominant:
            keys = tuple(sorted(p.key for p in train if index.sites[p.key] and index.sites[p.key][-1] == host))
            groups.append(Group(f"site:{host}", "site", (host,), keys))
    return groups, skipped


def _dominant_hosts(members: list[LabelledPage], s: CalibrationSettings) -> list[str]:
    out = []
    for label in (KEEP, REMOVE):
        of_label = [p for p in members if p.label == label]
        for host, n in Counter(p.host for p in of_label).most_common():
            if host and n >= s.min_site_pages and n / len(of_label) >= s.site_dominance and host not in out:
                out.append(host)
    return out


def calibrate(pages: Sequence[LabelledPage], table: OverrideTable, bounds: Mapping[str, str],
              settings: CalibrationSettings, limits: Mapping[str, float | None] | None = None,
              split: Mapping[str, str] | None = None) -> Calibration:
    """Fit the table's thresholds to the calibration half of the pages (see the module docstring)."""
    split = dict(split) if split is not None else split_halves(pages, settings.split_seed)
    working = Table.of(table)
    groups, skipped = plan_groups(pages, working, split, settings)
    index = PageIndex.of(pages, working)
    by_key = {p.key: p for p in pages}
    decisions = Table.of(working.frozen())
    _pin_languages(working, groups)
    results = []
    for group in groups:
        search = GroupSearch(group, by_key, working, index, bounds, limits or {}, settings,
                             single_host=group.kind == "site" and "*" not in group.entries[0] and "/" not in group.entries[0],
                             decisions=decisions)
        moves = search.run()
        keep = sum(by_key[k].label == KEEP for k in group.keys)
        results.append(GroupResult(group, moves, len(group.keys), keep, len(group.keys) - keep))
    return Calibration(table, _pruned(working, table), results, split, skipped)


def _pin_languages(table: Table, groups: Sequence[Group]) -> None:
    """A calibrated language owns its thresholds: every rule it inherits from the default is copied
    into its entries, so that calibrating the default (for the other languages) leaves it alone."""
    for group in groups:
        if group.kind == "language":
            for entry in group.entries:
                for rule, value in table.default.items():
                    table.languages[entry].setdefault(rule, value)


def _pruned(working: Table, original: OverrideTable) -> OverrideTable:
    """The working table without what planning added and nothing needed: empty new entries, and
    pinned language values equal to the default."""
    for code, values in working.languages.items():
        old = original.languages.get(code, {})
        for key in [k for k, v in values.items() if k not in old and working.default.get(k) == v]:
            del values[key]
    languages = {k: v for k, v in working.languages.items() if v or k in original.languages}
    sites = tuple((p, v) for p, v in working.sites if v or p in dict(original.sites))
    return OverrideTable(dict(working.default), languages, sites)


# ------------------------------------------------------------------------------------------ figures
def rates(pages: Sequence[LabelledPage], verdicts: Mapping[str, list[str]]) -> dict[str, Any]:
    """Keep pages kept and remove pages removed, with counts."""
    keep = [p for p in pages if p.label == KEEP]
    remove = [p for p in pages if p.label == REMOVE]
    kept = sum(not verdicts[p.key] for p in keep)
    removed = sum(bool(verdicts[p.key]) for p in remove)
    return {"keep_pages": len(keep), "keep_kept": kept, "keep_rate": kept / len(keep) if keep else None,
            "remove_pages": len(remove), "remove_removed": removed,
            "remove_rate": removed / len(remove) if remove else None}


def per_rule(pages: Sequence[LabelledPage], verdicts: Mapping[str, list[str]]) -> dict[str, dict[str, int]]:
    """rule → false removals (keep pages it removes) and catches (remove pages it removes), each rule alone."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"false_removals": 0, "catches": 0})
    for page in pages:
        for rule in verdicts[page.key]:
            out[rule]["false_removals" if page.label == KEEP else "catches"] += 1
    return dict(out)


def report(calibration: Calibration, pages: Sequence[LabelledPage], bounds: Mapping[str, str],
           group_of=lambda page: language_base(page.language)) -> dict[str, Any]:
    """Before/after figures per split and per group of pages (by default, the language base)."""
    before = evaluate(pages, calibration.before, bounds)
    after = evaluate(pages, calibration.after, bounds)
    out: dict[str, Any] = {}
    for part in (CALIBRATE, HELD_OUT):
        chosen = [p for p in pages if calibration.split[p.key] == part]
        groups: dict[str, list[LabelledPage]] = defaultdict(list)
        for page in chosen:
            groups[group_of(page)].append(page)
        groups["all"] = chosen
        out[part] = {name: {"before": rates(members, before), "after": rates(members, after),
                            "rules_before": per_rule(members, before), "rules_after": per_rule(members, after)}
                     for name, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))}
    return out


# ----------------------------------------------------------------------------------------- overlay
def overlay_entries(calibration: Calibration) -> dict[str, dict[str, dict[str, Any]]]:
    """What changed, as conf's clean.thresholds layout: only the keys whose value differs."""
    before, after = calibration.before, calibration.after
    default = {k: v for k, v in after.default.items() if before.default.get(k) != v}
    languages = {}
    for code, values in after.languages.items():
        old = before.languages.get(code, {})
        changed = {k: v for k, v in values.items() if k not in old or old[k] != v}
        if changed:
            languages[code] = changed
    sites = {}
    old_sites = dict(before.sites)
    for pattern, values in after.sites:
        old = old_sites.get(pattern, {})
        changed = {k: v for k, v in values.items() if k not in old or old[k] != v}
        if changed or pattern not in old_sites:
            sites[pattern] = changed
    return {"default": default, "languages": languages, "sites": sites}


def _yaml_scalar(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def render_overlay(calibration: Calibration, header: Sequence[str], figures: Mapping[str, Any] | None = None) -> str:
    """The proposal as a conf file (YAML) to review and pass with --conf: every changed threshold with
    its old value and the step that changed it, every group with its pages."""
    entries = overlay_entries(calibration)
    moves: dict[tuple[str, str], list[Move]] = defaultdict(list)
    notes: dict[str, GroupResult] = {}
    for result in calibration.groups:
        for entry in result.group.entries or (DEFAULT,):
            notes[entry] = result
            for move in result.moves:
                moves[entry, move.rule].append(move)
    lines = [f"# {line}" if line else "#" for line in header]
    if calibration.skipped_groups:
        lines.append("# not calibrated (too few labelled pages):")
        lines += [f"#   {g}: {why}" for g, why in sorted(calibration.skipped_groups.items())]
    lines += ["clean:", "  thresholds:"]

    def block(indent: str, name: str, entry: str, changed: Mapping[str, Any]) -> None:
        result = notes.get(entry)
        if result is not None:
            lines.append(f"{indent}# {result.group.name}: calibrated on {result.pages} pages "
                         f"({result.keep_pages} keep, {result.remove_pages} remove)")
        if not changed:
            lines.append(f"{indent}{name} {{}}")
            return
        lines.append(f"{indent}{name}")
        for key, value in changed.items():
            history = moves.get((entry, key), [])
            if not history:   # a calibrated language keeps the value the default had
                lines.append(f"{indent}  {key}: {_yaml_scalar(value)}   # kept: the default changes for the other languages")
                continue
            why = "; ".join(f"{m.step}: {m.note}" for m in history[-2:])
            lines.append(f"{indent}  {key}: {_yaml_scalar(value)}   # was {_yaml_scalar(history[0].old)}; {why}")

    if entries["default"]:
        block("    ", "default:", DEFAULT, entries["default"])
    if entries["languages"]:
        lines.append("    languages:")
        for code, changed in entries["languages"].items():
            block("      ", f"{_yaml_scalar(code)}:", code, changed)
    if entries["sites"]:
        lines.append("    sites:")
        for pattern, changed in entries["sites"].items():
            block("      ", f"{_yaml_scalar(pattern)}:", pattern, changed)
    if not (entries["default"] or entries["languages"] or entries["sites"]):
        lines.append("    {}")
    return "\n".join(lines) + "\n"
