"""The Zuora dialect (mounted at /zuora). Order billing arrives with the Zuora issue."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def create_zuora_app() -> FastAPI:
    app = FastAPI(title="bulkbill Zuora-compatible API", docs_url=None, redoc_url=None)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def not_yet(request: Request, path: str) -> JSONResponse:
        return JSONResponse(
            {
                "success": False,
                "processId": "",
                "reasons": [{"code": 50000040, "message": f"No such resource: /{path}"}],
            },
            status_code=404,
        )

    return app
