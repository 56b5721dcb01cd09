"""Bulk embedding on a Ray cluster: ``rag index PATH --ray auto|ADDRESS``.

Embedding is what a build spends its time on (about 3,000 model tokens/s per two cores here;
a million chunks is some 55 core-hours), and each chunk is embedded on its own, so the work
splits cleanly: the chunks to embed become a Ray Data dataset, ``map_batches`` runs them through
actors that each load the model once (ONNX Runtime, as a server does), and the vectors come back
in order. Everything else of the build (reading, structure, chunking, re-using vectors by hash,
writing and publishing) stays in the process that runs ``rag index``.

Ray is an optional extra (``pip install -e ".[ray]"``); without it nothing changes.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rag.config import Settings
from rag.embed import Embedder
from rag.errors import RagError

logger = logging.getLogger(__name__)


class RayError(RagError):
    """The Ray cluster cannot be reached or used."""


def _reachable(address: str, timeout: float = 5.0) -> None:
    """Raise ``OSError`` when a HOST:PORT address does not accept connections ('auto' is Ray's to find)."""
    host, sep, port = address.rpartition(":")
    if sep and port.isdigit():
        socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=timeout).close()


class _EmbedActor:
    """One model per actor, loaded once; a batch of texts in, their vectors out."""

    def __init__(self, settings: dict[str, Any]) -> None:
        from rag.embed import load_embedder

        self.embedder = load_embedder(Settings(**settings))
        self.batch_size = int(settings.get("embed_batch_size", 16))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        vectors = self.embedder.embed_passages(texts, batch_size=self.batch_size)
        return {"i": batch["i"], "vector": vectors}


class RayEmbedder:
    """An ``Embedder`` whose passages are embedded by ``workers`` actors on a Ray cluster; queries and
    token counts stay with the local model (``local``), which must be the same model."""

    def __init__(self, local: Embedder, settings: Settings, address: str = "auto", workers: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise RayError("--ray needs Ray. Install the extra: '.venv/bin/pip install -e \".[ray]\"'.") from None
        self.local = local
        self.dim = local.dim
        self.identity = local.identity
        self._settings = settings.model_dump(mode="json", exclude={"store"})
        try:
            _reachable(address)  # Ray itself retries an absent head for minutes, then exits the process
            if not ray.is_initialized():
                ray.init(address=address, log_to_driver=False, include_dashboard=False, logging_level=logging.WARNING)
        except (ConnectionError, OSError, RuntimeError, ValueError) as exc:
            raise RayError(
                f"--ray {address}: cannot join the Ray cluster ({str(exc).splitlines()[0]}). Start one with "
                "'ray start --head' (and 'ray start --address HEAD:6379' on each worker), or give its address."
            ) from None
        cpus = int(ray.cluster_resources().get("CPU", 1))
        self.workers = workers or max(1, cpus)
        logger.info("embedding on Ray at %s with %d actors (%d CPUs in the cluster)", address, self.workers, cpus)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.local.embed_queries(texts)

    def count_tokens(self, text: str) -> int:
        return self.local.count_tokens(text)

    def embed_passages(
        self, texts: Sequence[str], *, batch_size: int = 16, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import ray

        # longest first, as the local embedder does, so that batches pad little; the ids restore the order
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        dataset = ray.data.from_items([{"i": i, "text": texts[i]} for i in order])
        vectors = dataset.map_batches(
            _EmbedActor,
            fn_constructor_kwargs={"settings": self._settings},
            batch_size=max(batch_size, 32),
            concurrency=self.workers,
            num_cpus=1,
            batch_format="numpy",
        )
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        done = 0
        for batch in vectors.iter_batches(batch_size=256, batch_format="numpy"):
            out[batch["i"]] = batch["vector"]
            done += len(batch["i"])
            if progress is not None:
                progress(done)
        if done != len(texts):
            raise RayError(f"the Ray cluster returned {done} of {len(texts)} vectors; run 'rag index' again.")
        return out
