"""Every Clean rule on crafted English and Chinese texts, on both sides of its threshold (conf defaults;
for the rules whose English or Chinese value was calibrated on labelled pages or turned off, the
published value, given explicitly: the texts are built around it. The shipped values are tested on
real labelled pages in test_clean_calibrated.py)."""
from __future__ import annotations

import functools

import pytest

from corpusforge.conf import load_config
from corpusforge.conf.schema import CleanThresholds
from corpusforge.udfs import clean_rules
from corpusforge.udfs.cleaning import Cleaner, settings_from_conf
from corpusforge.udfs.text_units import tokens, words

CONF = load_config(None, [])
CLEANER = Cleaner(settings_from_conf(CONF.clean.model_dump()))

EN_LINES = [
    "The old bridge across the river was built in 1890 and it still carries traffic every day.",
    "Local farmers bring their vegetables to the market that opens on the square each Saturday morning.",
    "Children from the village walk to the school on the hill, which has two classrooms and a small library.",
    "In winter the lake freezes and families skate on it when the ice is thick enough to be safe.",
    "The museum near the station shows tools, letters and photographs that tell the history of the valley.",
    "Visitors who arrive by train can rent bicycles and follow a quiet path along the water to the next town.",
    "A baker on the main street has made the same rye bread with the same recipe for forty years.",
    "Most of the houses have gardens with apple trees, and in autumn the smell of fruit fills the lanes.",
]
ZH_LINES = [
    "这座老桥建于一八九零年，横跨河流，至今每天仍有车辆通行。",
    "当地农民每周六早上把自己种的蔬菜带到广场上的集市出售。",
    "村里的孩子们步行去山上的学校，学校有两间教室和一个小图书馆。",
    "冬天湖面结冰，冰层足够厚的时候，很多家庭都会在湖上滑冰。",
    "车站附近的博物馆展出了工具、信件和照片，讲述了这个山谷的历史。",
    "坐火车来的游客可以租自行车，沿着水边安静的小路骑到下一个小镇。",
    "主街上的一位面包师用同一个配方做黑麦面包，已经做了四十年。",
    "大多数房子都有种着苹果树的花园，秋天的时候小巷里满是水果的香味。",
]
BASE = {"en": "\n".join(EN_LINES), "zh": "\n".join(ZH_LINES)}
SHORT = {"en": ["Home", "News", "Sport", "Weather", "Contact", "Login", "Search", "Archive", "About"],
         "zh": ["首页", "新闻", "体育", "天气", "联系", "登录", "搜索", "归档", "关于"]}


# The published values (Gopher, C4, FineWeb) of rules conf/default.yaml calibrates per language.
PUBLISHED = {"gopher_max_bullet_line_fraction": 0.9, "gopher_max_ellipsis_line_fraction": 0.3,
             "gopher_max_dup_line_char_fraction": 0.2, "c4_min_sentences": 5,
             "fineweb_min_line_punct_fraction": 0.12, "fineweb_max_dup_line_char_fraction": 0.01,
             **{f"gopher_max_dup_{n}gram_char_fraction": 0.15 - (n - 5) / 100 for n in range(5, 11)}}


def published(rule: str) -> dict:
    return {rule: PUBLISHED[rule]}


# rule → the test that checks both of its sides; filled by @covers as the module is imported.
COVERED: dict[str, str] = {}
_sided: list[set[str]] = []  # the rules assert_sides checked in the running test


def covers(*rules: str):
    """Declares which rules a test checks on both sides; while it runs, every assert_sides it makes must
    be for a declared rule, and it must make at least one."""
    def decorate(test):
        for rule in rules:
            COVERED.setdefault(rule, test.__name__)

        @functools.wraps(test)
        def run(*args, **kwargs):
            _sided.append(set())
            try:
                test(*args, **kwargs)
                sided = _sided[-1]
            finally:
                _sided.pop()
            assert sided and sided <= set(rules), f"{test.__name__} declares {rules} but checked {sorted(sided)}"
        return run
    return decorate


