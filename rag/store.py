"""Where the index is served from: the embedded folder (``index_dir``) or PostgreSQL (``RAG_STORE``).

Three calls, the same for both: ``open_index`` loads the version to serve, ``current_version``
names it cheaply (a server polls it to notice a new build), and ``publish`` makes a finished build
in ``index_dir`` the one served (for the folder it already is; for PostgreSQL it is copied in).
"""

from __future__ import annotations

from pathlib import Path

from rag.config import Settings
from rag.index import Index, current_path, load_index


def open_index(settings: Settings) -> Index:
    """The index to serve."""
    if settings.store:
        from rag import pgstore

        return pgstore.load(settings.store)
    return load_index(settings.index_dir)


def current_version(settings: Settings) -> Path | None:
    """A name for the version ``open_index`` would load now (``Index.path`` once loaded), or None."""
    if settings.store:
        from rag import pgstore

        version = pgstore.current_version(settings.store)
        return None if version is None else pgstore.version_path(version)
    return current_path(settings.index_dir)


def publish(settings: Settings) -> int | None:
    """Serve the build in ``settings.index_dir``: the version number in PostgreSQL, None for the folder."""
    if not settings.store:
        return None
    from rag import pgstore

    return pgstore.publish(settings.index_dir, settings.store, settings)
