"""The FastAPI application: wiring only. Routes live in ``routes/``, dependencies in ``deps.py``."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Final

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from backend.api.bodies import install_body_limit
from backend.api.docs_assets import install_docs
from backend.api.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers
from backend.api.routes import batches, evidence, health, notices, processes, verify, workbench
from backend.errors import TenderledgerError
from backend.service.context import Backend
from backend.service.submission import NoticeGateway
from backend.settings import Settings

log = logging.getLogger(__name__)

DESCRIPTION: Final = """\
Seal and anchor public-procurement notices (OCDS releases) on an EVM chain, and verify them.

* Write routes (`POST /notices`) need an agency credential: `Authorization: Bearer <token>`,
  from `tenderledger agency token NAME`. Everything else is public.
* Every error is an RFC 9457 problem document (`application/problem+json`).
"""

_JSON: Final = "application/json"
_FASTAPI_VALIDATION_SCHEMAS: Final = ("HTTPValidationError", "ValidationError")


def _version() -> str:
    try:
        return version("tenderledger")
    except PackageNotFoundError:
        return "0+unknown"


class LedgerAPI(FastAPI):
    """FastAPI with an OpenAPI document that says what the API really sends for errors."""

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document, built once, with problem documents declared as such."""
        if self.openapi_schema is None:
            self.openapi_schema = describe_problems(super().openapi())
        return self.openapi_schema


def describe_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare error responses as application/problem+json, and drop FastAPI's default 422.

    Request validation errors are answered 400 with a problem document (see problems.py),
    so the ``HTTPValidationError`` response FastAPI adds to routes with parameters never occurs.
    """
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses: dict[str, Any] = operation.get("responses", {})
            for status, response in list(responses.items()):
                content: dict[str, Any] = response.get("content", {})
                if _refers_to(content, "HTTPValidationError"):
                    del responses[status]
                elif status[:1] in ("4", "5") and _JSON in content:
                    content[PROBLEM_MEDIA_TYPE] = content.pop(_JSON)
    # Only those responses used FastAPI's validation schemas (no model of ours does): they go too.
    components: dict[str, Any] = schema.get("components", {}).get("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        components.pop(name, None)
    return schema


def _refers_to(value: Any, schema_name: str) -> bool:
    return f'"#/components/schemas/{schema_name}"' in json.dumps(value)


def _open(app: FastAPI) -> None:
    """Make the chain safe for threads, open the store and start the anchoring worker."""
    backend: Backend = app.state.backend
    try:
        backend.share_between_threads()
        app.state.chain_serialized = True
    except TenderledgerError as error:
        log.warning("no chain yet (%s): anchoring and verification wait for one", error.message)
    backend.store  # noqa: B018 - opened here, once, not by the first concurrent requests
    app.state.gateway.start()


def create_app(settings: Settings | None = None, *, backend: Backend | None = None) -> FastAPI:
    """The REST API over ``backend`` (made from ``settings`` when not given; then closed at shutdown)."""
    owned = backend is None
    if backend is None:
        backend = Backend(settings or Settings())
    chosen = settings or backend.settings
    gateway = NoticeGateway(backend, wait_s=chosen.api_anchor_wait_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(_open, app)
        try:
            yield
        finally:
            await run_in_threadpool(gateway.close)
            if owned:
                backend.close()

    # /docs is served from our own files (docs_assets.py), never from a CDN; ReDoc is not kept.
    app = LedgerAPI(
        title="tenderledger",
        version=_version(),
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.backend = backend
    app.state.gateway = gateway
    app.state.chain_serialized = False
    install_problem_handlers(app)
    install_body_limit(app)
    for module in (evidence, notices, verify, processes, batches, health, workbench):
        app.include_router(module.router)
    install_docs(app)
    workbench.mount_workbench(app)
    return app