def verdict(rule: str, text: str, language: str, **overrides) -> clean_rules.Verdict:
    """The verdict of one rule on text, with the language's conf thresholds (plus overrides)."""
    cleaned = CLEANER.clean(text, language)
    if overrides:
        thresholds = {**cleaned.thresholds, **overrides}
        measures = clean_rules.Measures(cleaned.normalised, text, thresholds, language)
        return next(r(measures, thresholds) for r in clean_rules.RULES if r.__name__ == rule)
    return next(v for v in cleaned.verdicts if v.rule == rule)


def assert_sides(rule: str, language: str, passing: str, failing: str, **overrides) -> None:
    ok, bad = verdict(rule, passing, language, **overrides), verdict(rule, failing, language, **overrides)
    assert_verdicts(rule, ok, bad)


def assert_verdicts(rule: str, ok: clean_rules.Verdict, bad: clean_rules.Verdict) -> None:
    """ok keeps and bad removes, each on its side of the threshold."""
    assert ok.rule == bad.rule == rule
    assert ok.keep, f"{rule} should keep: {ok}"
    assert not bad.keep, f"{rule} should remove: {bad}"
    side = (lambda v: v.value >= v.threshold) if ok.bound == "min" else (lambda v: v.value <= v.threshold)
    assert side(ok) and not side(bad)
    if _sided:
        _sided[-1].add(rule)


def n_words(text: str, language: str) -> int:
    return len(words(tokens(text, "jieba" if language == "zh" else "whitespace")))


LANGS = pytest.mark.parametrize("lang", ["en", "zh"])


# --- the crafted texts themselves -------------------------------------------------------------------
@LANGS
def test_the_base_texts_pass_every_rule(lang):
    cleaned = CLEANER.clean(BASE[lang], lang)
    assert cleaned.failed_rules == []
    assert cleaned.text == BASE[lang]


def test_rule_names_are_the_conf_threshold_keys():
    assert set(clean_rules.THRESHOLD_KEYS) == set(CleanThresholds.model_fields)
    assert len(set(clean_rules.RULE_NAMES)) == len(clean_rules.RULES)


def test_chinese_is_measured_in_jieba_words_not_whitespace_tokens():
    zh = CLEANER.clean(BASE["zh"], "zh")
    assert zh.thresholds["word_units"] == "jieba"
    stats = zh.scores
    assert stats["word_count"] > 100            # one whitespace "word" per line would be 8
    assert 1.5 < stats["mean_word_length"] < 3  # jieba words, not sentences
    assert stats["stop_words"] >= 3             # 的, 和, 有, 了 …


# --- the report: separators and line breaks ---------------------------------------------------------
@LANGS
@covers("max_newline_ratio")
def test_max_newline_ratio(lang):
    one_word_per_line = "\n".join(words(tokens(BASE[lang], "jieba" if lang == "zh" else "whitespace")))
    assert_sides("max_newline_ratio", lang, BASE[lang], one_word_per_line)


