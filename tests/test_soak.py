"""Soak: repeated index/re-index cycles in one process, like a server that re-indexes and reloads.

Each cycle changes the corpus (alternating between two states, so about half the chunks are
embedded again), builds, opens the new index the way the server does and searches it, dropping
the previous one. After a warm-up, memory (RSS), open file handles, mappings of deleted index files
and version folders on disk must not grow.
"""

from __future__ import annotations

import gc
import os
import re
import threading
from pathlib import Path

import pytest
from corpus_states import write_state

from rag.build import build_index
from rag.config import Settings
from rag.embed import FakeEmbedder
from rag.search import Searcher

pytestmark = pytest.mark.slow

CYCLES = 30
WARM_UP = 6
DOCUMENTS = 12
RSS_TOLERANCE_KB = 16_000


def rss_kb() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def deleted_mappings(index_dir: Path) -> int:
    """Memory mappings of index files that a build has deleted (a reader that never let go)."""
    maps = Path("/proc/self/maps").read_text().splitlines()
    return sum(1 for line in maps if str(index_dir) in line and line.endswith("(deleted)"))


def test_index_reindex_cycles_do_not_grow_memory_files_or_folders(tmp_path):
    settings = Settings(index_dir=tmp_path / "index", embedder="fake")
    corpus = tmp_path / "corpus"
    embedder = FakeEmbedder()
    serving: Searcher | None = None
    samples = []
    for cycle in range(CYCLES):
        write_state(corpus, "AB"[cycle % 2], DOCUMENTS)
        report = build_index([corpus], settings.index_dir, embedder, settings)
        assert report.embedded > 0 and report.failed == []
        previous, serving = serving, Searcher.open(settings, embedder)  # the server's reload
        if previous is not None:
            previous.index.close()
        del previous
        assert serving.search("Vad beslutade Tibro om en AI-strategi?", k=3)
        gc.collect()
        for thread in threading.enumerate():
            if thread.name == "rag-prefetch":
                thread.join()  # warming the page cache holds a file open for a moment: not a leak
        folders = sorted(p.name for p in settings.index_dir.iterdir() if p.name not in {".lock", "current"})
        samples.append((rss_kb(), open_files(), deleted_mappings(settings.index_dir), len(folders)))
        assert len(folders) <= 2, folders  # the current version and the one before it; nothing left over

    baseline, end = samples[WARM_UP - 1], samples[-1]
    peak_rss = max(s[0] for s in samples[WARM_UP:])
    print(
        f"\nsoak: {CYCLES} cycles; RSS {samples[0][0]} kB after the first, {baseline[0]} kB after warm-up, "
        f"{end[0]} kB at the end (peak {peak_rss} kB); open files {baseline[1]} -> {end[1]}; "
        f"deleted index mappings {baseline[2]} -> {end[2]}; version folders {baseline[3]} -> {end[3]}"
    )
    assert end[0] - baseline[0] < RSS_TOLERANCE_KB, samples
    assert max(s[1] for s in samples[WARM_UP:]) <= baseline[1], samples
    assert end[2] == 0, samples
    assert end[3] <= 2
