"""Unit tests of udfs/shingles.py, udfs/minhash.py and udfs/lsh.py: no Spark, milliseconds each."""
from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash
from datasketch.lsh import _optimal_param
from hypothesis import given
from hypothesis import strategies as st
from support.fuzz import fuzz_settings

from corpusforge.conf import load_config
from corpusforge.udfs.lsh import candidate_probability, datasketch_optimum
from corpusforge.udfs.minhash import EMPTY, dedup_features, estimated_jaccard, permutations, signatures
from corpusforge.udfs.shingles import (TokenBatch, content_hash, shingle_features, shingle_hash32, shingle_hashes,
                                       shingle_keys, tokens, unique_per_document)


def test_tokens_fold_case_punctuation_whitespace_and_numbers():
    assert tokens("Hello,   World!\n\tIt's 2020-08-03; price $1,299.99.") == \
        ["hello", "world", "it", "s", "0", "price", "0"]
    assert tokens("ＡＢＣ ﬁne") == ["abc", "fine"]  # NFKC
    assert tokens("v2 and 3.14", fold_digits=False) == ["v2", "and", "3", "14"]


def test_tokens_are_characters_for_chinese_japanese_korean_thai_and_words_elsewhere():
    assert tokens("中文，去重!") == ["中", "文", "去", "重"]
    assert tokens("ひらがなカタカナ") == list("ひらがなカタカナ")
    assert tokens("한국어 텍스트") == list("한국어텍스트")
    assert tokens("ภาษาไทย") == list("ภาษาไทย")
    assert tokens("Python 是 一种语言") == ["python", "是", "一", "种", "语", "言"]
    assert tokens("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]  # combining marks stay inside words


def test_content_hash_equal_for_normalised_equal_texts_and_raw_for_empty_ones():
    a, b = "The  Quick brown fox!", "the quick, brown FOX"
    assert content_hash(tokens(a), a) == content_hash(tokens(b), b)
    assert content_hash(tokens("..."), "...") != content_hash(tokens("!!!"), "!!!")
    assert content_hash(tokens("???"), "???") == content_hash(tokens("???"), "???")


def test_vectorised_shingle_hashes_equal_the_reference_function():
    rng = np.random.default_rng(3)
    vocab = [f"w{i}" for i in range(50)] + list("中文字")
    docs = [list(rng.choice(vocab, size=n)) for n in (0, 1, 4, 5, 6, 40, 200)]
    values, offsets = shingle_hashes(TokenBatch.from_token_lists(docs))
    for i, toks in enumerate(docs):
        expected = [shingle_hash32(k) for k in shingle_keys(toks)]
        assert values[offsets[i]:offsets[i + 1]].tolist() == expected


def test_permutations_are_datasketchs_affine32_permutations():
    for seed in (1, 7, 2**31 + 5):
        a, b = permutations(128, seed)
        m = MinHash(num_perm=128, seed=seed, scheme="affine32")
        assert np.array_equal(a, m.permutations[0]) and np.array_equal(b, m.permutations[1])


@pytest.mark.parametrize("seed", [1, 42])
def test_signatures_equal_datasketch_for_random_shingle_sets(seed):
    rng = np.random.default_rng(seed)
    sizes = [0, 1, 2, 17, 300, 5000, 9000, 3]  # crosses the 8192-shingle block boundary
    sets = [rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32) for n in sizes]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    ours = signatures(np.concatenate(sets), offsets, 128, seed)
    for values, sig in zip(sets, ours):
        m = MinHash(num_perm=128, seed=seed, hashfunc=int, scheme="affine32")
        m.update_batch(values.tolist())
        assert sig.dtype == np.uint32 and np.array_equal(sig, m.hashvalues)


def test_document_signatures_equal_datasketch_with_the_shingle_hash_function():
    texts = ["The quick brown fox jumps over the lazy dog near the river bank today.",
             "今天天气很好，我们去公园散步吧。", "too short", None]
    feats = dedup_features(texts, num_perm=128, seed=5, ngram=5, fold_digits=True)
    assert feats.has_signature.tolist() == [True, True, False, False]
    for text, sig in zip(texts[:2], feats.signatures[:2]):
        m = MinHash(num_perm=128, seed=5, hashfunc=shingle_hash32, scheme="affine32")
        m.update_batch(shingle_keys(tokens(text)))
        assert np.array_equal(sig, m.hashvalues)
    assert (feats.signatures[2:] == EMPTY).all()


def test_unique_per_document_gives_sorted_sets():
    values = np.array([5, 3, 5, 1, 9, 9, 2], dtype=np.uint32)
    got, offsets = unique_per_document(values, np.array([0, 3, 3, 7]))
    assert got.tolist() == [3, 5, 1, 2, 9] and offsets.tolist() == [0, 2, 2, 5]


