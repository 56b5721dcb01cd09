"""The vocabulary of Swedish local government: bodies and their abbreviations, section headings,
parties and decision outcomes. Shared by the structure parser and the query parser."""

from __future__ import annotations

# Abbreviation -> body, as written in protocols ("KF § 100", "SON AU § 58") and in questions.
BODY_ABBREVIATIONS: dict[str, str] = {
    "KF": "Kommunfullmäktige",
    "KS": "Kommunstyrelsen",
    "KSAU": "Kommunstyrelsens arbetsutskott",
    "KS AU": "Kommunstyrelsens arbetsutskott",
    "RF": "Regionfullmäktige",
    "RS": "Regionstyrelsen",
    "RSAU": "Regionstyrelsens arbetsutskott",
    "RS AU": "Regionstyrelsens arbetsutskott",
    "SN": "Socialnämnden",
    "SON": "Socialnämnden",
    "SN AU": "Socialnämndens arbetsutskott",
    "SON AU": "Socialnämndens arbetsutskott",
    "BUN": "Barn- och utbildningsnämnden",
    "BUN AU": "Barn- och utbildningsnämndens arbetsutskott",
    "UN": "Utbildningsnämnden",
    "GVN": "Gymnasie- och vuxenutbildningsnämnden",
    "ON": "Omsorgsnämnden",
    "VON": "Vård- och omsorgsnämnden",
    "ÄN": "Äldrenämnden",
    "TN": "Tekniska nämnden",
    "BN": "Byggnadsnämnden",
    "MBN": "Miljö- och byggnadsnämnden",
    "SBN": "Samhällsbyggnadsnämnden",
    "KFN": "Kultur- och fritidsnämnden",
    "MHN": "Miljö- och hälsoskyddsnämnden",
    "HSN": "Hälso- och sjukvårdsnämnden",
    "AU": "Arbetsutskottet",
}

# Bodies as named in running text; the parser also accepts any "<x>nämnden" / "<x>nämndens arbetsutskott".
BODY_NAMES: tuple[str, ...] = (
    "Kommunfullmäktige",
    "Kommunstyrelsen",
    "Kommunstyrelsens arbetsutskott",
    "Regionfullmäktige",
    "Regionstyrelsen",
    "Landstingsfullmäktige",
    "Landstingsstyrelsen",
)

# Canonical section headings (folded form -> display form). Matching is on the folded, OCR-repaired
# heading line, as a prefix, so "Förslag till beslut på sammanträdet" is "Förslag till beslut".
SECTION_HEADINGS: dict[str, str] = {
    "beslut": "Beslut",
    "forslag till beslut": "Förslag till beslut",
    "arbetsutskottets forslag": "Förslag till beslut",
    "kommunstyrelsens forslag": "Förslag till beslut",
    "forvaltningens forslag": "Förslag till beslut",
    "ordforandens forslag": "Förslag till beslut",
    "arendet": "Ärendet",
    "arendebeskrivning": "Ärendebeskrivning",
    "beskrivning av arendet": "Ärendebeskrivning",
    "sammanfattning": "Sammanfattning",
    "bakgrund": "Bakgrund",
    "arendets behandling": "Ärendets behandling",
    "overlaggning": "Överläggning",
    "yrkanden": "Yrkanden",
    "yrkande": "Yrkanden",
    "proposition": "Proposition",
    "propositionsordning": "Proposition",
    "beslutsgang": "Proposition",
    "omrostning": "Omröstning",
    "votering": "Omröstning",
    "reservation": "Reservation",
    "reservationer": "Reservation",
    "protokollsanteckning": "Protokollsanteckning",
    "protokollsanteckningar": "Protokollsanteckning",
    "sarskilt yttrande": "Särskilt yttrande",
    "beslutsunderlag": "Beslutsunderlag",
    "handlingar": "Beslutsunderlag",
    "beslut delges": "Beslut delges",
    "beslutet skickas till": "Beslut delges",
    "expedieras till": "Beslut delges",
    "faktaunderlag": "Faktaunderlag",
    "juridisk bedomning": "Juridisk bedömning",
    "ekonomisk bedomning": "Ekonomisk bedömning",
    "hallbar utveckling": "Hållbar utveckling",
    "konsekvenser": "Konsekvenser",
    "motiv": "Motivering",
    "motivering": "Motivering",
    "jav": "Jäv",
    "motion": "Motion",
}

# Sections whose text states the decision (or the proposed decision).
DECISION_SECTIONS = frozenset({"Beslut", "Förslag till beslut"})

# Parties as written after names: "Sara Holm (KD)".
PARTIES = frozenset(
    {"S", "M", "SD", "C", "V", "KD", "L", "MP", "FP", "NYD", "FI", "SPI", "PP", "ÖP", "SJV", "KP", "LPO"}
)

OUTCOMES: tuple[str, ...] = ("bifall", "avslag", "besvarad", "återremiss", "ingen åtgärd", "uppdrag", "other")

# Organisation words that end a name: "Tibro kommun", "Västerås stad", "Region Gotland".
ORGANISATION_SUFFIXES = ("kommun", "stad")
# Capitalised words that start sentences but never name a municipality ("Varje kommun ...").
NOT_PLACE_NAMES = frozenset(
    {
        "varje",
        "den",
        "det",
        "en",
        "ett",
        "vilken",
        "denna",
        "detta",
        "samma",
        "hela",
        "sin",
        "var",
        "vår",
        "er",
        "annan",
        "någon",
        "ingen",
        "egen",
        "berörd",
        "aktuell",
        "större",
        "mindre",
        "vilket",
        "din",
        "alla",
        "flera",
        "svensk",
        "svenska",
        "enskild",
        "vald",
        "hemkommun",
        "liten",
        "stor",
        "ny",
        "nya",
        "smart",
        "sådan",
    }
)
