"""Case numbers (Dnr, diarienummer, ärendenummer): labelled or bare on an item's heading lines, in
their common forms, and the heading text without them."""

from __future__ import annotations

import re

from rag.structure.items import _head_lines

# A Dnr: a label and a case number, or a bare case number of a recognisable shape.
_DNR_LABEL = r"(?i:\bdnr|\bdiarienr|\bdiarienummer|\bärendenummer|\bärendenr|\bärende nr|\bvårt dnr|\bdnr\.)"
_DNR_NUMBER = (
    r"(?:[A-ZÅÄÖ]{1,6}(?:[ \t]|[-/]?(?=\d)))?"  # "KS ", "SLK-", "XY", "KF/"
    r"\d[\d]*(?:[/.:\-_]\d[\d]*)+(?:[/.:\-]-?[\d.]+)*"  # 2024/145-1.2.3, 2024-00123, 2006.123, 00027:58
    r"(?:[ \t][A-ZÅÄÖ]{2,5}\b(?![ \t]?[a-zåäö]))?"  # a trailing unit: "2024.377 KS"
)
_DNR = re.compile(
    _DNR_LABEL + r"\.?[ \t]*:?[ \t]*(?P<dnr>" + _DNR_NUMBER + r"|\d{5,10}\b)",
)
# A bare case number on a heading line: it has a unit prefix ("BUN 2024/00123", "XY24/01456") or
# a year and a serial ("2024/145-1.2.3"); "Hulta 4:12", "2025–2027" and "Motion 2024:31" are not.
_BARE_DNR = re.compile(
    r"(?:(?<=\s)|(?<=\()|^)"
    r"(?P<dnr>(?:[A-ZÅÄÖ]{1,6}[ \t]?[-/]?[ \t]?\d{2,4}[/.:\-_]\d{1,6}|(?:19|20)\d\d[/.:\-_]\d{3,6})"
    r"(?:[/.:\-]-?[\d.]+)*(?:[ \t][A-ZÅÄÖ]{2,5})?)(?=\)|\s*$|[ \t]{2,}|,)"
)


def _clean_dnr(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip(" ,.")


# A case number with a unit prefix opening the § line before the title: "§ 45 RS 2024/123 Ny strategi".
_LEADING_DNR = re.compile(
    r"^[ \t]*(?P<dnr>[A-ZÅÄÖ]{1,6}[ \t]?[-/]?[ \t]?\d{2,4}[/.:\-_]\d{1,6}(?:[/.:\-]-?[\d.]+)*)[ \t]+(?=[A-ZÅÄÖ])"
)


def _item_dnr(text: str, heading: re.Match[str], end: int, before: str) -> str | None:
    """The Dnr of an item: labelled or bare on its § line, else labelled or bare on its heading block."""
    if m := _LEADING_DNR.match(heading.group("rest")):
        return _clean_dnr(m.group("dnr"))
    lines = [heading.group("rest"), *(line for _, _, line in _head_lines(text, heading, end))]
    for line in lines:
        if m := _DNR.search(line):
            return _clean_dnr(m.group("dnr"))
        if (m := _BARE_DNR.search(line)) and len(line.strip()) <= 160:
            return _clean_dnr(m.group("dnr"))
    if before and (m := _DNR.search(before[-300:])):
        return _clean_dnr(m.group("dnr"))
    return None


def _strip_dnr(line: str, dnr: str | None = None) -> str:
    """A heading line without its Dnr: labelled ones, and the item's own when it stands bare."""
    line = _DNR.sub("", line)
    if dnr and (m := _LEADING_DNR.match(line)) and _clean_dnr(m.group("dnr")) == dnr:
        line = line[m.end() :]
    line = _BARE_DNR.sub(lambda m: "" if dnr is None or _clean_dnr(m.group("dnr")) == dnr else m.group(), line)
    line = re.sub(r"\(\s*\)", "", line)
    return re.sub(r"[ \t]{2,}", " ", line).strip(" \t-–:*#,").lstrip(". ")
