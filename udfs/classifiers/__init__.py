"""BERT-family document classifiers: a shared encoder pass, then small heads.

A classifier is a directory holding `classifier.json` (its outputs, threshold, direction and the
encoder it reads) and `head.safetensors` (a few linear layers over the pooled encoder output). The
encoder is a local Hugging Face model directory — inside the classifier directory (full
fine-tuning), any path, `package:NAME` for a model shipped inside an installed Python package, or
`converted:NAME` for one converted from installed packages into a cache directory (the default base,
`converted:multilingual-e5-small`, udfs/classifiers/conversion.py). Heads that read the same encoder form one group,
and a group encodes each document once whatever the number of heads (the Quality stage's "one
encoder pass for many classifiers").

Models are loaded once per Python process and kept (module-level cache): a Spark worker that handles
many batches and tasks loads each encoder and head once. Only safetensors weights are read,
`trust_remote_code` is never set and nothing is downloaded: a directory with only pickle weights
(`pytorch_model.bin`, `*.pt`, `*.ckpt`) is refused with a clear error.
"""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is ever fetched from a hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # Spark forks workers; threads are set per task

from corpusforge.udfs.classifiers.card import (CARD_FILE, CONVERTED_PREFIX, FORMAT, HEAD_FILE, METRICS_FILE,  # noqa: E402
                                               PACKAGE_PREFIX, ClassifierCard, ClassifierError, check_safetensors,
                                               encoder_identity, package_model_dir, refuse_pickle_weights,
                                               refuse_remote_code, resolve_encoder)
from corpusforge.udfs.classifiers.encoder import (CHARS_PER_TOKEN_CAP, Encoder, WindowPolicy,  # noqa: E402
                                                  special_tokens, token_batches)
from corpusforge.udfs.classifiers.heads import Head, build_head  # noqa: E402
from corpusforge.udfs.classifiers.runtime import (load_encoder, load_head, loads, native_bf16, pick_device,  # noqa: E402
                                                  pick_dtype, set_threads)
from corpusforge.udfs.classifiers.scorer import VECTOR_DTYPE, Scorer, aggregate, pass_key  # noqa: E402

__all__ = ["CARD_FILE", "CHARS_PER_TOKEN_CAP", "CONVERTED_PREFIX", "FORMAT", "HEAD_FILE", "METRICS_FILE", "PACKAGE_PREFIX",
           "VECTOR_DTYPE", "ClassifierCard", "ClassifierError", "Encoder", "Head", "Scorer", "WindowPolicy", "aggregate",
           "build_head", "check_safetensors", "encoder_identity", "load_encoder", "load_head", "loads", "native_bf16",
           "package_model_dir", "pass_key", "pick_device", "pick_dtype", "refuse_pickle_weights", "refuse_remote_code",
           "resolve_encoder", "set_threads", "special_tokens", "token_batches"]
