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
    "beslutet": "Beslut",
    "forslag till beslut": "Förslag till beslut",
    "forslag till kommunfullmaktige": "Förslag till beslut",
    "forslag till regionfullmaktige": "Förslag till beslut",
    "forslag till kommunstyrelsen": "Förslag till beslut",
    "forslag till regionstyrelsen": "Förslag till beslut",
    "beslutsforslag": "Förslag till beslut",
    "arbetsutskottets forslag": "Förslag till beslut",
    "kommunstyrelsens forslag": "Förslag till beslut",
    "forvaltningens forslag": "Förslag till beslut",
    "ordforandens forslag": "Förslag till beslut",
    "arendet": "Ärendet",
    "arendebeskrivning": "Ärendebeskrivning",
    "beskrivning av arendet": "Ärendebeskrivning",
    "sammanfattning": "Sammanfattning",
    "arendet i korthet": "Sammanfattning",
    "sammanfattning av arendet": "Sammanfattning",
    "bakgrund": "Bakgrund",
    "arendets behandling": "Ärendets behandling",
    "arendets beredning": "Ärendets behandling",
    "beredning": "Ärendets behandling",
    "overlaggning": "Överläggning",
    "yrkanden": "Yrkanden",
    "yrkande": "Yrkanden",
    "proposition": "Proposition",
    "propositionsordning": "Proposition",
    "beslutsgang": "Proposition",
    "omrostning": "Omröstning",
    "omrostningsresultat": "Omröstning",
    "votering": "Omröstning",
    "voteringsproposition": "Omröstning",
    "reservation": "Reservation",
    "reservationer": "Reservation",
    "protokollsanteckning": "Protokollsanteckning",
    "protokollsanteckningar": "Protokollsanteckning",
    "sarskilt yttrande": "Särskilt yttrande",
    "beslutsunderlag": "Beslutsunderlag",
    "handlingar": "Beslutsunderlag",
    "handling": "Beslutsunderlag",
    "beslut delges": "Beslut delges",
    "beslutet skickas till": "Beslut delges",
    "beslutet ska skickas till": "Beslut delges",
    "protokollsutdrag skickas till": "Beslut delges",
    "protokollsutdrag till": "Beslut delges",
    "utdrag till": "Beslut delges",
    "beslut expedieras till": "Beslut delges",
    "skickas till": "Beslut delges",
    "expedieras till": "Beslut delges",
    "faktaunderlag": "Faktaunderlag",
    "juridisk bedomning": "Juridisk bedömning",
    "ekonomisk bedomning": "Ekonomisk bedömning",
    "hallbar utveckling": "Hållbar utveckling",
    "konsekvenser": "Konsekvenser",
    "motiv": "Motivering",
    "beslutsmotivering": "Motivering",
    "skal for beslut": "Motivering",
    "skal for beslutet": "Motivering",
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

# Decision outcomes, a closed vocabulary (what ``Item.outcome`` and the ``outcome`` filter hold):
# bifall: approved (antas, godkänns, fastställs, tillstyrks, beviljas, "enligt förslaget",
#   "ställer sig bakom"); avslag: refused; besvarad: a motion or interpellation answered;
# återremiss: sent back for more preparation; ingen åtgärd: no action taken; uppdrag: someone is
#   given a task; noterad: information taken note of (antecknas, läggs till handlingarna);
# bordlagd: postponed to a later meeting; val: an election or appointment (utses, väljs,
#   val av justerare); other: a decision of none of these kinds.
OUTCOMES: tuple[str, ...] = (
    "bifall",
    "avslag",
    "besvarad",
    "återremiss",
    "ingen åtgärd",
    "uppdrag",
    "noterad",
    "bordlagd",
    "val",
    "other",
)

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

