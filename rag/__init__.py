"""rag: search Swedish municipal protocols and guidelines on AI, with passages cited to their place."""

from rag.build import build_index
from rag.config import Settings
from rag.embed import Embedder, FakeEmbedder, SentenceTransformerEmbedder, load_embedder
from rag.errors import IndexMismatch, IndexMissing, InputError, ModelError, ParseError, RagError
from rag.search import Searcher
from rag.store.embedded import load_index
from rag.types import Chunk, Document, Filters, Hit

__all__ = [
    "Chunk",
    "Document",
    "Embedder",
    "FakeEmbedder",
    "Filters",
    "Hit",
    "IndexMismatch",
    "IndexMissing",
    "InputError",
    "ModelError",
    "ParseError",
    "RagError",
    "Searcher",
    "SentenceTransformerEmbedder",
    "Settings",
    "build_index",
    "load_embedder",
    "load_index",
]
