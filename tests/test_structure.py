from __future__ import annotations

from conftest import GOTLAND, TIBRO, VASTERAS
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.structure import find_furniture, meeting_date, organisation, parse_structure
from rag.structure.decision import outcome, outcomes
from rag.types import Person
from rag.vocab import OUTCOMES


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
    assert organisation("REGION YDRE      PROTOKOLL\nText.") == "Region Ydre"
    assert organisation("Västra Götalandsregionen beslutar.") == "Västra Götalandsregionen"
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


# Layout families, each in a small text written for the test in the style of real protocols.

TWO_COLUMNS = """YDRE KOMMUN                                   SAMMANTRÄDESPROTOKOLL
Tekniska nämnden                              Sammanträdesdatum 2025-01-20
                                                                 1 (3)

Ärendelista

§ 11   Val av justerare
§ 12   Ny gatubelysning i centrum
§ 13   Informationsärende om vinterväghållning

Justerandes signatur                          Utdragsbestyrkande

YDRE KOMMUN                                   SAMMANTRÄDESPROTOKOLL
Tekniska nämnden                              Sammanträdesdatum 2025-01-20
                                                                 2 (3)

§ 11

Val av justerare

Tekniska nämndens beslut
Per Ek (C) utses att jämte ordföranden justera protokollet.

§ 12                                          Dnr TN 2024/0311

Ny gatubelysning i centrum

Tekniska nämndens beslut
1. Nämnden godkänner förstudien om ny gatubelysning.
2. Förvaltningen får i uppdrag att upphandla armaturer.

Justerandes signatur                          Utdragsbestyrkande

YDRE KOMMUN                                   SAMMANTRÄDESPROTOKOLL
Tekniska nämnden                              Sammanträdesdatum 2025-01-20
                                                                 3 (3)

§ 13                                          Dnr TN 2025/0007

Informationsärende om vinterväghållning

Tekniska nämndens beslut
Nämnden noterar informationen.
"""


def test_two_column_header_agenda_and_repeated_page_headers():
    s = parse_structure(TWO_COLUMNS)
    assert (s.organisation, s.body, s.date, s.doc_type) == (
        "Ydre kommun",
        "Tekniska nämnden",
        "2025-01-20",
        "protokoll",
    )
    numbered = [it for it in s.items if it.paragraph]
    assert [it.paragraph for it in numbered] == ["§ 11", "§ 12", "§ 13"]  # the agenda lines are not items
    assert all(TWO_COLUMNS.index("2 (3)") < it.start for it in numbered)
    belysning, info = numbered[1], numbered[2]
    assert (belysning.title, belysning.dnr, belysning.outcome, belysning.outcomes) == (
        "Ny gatubelysning i centrum",
        "TN 2024/0311",
        "bifall",
        ("uppdrag",),
    )
    assert (numbered[0].outcome, info.outcome, info.dnr) == ("val", "noterad", "TN 2025/0007")
    furniture = [TWO_COLUMNS[a:b].strip() for a, b in s.furniture]
    assert furniture.count("Tekniska nämnden                              Sammanträdesdatum 2025-01-20") == 3
    assert "3 (3)" in furniture


def test_heading_styles_each_give_one_item_per_paragraph():
    text = (
        "KS § 4   DNR:KF/2006.123\nTaxa för bygglov\n\nBeslut\nTaxan fastställs.\n\n"
        "§5 Avgifter för parkering    BUN 2024/00123\n\nBeslut\nAvgifterna godkänns.\n\n"
        "Paragraf 6\nÄrende nr 3\nRevidering av reglemente\nDiarienr: KS-2024-0123\n\nBeslut\nÄrendet bordläggs.\n\n"
        "§ 6 a Tilläggsärende om skolskjuts\nDnr 2024/145-1.2.3\n\nBeslut\nÄrendet återremitteras.\n"
    )
    s = parse_structure(text)
    got = [(it.paragraph, it.title, it.dnr, it.outcome) for it in s.items]
    assert got == [
        ("§ 4", "Taxa för bygglov", "KF/2006.123", "bifall"),
        ("§ 5", "Avgifter för parkering", "BUN 2024/00123", "bifall"),
        ("§ 6", "Revidering av reglemente", "KS-2024-0123", "bordlagd"),
        ("§ 6 a", "Tilläggsärende om skolskjuts", "2024/145-1.2.3", "återremiss"),
    ]
    assert s.items[0].body == "Kommunstyrelsen"


