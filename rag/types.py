"""The data of the pipeline: small frozen dataclasses, converted with ``asdict`` only at the edges.

Every ``start``/``end`` pair in this module is a character offset into ``Document.text`` (for
``.txt``/``.md`` files exactly the decoded file content), half-open: ``text[start:end]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict


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
    # chunks of any organisation but these, compared exactly (None: chunks of no organisation), as
    # precedent asks for "decisions elsewhere"; never set from a request
    exclude_organisations: tuple[str | None, ...] | None = None

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


@dataclass(frozen=True)
class Citation:
    """One quoted span: ``quote == document text[start:end]``, checked before it is returned."""

    n: int
    doc: str
    path: str
    title: str | None
    organisation: str | None
    body: str | None
    date: str | None
    paragraph: str | None
    dnr: str | None
    section: str | None
    start: int
    end: int
    quote: str


@dataclass(frozen=True)
class Evidence:
    """The measured signals behind an answer's confidence."""

    similarity: float  # cosine between the question and the best sentence
    coverage: float  # rarity-weighted share of the question's terms found in the best passages
    answer_type: str | None = None  # what the question asks for: person, date, number, money ...
    answer_type_found: bool = True  # whether any candidate sentence states such a thing
    missing: tuple[str, ...] = ()  # question terms no indexed document contains at all
    unknown_places: tuple[str, ...] = ()  # municipalities/regions named that no document mentions
    # constraints of the question the best sentence does not meet: "words" (none of its words is in
    # any document), "organisation", "body", "stage", "undecided" (the sentence is a proposal that
    # was sent back or postponed)
    unmet: tuple[str, ...] = ()
    decision: bool = False  # the question asks what was decided


@dataclass(frozen=True)
class Answer:
    question: str
    standalone: str  # the question actually searched (a follow-up resolved against the history)
    language: str
    answer: str | None
    abstained: bool
    confidence: float
    reason: str | None
    citations: tuple[Citation, ...]
    passages: tuple[Hit, ...]
    evidence: Evidence
    generated: bool = False  # worded by the configured LLM endpoint rather than extractive


@dataclass(frozen=True)
class StoredDocument:
    """A document as the index keeps it: text, metadata and structure summary."""

    id: str
    path: str
    sha256: str
    format: str
    internal: bool
    text: str
    doc_type: str
    title: str | None
    organisation: str | None
    body: str | None
    date: str | None
    structure: dict[str, Any] = field(default_factory=dict)


@dataclass
class BuildReport:
    """What a build did: counts for the summary line, and one message per failed file."""

    documents: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    # documents whose file failed this time but that were indexed before: their indexed text stays
    kept: list[str] = field(default_factory=list)
    # personal data masked in the indexed text, per kind (personnummer includes samordningsnummer)
    masked: bool = True
    personal_data: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    path: str = ""


# The manifest is JSON on disk (``manifest.json``; in PostgreSQL a row of ``rag_meta``), so it is
# typed as dictionaries: an index written by an older version may lack keys, and ``total=False``
# says so. Keys are read with ``.get`` where they may be missing.


class DocumentEntry(TypedDict, total=False):
    """A document as the manifest lists it (what an incremental build compares against)."""

    sha256: str
    path: str
    internal: bool
    chunks: int
    personal_data: dict[str, int]  # per kind, masked in this document's indexed text


class PersonalData(TypedDict, total=False):
    """Whether personal data is masked in the indexed text, and how much of each kind was."""

    masked: bool
    personnummer: int  # samordningsnummer included
    email: int
    phone: int


class Manifest(TypedDict, total=False):
    """What an index version holds and how it was made: checked before it is searched or added to."""

    schema_version: int
    analysis: int  # rag.store.manifest.ANALYSIS_VERSION of the program that built it
    model: dict[str, Any]  # the embedder's identity: name, dim, and where known sha256, source, backend
    dim: int
    chunking: dict[str, int]  # chunk size, overlap, token limit and the text switches not at their default
    built_at: str  # ISO time, UTC
    documents: dict[str, DocumentEntry]
    counts: dict[str, int]  # documents, chunks
    personal_data: PersonalData
    dense_index: str  # "flat" | "hnsw"
    store: dict[str, Any]  # PostgreSQL only: backend, version, source folder, chunks_all, chunks_public
