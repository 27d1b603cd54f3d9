"""Training data for the fluency classifier: real fluent passages and controlled corruptions of them.

The report's annotators scored fluency on four aspects — consistency, noise, information content and
grammar. No such labels are public, so every example here is a real, fluent passage (a gold main
text of an article page or a Chinese news document) either left as it is or damaged by ONE family of
corruptions, and its labels say which aspect the damage hurts (1 = the aspect is fine):

- consistency: the passage's sentences shuffled, or spliced with sentences of other documents;
- noise: real boilerplate lines of web pages (navigation, footers: page text outside the gold main
  text) injected between its lines, or markup, entities and symbol runs sprinkled through it;
- information: cut to a fragment, or replaced by a list of page titles or of product lines;
- grammar: words shuffled inside sentences, or characters scrambled inside words (Chinese: between
  neighbouring characters).

Everything is seeded: the same passages and seed give the same examples. Nothing here reads files.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Sequence

import regex
import rjieba

ASPECTS = ("consistency", "noise", "information", "grammar")

# Sentence ends: CJK terminal punctuation (plus closing quotes), or . ! ? followed by white space.
_CJK_END = regex.compile(r"(?<=[。！？；…][”’」』）\"']*)(?![”’」』）\"'])")
_LATIN_END = regex.compile(r"(?<=[.!?][\"”’)\]]*)\s+")
_HAN = regex.compile(r"\p{Han}")
_WORDLIKE = regex.compile(r"^[\p{L}\p{N}][\p{L}\p{N}'\-]*$")
_TERMINAL = "。！？!?.；;…"

# Markup and symbol noise as it survives bad extraction: tags, entities, template syntax, separators.
_TAGS = ("div", "span", "p", "a", "li", "ul", "td", "tr", "img", "br", "script", "iframe", "strong", "em")
_ATTRIBUTES = ('class="nav-item"', 'id="footer"', 'style="display:none"', 'href="#"', 'target="_blank"',
               'data-id="{n}"', 'src="/static/img/{n}.png"', 'onclick="return false;"')
_ENTITIES = ("&nbsp;", "&amp;", "&gt;&gt;", "&#8203;", "&quot;", "&lt;", "&copy;", "&raquo;", "&#x3000;")
_SYMBOL_RUNS = ("★★★★★", "■■■", "▶", ">>>", "||", "=====", "-----", "***", "###", "◆◆", "→", "√", "※", "【】",
                "↑↑↑", "...", "~~~~", "♥♥", "●", "▲▼", "+++", "//", "\\\\", "{{", "}}", "[[", "]]")
_TEMPLATES = ("{{ article.title }}", "${content}", "<!-- ad -->", "[url=http://{n}.cn]", "[/url]", "undefined",
              "NaN", "null", "javascript:void(0)", "http://www.{n}.com/index.php?id={n}&page=2", "#{n}",
              "document.write('')", "@media screen")
_UNITS = {"en": ("500g", "1kg", "XL", "2-pack", "32GB", "USB-C", "10 ft", "Set of 6", "Size M", "Black"),
          "zh": ("500g", "1kg", "XL码", "两件装", "32GB", "2024新款", "加厚", "包邮", "正品", "黑色")}
_SHOP = {"en": ("In stock", "Add to cart", "Free shipping", "Sold {n}", "{n} reviews", "Only {n} left"),
         "zh": ("现货", "加入购物车", "包邮", "月销{n}件", "{n}条评价", "仅剩{n}件")}
_BULLETS = ("", "", "• ", "· ", "- ", "{i}. ", "[{i}] ", "> ")


@dataclass(frozen=True)
class Passage:
    """A window-sized piece of a fluent document."""
    text: str
    language: str   # en | zh (any CLD2 code; CJK rules apply to zh, ja)
    document: str   # id of the source document (splits are by document, never by passage)


@dataclass
class Materials:
    """What corruptions draw from, per language: boilerplate lines, page titles, vocabulary, and
    the passages of other documents (for splicing)."""
    boilerplate: dict[str, list[str]]
    titles: dict[str, list[str]]
    passages: dict[str, list[Passage]] = field(default_factory=dict)
    vocabulary: dict[str, list[str]] = field(default_factory=dict)

    def pool(self, table: dict[str, list], language: str) -> list:
        """The language's entries, else every language's (a page in any language has English nav)."""
        return table.get(language) or [x for values in table.values() for x in values]


@dataclass(frozen=True)
class Example:
    text: str
    labels: tuple[int, int, int, int]   # per ASPECTS: 1 fine, 0 damaged
    family: str                          # clean, or the corruption's name
    language: str
    document: str


def is_cjk(language: str) -> bool:
    return language.split("-")[0] in ("zh", "ja")


# --- units ------------------------------------------------------------------------------------

def sentences(line: str, language: str) -> list[str]:
    """A line's sentences, with their terminal punctuation (CJK and Latin rules both apply: Chinese
    text quotes English sentences and vice versa)."""
    parts = [p for chunk in _LATIN_END.split(line) for p in _CJK_END.split(chunk)]
    return [p.strip() for p in parts if p and p.strip()]


def _joiner(language: str) -> str:
    return "" if is_cjk(language) else " "


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def words(sentence: str, language: str) -> list[str]:
    """Word tokens: jieba for Chinese/Japanese, white space otherwise."""
    if is_cjk(language):
        return [w for w in rjieba.cut(sentence) if w.strip()]
    return sentence.split()


def _split_terminal(sentence: str) -> tuple[str, str]:
    body = sentence.rstrip(_TERMINAL + "”’」』）\"' ")
    return body, sentence[len(body):]


def _changed(original: str, result: str | None) -> str | None:
    return result if result and result.strip() and result != original else None


# --- consistency ------------------------------------------------------------------------------

def shuffle_sentences(p: Passage, m: Materials, rng: random.Random) -> str | None:
    """The passage's own sentences in a random order, paragraph lengths kept."""
    lines = [sentences(line, p.language) for line in _lines(p.text)]
    flat = [s for line in lines for s in line]
    if len(flat) < 3:
        return None
    order = list(range(len(flat)))
    for _ in range(5):
        rng.shuffle(order)
        if order != sorted(order):
            break
    shuffled = iter([flat[i] for i in order])
    joiner = _joiner(p.language)
    return _changed(p.text, "\n".join(joiner.join(next(shuffled) for _ in line) for line in lines if line))