# The 290 municipalities of Sweden (written with "_" for a space inside a name), for recognising a
# place a question names. Regions are "Region <län>" and Västra Götalandsregionen (REGIONS).
MUNICIPALITIES: tuple[str, ...] = tuple(
    name.replace("_", " ")
    for name in """
    Botkyrka Danderyd Ekerö Haninge Huddinge Järfälla Lidingö Nacka Norrtälje Nykvarn Nynäshamn
    Salem Sigtuna Sollentuna Solna Stockholm Sundbyberg Södertälje Tyresö Täby Upplands-Bro
    Upplands_Väsby Vallentuna Vaxholm Värmdö Österåker Enköping Heby Håbo Knivsta Tierp Uppsala
    Älvkarleby Östhammar Eskilstuna Flen Gnesta Katrineholm Nyköping Oxelösund Strängnäs Trosa
    Vingåker Boxholm Finspång Kinda Linköping Mjölby Motala Norrköping Söderköping Vadstena
    Valdemarsvik Ydre Åtvidaberg Ödeshög Aneby Eksjö Gislaved Gnosjö Habo Jönköping Mullsjö Nässjö
    Sävsjö Tranås Vaggeryd Vetlanda Värnamo Alvesta Lessebo Ljungby Markaryd Tingsryd Uppvidinge
    Växjö Älmhult Borgholm Emmaboda Hultsfred Högsby Kalmar Mönsterås Mörbylånga Nybro Oskarshamn
    Torsås Vimmerby Västervik Gotland Karlshamn Karlskrona Olofström Ronneby Sölvesborg Bjuv
    Bromölla Burlöv Båstad Eslöv Helsingborg Hässleholm Höganäs Hörby Höör Klippan Kristianstad
    Kävlinge Landskrona Lomma Lund Malmö Osby Perstorp Simrishamn Sjöbo Skurup Staffanstorp Svalöv
    Svedala Tomelilla Trelleborg Vellinge Ystad Åstorp Ängelholm Örkelljunga Östra_Göinge Falkenberg
    Halmstad Hylte Kungsbacka Laholm Varberg Ale Alingsås Bengtsfors Bollebygd Borås Dals-Ed Essunga
    Falköping Färgelanda Grästorp Gullspång Göteborg Götene Herrljunga Hjo Härryda Karlsborg Kungälv
    Lerum Lidköping Lilla_Edet Lysekil Mariestad Mark Mellerud Munkedal Mölndal Orust Partille Skara
    Skövde Sotenäs Stenungsund Strömstad Svenljunga Tanum Tibro Tidaholm Tjörn Tranemo Trollhättan
    Töreboda Uddevalla Ulricehamn Vara Vårgårda Vänersborg Åmål Öckerö Arvika Eda Filipstad Forshaga
    Grums Hagfors Hammarö Karlstad Kil Kristinehamn Munkfors Storfors Sunne Säffle Torsby Årjäng
    Askersund Degerfors Hallsberg Hällefors Karlskoga Kumla Laxå Lekeberg Lindesberg Ljusnarsberg
    Nora Örebro Arboga Fagersta Hallstahammar Kungsör Köping Norberg Sala Skinnskatteberg Surahammar
    Västerås Avesta Borlänge Falun Gagnef Hedemora Leksand Ludvika Malung-Sälen Mora Orsa Rättvik
    Smedjebacken Säter Vansbro Älvdalen Bollnäs Gävle Hofors Hudiksvall Ljusdal Nordanstig Ockelbo
    Ovanåker Sandviken Söderhamn Härnösand Kramfors Sollefteå Sundsvall Timrå Ånge Örnsköldsvik Berg
    Bräcke Härjedalen Krokom Ragunda Strömsund Åre Östersund Bjurholm Dorotea Lycksele Malå
    Nordmaling Norsjö Robertsfors Skellefteå Sorsele Storuman Umeå Vilhelmina Vindeln Vännäs Åsele
    Arjeplog Arvidsjaur Boden Gällivare Haparanda Jokkmokk Kalix Kiruna Luleå Pajala Piteå Älvsbyn
    Överkalix Övertorneå
    """.split()  # noqa: SIM905 (a list literal of 290 names would be 290 lines)
)
REGIONS: tuple[str, ...] = (
    "Stockholm",
    "Uppsala",
    "Sörmland",
    "Östergötland",
    "Jönköpings län",
    "Kronoberg",
    "Kalmar län",
    "Gotland",
    "Blekinge",
    "Skåne",
    "Halland",
    "Västra Götaland",
    "Värmland",
    "Örebro län",
    "Västmanland",
    "Dalarna",
    "Gävleborg",
    "Västernorrland",
    "Jämtland Härjedalen",
    "Västerbotten",
    "Norrbotten",
)
# Place names that are also everyday words; a question names them only as "Mark kommun", "Region ...".
AMBIGUOUS_PLACES = frozenset({"Mark", "Berg", "Kil", "Vara", "Sala", "Nora", "Boden", "Salem", "Ale", "Eda", "Lund"})
# Other names of places: English names, and the region that is not called "Region X".
PLACE_ALIASES = {
    "Gothenburg": "Göteborg",
    "Scania": "Skåne",
    "Gothland": "Gotland",
    "Västra Götalandsregionen": "Västra Götaland",
}

# What the bodies are called in English, for the wording around quotes in answers to English questions.
BODY_ENGLISH: dict[str, str] = {
    "Kommunfullmäktige": "municipal council",
    "Kommunstyrelsen": "municipal executive board",
    "Kommunstyrelsens arbetsutskott": "working committee of the municipal executive board",
    "Regionfullmäktige": "regional council",
    "Regionstyrelsen": "regional executive board",
    "Regionstyrelsens arbetsutskott": "working committee of the regional executive board",
    "Socialnämnden": "social services committee",
    "Socialnämndens arbetsutskott": "working committee of the social services committee",
    "Barn- och utbildningsnämnden": "children and education committee",
    "Barn- och utbildningsnämndens arbetsutskott": "working committee of the children and education committee",
    "Utbildningsnämnden": "education committee",
    "Gymnasie- och vuxenutbildningsnämnden": "upper secondary and adult education committee",
    "Omsorgsnämnden": "care committee",
    "Vård- och omsorgsnämnden": "health and social care committee",
    "Äldrenämnden": "elderly care committee",
    "Tekniska nämnden": "technical services committee",
    "Byggnadsnämnden": "building committee",
    "Miljö- och byggnadsnämnden": "environment and building committee",
    "Samhällsbyggnadsnämnden": "community planning committee",
    "Kultur- och fritidsnämnden": "culture and leisure committee",
    "Miljö- och hälsoskyddsnämnden": "environment and health protection committee",
    "Hälso- och sjukvårdsnämnden": "health care committee",
    "Arbetsutskottet": "working committee",
}
