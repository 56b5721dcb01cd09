"""Where the index is kept and served from: the embedded folder (``index_dir``, the default) or
PostgreSQL (``RAG_STORE``), both behind the protocols of ``rag.store.base``.

Four calls, the same for both: ``open_index`` loads the version to serve (a ``ReadStore``),
``current_version`` names it cheaply (a server polls it to notice a new build), ``open_store`` is
where a build writes (a ``WriteStore``), and ``publish`` makes a finished build in ``index_dir``
the one served (for the folder it already is; for PostgreSQL it is copied in).
"""

from __future__ import annotations

from rag.config import Settings
from rag.store.base import ReadStore, WriteStore
from rag.store.embedded import EmbeddedStore, current_name, load_index

__all__ = ["ReadStore", "WriteStore", "current_version", "open_index", "open_store", "publish"]


def open_index(settings: Settings) -> ReadStore:
    """The index to serve."""
    if settings.store:
        from rag.store import postgres

        return postgres.load(settings.store)
    return load_index(settings.index_dir)


def open_store(settings: Settings) -> WriteStore:
    """Where a build writes: the index folder, and for PostgreSQL the database through it."""
    local = EmbeddedStore(settings.index_dir)
    if settings.store:
        from rag.store import postgres

        return postgres.PgStore(settings.store, local)
    return local


def current_version(settings: Settings) -> str | None:
    """The name of the version ``open_index`` would load now (``ReadStore.version`` once loaded), or None."""
    if settings.store:
        from rag.store import postgres

        version = postgres.current_version(settings.store)
        return None if version is None else postgres.version_name(version)
    return current_name(settings.index_dir)


def publish(settings: Settings) -> int | None:
    """Serve the build in ``settings.index_dir``: the version number in PostgreSQL, None for the folder."""
    if not settings.store:
        return None
    from rag.store import postgres

    return postgres.publish(settings.index_dir, settings.store, settings)
