"""The manifest checks: whether an index version may be searched, or added to, by this program with
these settings and this model. The same for every backend (PostgreSQL keeps the build's manifest).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.config import Settings
from rag.errors import IndexMismatch
from rag.types import Manifest

if TYPE_CHECKING:
    from pathlib import Path

    from rag.embed import Embedder

SCHEMA_VERSION = 1
# Bump when parsing, structure, chunking or text analysis change what an index holds: an index of
# another version is brought up to date by the next 'rag index' (everything is re-analysed; only
# chunks whose embedding text changed are embedded again) and refused for searching until then.
# 3: text cleaned of invisible and control characters, line endings made "\n"; personal data masked.
# 4: adjacent short sections of an item share a chunk (merge_sections).
# 5: merged chunks labelled by the decision's section; no context line on chunks under header_min_chars.
# 6: structure read on any layout (rag.structure, rag.decision): items, Dnr, outcomes, decisive spans,
#    proposal_to, a guideline's decided_by in the stored summary.
# 7: a motion's signatures are its motionärer (rag.structure.people); a document without § records its persons.
ANALYSIS_VERSION = 7
# The kinds of personal data counted in the manifest and the build report.
PERSONAL_DATA = ("personnummer", "email", "phone")

# Settings that change what an index holds, recorded in the manifest only when not the default
# (so indexes built before they existed stay valid).
_TEXT_SWITCHES = (
    "structure_chunking",
    "merge_sections",
    "drop_furniture",
    "header_in_dense",
    "header_in_lexical",
    "header_min_chars",
    "repair_dense",
)


def settings_key(settings: Settings) -> dict[str, int]:
    """The chunking settings as the manifest records them."""
    key = {
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "max_chunk_tokens": settings.max_chunk_tokens,
    }
    defaults = Settings.model_fields
    for name in _TEXT_SWITCHES:
        if getattr(settings, name) != defaults[name].default:
            key[name] = int(getattr(settings, name))
    return key


def masked(manifest: Manifest) -> bool | None:
    """Whether the index's text has personal data masked (None for an index from before masking)."""
    return manifest.get("personal_data", {}).get("masked")


def check_compatible(manifest: Manifest, embedder: Embedder, settings: Settings, index_dir: Path) -> None:
    """Refuse to search an index built with other settings, saying how to rebuild or update it."""
    check_buildable(manifest, embedder, settings, index_dir)
    if masked(manifest) != settings.mask_personal_data:
        state = "masked" if masked(manifest) else "not masked"
        raise IndexMismatch(
            f"The index at {index_dir} has personal data {state}, but RAG_MASK_PERSONAL_DATA is "
            f"{str(settings.mask_personal_data).lower()}. Update it: rag index PATH ... --index {index_dir}"
        )


def check_buildable(manifest: Manifest, embedder: Embedder, settings: Settings, index_dir: Path) -> None:
    """Refuse to add to an index built with another schema, model or chunking settings, saying how to rebuild.

    (Another masking setting needs no rebuild: every build reads all documents again.)
    """
    rebuild = f"Rebuild it: rag index PATH ... --index {index_dir} --rebuild"
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise IndexMismatch(
            f"The index at {index_dir} has schema version {manifest.get('schema_version')}, "
            f"this program reads version {SCHEMA_VERSION}. {rebuild}"
        )
    built, running = manifest.get("model", {}), dict(embedder.identity)
    if (
        built.get("name") != running.get("name")
        or built.get("dim") != running.get("dim")
        or (built.get("sha256") != running.get("sha256"))
    ):
        raise IndexMismatch(
            f"The index at {index_dir} was built with model {built.get('name')} (dim {built.get('dim')}), "
            f"but the configured model is {running.get('name')} (dim {running.get('dim')}). {rebuild}"
        )
    if manifest.get("chunking") != settings_key(settings):
        raise IndexMismatch(
            f"The index at {index_dir} was built with chunking {manifest.get('chunking')}, "
            f"but the settings say {settings_key(settings)}. {rebuild}"
        )


def check_current(manifest: Manifest, index_dir: Path) -> None:
    """Refuse to search an index whose text analysis is older than this program's."""
    if manifest.get("analysis") != ANALYSIS_VERSION:
        raise IndexMismatch(
            f"The index at {index_dir} was analysed by an older version of this program "
            f"(analysis {manifest.get('analysis')}, now {ANALYSIS_VERSION}). "
            f"Update it: rag index PATH ... --index {index_dir}"
        )
