from __future__ import annotations

from conftest import GOTLAND, TIBRO, VASTERAS

from rag.structure import find_furniture, meeting_date, organisation, outcome, parse_structure
from rag.types import Person


def _structure(path):
    text = path.read_text(encoding="utf-8")
    return text, parse_structure(text)


def test_tibro_item_metadata():
    text, s = _structure(TIBRO)
    assert (s.doc_type, s.organisation, s.body, s.date) == (
        "protokoll",
        "Tibro kommun",
        "Kommunfullmäktige",
        "2024-09-30",
    )
    (item,) = s.items
    assert (item.paragraph, item.number, item.dnr, item.outcome) == ("§ 100", 100, "2023-000304", "besvarad")
    assert item.title.startswith("Svar på motion om att utreda användandet av artificiell intelligens (AI)")
    assert item.title.endswith("ta fram en AI-strategi")
    assert [sec.heading for sec in item.sections] == [
        "Beslut",
        "Ärendet",
        "Förslag till beslut",
        "Beslutsunderlag",
        "Beslut delges",
    ]
    beslut = item.sections[0]
    assert text[beslut.start : beslut.end].strip() == (
        "Beslut\n\nKommunfullmäktige beslutar att avslå förslaget om en specifik AI-strategi "
        "och att i övrigt anse motionen besvarad."
    )
    assert item.persons == (
        Person("Åse Nicklasson", "SD", "motionär"),
        Person("Towe Ljunggren", "SD", "motionär"),
        Person("Thomas Morell", "SD", "motionär"),
        Person("Sara Holm", "KD", "yrkande"),
    )


def test_vasteras_ocr_protocol():
    _text, s = _structure(VASTERAS)
    assert (s.organisation, s.body, s.date) == ("Västerås stad", "Kommunstyrelsen", "2024-03-06")
    (item,) = s.items
    assert (item.paragraph, item.dnr, item.outcome) == ("§ 87", "KS 2023/01222-2.3.0", "ingen åtgärd")
    assert item.title == "Svar pa motion fran (M) om att utreda fler anvandningsomraden av artificiell intelligens"
    headings = [sec.heading for sec in item.sections]
    assert headings[:6] == [
        "Beslut",
        "Reservation",
        "Ärendebeskrivning",
        "Yrkanden",
        "Proposition",
        "Förslag till beslut",
    ]
    assert {"Faktaunderlag", "Juridisk bedömning", "Ekonomisk bedömning", "Motion"} <= set(headings)
    roles = {(p.name, p.party, p.role) for p in item.persons}
    assert roles == {
        ("Elisabeth Unell", "M", "reservation"),
        ("Eleonore Lundkvist", "M", "reservation"),
        ("Anna Nordin", "M", "reservation"),
        ("Caroline Frisk", "SD", "reservation"),
        ("Ingmarie Bjurstedt", "SD", "reservation"),
        ("Anna Hard af Segerstad", "M", "motionär"),
        ("Elisabeth Unell", "M", "yrkande"),
        ("Caroline Frisk", "SD", "yrkande"),
        ("Amanda Gronlund", "KD", "yrkande"),
    }


def test_vasteras_page_furniture_is_found():
    text, s = _structure(VASTERAS)
    furniture = [text[a:b] for a, b in s.furniture]
    assert furniture.count("Justerandes signatur") == 2
    assert furniture.count("Utdragsbestyrkande") == 2
    assert furniture.count("VASTERAS STAD SAMMANTRADESPROTOKOLL") == 2
    assert furniture.count("Kommunstyrelsen 2024-03-06") == 2


def test_gotland_committee_item():
    _text, s = _structure(GOTLAND)
    assert (s.organisation, s.body, s.date) == ("Region Gotland", "Socialnämndens arbetsutskott", None)
    (item,) = s.items
    assert (item.paragraph, item.dnr, item.title, item.outcome) == (
        "§ 58",
        "SON 2024/29",
        "Uppdrag om digitalisering",
        "uppdrag",
    )
    assert [sec.heading for sec in item.sections] == ["Förslag till beslut", "Ärendets behandling"]
    assert item.persons == ()


def test_outcomes():
    assert outcome("Kommunfullmäktige beslutar att avslå motionen.") == "avslag"
    assert outcome("Motionen återremitteras till kommunstyrelsen.") == "återremiss"
    assert outcome("Motionen anses besvarad.") == "besvarad"
    assert outcome("Kommunfullmäktige beslutar att bifalla motionen.") == "bifall"
    assert outcome("Motionen foranleder ingen ytterligare atgéard.") == "ingen åtgärd"
    assert outcome("Nämnden ger förvaltningen i uppdrag att utreda frågan.") == "uppdrag"
    assert outcome("Informationen noteras.") == "noterad"
    assert outcome("Ärendet bordläggs till nästa sammanträde.") == "bordlagd"
    assert outcome("Nämnden utser Eva Ek (S) att jämte ordföranden justera protokollet.") == "val"
    assert outcome("") == "other"