def splice_documents(p: Passage, m: Materials, rng: random.Random) -> str | None:
    """Runs of 1-2 sentences taken in turn from this passage and 1-2 passages of other documents:
    every sentence is fluent, the text jumps between topics (pages stitched from unrelated snippets)."""
    others = [o for o in m.pool(m.passages, p.language) if o.document != p.document and o.language == p.language]
    own = [s for line in _lines(p.text) for s in sentences(line, p.language)]
    if len(own) < 2 or not others:
        return None
    sources = [own] + [[s for line in _lines(o.text) for s in sentences(line, p.language)]
                       for o in rng.sample(others, min(len(others), rng.randint(1, 2)))]
    sources = [s for s in sources if s]
    target, out, turn = len(p.text), [], 0
    positions = [0] * len(sources)
    while sum(len(s) for s in out) < target and any(pos < len(src) for pos, src in zip(positions, sources)):
        k = turn % len(sources)
        run = rng.randint(1, 2)
        out.extend(sources[k][positions[k]:positions[k] + run])
        positions[k] += run
        turn += 1
    if len(set(range(len(sources))) & {i for i, pos in enumerate(positions) if pos}) < 2:
        return None
    return _changed(p.text, _joiner(p.language).join(out))


# --- noise ------------------------------------------------------------------------------------

