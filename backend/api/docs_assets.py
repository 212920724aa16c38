"""``/docs`` served from this server: Swagger UI's files come from the built workbench, not a CDN.

FastAPI's default page loads Swagger UI from a public CDN, which leaves ``/docs`` blank on a
closed network. ``make setup`` copies the files of the pinned npm package ``swagger-ui-dist``
into ``web/dist/swagger-ui/``; the page here points at them.
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

from backend.api.routes.workbench import ASSETS_PATH, WORKBENCH_DIR

DOCS_URL: Final = "/docs"
OAUTH2_REDIRECT_URL: Final = "/docs/oauth2-redirect"
SWAGGER_DIR: Final = WORKBENCH_DIR / "swagger-ui"
SWAGGER_PATH: Final = f"{ASSETS_PATH}/swagger-ui"


def install_docs(app: FastAPI) -> None:
    """Add ``/docs`` (Swagger UI from local files) to an app created with ``docs_url=None``."""

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            swagger_js_url=f"{SWAGGER_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_PATH}/favicon-32x32.png",
        )
        if not (SWAGGER_DIR / "swagger-ui-bundle.js").is_file():
            # Still an answer, never a blank page: say what is missing and how to get it.
            return HTMLResponse(
                "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>API docs</title></head>"
                "<body><main><h1>API documentation files are not built</h1><p>Run <code>make setup</code>; "
                "meanwhile the OpenAPI document is at <a href='/openapi.json'>/openapi.json</a>.</p>"
                "</main></body></html>",
                status_code=200,
            )
        return page

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
