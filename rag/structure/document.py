"""A whole document read into a ``Structure``: ``parse_structure`` puts the other modules of
``rag.structure`` together; and what a document without items states about itself (its type, who
decided it)."""

from __future__ import annotations

import re
from dataclasses import replace

from rag.normalise import fold, repair
from rag.structure.bodies import (
    _abbreviated_body,
    _body_name,
    _deciding_body,
    _document_body,
    _frequent_body,
    _header_body,
    organisation,
)
from rag.structure.dates import _first_date, _signed_date, meeting_date
from rag.structure.decision import (
    higher_body,
    item_decision,
    outcomes,
    proposal_to,
    referred_text,
    vote_result,
)
from rag.structure.dnr import _DNR, _item_dnr, _strip_dnr
from rag.structure.headers import find_furniture, source_header
from rag.structure.items import _candidates, _head_lines
from rag.structure.lines import fields, line_spans
from rag.structure.people import persons
from rag.structure.sections import _sections, is_heading
from rag.structure.titles import _document_title, _first_line, _item_title
from rag.types import Item, Structure

_DOC_TYPES = (
    ("tjansteskrivelse", "tjänsteskrivelse"),
    ("tjansteutlatande", "tjänsteskrivelse"),
    ("riktlinje", "riktlinje"),
    ("policy", "policy"),
    ("vagledning", "vägledning"),
    ("motion", "motion"),
    ("strategi", "strategi"),
    ("handlingsplan", "plan"),
    ("rapport", "rapport"),
    ("granskning", "rapport"),
    ("arsredovisning", "rapport"),
    ("protokoll", "protokoll"),
)


def _doc_type(source_fields: dict[str, str], text: str, has_items: bool) -> str:
    if has_items:
        return "protokoll"
    if source_fields.get("typ"):
        return source_fields["typ"].lower()
    head = fold(repair(text[:600]))
    if m := re.search(r"dokumenttyp:?\s+(\w+)", head):
        for needle, kind in _DOC_TYPES:
            if needle in m.group(1):
                return kind
    hits = [(i, kind) for needle, kind in _DOC_TYPES if (i := head.find(needle)) >= 0]
    return min(hits)[1] if hits else "dokument"


_DECIDED_BY = re.compile(
    r"^\s*(?:beslutad|antagen|antaget|faststalld|faststallt|beslutat|godkand)\s+(?:av|i)\s*:?\s*(?P<rest>.+)$"
    r"|^\s*(?:beslutsinstans|beslutande organ)\s*:?\s+(?P<rest2>.+)$"
    r"|^\s*(?:beslutsdatum|datum for beslut|antagandedatum)\s*:?\s+(?P<date>.+)$",
    re.IGNORECASE,
)


def decided_by(text: str) -> str | None:
    """A guideline's decision reference from its header: body, date and § ("Kommunstyrelsen
    2024-11-12, § 203"), from lines such as 'Beslutad av', 'Antagen av', 'Beslutsdatum'."""
    body: str | None = None
    date: str | None = None
    paragraph: str | None = None
    for _, _, line in list(line_spans(text))[:40]:
        joined = " ".join(fields(line))
        m = _DECIDED_BY.match(fold(joined))
        if not m:
            continue
        value = joined[
            m.start("rest") if m.group("rest") else m.start("rest2") if m.group("rest2") else m.start("date") :
        ]
        if not m.group("date") and body is None:
            words = re.split(r"[ ,]+\d|,", value, maxsplit=1)[0].strip()
            body = _body_name(words) or (words[:1].upper() + words[1:] if words else None)
        date = date or _first_date(value)
        if paragraph is None and (p := re.search(r"§\s*(\d+)", value)):
            paragraph = f"§ {p.group(1)}"
    if body is None and date is None:
        return None
    return " ".join(x for x in (body, date) if x) + (f", {paragraph}" if paragraph else "")


