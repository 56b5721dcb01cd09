"""Crash safety: 'rag index' killed with SIGKILL at random moments in every phase of a build.

The build runs as a real subprocess (``rag -v index``, fake embedder) and logs one line when it
enters each phase; a phase's length is measured by an uninterrupted build first. Each trial waits
for the line of the phase it aims at, sleeps a random part of that phase's length and kills the
process. Afterwards the index on disk must load and be exactly the previous complete index or the
complete new one (documents and their hashes, every chunk span, every vector), and what the killed
build left behind must be gone once the next build has started.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from corpus_states import write_state

from rag.errors import IndexMissing
from rag.store.embedded import load_index

pytestmark = pytest.mark.slow

RAG = str(Path(sys.executable).parent / "rag")
DOCUMENTS = 25
KILLS_PER_PHASE = 5  # reading, chunking, embedding, writing
KILLS_SWAPPED = 2  # after 'current' moved, while old versions are collected
KILLS_ANYWHERE = 2  # from the start of the process, startup included
# The line 'rag -v index' logs on entering each phase, in order.
PHASES = {
    "reading": re.compile(r"rag\.build: reading documents"),
    "chunking": re.compile(r"rag\.build: structuring and chunking"),
    "embedding": re.compile(r"rag\.build: embedding \d+ of"),
    "writing": re.compile(r"rag\.store\.embedded\.versions: writing index version"),
    "swapped": re.compile(r"rag\.store\.embedded\.versions: index version \S+ is current"),
}


class Build:
    """``rag -v index`` in a subprocess, its log lines read as they come, timed from the start."""

    def __init__(self, corpus: Path, index_dir: Path) -> None:
        env = {**os.environ, "RAG_EMBEDDER": "fake", "PYTHONUNBUFFERED": "1"}
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [RAG, "-v", "index", str(corpus), "--index", str(index_dir)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.seen = {phase: threading.Event() for phase in PHASES}
        self.times: dict[str, float] = {}
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            for phase, pattern in PHASES.items():
                if pattern.search(line) and phase not in self.times:
                    self.times[phase] = time.monotonic() - self.started
                    self.seen[phase].set()

    def finish(self, timeout: float = 120) -> int:
        code = self.proc.wait(timeout=timeout)
        self.ended = time.monotonic() - self.started
        self.reader.join(timeout=10)
        return code

    def kill_at(self, delay: float) -> None:
        time.sleep(delay)
        self.proc.kill()  # SIGKILL; nothing if it has already exited

    @property
    def phase(self) -> str:
        """The last phase the build entered ('startup' before the first)."""
        return max(self.times, key=self.times.__getitem__) if self.times else "startup"


def fingerprint(index_dir: Path) -> tuple[object, np.ndarray] | None:
    """What the index at ``index_dir`` holds: documents, chunk spans (None when there is none)."""
    try:
        index = load_index(index_dir)
    except IndexMissing:
        return None
    try:
        for chunk in index.chunks():
            assert chunk.text == index.documents()[chunk.doc].text[chunk.start : chunk.end]
        documents = tuple(sorted((d.id, d.sha256) for d in index.documents().values()))
        spans = tuple((c.doc, c.start, c.end) for c in index.chunks())
        manifest = {doc: entry["sha256"] for doc, entry in index.manifest["documents"].items()}
        assert manifest == dict(documents)
        assert index.manifest["counts"]["chunks"] == len(spans)
        vectors = np.load(index.path / "vectors.npy")
        return (documents, spans), vectors
    finally:
        index.close()


def leftovers(index_dir: Path) -> set[str]:
    """What a build writes besides the current version and the lock."""
    if not index_dir.exists():
        return set()
    current = os.readlink(index_dir / "current") if (index_dir / "current").is_symlink() else None
    return {p.name for p in index_dir.iterdir() if p.name not in {".lock", "current", current}}


def build_complete(corpus: Path, index_dir: Path) -> Build:
    build = Build(corpus, index_dir)
    assert build.finish() == 0, "\n".join(build.lines)
    return build


def test_index_survives_sigkill_in_every_phase(tmp_path):
    seed = int(os.environ.get("RAG_CRASH_SEED", time.time_ns() % 2**32))
    rng = random.Random(seed)
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"

    # the complete index of each state, and how long each phase of a change from A to B lasts
    reference = {}
    for name in "AB":
        write_state(corpus, name, DOCUMENTS)
        timed = build_complete(corpus, tmp_path / "calibration")
        reference[name] = fingerprint(tmp_path / "calibration")
    order = list(PHASES)
    lengths = {phase: timed.times[order[i + 1]] - timed.times[phase] for i, phase in enumerate(order[:-1])}
    lengths["swapped"] = timed.ended - timed.times["swapped"]
    lengths["anywhere"] = timed.ended
    shutil.rmtree(tmp_path / "calibration")

    def state_of(found):
        for name, (content, vectors) in reference.items():
            if found is not None and found[0] == content:
                assert np.allclose(found[1], vectors, atol=1e-6)
                return name
        return None if found is None else "neither"

    # the very first build killed: no index, or the complete one
    write_state(corpus, "A", DOCUMENTS)
    first = Build(corpus, index_dir)
    assert first.seen["embedding"].wait(60)
    first.kill_at(rng.uniform(0, lengths["embedding"]))
    first.finish()
    assert state_of(fingerprint(index_dir)) in (None, "A")

    targets = [p for p in order[:-1] for _ in range(KILLS_PER_PHASE)]
    targets += ["swapped"] * KILLS_SWAPPED + ["anywhere"] * KILLS_ANYWHERE
    rng.shuffle(targets)
    hit: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    killed = attempts = 0
    on_disk = state_of(fingerprint(index_dir))
    while killed < len(targets):
        attempts += 1
        assert attempts <= 3 * len(targets), f"only {killed} builds killed in {attempts} attempts (seed {seed})"
        aim = targets[killed]
        target = "B" if on_disk == "A" else "A"
        write_state(corpus, target, DOCUMENTS)
        before = debris(index_dir)
        build = Build(corpus, index_dir)
        if aim == "anywhere":
            build.kill_at(rng.uniform(0, lengths["anywhere"]))
        else:
            assert build.seen[aim].wait(60), f"the build never reached {aim}:\n" + "\n".join(build.lines)
            build.kill_at(rng.uniform(0, lengths[aim]))
        code = build.finish()
        now = state_of(fingerprint(index_dir))
        context = f"(aimed at {aim}, reached {build.phase}, seed {seed}):\n" + "\n".join(build.lines)
        assert now in (on_disk, target), f"index is {now}, not {on_disk} or {target} " + context
        if build.phase != "startup":
            # the killed build began by removing what the previous one left behind
            assert not before & leftovers(index_dir), context
        assert len(leftovers(index_dir)) <= 3, f"{sorted(leftovers(index_dir))} " + context
        if code == -signal.SIGKILL:
            killed += 1
            hit[build.phase] = hit.get(build.phase, 0) + 1
            outcomes["new" if now == target and now != on_disk else "previous"] = (
                outcomes.get("new" if now == target and now != on_disk else "previous", 0) + 1
            )
        else:
            assert code == 0, context
        on_disk = now

    # the next complete build works over whatever was left and cleans it up
    target = "B" if on_disk == "A" else "A"
    write_state(corpus, target, DOCUMENTS)
    build_complete(corpus, index_dir)
    assert state_of(fingerprint(index_dir)) == target
    assert leftovers(index_dir) <= _kept(index_dir) and len(leftovers(index_dir)) <= 1
    assert all(not name.startswith(".") for name in leftovers(index_dir))

    print(
        f"\ncrash trials (seed {seed}): {killed} killed in {attempts} builds; phases hit {hit}; index after: {outcomes}"
    )
    assert killed >= 20
    assert {"reading", "chunking", "embedding", "writing"} <= set(hit), hit


def debris(index_dir: Path) -> set[str]:
    """What only a crashed build leaves: temporary and half-deleted folders, a link not yet moved, and
    versions written but never made current."""
    current = os.readlink(index_dir / "current") if (index_dir / "current").is_symlink() else ""
    return {name for name in leftovers(index_dir) if name.startswith(".") or name > current}


def _kept(index_dir: Path) -> set[str]:
    """The version before the current one, which a build keeps on purpose."""
    current = os.readlink(index_dir / "current") if (index_dir / "current").is_symlink() else ""
    older = sorted(p.name for p in index_dir.iterdir() if p.name.startswith("v-") and p.name < current)
    return set(older[-1:])
