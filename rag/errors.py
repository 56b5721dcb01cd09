"""Errors a user can act on: each names the thing that is wrong and how to fix it."""

from __future__ import annotations


class RagError(Exception):
    """Base of every error the CLI and the server turn into a clean message."""


class ParseError(RagError):
    """A source file could not be read or has no usable text."""


class IndexMissing(RagError):
    """There is no index at the given path."""


class IndexMismatch(RagError):
    """The index on disk was built with another model, schema or chunking settings."""


class ModelError(RagError):
    """The embedding model could not be found, built or loaded."""


class InputError(RagError):
    """A query, filter or input file has a bad value; ``field`` names it for field-level API errors."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
