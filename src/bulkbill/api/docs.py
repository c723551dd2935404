"""Interactive API docs for a dialect (GET /stripe/docs, /zuora/docs): Swagger UI on its openapi.json.

Swagger UI's files come from the swagger-ui-bundle-v2 package and are served by this process, never
from a CDN, so the docs work on a machine without internet access. Like openapi.json, the pages
need no credentials ("Authorize" in the page takes the key or token for trying calls).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from types import ModuleType

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

DOCS = "/docs"
# The Swagger UI files the page loads → their media types.
ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css", "favicon-32x32.png": "image/png"}
# Every path add_docs serves, relative to the dialect's mount.
DOCS_PATHS = frozenset({DOCS, *(f"{DOCS}/{name}" for name in ASSETS)})
# The files change only with the package: browsers may keep them for a day.
_CACHE = {"Cache-Control": "public, max-age=86400"}
_UI = {"persistAuthorization": True, "tryItOutEnabled": True, "displayRequestDuration": True}


@cache
def _asset(name: str) -> bytes:
    data: bytes = (swagger_ui_path / name).read_bytes()
    return data


def module_tag(module: ModuleType) -> str:
    """The docs page groups a dialect's operations by the module that serves them (invoice_items → invoice items)."""
    return module.__name__.rsplit(".", 1)[-1].replace("_", " ")


def add_docs(app: FastAPI) -> None:
    """GET /docs (the page) and GET /docs/<file> (Swagger UI's files) on a dialect's app with an openapi_url."""
    openapi_url = app.openapi_url
    if openapi_url is None:
        raise ValueError("the docs page needs the app's openapi.json")

    @app.get(DOCS, include_in_schema=False)
    def docs_page(request: Request) -> HTMLResponse:
        # root_path is the dialect's mount (/stripe): the page and its files work wherever it is mounted.
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title}: docs",
            swagger_js_url=f"{root}{DOCS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS}/favicon-32x32.png",
            swagger_ui_parameters=_UI,
        )

    for name, media_type in ASSETS.items():
        app.add_api_route(f"{DOCS}/{name}", _serve(name, media_type), methods=["GET"], include_in_schema=False)


def _serve(name: str, media_type: str) -> Callable[[], Response]:
    def serve_asset() -> Response:
        return Response(_asset(name), media_type=media_type, headers=_CACHE)

    serve_asset.__name__ = "docs_" + name.replace("-", "_").replace(".", "_")
    return serve_asset
