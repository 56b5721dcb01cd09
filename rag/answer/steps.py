"""The matter's latest step: when the quoted item is a motion, a proposal or an item tabled, sent
back or only noted, and the matter went on in a later document, the answer leads with that step.
"""

from __future__ import annotations

from rag.answer.asked import _ENDING, NO_FINAL_OUTCOMES
from rag.answer.candidates import Candidate
from rag.answer.items import Items
from rag.matters import Matter, Step, matters_of
from rag.normalise import fold
from rag.types import Citation


class LaterStep(Items):
    """The assistant's part that finds the latest step of a quoted item's matter and cites it."""

    _matters: dict[str, list[Matter]]

    def later_step(self, best: Candidate, question: str) -> Step | None:
        """The latest step of the matter the best sentence's item belongs to (the same Dnr, or the
        protocol answering a motion), when it is a later item with a decision and the answer needs
        it: the question asks how the matter ended, or the best sentence is no decision, a motion,
        or an item tabled, sent back or only noted. Else None."""
        doc = best.hit.chunk.doc
        item = self.item_at(doc, best.start) or {}
        unsettled = not best.decisive or best.hit.chunk.doc_type == "motion" or item.get("outcome") in NO_FINAL_OUTCOMES
        if not (unsettled or _ENDING.search(fold(question))):
            return None
        if doc not in self._matters:
            self._matters[doc] = matters_of(self.searcher.index.documents().values(), doc)
        for matter in self._matters[doc]:
            steps = list(matter.steps)
            here = next((i for i, s in enumerate(steps) if s.doc == doc and s.paragraph == item.get("paragraph")), None)
            last = steps[-1]
            if here is not None and here < len(steps) - 1 and last.decision and last.decision_start is not None:
                return last
        return None

    def step_citation(self, step: Step) -> Citation | None:
        """A matter step's decisive sentence as a citation."""
        stored = self.searcher.index.document(step.doc)
        if stored is None or step.decision_start is None or step.decision_end is None:
            return None
        return Citation(
            n=1,
            doc=step.doc,
            path=stored.path,
            title=step.title,
            organisation=step.organisation,
            body=step.body,
            date=step.date,
            paragraph=step.paragraph,
            dnr=step.dnr,
            section="Beslut",
            start=step.decision_start,
            end=step.decision_end,
            quote=stored.text[step.decision_start : step.decision_end],
        )


def _step_note(step: Step, language: str) -> str:
    """'Ärendets senaste steg (Dnr KS 2024/551): kommunfullmäktige 2025-04-28, § 84.'"""
    where = ", ".join(x for x in (step.body and step.body.lower(), step.date, step.paragraph) if x)
    dnr = f" (Dnr {step.dnr})" if step.dnr else ""
    if language == "en":
        return f"The latest step of the matter{dnr}: {where}."
    return f"Ärendets senaste steg{dnr}: {where}."
