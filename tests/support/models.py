"""A tiny randomly initialised BERT (hidden 32, 2 layers) and heads for it, saved as real Hugging Face
directories: the inference and training code paths run on it in milliseconds."""
from __future__ import annotations

import json
from pathlib import Path

WORDS = ("the a and of to is in it you that he was for on are with as his they be at one have this from "
         "or had by hot word but what some we can out other were all there when up use your how said an "
         "each she which do their time if will way about many then them write would like so these her "
         "long make thing see him two has look more day could go come did number sound no most people my "
         "over know water than call first who may down side been now find good bad hate love kill idiot "
         "stupid nice great happy sad war peace sex porn nude").split()
CHARS = list("的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生傻坏好美")


def make_tiny_bert(directory: Path, seed: int = 0) -> Path:
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *CHARS, ",", ".", "!", "?"]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast.from_pretrained(str(directory), do_lower_case=True, model_max_length=64)
    tokenizer.save_pretrained(str(directory))
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    BertModel(config).eval().save_pretrained(str(directory), safe_serialization=True)
    return directory


def make_head(directory: Path, encoder: str, name: str, outputs=("positive",), hidden=(8,), threshold=0.5,
              seed: int = 0, text_prefix: str = "", second_look: dict | None = None) -> Path:
    import torch
    from safetensors.torch import save_file

    from corpusforge.udfs.classifiers import FORMAT, build_head

    directory.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    head = build_head(32, hidden, len(outputs))
    save_file({k: v.contiguous() for k, v in head.state_dict().items()}, str(directory / "head.safetensors"))
    card = {"format": FORMAT, "name": name, "encoder": encoder, "pooling": "mean", "normalize": False,
            "outputs": list(outputs), "activation": "sigmoid", "hidden": list(hidden), "threshold": threshold,
            "direction": "above", "text_prefix": text_prefix}
    if second_look is not None:
        card["second_look"] = second_look
    (directory / "classifier.json").write_text(json.dumps(card), encoding="utf-8")
    return directory


def make_tiny_causal_lm(directory: Path, texts: tuple[str, ...] = (), seed: int = 0) -> Path:
    """A tiny randomly initialised Llama (hidden 32, 2 layers) with a character-level tokenizer (the
    printable ASCII characters, CHARS and every character of `texts`; others become <unk>), saved as
    a real Hugging Face directory (safetensors, tokenizer.json): the coherence filter's code path runs
    on it in milliseconds."""
    import torch
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    characters = sorted(set(chr(c) for c in range(32, 127)) | set(CHARS) | {"\n"} | set("".join(texts)))
    vocab = {"<bos>": 0, "<eos>": 1, "<pad>": 2, "<unk>": 3}
    for c in characters:
        vocab.setdefault(c, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<bos>", eos_token="<eos>",
                                        pad_token="<pad>", unk_token="<unk>")
    tokenizer.save_pretrained(str(directory))
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                         bos_token_id=0, eos_token_id=1, pad_token_id=2)
    LlamaForCausalLM(config).eval().save_pretrained(str(directory), safe_serialization=True)
    return directory
