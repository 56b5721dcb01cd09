"""Export a local sentence-transformers folder to ONNX for ONNX Runtime: float or int8.

The file is written once, on first use of ``RAG_BACKEND=onnx`` (or ``onnx-int8``), into
``<model_dir>/onnx/`` (inputs ``input_ids``, ``attention_mask`` [, ``token_type_ids``], output
``last_hidden_state``). All offline: torch's TorchScript exporter writes the float graph; ONNX
Runtime's transformer optimiser fuses attention, layer norm and GELU. That fused float graph
gives torch's vectors (cosine 1.00000 on 116 questions) at 2-3x less CPU per query, because
nothing runs in Python between the layers. For ``int8``, ``quantize_dynamic`` then stores the
weights as int8 with one scale per output channel. Measured against torch on the corpus (mean
cosine): per-tensor scales 0.987, per-channel 0.996, per-channel with the feed-forward output
layers (the MatMul after GELU, whose inputs have outliers) left in float 0.999. optimum is not
used: its ONNX package needs transformers < 4.58 and sentence-transformers 5+ needs transformers 5.

The int8 weight type follows the CPU, as optimum's configurations do: signed int8 weights where
the CPU has VNNI (``avx512_vnni``); elsewhere unsigned int8 (``avx2``), which cannot saturate the
multiply-add of CPUs without VNNI. Beside each model a small JSON file records its sha256, so
loading does not hash it each time.

Each graph keeps its weights in a file beside it (``<graph>.onnx.data``), which ONNX Runtime
memory-maps instead of copying onto its heap: a process then holds only the weights it touches.
Every layer's matrices are touched by every text, but of the 250,000-row table of token embeddings
(384 MB in float) only the rows of tokens that occur. Measured: a session on the float graph
holds 91 MB instead of 491 MB, with the same vectors to the last bit; on the int8 graph 51 MB
instead of 156 MB.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import json
import logging
import os
import shutil
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

from rag.errors import ModelError

log = logging.getLogger(__name__)

SUBFOLDER = "onnx"
_MODULES = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling"]
_NORMALIZE = "sentence_transformers.models.Normalize"


def quantisation_target() -> str:
    """``"avx512_vnni"`` if this CPU has VNNI instructions, else ``"avx2"`` (the portable choice)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "avx2"
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return "avx512_vnni" if {"avx512_vnni", "avx_vnni"} & set(flags) else "avx2"


def onnx_file(model_dir: Path, *, int8: bool = False, target: str | None = None) -> Path:
    """Where the ONNX model of ``model_dir`` lives (it may not exist yet): the fused float graph,
    or with ``int8`` the quantised one for this CPU (or ``target``)."""
    name = f"model_qint8_{target or quantisation_target()}.onnx" if int8 else "model_fp32_fused.onnx"
    return Path(model_dir) / SUBFOLDER / name


def data_file(graph: Path) -> Path:
    """The file beside ``graph`` that holds its weights."""
    return graph.with_name(graph.name + ".data")


def onnx_info(path: Path) -> dict[str, Any]:
    """The export record written beside ``path``: file, sha256, quantisation, tool versions."""
    try:
        info: dict[str, Any] = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        if not isinstance(info.get("sha256"), str):
            raise ValueError("no sha256")
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"{path.with_suffix('.json')} is unreadable ({exc}); delete {path.parent} to re-export"
        ) from exc
    return info


def check_supported(model_dir: Path) -> None:
    """Refuse folders the ONNX path cannot reproduce: anything but Transformer, Pooling, Normalize."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{model_dir} cannot run on ONNX ({exc}); set RAG_BACKEND=torch") from exc
    kinds = [m.get("type") for m in modules]
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v]
    if (
        kinds not in (_MODULES, [*_MODULES, _NORMALIZE])
        or modules[0].get("path") != ""
        or modes not in (["pooling_mode_mean_tokens"], ["pooling_mode_cls_token"])
        or not pooling.get("include_prompt", True)
        or st_config.get("do_lower_case")
        or not (model_dir / "tokenizer.json").is_file()
    ):
        raise ModelError(
            f"{model_dir} cannot run on ONNX: only a Transformer at the folder's root with a fast "
            "tokenizer, mean or CLS pooling and optional normalisation are supported; set RAG_BACKEND=torch"
        )


def _export_float(model_dir: Path, out: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before transformers reads it on import
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    import transformers
    from transformers import AutoModel

    transformers.logging.disable_progress_bar()

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager").eval()
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in inspect.signature(model.forward).parameters:
        names.append("token_type_ids")

    class LastHiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    ids = torch.tensor([[0, 100, 200, 2], [0, 300, 2, 1]])  # two rows, one padded: dynamic shapes
    sample = {"input_ids": ids, "attention_mask": (ids != 1).long(), "token_type_ids": torch.zeros_like(ids)}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and deprecation warnings about the legacy exporter
        torch.onnx.export(
            LastHiddenState(),
            tuple(sample[n] for n in names),
            str(out),
            dynamo=False,  # the dynamo exporter needs onnxscript; this one needs nothing more
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            do_constant_folding=True,
        )


class _BelowWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


def _fuse(model_dir: Path, float_file: Path, out: Path) -> None:
    """ONNX Runtime's transformer optimiser: attention, layer norm and GELU fused; same maths."""
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    optimised = optimize_model(
        str(float_file),
        model_type="bert",  # BERT-style encoders (BERT, XLM-R); others are exported unfused
        num_heads=int(config.get("num_attention_heads", 0)),
        hidden_size=int(config.get("hidden_size", 0)),
    )
    optimised.save_model_to_file(str(out), use_external_data_format=True)  # weights in data_file(out)


