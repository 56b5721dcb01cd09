"""The HTTP API: a FastAPI app over ``rag``."""
