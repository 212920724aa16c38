"""RFC 9457 problem documents: every error the API answers with, and the handlers that make them.

Each problem has ``type``, ``title``, ``status`` and ``detail``, the request path as
``instance``, and ``advice`` (what to do about it) when there is any. Problems that
only restate an HTTP status use the type ``about:blank`` with the status phrase as
title (RFC 9457, section 4.2.1); the others have a type of their own under
:data:`PROBLEM_TYPE_BASE`. Those types are identifiers (tag URIs, RFC 4151), not
addresses: clients compare them, nobody fetches them.

Server-side failures (5xx) do not echo internal messages, which can name files or
endpoints; the full text goes to the server log, without the credentials a database
or RPC URL may carry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

import requests
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.api.models import ContractError, HealthChecks, Issue, NoticeOutcome, ReceiptDocument
from backend.errors import (
    CanonicalizationError,
    ChainError,
    ConfigurationError,
    DeploymentMismatchError,
    GovernanceRefusedError,
    InputError,
    KeystoreError,
    LedgerRevertError,
    MalformedJSONError,
    NetworkError,
    NoticeFormatError,
    ProofFormatError,
    SchemaValidationError,
    StoreError,
    TenderledgerError,
)
from backend.redaction import database_url_secrets, scrub, url_secrets

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
PROBLEM_TYPE_BASE: Final = "tag:tenderledger,2025:problems/"
BLANK: Final = "about:blank"

# Problem types of our own: slug -> title.
MALFORMED_JSON: Final = "malformed-json"
INVALID_REQUEST: Final = "invalid-request"
NOT_OCDS: Final = "not-ocds"
SCHEMA_INVALID: Final = "schema-invalid"
LEDGER_REFUSED: Final = "ledger-refused"
DIGEST_CONFLICT: Final = "digest-conflict"
CHAIN_UNAVAILABLE: Final = "chain-unavailable"
STORE_UNAVAILABLE: Final = "store-unavailable"
SERVER_MISCONFIGURED: Final = "server-misconfigured"
UNHEALTHY: Final = "unhealthy"
TITLES: Final[dict[str, str]] = {
    MALFORMED_JSON: "The body is not strict JSON",
    INVALID_REQUEST: "The request is not valid",
    NOT_OCDS: "The body holds no usable OCDS release",
    SCHEMA_INVALID: "The release fails the OCDS 1.1 release schema",
    LEDGER_REFUSED: "The ledger refused the notice",
    DIGEST_CONFLICT: "This (ocid, release id) is already anchored with other content",
    CHAIN_UNAVAILABLE: "The chain cannot be reached",
    STORE_UNAVAILABLE: "The evidence store cannot be reached",
    SERVER_MISCONFIGURED: "The server is not set up for this request",
    UNHEALTHY: "The service is not healthy",
}


# ---------------------------------------------------------------- documents


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(description="Problem type: about:blank, or a tag URI naming a tenderledger problem")
    title: str
    status: int
    detail: str
    instance: str | None = Field(default=None, description="Path of the request that met the problem")
    advice: str | None = Field(default=None, description="What to do about it")


class InputProblem(Problem):
    """A problem with the request itself, with what is wrong where."""

    errors: list[Issue] = Field(default_factory=list)


class NoticeProblem(Problem):
    """A notice that was not anchored: refused by the ledger, or failing the OCDS schema.

    For a digest conflict, ``receipt`` is the receipt of the notice the ledger already
    holds under this (ocid, release id). ``notices`` lists every notice of the body.
    """

    errors: list[Issue] = Field(default_factory=list)
    contract_error: ContractError | None = None
    receipt: ReceiptDocument | None = None
    notices: list[NoticeOutcome] = Field(default_factory=list)


class HealthProblem(Problem):
    """An unhealthy service, with the result of every check."""

    checks: HealthChecks


class ProblemError(Exception):
    """Raised by dependencies and handlers to answer with a problem document."""

    def __init__(self, problem: Problem, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(problem.detail)
        self.problem = problem
        self.headers = dict(headers or {})


def problem_type(slug: str | None) -> str:
    """The type URI of one of our problems, or about:blank."""
    return BLANK if slug is None else PROBLEM_TYPE_BASE + slug


def title_of(slug: str | None, status: int) -> str:
    """Our title for ``slug``, or the status phrase for about:blank."""
    return TITLES[slug] if slug is not None else HTTPStatus(status).phrase


def problem(status: int, detail: str, *, slug: str | None = None, advice: str | None = None) -> Problem:
    """A plain problem (``about:blank`` unless ``slug`` names one of ours)."""
    return Problem(
        type=problem_type(slug), title=title_of(slug, status), status=status, detail=detail, advice=advice
    )


def input_problem(
    status: int, detail: str, *, slug: str, errors: list[Issue] | None = None, advice: str | None = None
) -> InputProblem:
    """A problem with the request, listing what is wrong where."""
    return InputProblem(
        type=problem_type(slug),
        title=title_of(slug, status),
        status=status,
        detail=detail,
        advice=advice,
        errors=errors or [],
    )


# ---------------------------------------------------------------- OpenAPI declarations

_DESCRIPTIONS: Final[dict[int, str]] = {
    400: "Malformed input: not strict JSON (bad syntax, duplicate keys, NaN, bad UTF-8, too deep), "
    "a bad digest, or bad parameters",
    401: "No credential, not a bearer token, or a token that is unknown, revoked or expired",
    404: "Not found",
    409: "This (ocid, release id) is already anchored with other content; the existing receipt is included",
    413: "The body is larger than the limit",
    415: "The content type is not accepted here",
    422: "Well-formed, but not usable: not OCDS, failing the OCDS schema, or refused by the ledger",
    500: "The server failed or is misconfigured",
    502: "The chain answered with an unexpected error",
    503: "The chain or the evidence store cannot be reached",
}


def problem_responses(
    *statuses: int,
    models: Mapping[int, type[Problem]] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries documenting problem answers (served as application/problem+json)."""
    chosen = dict(models or {})
    return {
        status: {"model": chosen.get(status, Problem), "description": _DESCRIPTIONS[status]}
        for status in statuses
    }