def _quantise(model_dir: Path, fused: Path, out: Path, target: str) -> None:
    """Dynamic int8 from the fused graph's file (quantising from a file: peak memory 3.5 GB, not 5)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(fused), load_external_data=False).graph
    producer = {tensor: node.op_type for node in graph.node for tensor in node.output}
    after_gelu = [n.name for n in graph.node if n.op_type == "MatMul" and "Gelu" in producer.get(n.input[0], "")]
    del graph
    root, quiet = logging.getLogger(), _BelowWarning()
    root.addFilter(quiet)  # the quantiser logs hundreds of INFO lines through the root logger
    try:
        quantize_dynamic(
            str(fused),
            str(out),
            nodes_to_exclude=after_gelu,  # GELU outputs have outliers: int8 there costs most accuracy
            per_channel=True,
            weight_type=QuantType.QInt8 if target == "avx512_vnni" else QuantType.QUInt8,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},  # fused ops lack shape inference
            use_external_data_format=True,  # weights in data_file(out)
        )
    finally:
        root.removeFilter(quiet)


def sha256_of(*paths: Path) -> str:
    """The sha256 of the files' bytes one after the other, read a megabyte at a time."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def export_onnx(model_dir: Path, *, int8: bool = False, force: bool = False) -> Path:
    """The ONNX model of ``model_dir`` (fused float, or ``int8`` for this CPU), exported first if
    missing (or ``force``).

    Everything is written in a temporary folder inside ``model_dir`` and renamed into
    ``onnx/`` (the weights and the record first, the graph last), so a crash leaves no
    half-written model. An export from before the weights moved beside the graph (no data file)
    is made again.
    """
    model_dir = Path(model_dir).expanduser()
    target = quantisation_target()
    dest = onnx_file(model_dir, int8=int8, target=target)
    done = [dest, data_file(dest), dest.with_suffix(".json")]
    if all(p.is_file() for p in done) and not force:
        return dest
    if dest.is_file() and not data_file(dest).is_file():
        dest.unlink()  # a graph with its weights inside: never paired with a newer data file or record
    check_supported(model_dir)
    started = time.perf_counter()
    tmp = model_dir / f".{SUBFOLDER}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir(parents=True)
        _export_float(model_dir, tmp / "float.onnx")
        if int8:
            _fuse(model_dir, tmp / "float.onnx", tmp / "fused.onnx")
            _quantise(model_dir, tmp / "fused.onnx", tmp / dest.name, target)
        else:
            _fuse(model_dir, tmp / "float.onnx", tmp / dest.name)
        graph, weights = tmp / dest.name, data_file(tmp / dest.name)
        if not weights.is_file():
            raise ModelError(
                f"cannot export {model_dir} to ONNX: onnxruntime {importlib.metadata.version('onnxruntime')} "
                f"wrote no {weights.name} beside {graph.name}; set RAG_BACKEND=torch"
            )
        info = {
            "file": f"{SUBFOLDER}/{dest.name}",
            "sha256": sha256_of(graph, weights),  # the graph, then its weights
            "quantisation": f"dynamic int8 per-channel except after GELU, {target}" if int8 else "none (float32)",
            "torch": importlib.metadata.version("torch"),
            "onnxruntime": importlib.metadata.version("onnxruntime"),
        }
        (tmp / "record.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        dest.parent.mkdir(exist_ok=True)
        os.replace(weights, data_file(dest))
        os.replace(tmp / "record.json", dest.with_suffix(".json"))
        os.replace(graph, dest)
    except ModelError:
        raise
    except Exception as exc:  # torch, onnx and onnxruntime raise many kinds; all mean no model
        raise ModelError(
            f"cannot export {model_dir} to ONNX: {exc}; free ~1.2 GB in that folder, or set RAG_BACKEND=torch"
        ) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("exported %s (%s) in %.1f s", dest, info["quantisation"], time.perf_counter() - started)
    return dest
