"""/api/health and /api/stats."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class HealthOut(BaseModel):
    status: str
    documents: int
    chunks: int
    index: str


class StatsOut(BaseModel):
    documents: int
    chunks: int
    organisations: dict[str, int]
    doc_types: dict[str, int]
    years: dict[str, int] = Field(description="Documents per year of their date.")
    max_question_chars: int = Field(description="The longest question or query accepted (RAG_MAX_QUESTION_CHARS).")
    model: dict[str, Any]
    built_at: str | None
    index: str
