"""The data of the pipeline: small frozen dataclasses, converted with ``asdict`` only at the edges.

Every ``start``/``end`` pair in this module is a character offset into ``Document.text`` (for
``.txt``/``.md`` files exactly the decoded file content), half-open: ``text[start:end]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """A source file as extracted text; ``id`` is the file's name, unique within an index."""

    id: str
    path: str
    text: str
    sha256: str
    format: str
    internal: bool = False


@dataclass(frozen=True)
class Section:
    """A headed part of an item (Beslut, Ärendet, Yrkanden ...), spanning its heading and body."""

    heading: str
    start: int
    end: int


@dataclass(frozen=True)
class Person:
    """A named person with party, and the role they play in an item."""

    name: str
    party: str | None
    role: str  # "motionär" | "yrkande" | "reservation"


@dataclass(frozen=True)
class Item:
    """One numbered item (§) of a protocol, or the whole text of a document without §."""

    start: int
    end: int
    paragraph: str | None = None  # "§ 100"
    number: int | None = None
    title: str | None = None
    dnr: str | None = None
    body: str | None = None
    date: str | None = None  # ISO date of the meeting
    outcome: str | None = None
    sections: tuple[Section, ...] = ()
    persons: tuple[Person, ...] = ()
    # span of the sentence(s) that state what was decided, inside the item; never a yrkande
    decision: tuple[int, int] | None = None
    proposal_to: str | None = None  # the higher body, when the item only proposes ("Kommunfullmäktige")
    outcomes: tuple[str, ...] = ()  # the outcomes of further att-satser, besides ``outcome``


@dataclass(frozen=True)
class Structure:
    """What a document is: its metadata, its items and the spans of page furniture."""

    doc_type: str  # "protokoll" | "riktlinje" | "motion" | "tjänsteskrivelse" | ...
    title: str | None
    organisation: str | None
    body: str | None
    date: str | None
    items: tuple[Item, ...]
    furniture: tuple[tuple[int, int], ...] = ()
    decided_by: str | None = None  # a guideline's decision: "Kommunstyrelsen 2024-11-12, § 203"


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage to index: a span of one document with the metadata of its item and section."""

    doc: str
    start: int
    end: int
    text: str
    section: str | None = None
    paragraph: str | None = None
    dnr: str | None = None
    date: str | None = None
    organisation: str | None = None
    body: str | None = None
    doc_type: str | None = None
    outcome: str | None = None
    title: str | None = None
    internal: bool = False

    def header(self) -> str:
        """The context line put before the text for embedding and keyword matching."""
        section = self.section if self.section != self.title else None
        parts = [self.organisation, self.body, self.paragraph, self.title, self.date, section]
        return " · ".join(p for p in parts if p)


@dataclass(frozen=True)
class Filters:
    """Restrictions on search results; ``None`` means no restriction on that field."""

    organisation: str | None = None
    body: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    doc_type: str | None = None
    outcome: str | None = None

    def empty(self) -> bool:
        return all(v is None for v in vars(self).values())


@dataclass(frozen=True)
class Hit:
    """A ranked chunk: ``score`` is the fused score; ranks are 1-based, ``None`` when not retrieved."""

    chunk_id: int
    chunk: Chunk
    score: float
    lexical_rank: int | None = None
    dense_rank: int | None = None
    path: str = ""


@dataclass(frozen=True)
class QueryInfo:
    """What the query parser understood from a question."""

    text: str
    language: str  # "sv" | "en"
    organisations: tuple[str, ...] = ()
    bodies: tuple[str, ...] = ()
    years: tuple[str, ...] = ()
    paragraphs: tuple[int, ...] = ()
    dnrs: tuple[str, ...] = ()
    expansions: tuple[str, ...] = field(default=())
    answer_type: str | None = None  # "person" | "date" | "number" | "frequency" | "reason"
    places: tuple[str, ...] = ()  # Swedish municipalities and regions named, known to the index or not
    sections: tuple[str, ...] = ()  # sections that state what the question asks for (Beslut, Yrkanden ...)