def test_dnr_forms_on_the_heading_line_are_never_the_title():
    for line, dnr in (
        ("§ 101 Ärendenummer ABC-2024-00123", "ABC-2024-00123"),
        ("§ 102  Diarienummer: XY24/01456", "XY24/01456"),
        ("§ 103 Ärendenummer SLK-2023-00027:58", "SLK-2023-00027:58"),
        ("§ 104 Dnr KS 2023/01222", "KS 2023/01222"),
    ):
        s = parse_structure(f"{line}\nUppföljning av avtal\n\nBeslut\nRapporten antecknas.\n")
        (item,) = s.items
        assert (item.dnr, item.title, item.outcome) == (dnr, "Uppföljning av avtal", "noterad"), line


def test_references_and_page_headers_inside_items_are_not_items():
    text = (
        "§ 1 Ärendenummer ABC-2025-00010\nPlan för bredband\nBeslut\n\nPå förslag av ordföranden:\n"
        "Ärendet bordläggs till nästa sammanträde.\n\nBordlagt den 3 mars 2025, § 41, och den 17 mars 2025,\n"
        "§ 66.\n\nTekniska nämnden\nProtokoll nr 4\nSammanträdesdatum: 2025-04-07\n\n"
        "§ 2 Ärendenummer ABC-2025-00011\nÖvrig fråga\n\nLisa Berg (C) frågar om snöröjningen.\n\n"
        "Tekniska nämnden\nProtokoll nr 4\nSammanträdesdatum: 2025-04-07\n\n"
        "§ 3 Ärendenummer ABC-2025-00012\nBidrag till föreningar\nBeslut\n\n"
        "Enligt förvaltningens förslag:\nBidrag beviljas med 40 000 kronor.\n\n"
        "Tekniska nämnden\nProtokoll nr 4\nSammanträdesdatum: 2025-04-07\n"
    )
    s = parse_structure(text)
    assert [(it.paragraph, it.outcome) for it in s.items] == [
        ("§ 1", "bordlagd"),
        ("§ 2", "noterad"),
        ("§ 3", "bifall"),
    ]
    assert (s.body, s.date) == ("Tekniska nämnden", "2025-04-07")  # from the page headers
    assert "Protokoll nr 4" in [text[a:b] for a, b in s.furniture]


def test_a_proposal_to_a_higher_body_says_so_and_the_decision_span_is_the_decision():
    text = (
        "§ 20 Svar på motion om solceller\nDnr RS 2025-0101\n\nBeslut\n"
        "Regionstyrelsen föreslår regionfullmäktige besluta\natt bifalla motionen.\n\n"
        "Yrkanden\nOla Ek (M) yrkar avslag på motionen.\n"
    )
    (item,) = parse_structure(text).items
    assert (item.outcome, item.proposal_to) == ("bifall", "Regionfullmäktige")
    assert item.decision is not None
    assert text[item.decision[0] : item.decision[1]] == (
        "Regionstyrelsen föreslår regionfullmäktige besluta\natt bifalla motionen."
    )


def test_outcomes_of_each_att_sats_and_the_vocabulary():
    assert outcomes("Nämnden beslutar\natt anta planen,\natt ge förvaltningen i uppdrag att följa upp.") == (
        "bifall",
        ("uppdrag",),
    )
    assert outcome("Kommunstyrelsen antar riktlinjen och ger förvaltningen i uppdrag att införa den.") == "bifall"
    assert outcome("Arbetsutskottet noterar informationen.") == "noterad"
    assert outcome("Rapporten läggs till handlingarna.") == "noterad"
    assert outcome("Yrkandet om återremiss avslås. Nämnden godkänner avtalet.") == "bifall"
    assert outcome("Nämnden avslår ansökan.") == "avslag"
    assert outcome("Interpellationen anses besvarad.") == "besvarad"
    assert outcome("Enligt kommunstyrelsens förslag:\nÅrsrapporten antecknas.") == "noterad"
    assert set(OUTCOMES) >= {"noterad", "bordlagd", "val", "other"}