def test_estimated_jaccard_tracks_exact_jaccard():
    rng = np.random.default_rng(0)
    common = rng.integers(0, 2**32, 700, dtype=np.uint64).astype(np.uint32)
    extra = rng.integers(0, 2**32, 600, dtype=np.uint64).astype(np.uint32)
    a, b = np.concatenate([common, extra[:300]]), np.concatenate([common, extra[300:]])
    sig = signatures(np.concatenate([a, b]), np.array([0, len(a), len(a) + len(b)]), 128, 1)
    assert abs(estimated_jaccard(sig[0], sig[1]) - 700 / 1300) < 0.15


def test_s_curve_default_has_high_recall_at_the_threshold_unlike_datasketchs_optimum():
    d = load_config().dedup
    assert datasketch_optimum(0.7, 128) == (14, 9) == _optimal_param(0.7, 128, 0.5, 0.5)
    assert candidate_probability(0.7, 14, 9) == pytest.approx(0.438, abs=0.001)
    assert d.bands * d.rows <= d.num_perm
    assert candidate_probability(d.threshold, d.bands, d.rows) >= 0.98
    assert candidate_probability(0.3, d.bands, d.rows) <= 0.1


EDGE_TEXTS = [None, "", "   ", "...!!!", "x", "a b c d", "a b c d e", "中文，去重!", "İstanbul ǅ ß ﬁ Ǆungla",
              "2020-08-03 $1,299.99 v2.0 ١٢٣ ۴۵۶", "emoji 🙂 in 🙂 a 🙂 row of 🙂 tokens", "नमस्ते दुनिया हिन्दी पाठ यहाँ है",
              "한국어 텍스트 ภาษาไทย ひらがなカタカナ 漢字", "zero\u200bwidth soft\u00adhyphen joiner\u200d here",
              "\ud800 lone surrogate \udfff between words and more words",
              "abc " * 3 + "abcdefghijklmnop abcdefghijklmnopq abcdefghijklmnopqrstuvwxyz0123456789 " * 3,
              "é" * 7 + " " + "ñ" * 8 + " " + "ü" * 9 + " end of the line here", "\x00\x01control\x7f chars\x85 here too ok",
              "Tab\tand\nnew\r\nlines\x0b\x0cand\u2028separators\u2029everywhere in this text"]


def reference_features(texts, n=5, fold_digits=True):
    toks = [tokens(t, fold_digits) for t in texts]
    values, offsets = shingle_hashes(TokenBatch.from_token_lists(toks), n)
    sets, set_offsets = unique_per_document(values, offsets)
    return [len(t) for t in toks], [content_hash(t, x) for t, x in zip(toks, texts)], sets, set_offsets


def assert_compiled_equals_reference(texts, n=5, fold_digits=True):
    counts, hashes, sets, offsets = reference_features(texts, n, fold_digits)
    compiled = shingle_features(texts, n, fold_digits)
    assert compiled.token_counts.tolist() == counts
    assert compiled.content_hashes == hashes
    assert np.array_equal(compiled.shingle_offsets, offsets) and np.array_equal(compiled.shingle_sets, sets)


@pytest.mark.parametrize("fold_digits", [True, False])
@pytest.mark.parametrize("n", [1, 3, 5])
def test_compiled_shingles_equal_the_reference_on_edge_texts(n, fold_digits):
    assert_compiled_equals_reference(EDGE_TEXTS, n, fold_digits)
    assert_compiled_equals_reference([t for t in EDGE_TEXTS if t][::-1], n, fold_digits)  # other neighbours


def test_compiled_shingles_equal_the_reference_on_real_pages():
    from support.paths import WARCS
    from support.warcs import real_pages

    from corpusforge.udfs.html_decoding import decode_html
    texts = [decode_html(body, None)[0] for name in ("CC-MAIN-2020-34-sample.warc.gz", "clueweb09-ja-quirks.warc.gz",
                                                     "sample-0000.warc.gz") for _, body in real_pages(name, 30)]
    assert len(texts) > 30 and (WARCS / "CC-MAIN-2020-34-sample.warc.gz").exists()
    assert_compiled_equals_reference(texts)


@fuzz_settings(150)
@given(st.lists(st.one_of(st.none(), st.text(max_size=300),
                          st.text(alphabet=st.sampled_from("ab 1.中文ひカ한ไ\u0301\u200d-,İß🙂\ud800"), max_size=200)),
                max_size=12))
def test_compiled_shingles_equal_the_reference_on_any_text(texts):
    assert_compiled_equals_reference(texts)
