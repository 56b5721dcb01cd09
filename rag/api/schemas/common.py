"""What several endpoints share: the limits of query strings and pages, the schema-only
documentation of filter values, spans, document paths as clients see them, the error bodies and
each endpoint's error statuses.

Responses are read from the pipeline's dataclasses (``AskOut.model_validate(answer, context=...)``)
with the folders paths are named from as the validation context, ``{"roots": roots}`` (the
``RootsDep`` dependency): a document's path is made relative to them, and never leaves the server
as its own.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, ValidationInfo, model_validator
from pydantic.json_schema import JsonDict

from rag.api.paths import relative_path
from rag.config import Settings
from rag.errors import InputError
from rag.vocab import OUTCOMES

MAX_PAGE = 100
# what a query string may hold at all; the limit people get is RAG_MAX_QUESTION_CHARS (check_query)
MAX_QUERY_BYTES = 20_000
QUERY_LIMIT = "At most RAG_MAX_QUESTION_CHARS characters (1000 by default; /api/stats says the limit)."
# Documented in the schema only: the check itself is rag.search.validate_filters, whose message says the fix.
DATE: JsonDict = {"pattern": r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"}
OUTCOME: JsonDict = {"enum": [*OUTCOMES, None]}


def check_query(q: str, settings: Settings) -> None:
    """A 422 for a query longer than RAG_MAX_QUESTION_CHARS."""
    if len(q) > settings.max_question_chars:
        raise InputError(
            f"q: the query is longer than {settings.max_question_chars} characters. Shorten it.", field="q"
        )


def _relative(path: str, info: ValidationInfo) -> str:
    roots = info.context.get("roots") if isinstance(info.context, dict) else None
    if roots is None:
        raise ValueError("a document path is read with the corpus roots as context: {'roots': [...]}")
    return relative_path(path, roots)


# A document's path relative to the corpus folder (or upload folder) it lies in, never the server's path.
ClientPath = Annotated[str, AfterValidator(_relative)]


class Span(BaseModel):
    start: int
    end: int

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, value: Any) -> Any:
        """The pipeline keeps spans as (start, end) pairs."""
        if isinstance(value, tuple | list) and len(value) == 2:
            return {"start": value[0], "end": value[1]}
        return value


class ErrorOut(BaseModel):
    detail: str = Field(description="What is wrong and what to do.")


class FieldErrorOut(BaseModel):
    loc: list[str | int] = Field(description="Where: 'body' or 'query', then the field.")
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    detail: list[FieldErrorOut]


_ERRORS: dict[int, dict[str, Any]] = {
    401: {
        "model": ErrorOut,
        "description": "The Authorization header holds no valid token (send none to see public documents only).",
    },
    403: {"model": ErrorOut, "description": "Uploading and deleting are off: no RAG_ADMIN_TOKEN is set."},
    404: {"model": ErrorOut, "description": "No such document (an internal one is not found without a staff token)."},
    409: {
        "model": ErrorOut,
        "description": "The request conflicts with what is indexed; the message says how to resolve it.",
    },
    413: {"model": ErrorOut, "description": "The request body is larger than the limit."},
    422: {"model": ValidationErrorOut, "description": "A value is invalid: each error names the field and the fix."},
    429: {
        "model": ErrorOut,
        "description": "Too many requests from this client (RAG_RATE_LIMIT_PER_MINUTE).",
        "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
    },
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` for the error statuses an endpoint can answer with; every endpoint
    under /api/ can be rate limited (429) and refuses a wrong token (401)."""
    return {code: _ERRORS[code] for code in sorted({401, 429, *codes})}