def test_a_guideline_has_its_title_and_decision_reference_not_its_letterhead():
    text = (
        "YDRE KOMMUN                                  RIKTLINJE\n"
        "Riktlinje för digitala möten\n"
        "Beslutad av          Kommunstyrelsen\n"
        "Beslutsdatum         2024-11-12, § 203\n"
        "Diarienummer         KS 2024/300\n\n"
        "1 Syfte\nRiktlinjen beskriver hur digitala möten ska hållas.\n"
    )
    s = parse_structure(text)
    assert (s.doc_type, s.title, s.body, s.date) == (
        "riktlinje",
        "Riktlinje för digitala möten",
        "Kommunstyrelsen",
        "2024-11-12",
    )
    assert s.decided_by == "Kommunstyrelsen 2024-11-12, § 203"


def test_a_motion_is_addressed_and_dated_when_signed():
    text = (
        "YDRE KOMMUN\nInkom 2025-02-03\nDnr KS-2025-00040\nMotion till kommunfullmäktige\n"
        "Fler laddplatser vid skolorna\n\nVi föreslår att fler laddplatser byggs.\n\n"
        "Ydre 2025-01-30\n\nEva Ek (L)\n"
    )
    s = parse_structure(text)
    assert (s.doc_type, s.body, s.date, s.title) == (
        "motion",
        "Kommunfullmäktige",
        "2025-01-30",
        "Fler laddplatser vid skolorna",
    )


def test_a_tjansteskrivelse_reads_its_column_header():
    text = (
        "Region Ydre                                    TJÄNSTESKRIVELSE\n"
        "Kulturförvaltningen                            Datum: 2025-03-03\n"
        "                                               Diarienummer: RY2025-00012\n"
        "                                               Regionstyrelsen\n"
        "Nytt bibliotekssystem\n\nFörslag till beslut\nRegionstyrelsen föreslås besluta att godkänna upphandlingen.\n"
        "Sida 1 av 2\n"
    )
    s = parse_structure(text)
    assert (s.doc_type, s.organisation, s.body, s.date, s.title) == (
        "tjänsteskrivelse",
        "Region Ydre",
        "Regionstyrelsen",
        "2025-03-03",
        "Nytt bibliotekssystem",
    )
    assert text[s.furniture[-1][0] : s.furniture[-1][1]] == "Sida 1 av 2"


def test_page_numbers_in_their_forms_are_furniture():
    for mark in ("1 (3)", "Sida 2 av 5", "1[5]", "2 (av 2)"):
        text = f"Beslut\nNämnden antar planen.\n{mark}\n"
        assert [text[a:b] for a, b in find_furniture(text)] == [mark], mark


HEADING_STYLES = ("§ {n}", "§{n}", "KS § {n}", "Paragraf {n}")
DECISIONS = (
    "Nämnden antar planen.",
    "Informationen läggs till handlingarna.",
    "Ärendet bordläggs.",
    "Nämnden föreslår kommunfullmäktige besluta\natt bifalla motionen.",
    "1. att godkänna avtalet,\n2. att ge förvaltningen i uppdrag att följa upp.",
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(HEADING_STYLES), st.sampled_from(DECISIONS), st.booleans()), min_size=1, max_size=6
    ),
    st.integers(min_value=1, max_value=400),
    st.booleans(),
)
def test_properties_one_item_per_paragraph_disjoint_spans_decision_inside(specs, first, agenda):
    numbers = [first + i for i in range(len(specs))]
    parts = ["YDRE KOMMUN      PROTOKOLL\nKommunstyrelsen      Sammanträdesdatum 2025-05-05\n"]
    if agenda:
        parts.append("Ärendelista\n" + "".join(f"§ {n}   Ärende {n}\n" for n in numbers))
    for n, (style, decision, dnr) in zip(numbers, specs, strict=True):
        head = style.format(n=n) + ("   Dnr KS 2025/" + f"{n:04d}" if dnr else "")
        parts.append(f"{head}\nPlan nummer {n}\n\nBeslut\n{decision}\n\nÄrendet\nBakgrund till ärendet.\n")
    text = "\n".join(parts)
    s = parse_structure(text)
    numbered = [it for it in s.items if it.paragraph]
    assert [it.number for it in numbered] == numbers
    spans = [(it.start, it.end) for it in s.items]
    assert all(a < b for a, b in spans) and all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
    for it, (_, _, dnr) in zip(numbered, specs, strict=True):
        assert it.decision is not None and it.start <= it.decision[0] < it.decision[1] <= it.end
        assert not any(it.decision[0] <= a < it.decision[1] for a, _ in s.furniture)
        assert it.outcome in OUTCOMES and it.outcome != "other"
        assert (it.dnr is not None) == dnr
        assert it.title == f"Plan nummer {it.number}"


