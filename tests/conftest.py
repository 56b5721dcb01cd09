from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
TIBRO = CORPUS / "000_cf550d43679497b7.txt"
VASTERAS = CORPUS / "001_6e1d6ed25857f700.txt"
GOTLAND = CORPUS / "003_122012043ca4c196.txt"


@pytest.fixture
def settings(tmp_path: Path):
    from rag.config import Settings

    return Settings(index_dir=tmp_path / "index", embedder="fake")


@pytest.fixture
def fake_embedder():
    from rag.embed import FakeEmbedder

    return FakeEmbedder()
