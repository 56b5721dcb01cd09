"""The HTTP API: a FastAPI app over ``rag`` (``server.py`` builds it; ``rag serve`` runs it).

- ``app.py``: ``create_app``: the lifespan (index and model load once), middlewares, exception
  handlers, routers.
- ``deps.py``: what routes receive by dependency: ``get_settings``, the index service, the assistant
  for this caller (staff or citizen), the admin check, the query log.
- ``routers/``: one module per surface: ask, search, documents (with upload and delete), precedent
  (with matters), status (health, stats), pages (the web pages, the widget, /docs).
- ``schemas/``: the request and response models (the OpenAPI schema), read from the pipeline's
  dataclasses, one module per surface.
- ``paths.py`` document paths as clients see them (relative to the corpus folders), for the API
  and ``rag ... --json``.
- ``service.py`` the served index version and its reloading; ``uploads.py`` the files of uploads and
  deletes; ``auth.py`` tokens and OpenID Connect sign-in; ``middleware.py`` body and rate limits,
  CORS, security headers.
"""
