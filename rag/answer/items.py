"""What the parts of an assistant share: the searcher it answers over and the items (§) of its
documents, found by offset.
"""

from __future__ import annotations

import bisect
from typing import Any

from rag.search import Searcher


class Items:
    """The searcher and each document's items (§) sorted by start, as ``Assistant.__init__`` sets
    them; the base of the assistant's parts (``SentenceChoice``, ``Constraints``, ``LaterStep``)."""

    searcher: Searcher
    _items: dict[str, list[dict[str, Any]]]
    _item_starts: dict[str, list[int]]

    def item_at(self, doc: str, offset: int) -> dict[str, Any] | None:
        """The item (§) of a document that holds ``offset``, as the stored structure summary has it."""
        starts = self._item_starts.get(doc, [])
        i = bisect.bisect_right(starts, offset) - 1
        if i < 0:
            return None
        item = self._items[doc][i]
        return item if offset < item["end"] else None
