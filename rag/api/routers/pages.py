"""The web pages (citizens' search, the document view, the coordinators' precedent view, the widget
demo), the staff widget's script, and Swagger UI at /docs, all served from this origin."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from rag.api.deps import SettingsDep

WEB = Path(__file__).resolve().parents[3] / "web"  # the pages: plain HTML, CSS and ES modules, no build step
SWAGGER_ASSETS = Path(fastapi_offline.__file__).parent / "static"  # swagger-ui-bundle.js, swagger-ui.css

router = APIRouter(include_in_schema=False)


def _page(name: str) -> Callable[[], FileResponse]:
    def serve() -> FileResponse:
        return FileResponse(WEB / name, media_type="text/html; charset=utf-8")

    return serve


router.add_api_route("/", _page("index.html"), name="search_page")
router.add_api_route("/precedent", _page("precedent.html"))
router.add_api_route("/documents/{doc_id}", _page("document.html"))
router.add_api_route("/widget-demo", _page("demo.html"))


@router.get("/docs")
def docs(request: Request, settings: SettingsDep) -> HTMLResponse:
    """Swagger UI from the assets bundled in fastapi-offline, served here (an intranet without a CDN
    gets it too); its one inline script is allowed by hash."""
    app = request.app
    root = request.scope.get("root_path", "")
    html = get_swagger_ui_html(
        openapi_url=root + (app.openapi_url or "/openapi.json"),
        title=f"{app.title} - Swagger UI",
        swagger_js_url=f"{root}/static-docs/swagger-ui-bundle.js",
        swagger_css_url=f"{root}/static-docs/swagger-ui.css",
        swagger_favicon_url=f"{root}/static-docs/favicon.png",
    )
    inline = re.findall(rb"<script>(.*?)</script>", html.body, re.DOTALL)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'" for s in inline)
    html.headers["content-security-policy"] = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:; connect-src 'self'; object-src 'none'; "
        f"base-uri 'none'; frame-ancestors {settings.frame_ancestors}"
    )
    return html


@router.get("/widget.js")
def widget() -> FileResponse:
    return FileResponse(WEB / "widget.js", media_type="text/javascript; charset=utf-8")