def test_organisation_and_date_helpers():
    assert organisation("Enligt Region Gotlands riktlinje ska Region Gotland ...") == "Region Gotland"
    assert organisation("Varje kommun ska ... Tibro kommun ser positivt") == "Tibro kommun"
    assert organisation("Inget namn här.") is None
    assert meeting_date("PROTOKOLL\nSammanträdesdatum 2024-09-30\n") == "2024-09-30"


def test_a_guideline_without_paragraphs_is_one_item_with_markdown_sections():
    text = "# Riktlinje för AI\n\nInledning.\n\n## Ansvar\n\nChefen ansvarar.\n"
    s = parse_structure(text)
    assert s.doc_type == "riktlinje"
    assert s.title == "Riktlinje för AI"
    (item,) = s.items
    assert item.paragraph is None
    assert [sec.heading for sec in item.sections] == ["Riktlinje för AI", "Ansvar"]


def test_source_header_of_archived_web_texts():
    text = "SOURCE-HEADER\nTitel: En titel\nTyp: Pressmeddelande\nUtgivare: Regeringen / X\nDatum: 2024-07 (månad)\nEND-SOURCE-HEADER\n\n# En titel\n\nText.\n"
    s = parse_structure(text)
    assert (s.title, s.doc_type, s.organisation, s.date) == ("En titel", "pressmeddelande", "Regeringen", "2024-07")
    assert s.furniture[0] == (0, text.index("\n\n# En") + 1)


def test_furniture_only_repeats_header_lines():
    text = "KOMMUN X PROTOKOLL\ntext.\n\nJusterandes signatur\n\nKOMMUN X PROTOKOLL\nmer text.\n"
    spans = [text[a:b] for a, b in find_furniture(text)]
    assert spans == ["KOMMUN X PROTOKOLL", "Justerandes signatur", "KOMMUN X PROTOKOLL"]


LUND = """LUNDS KOMMUN
PROTOKOLL
Kommunstyrelsen
Sammanträdesdatum: 12 mars 2025

§ 45
Riktlinjer för användning av generativ AI
Dnr KS 2025/123

Sammanfattning
Kommunstyrelsen föreslås anta riktlinjer för användning av generativ AI.

Beslut
Kommunstyrelsen antar riktlinjer för användning av generativ AI.

Justerandes sign

§ 46
Motion om AI i skolan
Dnr KS 2024/456

Ärendebeskrivning
Karin Berg (L) har i en motion föreslagit att AI ska användas i undervisningen.

Yrkanden
Anna Andersson (V) yrkar bifall till motionen.

Beslut
Kommunstyrelsen föreslår kommunfullmäktige att avslå motionen.

Reservation
Anna Andersson (V) reserverar sig mot beslutet.

Justerandes sign
"""


def test_another_layout_with_several_items_and_a_written_date():
    s = parse_structure(LUND)
    assert (s.organisation, s.body, s.date, s.title) == (
        "Lunds kommun",
        "Kommunstyrelsen",
        "2025-03-12",
        "Protokoll Kommunstyrelsen 2025-03-12",
    )
    preamble, first, second = s.items
    assert preamble.paragraph is None and LUND[preamble.start : preamble.end].startswith("LUNDS KOMMUN")
    assert (first.paragraph, first.title, first.dnr, first.outcome) == (
        "§ 45",
        "Riktlinjer för användning av generativ AI",
        "KS 2025/123",
        "bifall",
    )
    assert (second.paragraph, second.title, second.dnr, second.outcome) == (
        "§ 46",
        "Motion om AI i skolan",
        "KS 2024/456",
        "avslag",
    )
    assert [sec.heading for sec in second.sections] == ["Ärendebeskrivning", "Yrkanden", "Beslut", "Reservation"]
    assert [(p.name, p.role) for p in second.persons] == [
        ("Karin Berg", "motionär"),
        ("Anna Andersson", "yrkande"),
        ("Anna Andersson", "reservation"),
    ]
    assert [LUND[a:b] for a, b in s.furniture] == ["Justerandes sign", "Justerandes sign"]


def test_a_paragraph_reference_at_a_line_start_is_not_an_item():
    text = "§ 5 Riktlinje för AI\n\nBeslut\nNämnden beslutar enligt\n§ 12 i reglementet att anta riktlinjen.\n"
    s = parse_structure(text)
    assert [it.paragraph for it in s.items] == ["§ 5"]