def parse_structure(text: str) -> Structure:
    """Split a document into items (§) with metadata; a document without § is one item."""
    source_fields, header_span = source_header(text)
    body_start = header_span[1] if header_span else 0
    furniture = [(s + body_start, e + body_start) for s, e in find_furniture(text[body_start:])]
    if header_span:
        furniture.insert(0, header_span)

    org = source_fields.get("utgivare", "").split("/")[0].strip() or organisation(text[body_start:])
    heads = _candidates(text, body_start, furniture)
    head_text = text[body_start : heads[0].start() if heads else min(len(text), body_start + 1500)]
    doc_type = _doc_type(source_fields, text[body_start:], bool(heads))
    decided = None if heads else decided_by(text[body_start : body_start + 3000])
    page_headers = "\n".join(text[s:e] for s, e in furniture[:400] if e - s <= 160)
    if heads:
        doc_body = _header_body(head_text[:2500]) or _frequent_body(page_headers)
    else:
        doc_body = _document_body(text[body_start:], decided)
    doc_date = meeting_date(text[body_start:], page_headers)
    if decided and (d := _first_date(decided)):
        doc_date = d
    elif doc_type == "motion":
        doc_date = _signed_date(text) or doc_date
    if source_fields.get("datum"):
        doc_date = source_fields["datum"].split(" ")[0]
    items: list[Item] = []
    preamble = text[body_start : heads[0].start()] if heads else ""
    for fs, fe in furniture:
        if heads and body_start <= fs and fe <= heads[0].start():
            preamble = preamble.replace(text[fs:fe], "", 1)
    if heads and len(_DNR.sub("", preamble).strip()) < 40:
        preamble = ""  # a Dnr line or nothing: it belongs to the first item
    if preamble.strip():
        preamble_end = heads[0].start()
        items.append(
            Item(
                start=body_start,
                end=preamble_end,
                body=doc_body,
                date=doc_date,
                sections=_sections(text, body_start, preamble_end),
            )
        )
    for i, m in enumerate(heads):
        start, end = m.start(), heads[i + 1].start() if i + 1 < len(heads) else len(text)
        if i == 0 and not preamble.strip():
            start = body_start
        item_text = text[start:end]
        block = _head_lines(text, m, end)
        sections_start = block[-1][1] + 1 if block and not is_heading(block[-1][2]) else m.end() + 1
        if _strip_dnr(m.group("rest")):  # the title is on the § line: sections may start right below it
            sections_start = min(sections_start, m.end() + 1)
        sections = _sections(text, min(sections_start, end), end)
        span, decision_text, decision_heading = item_decision(text, sections, sections_start, end, furniture)
        in_beslut = span is not None and any(x.heading == "Beslut" and x.start <= span[0] < x.end for x in sections)
        if not in_beslut and (vote := vote_result(text, span[1] if span else sections_start, end)):
            span, decision_text = vote  # no Beslut section: the vote decided, not the proposition
        elif decision_text and (referred := referred_text(text, start, end, decision_text, sections)):
            decision_text = referred
        dnr = _item_dnr(text, m, end, text[body_start : m.start()] if i == 0 else "")
        item_title = _item_title(text, m, end, furniture, dnr)
        if decision_text:
            main, others = outcomes(decision_text, item_title)
        else:  # an item that records no decision: information given, a question put
            main, others = ("noterad" if item_text[m.end() - start :].strip() else "other"), ()
        suffix = f" {m.group('suffix')}" if m.group("suffix") else ""
        body = _abbreviated_body(m.group("abbr")) or doc_body
        items.append(
            Item(
                start=start,
                end=end,
                paragraph=f"§ {int(m.group('num'))}{suffix}",
                number=int(m.group("num")),
                title=item_title,
                dnr=dnr,
                body=body,
                date=doc_date,
                outcome=main,
                sections=sections,
                persons=persons(item_text, sections, start),
                decision=span,
                proposal_to=higher_body(proposal_to(decision_text, decision_heading) if decision_text else None, body),
                outcomes=others,
            )
        )
    if not heads:
        sections = _sections(text, body_start, len(text))
        whole = text[body_start:]
        items.append(
            Item(
                start=body_start,
                end=len(text),
                body=doc_body,
                date=doc_date,
                sections=sections,
                persons=persons(whole, sections, body_start),
            )
        )
    if heads and doc_body is None:
        doc_body = _deciding_body(text, items)
        items = [replace(it, body=it.body or doc_body) for it in items]
    numbered = [it for it in items if it.paragraph]
    title: str | None
    if len(numbered) > 1:  # a protocol of several items is named by its meeting
        title = " ".join(x for x in ("Protokoll", doc_body, doc_date) if x)
    elif numbered:
        title = source_fields.get("titel") or numbered[0].title
    else:
        title = source_fields.get("titel") or _document_title(text, body_start)
    title = title or _first_line(text, body_start)
    return Structure(
        doc_type=doc_type,
        title=title,
        organisation=org,
        body=doc_body or next((it.body for it in items if it.body), None),
        date=doc_date,
        items=tuple(items),
        furniture=tuple(sorted(furniture)),
        decided_by=decided,
    )