# ---------------------------------------------------------------- responses and handlers


class ProblemResponse(JSONResponse):
    """A JSON response served as application/problem+json."""

    media_type = PROBLEM_MEDIA_TYPE


def respond(request: Request, document: Problem, headers: Mapping[str, str] | None = None) -> ProblemResponse:
    """The response carrying ``document``, with the request path as its instance."""
    document.instance = request.url.path
    return ProblemResponse(document.model_dump(mode="json"), status_code=document.status, headers=headers)


# Input errors whose JSON was fine but whose content cannot be used: 422; other input errors: 400.
_UNPROCESSABLE = (NoticeFormatError, SchemaValidationError, CanonicalizationError, ProofFormatError)


def problem_of(error: TenderledgerError) -> Problem:
    """The problem document for a known error."""
    if isinstance(error, GovernanceRefusedError):
        return NoticeProblem(
            type=problem_type(LEDGER_REFUSED),
            title=title_of(LEDGER_REFUSED, 422),
            status=422,
            detail=error.message,
            advice=error.hint or None,
            contract_error=ContractError.of(error.reason, error.message),
        )
    if isinstance(error, InputError):
        if isinstance(error, _UNPROCESSABLE):
            return input_problem(422, error.message, slug=NOT_OCDS, advice=error.hint or None)
        slug = MALFORMED_JSON if isinstance(error, MalformedJSONError) else INVALID_REQUEST
        return input_problem(400, error.message, slug=slug, advice=error.hint or None)
    if isinstance(error, LedgerRevertError):
        slug = DIGEST_CONFLICT if error.reason == "DigestConflict" else LEDGER_REFUSED
        status = 409 if slug == DIGEST_CONFLICT else 422
        return NoticeProblem(
            type=problem_type(slug),
            title=title_of(slug, status),
            status=status,
            detail=error.message,
            advice=error.hint or None,
            contract_error=ContractError.of(error.reason, error.message),
        )
    if isinstance(error, NetworkError | DeploymentMismatchError):
        return problem(
            503,
            "the chain cannot be reached, or is not the chain of this deployment",
            slug=CHAIN_UNAVAILABLE,
            advice="try again later; nothing was acknowledged by this request",
        )
    if isinstance(error, ChainError):
        return problem(502, "the chain answered with an unexpected error", advice="try again later")
    if isinstance(error, StoreError):
        return problem(
            503, "the evidence store cannot be used", slug=STORE_UNAVAILABLE, advice="try again later"
        )
    if isinstance(error, KeystoreError | ConfigurationError):
        return problem(
            500,
            "the server cannot serve this request as it is set up",
            slug=SERVER_MISCONFIGURED,
            advice="tell the operator of this server; the details are in its log",
        )
    return problem(500, "the server failed to handle this request")


async def _on_problem(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, ProblemError)
    return respond(request, exc.problem, exc.headers)


async def _on_known_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, TenderledgerError)
    document = problem_of(exc)
    if document.status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, _for_log(request, exc.diagnostics()))
    return respond(request, document)


async def _on_validation(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        Issue(location=".".join(str(part) for part in error.get("loc", ())), message=str(error.get("msg")))
        for error in exc.errors()
    ]
    return respond(
        request,
        input_problem(400, "the request parameters are not valid", slug=INVALID_REQUEST, errors=errors),
    )


async def _on_http(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail else HTTPStatus(status).description
    return respond(request, problem(status, detail), exc.headers)


async def _on_chain_connection(request: Request, exc: Exception) -> ProblemResponse:
    # requests only ever talks to the chain's JSON-RPC endpoint here; some reads do not wrap its errors.
    log.error(
        "%s %s: cannot reach the chain: %s", request.method, request.url.path, _for_log(request, str(exc))
    )
    return respond(request, problem_of(NetworkError("cannot reach the chain")))


def _for_log(request: Request, text: str) -> str:
    """``text`` without the secrets of the server's database and RPC URLs (drivers quote them)."""
    settings = getattr(getattr(request.app.state, "backend", None), "settings", None)
    if settings is None:
        return text
    return scrub(text, [*url_secrets(settings.rpc_url), *database_url_secrets(settings.store_url)])


async def _on_unexpected(request: Request, exc: Exception) -> ProblemResponse:
    log.exception("%s %s failed unexpectedly", request.method, request.url.path, exc_info=exc)
    return respond(request, problem(500, "the server failed to handle this request"))


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error with a problem document."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(TenderledgerError, _on_known_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(requests.exceptions.ConnectionError, _on_chain_connection)
    app.add_exception_handler(Exception, _on_unexpected)