def test_without_a_beslut_section_the_vote_decides_not_the_proposition():
    text = (
        "§ 7 Bidrag till hembygdsförening\n\nFörslag till beslut\nNämnden beslutar att avslå ansökan.\n\n"
        "Yrkanden\nEva Berg (S) yrkar bifall till ansökan.\n\nOmröstning\n"
        "Med 6 röster mot 5 beslutar nämnden att bifalla Eva Bergs (S) yrkande.\n"
    )
    (item,) = parse_structure(text).items
    assert item.outcome == "bifall"
    assert item.decision is not None and text[item.decision[0] : item.decision[1]].startswith("Med 6 röster mot 5")


def test_markdown_and_period_headings():
    text = (
        "# Protokoll för socialnämnden\n\nSammanträdesdatum: 12 mars 2025\n\n## § 5. Val av justerare\n\n"
        "**Beslut**\n\nEva Ek (S) utses att justera.\n\n## § 6. Yttrande över remiss\n\n**Beslut**\n\n"
        "Nämnden avger yttrande enligt förvaltningens förslag.\n"
    )
    s = parse_structure(text)
    assert (s.body, s.date) == ("Socialnämnden", "2025-03-12")
    assert [(it.paragraph, it.title, it.outcome) for it in s.items if it.paragraph] == [
        ("§ 5", "Val av justerare", "val"),
        ("§ 6", "Yttrande över remiss", "bifall"),
    ]


def test_more_bodies_and_phrasings():
    for field, body in (
        ("Regionala utvecklingsnämnden", "Regionala utvecklingsnämnden"),
        ("Byggnadsnämndens myndighetsutskott", "Byggnadsnämndens myndighetsutskott"),
        ("Organ: Kultur- och fritidsnämnden", "Kultur- och fritidsnämnden"),
        ("Valnämnd", "Valnämnden"),
    ):
        s = parse_structure(f"YDRE KOMMUN    PROTOKOLL\n{field}    2025-06-01\n\n§ 3 Taxor\n\nBeslut\nTaxan antas.\n")
        assert s.body == body, field
    assert outcome("Medborgarförslaget anses besvarat.") == "besvarad"
    assert outcome("Anmälan tas till protokollet.") == "noterad"
    text = "$ 14 Ny taxa\nDnr STK-2024-123\n\nBeslut\nKommunstyrelsen överlämnar ärendet till kommunfullmäktige att besluta.\n"
    (item,) = parse_structure(text).items
    assert (item.paragraph, item.dnr, item.proposal_to) == ("§ 14", "STK-2024-123", "Kommunfullmäktige")


def test_seed_decisions_their_spans_and_who_they_are_proposed_to():
    expected = {
        TIBRO: ("besvarad", None, "Kommunfullmäktige beslutar att avslå förslaget"),
        VASTERAS: ("ingen åtgärd", "Kommunfullmäktige", "Forslag till kommunfullmiktige:"),
        GOTLAND: ("uppdrag", "Socialnämnden", "- Socialnämnden ger socialdirektören i uppdrag"),
    }
    for path, (kind, proposed, opening) in expected.items():
        text, s = _structure(path)
        (item,) = [it for it in s.items if it.paragraph]
        assert (item.outcome, item.proposal_to) == (kind, proposed), path.name
        assert item.decision is not None and text[item.decision[0] : item.decision[1]].startswith(opening)


def test_a_running_header_and_a_dnr_opening_the_heading_line():
    text = (
        "Protokoll nr 5/2024\nfört vid sammanträde med kommunstyrelsen i Ydre\n"
        "onsdagen den 6 mars 2024 kl. 10.00–11.30\n\n§ 45 RS 2024/123 Ny strategi för kultur\n\nBeslut\nStrategin antas.\n"
    )
    s = parse_structure(text)
    assert (s.body, s.date) == ("Kommunstyrelsen", "2024-03-06")
    assert [(it.dnr, it.title) for it in s.items if it.paragraph] == [("RS 2024/123", "Ny strategi för kultur")]