def inject_boilerplate(p: Passage, m: Materials, rng: random.Random) -> str | None:
    """Real navigation/footer lines put before, between and after the passage's lines."""
    pool = m.pool(m.boilerplate, p.language)
    lines = _lines(p.text)
    if not pool or not lines:
        return None
    total = len(p.text)
    wanted = max(3, int(total * rng.uniform(0.2, 0.5)))
    injected: list[str] = []
    while sum(len(x) for x in injected) < wanted:
        injected.append(rng.choice(pool))
    top = rng.randint(1, max(1, len(injected) // 2)) if rng.random() < 0.7 else 0
    out = injected[:top] + list(lines)
    for line in injected[top:]:
        out.insert(rng.randint(top, len(out)), line)
    return _changed(p.text, "\n".join(out))


def _markup_atom(rng: random.Random) -> str:
    kind = rng.random()
    n = str(rng.randint(1, 99999))
    if kind < 0.35:
        tag = rng.choice(_TAGS)
        if rng.random() < 0.5:
            return f"<{tag} {rng.choice(_ATTRIBUTES).replace('{n}', n)}>"
        return rng.choice((f"<{tag}>", f"</{tag}>", f"<{tag}/>"))
    if kind < 0.55:
        return rng.choice(_ENTITIES)
    if kind < 0.85:
        return rng.choice(_SYMBOL_RUNS)
    return rng.choice(_TEMPLATES).replace("{n}", n)


def inject_markup(p: Passage, m: Materials, rng: random.Random) -> str | None:
    """Tags, entities, template residue and symbol runs sprinkled between words and sentences."""
    lines = _lines(p.text)
    if not lines:
        return None
    rate = rng.uniform(0.15, 0.4)
    out = []
    for line in lines:
        pieces = words(line, p.language) if not is_cjk(p.language) else sentences(line, p.language) or [line]
        noisy = []
        for piece in pieces:
            if rng.random() < rate:
                noisy.append(" ".join(_markup_atom(rng) for _ in range(rng.randint(1, 3))))
            noisy.append(piece)
        if rng.random() < rate:
            noisy.append(_markup_atom(rng))
        out.append((" " if not is_cjk(p.language) else "").join(noisy))
    return _changed(p.text, "\n".join(out))


# --- information ------------------------------------------------------------------------------

def truncate(p: Passage, m: Materials, rng: random.Random) -> str | None:
    """A fragment: the first 8-25% of the passage, cut mid-sentence."""
    text = " ".join(_lines(p.text)) if not is_cjk(p.language) else "".join(_lines(p.text))
    if len(text) < 40:
        return None
    cut = max(8, int(len(text) * rng.uniform(0.08, 0.25)))
    fragment = text[:cut].rstrip(_TERMINAL + " ")
    return _changed(p.text, fragment)


def title_list(p: Passage, m: Materials, rng: random.Random) -> str | None:
    """A list of 6-16 page titles (a list or index page), with bullets, numbers or dates."""
    pool = m.pool(m.titles, p.language)
    if len(pool) < 6:
        return None
    chosen = rng.sample(pool, min(len(pool), rng.randint(6, 16)))
    bullet = rng.choice(_BULLETS)
    dated = rng.random() < 0.4
    lines = []
    for i, title in enumerate(chosen, 1):
        date = f"  {rng.randint(2015, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if dated else ""
        lines.append(f"{bullet.replace('{i}', str(i))}{title}{date}")
    return "\n".join(lines)


def product_lines(p: Passage, m: Materials, rng: random.Random) -> str | None:
    """Product-listing lines: a name made of the corpus's own words, a spec, a price, a shop phrase."""
    vocabulary = m.pool(m.vocabulary, p.language)
    if len(vocabulary) < 20:
        return None
    language = "zh" if is_cjk(p.language) else "en"
    currency = "¥" if language == "zh" else rng.choice(("$", "£", "€"))
    lines = []
    for _ in range(rng.randint(5, 12)):
        name = _joiner(p.language).join(rng.sample(vocabulary, rng.randint(2, 4)))
        if language == "en":
            name = name.title()
        price = f"{currency}{rng.randint(1, 2999)}.{rng.choice(('00', '99', '50', '90'))}"
        shop = rng.choice(_SHOP[language]).replace("{n}", str(rng.randint(2, 9999)))
        parts = [name, rng.choice(_UNITS[language]), price, shop]
        if rng.random() < 0.5:
            parts.insert(0, rng.choice(_BULLETS).replace("{i}", str(len(lines) + 1)).strip())
        lines.append(" ".join(x for x in parts if x))
    return "\n".join(lines)


# --- grammar ----------------------------------------------------------------------------------

def scramble_word_order(p: Passage, m: Materials, rng: random.Random) -> str | None:
    """Words shuffled inside most sentences (terminal punctuation kept at the end)."""
    rate = rng.uniform(0.6, 1.0)
    joiner = _joiner(p.language)
    out = []
    for line in _lines(p.text):
        shuffled = []
        for sentence in sentences(line, p.language):
            body, end = _split_terminal(sentence)
            tokens = words(body, p.language)
            if len(tokens) >= 3 and rng.random() < rate:
                rng.shuffle(tokens)
            shuffled.append(("" if is_cjk(p.language) else " ").join(tokens) + end)
        out.append(joiner.join(shuffled))
    return _changed(p.text, "\n".join(out))


def _scramble_word(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not _WORDLIKE.match(word):
        return word
    inner = list(word[1:-1])
    rng.shuffle(inner)
    if rng.random() < 0.3:  # and a typo-like substitution or deletion
        i = rng.randrange(len(inner))
        inner[i] = rng.choice("aeioustrnl") if rng.random() < 0.5 else ""
    return word[0] + "".join(inner) + word[-1]


def scramble_characters(p: Passage, m: Materials, rng: random.Random) -> str | None:
    """English: letters shuffled inside most words (plus typos). Chinese: Han characters shuffled
    inside short runs of neighbours, so words break apart while the characters stay on topic."""
    rate = rng.uniform(0.5, 0.9)
    out = []
    for line in _lines(p.text):
        if is_cjk(p.language):
            chars = list(line)
            i = 0
            while i < len(chars):
                width = rng.randint(2, 4)
                run = chars[i:i + width]
                if len(run) > 1 and all(_HAN.match(c) for c in run) and rng.random() < rate:
                    rng.shuffle(run)
                    chars[i:i + width] = run
                i += width
            out.append("".join(chars))
        else:
            out.append(" ".join(_scramble_word(w, rng) if rng.random() < rate else w for w in line.split()))
    return _changed(p.text, "\n".join(out))


Corruption = Callable[[Passage, Materials, random.Random], "str | None"]

FAMILIES: dict[str, tuple[Corruption, ...]] = {
    "consistency": (shuffle_sentences, splice_documents),
    "noise": (inject_boilerplate, inject_markup),
    "information": (truncate, title_list, product_lines),
    "grammar": (scramble_word_order, scramble_characters),
}


def corrupt(p: Passage, aspect: str, m: Materials, rng: random.Random) -> tuple[str, str] | None:
    """One corruption of the aspect's family (chosen at random; the others tried when it does not
    apply to this passage): (text, corruption name), or None."""
    family = list(FAMILIES[aspect])
    rng.shuffle(family)
    for corruption in family:
        text = corruption(p, m, rng)
        if text is not None:
            return text, corruption.__name__
    return None


def labelled_examples(passages: Sequence[Passage], materials: Materials, seed: int,
                      aspects: Sequence[str] = ASPECTS) -> list[Example]:
    """For every passage: itself (all aspects fine) and one corruption per aspect (that aspect damaged)."""
    out = []
    for index, p in enumerate(passages):
        rng = random.Random(f"{seed}:{p.document}:{index}")
        out.append(Example(p.text, (1, 1, 1, 1), "clean", p.language, p.document))
        for aspect in aspects:
            made = corrupt(p, aspect, materials, rng)
            if made is None:
                continue
            labels = tuple(0 if a == aspect else 1 for a in ASPECTS)
            out.append(Example(made[0], labels, made[1], p.language, p.document))
    return out


def vocabulary_of(passages: Sequence[Passage], language: str, limit: int = 5000) -> list[str]:
    """Content-looking words of a language's passages (for product names), most frequent first."""
    from collections import Counter

    counts = Counter(w for p in passages if p.language == language for line in _lines(p.text)
                     for w in words(line, language)
                     if _WORDLIKE.match(w) and (len(w) >= 2 if is_cjk(language) else len(w) >= 4)
                     and not w.isdigit())
    return [w for w, _ in counts.most_common(limit)]
