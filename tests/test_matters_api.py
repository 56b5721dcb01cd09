"""GET /api/matters/{dnr} and 'rag matter' on a small written council: a motion, the board's proposal
and the council's decision, plus an internal note citizens must not see."""

from __future__ import annotations

import json

import pytest
from conftest import api_app
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rag.build import build_index
from rag.cli import app as cli
from rag.config import Settings
from rag.embed import FakeEmbedder

TOKEN = "staff-token"

MOTION = """Motion till kommunfullmäktige i Storby kommun
Dnr KS 2024/0551

Regler för AI i kommunens skolor

Vi föreslår att kommunfullmäktige beslutar att ta fram regler för AI i skolan.

Storby den 2 september 2024
Anna Andersson (L)
"""

KS = """Storby kommun
Kommunstyrelsen
Sammanträdesdatum 2025-03-03

§ 12 Svar på motion om regler för AI i kommunens skolor
Dnr KS-2024/551

Beslut
Kommunstyrelsen föreslår kommunfullmäktige att motionen ska anses besvarad.
"""

KF = """Storby kommun
Kommunfullmäktige
Sammanträdesdatum 2025-04-07

§ 40 Svar på motion om regler för AI i kommunens skolor
Dnr KS 2024/00551

Beslut
Kommunfullmäktige beslutar att motionen är besvarad.
"""

NOTE = """Storby kommun
Kommunstyrelsen
Sammanträdesdatum 2025-02-10

§ 3 Intern beredning av motion om regler för AI
Dnr KS 2024/551

Beslut
Kommunstyrelsens arbetsutskott lägger informationen till handlingarna.
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("matters")
    corpus = root / "corpus"
    (corpus / "internal").mkdir(parents=True)
    (corpus / "motion.txt").write_text(MOTION, encoding="utf-8")
    (corpus / "ks.txt").write_text(KS, encoding="utf-8")
    (corpus / "kf.txt").write_text(KF, encoding="utf-8")
    (corpus / "internal" / "note.txt").write_text(NOTE, encoding="utf-8")
    build_index([corpus], root / "index", FakeEmbedder(), _settings(root))
    return root


def _settings(root, **extra):
    return Settings(index_dir=root / "index", embedder="fake", query_log=None, corpus=[root / "corpus"], **extra)


@pytest.fixture(scope="module")
def client(root):
    with TestClient(api_app(_settings(root, staff_token=TOKEN))) as c:
        yield c


def test_a_matter_is_returned_in_date_order_with_each_step_decision(client) -> None:
    r = client.get("/api/matters/KS 2024-551")
    assert r.status_code == 200
    [matter] = r.json()["matters"]
    assert matter["dnr"] == "KS 2024/551" and matter["organisation"] == "Storby kommun"
    steps = matter["steps"]
    assert [(s["doc"], s["paragraph"]) for s in steps] == [("motion.txt", None), ("ks.txt", "§ 12"), ("kf.txt", "§ 40")]
    assert [s["date"] for s in steps] == sorted(s["date"] for s in steps)
    assert steps[-1]["outcome"] == "besvarad" and steps[-1]["body"] == "Kommunfullmäktige"


def test_citizens_do_not_see_internal_steps_staff_do(client) -> None:
    public = client.get("/api/matters/KS 2024/551").json()["matters"][0]["steps"]
    staff = client.get("/api/matters/KS 2024/551", headers={"Authorization": f"Bearer {TOKEN}"})
    staff_steps = staff.json()["matters"][0]["steps"]
    assert "internal/note.txt" not in {s["doc"] for s in public}
    assert len(staff_steps) == len(public) + 1


def test_unknown_and_malformed_case_numbers(client) -> None:
    assert client.get("/api/matters/KS 2031/9").json() == {"dnr": "KS 2031/9", "matters": []}
    r = client.get("/api/matters/hello")
    assert r.status_code == 422 and "is not a case number" in json.dumps(r.json(), ensure_ascii=False)


def test_cli_prints_the_same_chain(root) -> None:
    result = CliRunner().invoke(cli, ["matter", "KS 2024/551", "--index", str(root / "index"), "--json"])
    assert result.exit_code == 0, result.output
    [matter] = json.loads(result.output)
    assert [s["doc"] for s in matter["steps"]][-1] == "kf.txt"


def test_document_items_carry_outcome_proposal_and_the_decisive_sentence(client) -> None:
    doc = client.get("/api/documents/ks.txt").json()
    [item] = [i for i in doc["items"] if i["paragraph"] == "§ 12"]
    assert item["outcome"] == "besvarad" and item["proposal_to"] == "Kommunfullmäktige"
    span = item["decision"]
    assert item["start"] <= span["start"] < span["end"] <= item["end"]
    assert doc["text"][span["start"] : span["end"]].startswith("Kommunstyrelsen föreslår kommunfullmäktige")
    kf = client.get("/api/documents/kf.txt").json()
    assert [(i["outcome"], i["proposal_to"]) for i in kf["items"] if i["paragraph"]] == [("besvarad", None)]
