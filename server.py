"""The HTTP API's entry point: ``rag serve`` builds the app with ``create_app``, and ``uvicorn
server:app`` (what ``rag serve --workers N`` runs in each process) serves ``app``, its settings from
the environment. The app itself is the package ``rag.api``."""

from rag.api.app import create_app

__all__ = ["app", "create_app"]

app = create_app()
