"""Protocol structure as pure functions: items (§), sections, metadata, outcome, persons, furniture.

``parse_structure(text)`` reads a protocol or guideline and returns a ``Structure`` whose spans are
offsets into ``text``. Matching is done on folded, OCR-repaired copies of short pieces of text, so
a heading with lost diacritics or an OCR-misread letter, or a name in capitals, is understood; all
spans and names point back at the text as written.

Layouts differ between municipalities, so nothing depends on one of them:

- header lines are read as columns (a run of two or more spaces or a tab splits fields), so
  ``BORÅS STAD      SAMMANTRÄDESPROTOKOLL`` / ``Kommunstyrelsen   Sammanträdesdatum 2024-11-11``
  give organisation, body and date in any order and case;
- a line repeated on several pages once its page number is masked ("1 (3)", "Sida 2 av 5",
  "1[5]") is page furniture, and so is a recurring body name that stands beside it;
- item headings are any of ``§ 45``, ``§45``, ``KS § 4``, ``Paragraf 45``, ``§ 3 a``; an agenda
  line (the same § again later, or a list under "Ärendelista"), a reference to another §
  ("§ 924.", "§ 22, att ...") are not items;
- the Dnr is read in its common forms, labelled or bare on the heading lines;
- the outcome, the body proposed to and the decisive span come from the item's decision text
  (``decision``).

One module per job: ``document`` (``parse_structure``, which puts the others together), ``items``
(§ headings), ``sections``, ``headers`` (page furniture, source headers), ``dates``, ``dnr``,
``titles``, ``bodies`` (organisation and deciding body), ``people``, ``decision`` (outcomes,
proposals and decisive spans) and ``lines`` (line spans, a layout line's columns and key).
"""

from rag.structure.bodies import organisation
from rag.structure.dates import meeting_date
from rag.structure.decision import outcome  # rag.structure.outcome predates the decision module
from rag.structure.document import decided_by, parse_structure
from rag.structure.headers import find_furniture, source_header
from rag.structure.lines import fields
from rag.structure.people import persons
from rag.structure.sections import is_heading

__all__ = [
    "decided_by",
    "fields",
    "find_furniture",
    "is_heading",
    "meeting_date",
    "organisation",
    "outcome",
    "parse_structure",
    "persons",
    "source_header",
]
