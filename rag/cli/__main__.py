"""``python -m rag.cli``: the ``rag`` command without the console script."""

from rag.cli import main

if __name__ == "__main__":
    main()
