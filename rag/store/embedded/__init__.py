"""The embedded index: a folder of plain files (SQLite tables, FAISS, bm25s arrays, a manifest), one
version folder per build, swapped in atomically (``versions``). The default store: one machine, no
server to run.

- ``index``: a loaded version (``EmbeddedIndex``, the ``ReadStore``) and ``load_index``;
- ``view``: the citizens' view of it (``PublicView``);
- ``store``: writing it (``EmbeddedStore``, the ``WriteStore``);
- ``dense`` (FAISS), ``lexical`` (bm25s), ``sqlite`` (documents and chunks), ``versions`` (folders,
  leases, swap and collection).
"""

from rag.store.embedded.index import EmbeddedIndex, load_index
from rag.store.embedded.store import EmbeddedStore
from rag.store.embedded.versions import current_name, current_path, read_manifest

__all__ = ["EmbeddedIndex", "EmbeddedStore", "current_name", "current_path", "load_index", "read_manifest"]
