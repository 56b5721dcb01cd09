"""Version folders: the only code that makes, swaps and deletes them.

Layout of an index folder::

    current -> v-<build time>/      symlink, swapped atomically when a build is complete
    v-<build time>/
        manifest.json               schema, model identity and dimension, chunking settings,
                                    build time, per-document content hashes
        chunks.sqlite               documents (full text, metadata) and chunks (spans, metadata)
        vectors.npy                 float32 (n_chunks, dim), L2-normalised; row == chunk id
        embed_hashes.json           sha256 of each chunk's embedding text; position == chunk id
        dense.faiss                 FAISS inner-product index over vectors.npy; id == chunk id
        bm25/                       bm25s arrays (numpy, no pickle); document id == chunk id
    .lock                           held (flock) by the one build that may run at a time

A build writes a new version folder (``.v-<build time>.tmp`` until it is complete) and only then
repoints ``current``, so a crash at any moment leaves the previous index serving; the next build
removes what a crashed one left behind.

Old versions are collected by the next build: the current one and the one before it stay, and so
does any version a loaded index still uses (each holds a shared flock on its version folder, a
``Lease``, until it is closed or garbage-collected), so a running server never loses the files it
has open.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import numpy as np

from rag.types import Manifest

logger = logging.getLogger(__name__)

CURRENT = "current"
LOCK = ".lock"
# What the build and the collector of old versions put in an index folder besides versions and ``current``.
_TMP_PREFIX, _TRASH_PREFIX, _LINK_TMP = ".v-", ".trash-", f".{CURRENT}.tmp"


def current_path(index_dir: Path) -> Path | None:
    """The version folder ``index_dir/current`` points at, or None when there is no index."""
    link = index_dir / CURRENT
    if not link.exists():
        return None
    return link.resolve()


def current_name(index_dir: Path) -> str | None:
    """The name of the version folder ``index_dir/current`` points at, or None: what a server checks
    on every request, so the link is read, not resolved (``current`` names a folder beside it)."""
    link = index_dir / CURRENT
    try:
        target = index_dir / os.readlink(link)  # an absolute target stays itself
    except FileNotFoundError:
        return None
    except OSError:  # not a link
        path = current_path(index_dir)
        return None if path is None else path.name
    return target.name if target.is_dir() else None


def read_manifest(index_dir: Path) -> Manifest | None:
    version = current_path(index_dir)
    if version is None or not (version / "manifest.json").exists():
        return None
    return manifest_of(version)


def manifest_of(version: Path) -> Manifest:
    return cast(Manifest, json.loads((version / "manifest.json").read_text(encoding="utf-8")))


def vectors_by_hash(version: Path | None) -> dict[str, np.ndarray]:
    """Embedding-text hash -> vector of a version, for reuse."""
    if version is None or not (version / "vectors.npy").exists():
        return {}
    hashes = json.loads((version / "embed_hashes.json").read_text(encoding="utf-8"))
    vectors = np.load(version / "vectors.npy", mmap_mode="r", allow_pickle=False)
    return {h: np.asarray(vectors[i]) for i, h in enumerate(hashes)}


class Lease:
    """A shared flock on a version folder: no build collects the version while it is held.

    Released by ``close`` or when the last index holding it is garbage-collected; a view of an
    index holds the index, so the descriptor is closed exactly once.
    """

    def __init__(self, fd: int) -> None:
        self._release = weakref.finalize(self, os.close, fd)

    def close(self) -> None:
        self._release()


def lease(version: Path) -> Lease | None:
    """Share-lock a version folder so no build collects it; None when it was collected meanwhile."""
    try:
        fd = os.open(version, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
    except OSError:  # a file system without flock: load without the protection
        logger.warning("cannot lock %s; a build may delete it while it is loaded", version)
    # a build renames a version away while it holds the exclusive lock, so after it the name is gone
    if not (version / "manifest.json").exists():
        os.close(fd)
        return None
    return Lease(fd)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index folder (the kernel releases the lock of a killed build)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.warning("another build of %s is running; waiting for it to finish", index_dir)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def new_version(index_dir: Path, fill: Callable[[Path], None]) -> Path:
    """Make a complete new version beside the current one (``fill`` writes its files into the
    folder it is given), durable on disk, then repoint ``current`` at it atomically."""
    name = "v-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    logger.info("writing index version %s", name)
    tmp = index_dir / f"{_TMP_PREFIX}{name[2:]}.tmp"
    tmp.mkdir()
    fill(tmp)
    # durable before it becomes visible: the files, then the folders that name them
    for entry in sorted(tmp.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if entry.is_file():
            with open(entry, "rb") as fh:
                os.fsync(fh.fileno())
        elif entry.is_dir():
            _fsync_dir(entry)
    _fsync_dir(tmp)
    final = index_dir / name
    tmp.rename(final)
    _fsync_dir(index_dir)
    link_tmp = index_dir / _LINK_TMP
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    link_tmp.symlink_to(name)
    os.replace(link_tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    logger.info("index version %s is current", name)
    collect_garbage(index_dir)
    return final


def collect_garbage(index_dir: Path) -> list[str]:
    """Remove old versions and what crashed builds left behind; return the names removed.

    The current version stays, and so does the one before it (a reader may have resolved
    ``current`` just before it moved; it is also there to go back to). Any other version that a
    loaded index still holds stays until it is released. Call it only while holding the build
    lock: a temporary folder is then never one a running build is writing.
    """
    if not index_dir.is_dir():
        return []
    current = current_path(index_dir)
    versions = sorted(p.name for p in index_dir.iterdir() if p.name.startswith("v-") and not p.is_symlink())
    keep = set()
    if current is not None and current.parent == index_dir.resolve():
        keep.add(current.name)
        older = [v for v in versions if v < current.name]
        keep.update(older[-1:])
    removed = []
    for entry in sorted(index_dir.iterdir()):
        if entry.name == _LINK_TMP:
            entry.unlink(missing_ok=True)
            removed.append(entry.name)
        elif entry.name.startswith((_TMP_PREFIX, _TRASH_PREFIX)):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
        elif entry.name.startswith("v-") and entry.name not in keep and _remove_unused(entry):
            removed.append(entry.name)
    if removed:
        logger.info("removed from %s: %s", index_dir, ", ".join(removed))
    return removed


def _remove_unused(version: Path) -> bool:
    """Delete a version folder unless a loaded index holds it; True if it was deleted."""
    if version.is_symlink() or not version.is_dir():
        version.unlink(missing_ok=True)
        return True
    fd = os.open(version, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("kept %s: it is in use", version.name)
            return False
        except OSError:  # a file system without flock (NFS allows no exclusive lock on a folder)
            logger.info("cannot tell whether %s is in use; removing it", version.name)
        trash = version.with_name(_TRASH_PREFIX + version.name)
        version.rename(trash)  # a reader that locks it after this sees the name gone and retries
        shutil.rmtree(trash, ignore_errors=True)
        return True
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
