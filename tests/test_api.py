import rag


def test_the_public_api_is_deliberate():
    assert sorted(rag.__all__) == [
        "Chunk",
        "Document",
        "Embedder",
        "FakeEmbedder",
        "Filters",
        "Hit",
        "IndexMismatch",
        "IndexMissing",
        "InputError",
        "ModelError",
        "ParseError",
        "RagError",
        "Searcher",
        "SentenceTransformerEmbedder",
        "Settings",
        "build_index",
        "load_embedder",
        "load_index",
    ]
    for name in rag.__all__:
        assert getattr(rag, name) is not None
