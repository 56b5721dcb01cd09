"""The loaded index, replaced when a new version appears: ``rag index`` or an upload publishes one,
and a running server picks it up without a restart."""

from __future__ import annotations

import logging
import threading

from rag.answer import Assistant
from rag.config import Settings
from rag.embed import Embedder
from rag.store import current_version

logger = logging.getLogger(__name__)


class Service:
    """The assistants over the current index version, one for staff (everything) and one for
    citizens (the public view), replaced together when ``current`` points at a new version.

    A new version loads in a background thread (the public view rebuilds its keyword statistics,
    about a millisecond a chunk); the request that notices it waits at most ``RELOAD_WAIT`` seconds
    for it, every other request meanwhile is answered from the version already loaded, so a re-index
    never stalls the service. A version that fails to load is logged and skipped; the old one keeps serving.
    """

    RELOAD_WAIT = 5.0

    def __init__(self, settings: Settings, embedder: Embedder | None) -> None:
        self.settings = settings
        staff = Assistant.open(settings, embedder)
        self._assistants = (staff, staff.public())
        self._version = staff.searcher.index.version
        self.embedder = staff.searcher.embedder
        self._state = threading.Lock()
        self._loading: threading.Event | None = None
        self._failed: str | None = None
        self.write_lock = threading.Lock()  # one upload or delete at a time

    def _load(self, done: threading.Event, wanted: str) -> None:
        try:
            staff = Assistant.open(self.settings, self.embedder)
            pair = (staff, staff.public())
            with self._state:
                self._assistants, self._version = pair, staff.searcher.index.version
            logger.info("serving index %s", staff.searcher.index.version)
        except Exception:
            logger.exception("could not load index %s; still serving %s", wanted, self._version)
            self._failed = wanted
        finally:
            with self._state:
                self._loading = None
            done.set()

    def refresh(self, wait: float | None) -> None:
        """Load the version ``current`` points at if it is new. The caller that starts the loading
        waits for it up to ``wait`` seconds, others do not wait; ``wait=None`` waits until the current
        version is the one served (or has failed), whoever started it."""
        while True:
            version = current_version(self.settings)
            if self._is_served(version):
                return
            with self._state:
                done = self._loading
                started = done is None
                if done is None:
                    done = self._loading = threading.Event()
                    logger.info("index changed to %s; loading it", version)
                    thread = threading.Thread(target=self._load, args=(done, version), name="index-reload", daemon=True)
                    thread.start()
            if wait is None:
                done.wait()
                continue
            if started:
                done.wait(wait)
            return

    def served_is_current(self) -> bool:
        """Whether the version served is the current one, known without waiting: the embedded index
        reads its ``current`` link (no thread needed); PostgreSQL would have to be asked."""
        return not self.settings.store and self._loading is None and self._is_served(current_version(self.settings))

    def _is_served(self, version: str | None) -> bool:
        """Whether ``version`` needs no loading: none yet, the one served, or one that failed to load."""
        return version is None or version == self._version or version == self._failed

    def served(self, *, staff: bool) -> Assistant:
        """The assistant served now, for staff or for everyone else."""
        assistants = self._assistants  # one read: the pair is replaced whole
        return assistants[0] if staff else assistants[1]

    def assistant(self, *, staff: bool) -> Assistant:
        """The assistant for staff (internal documents included) or for everyone else."""
        self.refresh(self.RELOAD_WAIT)
        return self.served(staff=staff)
