"""``rag bench``: speed, memory and scale measured on this machine, side by side with quality.

Phases that measure memory or start-up run in child processes (``python -m rag.bench WORKER ...``),
so each figure is that of a fresh process doing only that work. Nothing here asserts a target: the
figures are printed, and the README keeps the table with the command that made it.

The parts: ``common`` the machine, percentiles and memory; ``ingest``; ``latency`` in-process
query latency; ``recall`` dense recall against exact search; ``throughput`` HTTP on loopback;
``workers`` the phases run in child processes; ``report`` every measurement in order (``run``).
"""

from rag.bench.common import machine, percentiles, questions
from rag.bench.report import run

__all__ = ["machine", "percentiles", "questions", "run"]
