"""Matter history: items of different documents linked by case number or by the motion they answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from rag.matters import dnr_key, matters, matters_of


@dataclass
class Doc:
    id: str
    text: str
    doc_type: str = "protokoll"
    title: str | None = None
    organisation: str | None = "Storby kommun"
    body: str | None = None
    date: str | None = None
    structure: dict[str, Any] = field(default_factory=dict)


def item(paragraph: str | None, dnr: str | None, title: str, outcome: str, body: str, date: str, **more: Any) -> dict:
    return {"paragraph": paragraph, "dnr": dnr, "title": title, "outcome": outcome, "body": body, "date": date} | more


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("KS-2024/00551", "KS 2024/551"),
        ("Dnr KS 2024/551-1.2.3", "ks-2024-0551"),
        ("SLK-2023-00027:58", "SLK 2023/27"),
        ("2024/145-1.2.3", "KS 2024/145"),  # no series on one side: year and number decide
        ("XY24/01456", "XY 2024/1456"),
    ],
)
def test_spellings_of_one_case_number_name_one_matter(a: str, b: str) -> None:
    ka, kb = dnr_key(a), dnr_key(b)
    assert ka is not None and kb is not None and ka.matches(kb)


def test_different_series_or_numbers_are_different_matters() -> None:
    ks, bun = dnr_key("KS 2024/551"), dnr_key("BUN 2024/551")
    assert ks is not None and bun is not None and not ks.matches(bun)
    assert not dnr_key("KS 2024/551").matches(dnr_key("KS 2024/552"))  # type: ignore[union-attr]
    assert dnr_key("Ärendet gäller skolan") is None


def _council() -> list[Doc]:
    motion_text = "Motion till kommunfullmäktige\nDnr KS-2024/00551\n\nRegler för AI i skolorna\n\nVi föreslår att ..."
    motion = Doc(
        "motion.txt",
        motion_text,
        doc_type="motion",
        title="Regler för AI i skolorna",
        body="Kommunfullmäktige",
        date="2024-09-23",
        structure={"items": [item(None, None, "", "", "Kommunfullmäktige", "2024-09-23")]},
    )
    text = "KS § 12 ... Kommunstyrelsen föreslår att motionen ska anses besvarad. KF § 40 ... Motionen är besvarad."
    ks = Doc(
        "ks.txt",
        text,
        body="Kommunstyrelsen",
        date="2025-03-01",
        structure={
            "items": [
                item(
                    "§ 12",
                    "KS 2024/551",
                    "Svar på motion om regler för AI i skolorna",
                    "besvarad",
                    "Kommunstyrelsen",
                    "2025-03-01",
                    proposal_to="Kommunfullmäktige",
                    decision=[12, 69],
                ),
                item("§ 13", "KS 2025/17", "Budget", "bifall", "Kommunstyrelsen", "2025-03-01"),
            ]
        },
    )
    kf = Doc(
        "kf.txt",
        text,
        body="Kommunfullmäktige",
        date="2025-04-01",
        structure={
            "items": [
                item(
                    "§ 40",
                    "KS-2024-00551",
                    "Svar på motion om regler för AI i skolorna",
                    "besvarad",
                    "Kommunfullmäktige",
                    "2025-04-01",
                    decision=[82, 103],
                ),
            ]
        },
    )
    other = Doc(
        "annanstad.txt",
        text,
        organisation="Lillby kommun",
        structure={"items": [item("§ 5", "KS 2024/551", "Något annat", "avslag", "Kommunstyrelsen", "2025-01-01")]},
    )
    return [kf, other, motion, ks]


def test_a_matter_is_its_steps_in_date_order_within_one_organisation() -> None:
    found = matters(_council(), "KS 2024/551")
    assert [m.organisation for m in found] == ["Lillby kommun", "Storby kommun"]
    storby = found[1]
    assert [(s.doc, s.paragraph, s.link) for s in storby.steps] == [
        ("motion.txt", None, "dnr"),
        ("ks.txt", "§ 12", "dnr"),
        ("kf.txt", "§ 40", "dnr"),
    ]
    ks, kf = storby.steps[1], storby.steps[2]
    assert (
        ks.proposal_to == "Kommunfullmäktige"
        and ks.decision == "Kommunstyrelsen föreslår att motionen ska anses besvarad."
    )
    assert kf.decision == "Motionen är besvarad." and storby.last is kf


def test_a_motion_without_case_number_is_linked_by_the_title_its_answer_names() -> None:
    docs = _council()
    motion = docs[2]
    motion.text = "Motion till kommunfullmäktige\n\nRegler för AI i skolorna\n\nVi föreslår att ..."
    steps = matters(docs, "KS 2024/551")[1].steps
    assert steps[0].doc == "motion.txt" and steps[0].link == "motion"


def test_matters_of_a_document_lists_only_matters_that_reach_other_documents() -> None:
    found = matters_of(_council(), "ks.txt")
    assert [(m.dnr, len(m.steps)) for m in found] == [("KS 2024/551", 3)]
    assert matters_of(_council(), "missing.txt") == []
    assert matters(_council(), "no number here") == []
