"""What every measurement uses: the machine, percentiles, memory and sizes, the questions."""

from __future__ import annotations

import os
import platform
import resource
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory and the versions that matter for the figures."""
    cpu = "unknown"
    memory_gb = 0.0
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line)
        memory_gb = round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration):
        pass
    versions: dict[str, str | None] = {}
    for package in (
        "rag",
        "torch",
        "sentence-transformers",
        "onnxruntime",
        "faiss-cpu",
        "bm25s",
        "numpy",
        "fastapi",
        "uvicorn",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "versions": versions,
    }


def percentiles(values_ms: Sequence[float]) -> dict[str, float]:
    if not values_ms:
        return {"n": 0}
    a = np.asarray(values_ms, dtype=float)
    return {
        "n": len(a),
        "p50": round(float(np.percentile(a, 50)), 2),
        "p95": round(float(np.percentile(a, 95)), 2),
        "p99": round(float(np.percentile(a, 99)), 2),
    }


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _dir_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 1)


def questions(paths: Sequence[Path]) -> list[str]:
    from rag.evaluate import load_questions

    return list(dict.fromkeys(q.question for p in paths for q in load_questions(p)))


def _rss_mb() -> float:
    """Resident memory now (peak RSS includes what loading needed only for a moment)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0