def test_extracts_of_several_meetings_keep_every_item_in_their_order():
    text = (
        "§ 40 Taxa för torghandel\n\nBeslut\nTaxan antas.\n\n"
        "§ 12 Val av ombud\n\nBeslut\nEva Ek (S) väljs till ombud.\n\n"
        "§ 40 Bidrag till musikskolan\n\nBeslut\nBidraget beviljas.\n"
    )
    s = parse_structure(text)
    assert [(it.paragraph, it.outcome) for it in s.items] == [("§ 40", "bifall"), ("§ 12", "val"), ("§ 40", "bifall")]


def test_a_decision_by_reference_takes_the_outcome_of_what_it_refers_to():
    text = (
        "§ 8 Svar på motion om gratis kollektivtrafik\n\nFörslag till beslut\nKommunfullmäktige beslutar att avslå "
        "motionen.\n\nBeslut\nKommunstyrelsen beslutar i enlighet med arbetsutskottets förslag.\n\n"
        "§ 9 Lekplats i Ydre\n\nYrkanden\nOla Berg (M) yrkar att ansökan avslås.\n\n"
        "Beslut\nNämnden beslutar enligt Ola Bergs (M) yrkande.\n"
    )
    first, second = parse_structure(text).items
    assert (first.outcome, second.outcome) == ("avslag", "avslag")
    assert text[first.decision[0] : first.decision[1]].startswith("Kommunstyrelsen beslutar i enlighet med")


def test_a_vote_list_beside_a_page_header_is_not_furniture():
    header = "Kommunfullmäktige\nProtokoll nr 2\nSammanträdesdatum: 2025-02-06\n"
    votes = "Ledamot\nJa\nNej\nEva Ek\nX\n\n"
    text = (header + votes) * 3 + header
    furniture = {text[a:b] for a, b in find_furniture(text)}
    assert {"Kommunfullmäktige", "Protokoll nr 2", "Sammanträdesdatum: 2025-02-06"} <= furniture
    assert not furniture & {"Ledamot", "Ja", "Nej", "Eva Ek", "X"}


def test_continuations_attendance_lists_and_vote_appendices_are_not_items():
    text = (
        "Närvarolista\n§ 45   Eva Ek (S)\n§ 46   Ola Berg (M)\n§ 47   Lisa Ström (C)\n\n"
        "§ 45 Fortsatt drift av fritidsgården\n\nBeslut\nDriften fortsätter.\n\nSida 2 av 3\n§ 45 (forts.)\n\n"
        "Ärendet\nGården har många besökare.\n\n§ 46 Taxor\n\nBeslut\nTaxorna antas.\n\n"
        "§ 47 Motion om cykelbanor\n\nBeslut\nMotionen avslås.\n\nVoteringslista\n§ 47\nEva Ek (S) Ja\n"
    )
    s = parse_structure(text)
    got = [(it.paragraph, it.title, it.outcome) for it in s.items if it.paragraph]
    assert got == [
        ("§ 45", "Fortsatt drift av fritidsgården", "bifall"),
        ("§ 46", "Taxor", "bifall"),
        ("§ 47", "Motion om cykelbanor", "avslag"),
    ]


def test_a_motions_signatures_are_its_motionarer():
    text = (
        "Motion till kommunfullmäktige\n\nBättre cykelvägar\n\nVi föreslår\n\natt fler cykelbanor byggs.\n\n\n"
        "Ödeby 2025-03-04\n\nKarin Ås (C)\n\nOlle Berg (MP)\n"
    )
    item = parse_structure(text).items[0]
    assert [(p.name, p.party, p.role) for p in item.persons] == [
        ("Karin Ås", "C", "motionär"),
        ("Olle Berg", "MP", "motionär"),
    ]


def test_names_at_the_end_of_a_text_that_is_no_motion_are_not_motionarer():
    text = "Protokoll från ett möte om cykelvägar\n\nInformationen noteras.\n\nKarin Ås (C)\n"
    assert [p.role for p in parse_structure(text).items[0].persons] == []