@LANGS
@covers("min_mean_line_chars")
def test_min_mean_line_chars(lang):
    pairs = [EN_LINES[i].split(",")[0] for i in range(8)] if lang == "en" else ZH_LINES
    halves = "\n".join(p for line in pairs for p in (line[: len(line) // 2], line[len(line) // 2:]))
    quarters = "\n".join(line[i:i + 6] for line in pairs for i in range(0, len(line), 6)) if lang == "zh" else \
        "\n".join(w for line in EN_LINES for w in line.split())
    assert_sides("min_mean_line_chars", lang, halves, quarters)


@LANGS
@covers("max_line_chars")
def test_max_line_chars(lang):
    sentence = " ".join(EN_LINES) if lang == "en" else "".join(ZH_LINES)
    below = (sentence * (29_000 // len(sentence)))[:29_000]
    above = (sentence * (31_000 // len(sentence) + 1))[:31_000]
    assert_sides("max_line_chars", lang, below, above)


@LANGS
@covers("max_very_short_line_fraction")
def test_max_very_short_line_fraction(lang):
    lines = EN_LINES if lang == "en" else ZH_LINES
    seven = "\n".join(lines + SHORT[lang][:7])   # 7 of 15 lines very short
    nine = "\n".join(lines + SHORT[lang][:9])    # 9 of 17
    assert_sides("max_very_short_line_fraction", lang, seven, nine)


@LANGS
@covers("max_separator_run_fraction")
def test_max_separator_run_fraction(lang):
    bar = "----------"
    three = BASE[lang] + "\n" + "\n".join([bar] * 3)   # 3 runs over 11 lines
    four = BASE[lang] + "\n" + "\n".join([bar] * 4)    # 4 runs over 12 lines
    assert_sides("max_separator_run_fraction", lang, three, four)


@LANGS
@covers("max_normalised_removed_fraction")
def test_max_normalised_removed_fraction(lang):
    number_line = "1234567890 1234567890 1234567890"
    few = BASE[lang] + "\n" + "\n".join([number_line] * 3)
    many = BASE[lang] + "\n" + "\n".join([number_line] * (len(BASE[lang]) // len(number_line) + 2))
    assert_sides("max_normalised_removed_fraction", lang, few, many)


# --- the report: abnormal characters ----------------------------------------------------------------
@LANGS
@covers("max_replacement_char_fraction")
def test_max_replacement_char_fraction(lang):
    text = BASE[lang]
    limit = CONF.clean.thresholds.default.max_replacement_char_fraction
    allowed = int(len(text) * limit)
    with_some = text.replace(EN_LINES[0][:3] if lang == "en" else "老", "\ufffd", 1) if allowed >= 1 else text
    with_many = "\ufffd" * (allowed + 2) + text
    assert_sides("max_replacement_char_fraction", lang, with_some, with_many)


@LANGS
@covers("max_control_char_fraction")
def test_max_control_char_fraction(lang):
    text = BASE[lang]
    allowed = int(len(text) * CONF.clean.thresholds.default.max_control_char_fraction)
    assert_sides("max_control_char_fraction", lang, text[:50] + "\ue000" * allowed + text[50:],
                 text[:50] + "\ue000\x07" * (allowed // 2 + 2) + text[50:])


def test_max_mojibake_fraction_measures_what_repair_left():
    english = "The café’s menu changed. " * 4 + "\n" + BASE["en"]
    broken = english.encode("utf-8").decode("cp1252", errors="replace")
    repaired = CLEANER.clean(broken, "en")
    assert "café’s" in repaired.text and repaired.normalised.edits["mojibake_fixed"] >= 8
    no_repair = Cleaner(settings_from_conf({**CONF.clean.model_dump(), "normalise": {
        **CONF.clean.normalise.model_dump(), "fix_mojibake": False}}))
    left = next(v for v in no_repair.clean(broken, "en").verdicts if v.rule == "max_mojibake_fraction")
    assert not left.keep and left.value > left.threshold
    assert next(v for v in repaired.verdicts if v.rule == "max_mojibake_fraction").keep


@LANGS
@covers("max_mojibake_fraction")
def test_max_mojibake_fraction_on_both_sides(lang):
    no_repair = {**CONF.clean.model_dump()}
    no_repair["normalise"] = {**no_repair["normalise"], "fix_mojibake": False}
    cleaner = Cleaner(settings_from_conf(no_repair))
    text = BASE[lang]
    good = next(v for v in cleaner.clean(text, lang).verdicts if v.rule == "max_mojibake_fraction")
    bad = next(v for v in cleaner.clean(text + "\nâ€™ Ã© Ã¨ Ã¢ donâ€™t", lang).verdicts if v.rule == "max_mojibake_fraction")
    assert_verdicts("max_mojibake_fraction", good, bad)


@LANGS
@covers("max_symbol_fraction")
def test_max_symbol_fraction(lang):
    text = BASE[lang]
    visible = len(text.replace(" ", "").replace("\n", ""))
    few, many = int(visible * 0.08), int(visible * 0.13)
    assert_sides("max_symbol_fraction", lang, text + "\nRatings " + "★" * few, text + "\nRatings " + "★" * many)


@LANGS
@covers("max_digit_fraction")
def test_max_digit_fraction(lang):
    text = BASE[lang]
    visible = len(text.replace(" ", "").replace("\n", ""))
    few, many = int(visible * 0.3), int(visible * 0.6)
    assert_sides("max_digit_fraction", lang, text + "\nCode " + "7" * few, text + "\nCode " + "7" * many)


@covers("max_foreign_script_fraction")
def test_max_foreign_script_fraction_english_page_with_cyrillic():
    cyrillic = "Старый мост через реку был построен давно и до сих пор служит людям каждый день."
    assert_sides("max_foreign_script_fraction", "en", BASE["en"] + "\n" + cyrillic,
                 BASE["en"] + "\n" + "\n".join([cyrillic] * 12))


@covers("max_foreign_script_fraction")
def test_max_foreign_script_fraction_chinese_page_with_latin_noise():
    latin = "click here free download best price cheap deal online now"
    assert_sides("max_foreign_script_fraction", "zh", BASE["zh"] + "\n" + latin,
                 BASE["zh"] + "\n" + "\n".join([latin + f" {i}" for i in range(30)]))


def test_chinese_pages_are_one_writing_system_with_japanese_kana():
    mixed = "東京の桜は三月に咲きます。私は毎年見に行きます。"
    assert verdict("max_foreign_script_fraction", mixed, "ja").value == 0.0


# --- the report: punctuation ------------------------------------------------------------------------
@LANGS
@covers("min_punctuation_fraction")
def test_min_punctuation_fraction(lang):
    stripped = BASE[lang].translate(str.maketrans("", "", ".,，。、"))
    assert_sides("min_punctuation_fraction", lang, BASE[lang], stripped)


@LANGS
@covers("max_punctuation_fraction")
def test_max_punctuation_fraction(lang):
    unit_words = words(tokens(BASE[lang], "jieba" if lang == "zh" else "whitespace"))
    sep = " , ; " if lang == "en" else "，；"
    assert_sides("max_punctuation_fraction", lang, BASE[lang], sep.join(unit_words))


@LANGS
@covers("min_terminal_punct_char_fraction")
def test_min_terminal_punct_char_fraction(lang):
    no_ends = BASE[lang].translate(str.maketrans("", "", ".。"))
    one_end = no_ends + "\n" + (EN_LINES[0] if lang == "en" else ZH_LINES[0])
    assert verdict("min_terminal_punct_char_fraction", one_end, lang).value > 0.05
    assert_sides("min_terminal_punct_char_fraction", lang, one_end, no_ends)


@LANGS
@covers("max_repeated_punct_fraction")
def test_max_repeated_punct_fraction(lang):
    shout = "Great" if lang == "en" else "太好了"
    mark = "!" if lang == "en" else "！"
    assert_sides("max_repeated_punct_fraction", lang, BASE[lang] + f"\n{shout}{mark * 2}",
                 BASE[lang] + f"\n{shout}{mark * 6}")


# --- Gopher quality ---------------------------------------------------------------------------------
@covers("gopher_min_words")
def test_gopher_min_words_english_at_fifty():
    vocabulary = " ".join(EN_LINES).replace(".", "").split()
    fifty, forty_nine = " ".join(vocabulary[:50]) + ".", " ".join(vocabulary[:49]) + "."
    assert (n_words(fifty, "en"), n_words(forty_nine, "en")) == (50, 49)
    assert_sides("gopher_min_words", "en", fifty, forty_nine)


@covers("gopher_min_words")
def test_gopher_min_words_chinese_in_jieba_words():
    short = ZH_LINES[0] + ZH_LINES[1]
    assert n_words(short, "zh") < 50 <= n_words(BASE["zh"], "zh")
    assert_sides("gopher_min_words", "zh", BASE["zh"], short)


@LANGS
@covers("gopher_max_words")
def test_gopher_max_words(lang):
    # the default bound (100,000 words) made small so that the test stays fast
    count = n_words(BASE[lang], lang)
    assert_sides("gopher_max_words", lang, BASE[lang], BASE[lang] + "\n" + BASE[lang].replace("。", "！"),
                 gopher_max_words=count)


@covers("gopher_min_mean_word_length")
def test_gopher_min_mean_word_length_english():
    tiny = "\n".join(["I am so. We go to it. He is up. Do it by me."] * 1)
    assert_sides("gopher_min_mean_word_length", "en", BASE["en"], tiny)


@covers("gopher_min_mean_word_length")
def test_gopher_min_mean_word_length_chinese_single_characters():
    # Chinese words are 1-2 characters, so conf's bound for zh is 1; raised here to show both sides
    singles = "我去。你来。他走。她笑。天冷。风大。雨停。花开。"
    assert verdict("gopher_min_mean_word_length", singles, "zh").value < 1.5
    assert_sides("gopher_min_mean_word_length", "zh", BASE["zh"], singles, gopher_min_mean_word_length=1.5)


@LANGS
@covers("gopher_max_mean_word_length")
def test_gopher_max_mean_word_length(lang):
    identifiers = " ".join(f"configurationidentifier{i:04d}" for i in range(80))
    assert_sides("gopher_max_mean_word_length", lang, BASE[lang], BASE[lang] + "\n" + identifiers)


@LANGS
@covers("gopher_max_hash_word_ratio")
def test_gopher_max_hash_word_ratio(lang):
    count = n_words(BASE[lang], lang)
    below = [f"#t{i}" for i in range(count // 9 - 2)]    # tags are words too
    above = [f"#t{i}" for i in range(count // 8 + 2)]
    assert_sides("gopher_max_hash_word_ratio", lang, BASE[lang] + "\nTags " + " ".join(below),
                 BASE[lang] + "\nTags " + " ".join(above))


@LANGS
@covers("gopher_max_ellipsis_word_ratio")
def test_gopher_max_ellipsis_word_ratio(lang):
    count = n_words(BASE[lang], lang)
    below, above = count // 12, count // 8 + 2
    assert_sides("gopher_max_ellipsis_word_ratio", lang, BASE[lang] + "\nMore " + "… " * below + "end.",
                 BASE[lang] + "\nMore " + "… " * above + "end.")


@LANGS
@covers("gopher_max_bullet_line_fraction")
def test_gopher_max_bullet_line_fraction(lang):
    lines = (EN_LINES if lang == "en" else ZH_LINES) + (EN_LINES if lang == "en" else ZH_LINES)[:2]
    nine_of_ten = "\n".join(["- " + line for line in lines[:9]] + [lines[9]])
    all_ten = "\n".join("• " + line for line in lines[:10])
    assert_sides("gopher_max_bullet_line_fraction", lang, nine_of_ten, all_ten, **published("gopher_max_bullet_line_fraction"))


@LANGS
@covers("gopher_max_ellipsis_line_fraction")
def test_gopher_max_ellipsis_line_fraction(lang):
    lines = [line[:-1] for line in (EN_LINES if lang == "en" else ZH_LINES)] + ["Read on", "继续"]
    three = "\n".join(line + ("…" if i < 3 else ".") for i, line in enumerate(lines))   # 3 of 10
    four = "\n".join(line + ("…" if i < 4 else ".") for i, line in enumerate(lines))    # 4 of 10
    assert_sides("gopher_max_ellipsis_line_fraction", lang, three, four, **published("gopher_max_ellipsis_line_fraction"))


@LANGS
@covers("gopher_min_alpha_word_fraction")
def test_gopher_min_alpha_word_fraction(lang):
    count = n_words(BASE[lang], lang)
    few = " ".join(str(100 + i) for i in range(count // 5 - 3))     # ≥ 80% of words keep a letter
    many = " ".join(str(100 + i) for i in range(count // 4 + 3))
    assert_sides("gopher_min_alpha_word_fraction", lang, BASE[lang] + "\nFigures " + few,
                 BASE[lang] + "\nFigures " + many)


@covers("gopher_min_stop_words")
def test_gopher_min_stop_words_english():
    plain = ["Quick brown foxes jump over lazy dogs.", "Bright stars shine above quiet hills.",
             "Old ships sail across cold seas.", "Tall trees grow near wide rivers.",
             "Small birds sing during warm mornings.", "Heavy rain falls upon green fields."] * 3
    one = "\n".join(plain) + "\nThe end."
    two = "\n".join(plain) + "\nThe end and after."
    assert_sides("gopher_min_stop_words", "en", two, one)


@covers("gopher_min_stop_words")
def test_gopher_min_stop_words_chinese():
    plain = ["小明早上去学校。", "老师今天讲数学。", "同学们认真听课。", "下午大家去操场。", "晚上小明写作业。",
             "妈妈做饭很好吃。", "爸爸下班回家。", "周末全家去公园。", "公园里花开得好。", "孩子们放风筝。"] * 2
    one = "\n".join(plain) + "\n我们回家的路。"
    two = "\n".join(plain) + "\n我们回家的路和朋友告别。"
    assert verdict("gopher_min_stop_words", one, "zh").value == 1
    assert_sides("gopher_min_stop_words", "zh", two, one)


def test_gopher_min_stop_words_is_off_for_a_language_without_a_list():
    thai_like = verdict("gopher_min_stop_words", BASE["en"], "xx")
    assert thai_like.keep and thai_like.threshold is None


# --- Gopher repetition ------------------------------------------------------------------------------
@LANGS
@covers("gopher_max_dup_line_fraction")
def test_gopher_max_dup_line_fraction(lang):
    lines = EN_LINES if lang == "en" else ZH_LINES
    three_of_ten = "\n".join(lines[:7] + [lines[0]] * 3)
    four_of_ten = "\n".join(lines[:6] + [lines[0]] * 4)
    assert_sides("gopher_max_dup_line_fraction", lang, three_of_ten, four_of_ten)


@LANGS
@covers("gopher_max_dup_para_fraction")
def test_gopher_max_dup_para_fraction(lang):
    lines = EN_LINES if lang == "en" else ZH_LINES
    three_of_ten = "\n\n".join(lines[:7] + [lines[0]] * 3)
    four_of_ten = "\n\n".join(lines[:6] + [lines[0]] * 4)
    assert_sides("gopher_max_dup_para_fraction", lang, three_of_ten, four_of_ten)


@LANGS
@covers("gopher_max_dup_line_char_fraction")
def test_gopher_max_dup_line_char_fraction(lang):
    lines = EN_LINES if lang == "en" else ZH_LINES
    assert_sides("gopher_max_dup_line_char_fraction", lang, "\n".join(lines + lines[:1]),
                 "\n".join(lines + lines[:3]), **published("gopher_max_dup_line_char_fraction"))


@LANGS
@covers("gopher_max_dup_para_char_fraction")
def test_gopher_max_dup_para_char_fraction(lang):
    lines = EN_LINES if lang == "en" else ZH_LINES
    assert_sides("gopher_max_dup_para_char_fraction", lang, "\n\n".join(lines + lines[:1]),
                 "\n\n".join(lines + lines[:3]))


@pytest.mark.parametrize("n", [2, 3, 4])
@LANGS
@covers("gopher_max_top_2gram_char_fraction",
        "gopher_max_top_3gram_char_fraction",
        "gopher_max_top_4gram_char_fraction")
def test_gopher_max_top_ngram_char_fraction(lang, n):
    phrase = ["New York City Hall", "北京 上海 广州 深圳"][lang == "zh"]
    chant = " ".join([phrase] * 40) if lang == "en" else "，".join([phrase.replace(" ", "")] * 40) + "。"
    assert_sides(f"gopher_max_top_{n}gram_char_fraction", lang, BASE[lang], BASE[lang] + "\n" + chant)


@pytest.mark.parametrize("n", range(5, 11))
@LANGS
@covers("gopher_max_dup_5gram_char_fraction",
        "gopher_max_dup_6gram_char_fraction",
        "gopher_max_dup_7gram_char_fraction",
        "gopher_max_dup_8gram_char_fraction",
        "gopher_max_dup_9gram_char_fraction",
        "gopher_max_dup_10gram_char_fraction")
def test_gopher_max_dup_ngram_char_fraction(lang, n):
    lines = EN_LINES if lang == "en" else ZH_LINES
    sep = " " if lang == "en" else ""
    repeated = sep.join(lines[:3] * 3)   # three sentences said three times in one paragraph
    assert_sides(f"gopher_max_dup_{n}gram_char_fraction", lang, BASE[lang], BASE[lang] + "\n" + repeated,
                 **published(f"gopher_max_dup_{n}gram_char_fraction"))


def test_duplicate_ngram_chars_counts_each_word_once():
    text = "alpha beta gamma delta epsilon alpha beta gamma delta epsilon zeta"
    cleaned = CLEANER.clean(text, "en")
    m = clean_rules.Measures(cleaned.normalised, text, cleaned.thresholds)
    assert m.duplicate_ngram_chars(5) == len("alphabetagammadeltaepsilon")
    assert m.duplicate_ngram_chars(6) == 0
    # every bigram of the repeated run occurs twice; the longest of them is reported
    assert m.top_ngram_chars(2) == len("delta epsilon") * 2


# --- C4 ---------------------------------------------------------------------------------------------
@LANGS
@covers("c4_max_lorem_ipsum")
def test_c4_max_lorem_ipsum(lang):
    assert_sides("c4_max_lorem_ipsum", lang, BASE[lang], BASE[lang] + "\nLorem ipsum dolor sit amet.")


@LANGS
@covers("c4_max_curly_brackets")
def test_c4_max_curly_brackets(lang):
    assert_sides("c4_max_curly_brackets", lang, BASE[lang], BASE[lang] + "\nfunction f() { return 1; }")


def test_c4_curly_brackets_allowed_on_code_sites():
    code = BASE["en"] + "\nfunction f() { return 1; }"
    assert not CLEANER.clean(code, "en", "example.com", "https://example.com/a").keep
    on_github = CLEANER.clean(code, "en", "github.com", "https://github.com/a/b")
    assert len(on_github.matched_sites) == 1 and "github.com|" in on_github.matched_sites[0]   # the code-site kind
    assert next(v for v in on_github.verdicts if v.rule == "c4_max_curly_brackets").threshold is None


@LANGS
@covers("c4_min_sentences")
def test_c4_min_sentences(lang):
    lines = EN_LINES if lang == "en" else ZH_LINES
    assert_sides("c4_min_sentences", lang, "\n".join(lines[:5]), "\n".join(lines[:4]), **published("c4_min_sentences"))


# --- FineWeb ----------------------------------------------------------------------------------------
@LANGS
@covers("fineweb_min_line_punct_fraction")
def test_fineweb_min_line_punct_fraction(lang):
    lines = [line[:-1] for line in (EN_LINES if lang == "en" else ZH_LINES)] * 3 + ["One more", "再来一行"]
    lines = [f"{line} {i}" for i, line in enumerate(lines)][:25]   # 25 distinct lines without an ending
    three = "\n".join(line + ("." if i < 3 else "") for i, line in enumerate(lines))   # 3/25 = 0.12
    two = "\n".join(line + ("." if i < 2 else "") for i, line in enumerate(lines))     # 2/25 = 0.08
    assert_sides("fineweb_min_line_punct_fraction", lang, three, two, **published("fineweb_min_line_punct_fraction"))


@LANGS
@covers("fineweb_max_short_line_fraction")
def test_fineweb_max_short_line_fraction(lang):
    long_line = EN_LINES[0] if lang == "en" else ZH_LINES[0]
    short = SHORT[lang]
    two_of_three = "\n".join([long_line, short[0], short[1]])
    three_of_four = "\n".join([long_line, short[0], short[1], short[2]])
    assert_sides("fineweb_max_short_line_fraction", lang, two_of_three, three_of_four)


@LANGS
@covers("fineweb_max_dup_line_char_fraction")
def test_fineweb_max_dup_line_char_fraction(lang):
    lines = EN_LINES if lang == "en" else ZH_LINES
    long_page = "\n".join(f"{line} ({i})" for i in range(4) for line in lines)   # distinct lines

    def with_repeated_line(k: int) -> tuple[str, float]:
        line = "Note " + "x" * k
        text = long_page + f"\n{line}\n{line}"
        return text, len(line) / len(text.replace("\n", ""))

    sizes = range(1, 200)
    below = max(k for k in sizes if with_repeated_line(k)[1] <= 0.01)
    assert_sides("fineweb_max_dup_line_char_fraction", lang, with_repeated_line(below)[0],
                 with_repeated_line(below + 1)[0], **published("fineweb_max_dup_line_char_fraction"))


@LANGS
@covers("fineweb_max_newline_word_ratio")
def test_fineweb_max_newline_word_ratio(lang):
    unit_words = words(tokens(BASE[lang], "jieba" if lang == "zh" else "whitespace"))
    sep = " " if lang == "en" else ""
    by_four = "\n".join(sep.join(unit_words[i:i + 4]) for i in range(0, len(unit_words), 4))
    by_two = "\n".join(sep.join(unit_words[i:i + 2]) for i in range(0, len(unit_words), 2))
    assert_sides("fineweb_max_newline_word_ratio", lang, by_four, by_two)


def test_every_rule_has_a_test_of_both_its_sides():
    assert sorted(set(clean_rules.RULE_NAMES) - set(COVERED)) == []
    assert sorted(set(COVERED) - set(clean_rules.RULE_NAMES)) == []  # no test claims a rule that does not exist
