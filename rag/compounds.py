"""Swedish compounds a question writes that the documents do not: "sekretessuppgifter" where the
text says "sekretessbelagda uppgifter", "kameramotionen" where it says "motionen om kameror".

A key the index has never seen is split into the two keys it is made of, when both are keys the
index knows (a linking -s- between them allowed: "automatiserings|ärendet"), so search and the
answer's overlap can match the parts. Only unseen keys are split: a compound the documents use
is matched whole, as written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rag.normalise import analyse

_MIN_PART = 4  # letters of the shorter part: "bild", "plan", "fusk"
_MIN_COMPOUND = 2 * _MIN_PART


def _as_key(part: str) -> str | None:
    keys = analyse(part)
    return keys[0] if len(keys) == 1 else None


def compound_parts(key: str, known: Callable[[str], bool]) -> tuple[str, ...]:
    """The two known keys an unseen ``key`` is compounded of, the split with the longest shorter
    part winning; () for a known key, a short one, or one no split explains."""
    if len(key) < _MIN_COMPOUND or known(key):
        return ()
    best: tuple[int, tuple[str, str]] | None = None
    for cut in range(_MIN_PART, len(key) - _MIN_PART + 1):
        head, tail = key[:cut], key[cut:]
        tail_key = tail if known(tail) else _as_key(tail)
        if not tail_key or not known(tail_key):
            continue
        for h in (head, head[:-1] if head.endswith("s") and len(head) > _MIN_PART else None):
            if not h:
                continue
            head_key = h if known(h) else _as_key(h)
            if head_key and known(head_key):
                score = min(len(h), len(tail))
                if best is None or score > best[0]:
                    best = (score, (head_key, tail_key))
    return best[1] if best else ()


def with_parts(keys: Iterable[str], known: Callable[[str], bool]) -> list[str]:
    """``keys`` in order, each once, each unseen compound followed by its parts (``compound_parts``)."""
    out: dict[str, None] = {}
    for key in keys:
        out[key] = None
        out.update(dict.fromkeys(compound_parts(key, known)))
    return list(out)
