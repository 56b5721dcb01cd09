"""``python -m rag.bench WORKER CONFIG``: one phase of ``rag bench`` in a fresh process (``rag.bench.workers``)."""

import json
import sys

from rag.bench.workers import _worker

if __name__ == "__main__":
    print(json.dumps(_worker(sys.argv[1:]), ensure_ascii=False))
