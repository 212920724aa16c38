"""Request bodies: a size limit enforced while reading, accepted content types, strict parsing.

The limit is checked twice. A declared ``Content-Length`` over the limit is answered
with 413 before the application runs; a body without one (chunked) or with a wrong
one is counted as it streams in, and reading stops at the first byte over the limit.
Bodies are parsed with the strict JSON reader (duplicate keys, NaN, bad UTF-8 and
deep nesting are refused), on a worker thread, so a large body does not hold up the
event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.models import Issue, skipped_issues
from backend.api.problems import (
    INVALID_REQUEST,
    NOT_OCDS,
    ProblemError,
    ProblemResponse,
    input_problem,
    problem,
    respond,
)
from backend.service.intake import JSON_SUFFIXES, Intake, order_for_publication, read_bytes
from backend.service.verification import Subject, subjects_of, subjects_of_bytes

MAX_BODY_BYTES: Final = 8 * 1024 * 1024
"""Largest request body accepted: a release package of a few thousand notices."""

JSON_MEDIA_TYPE: Final = "application/json"
MULTIPART_MEDIA_TYPE: Final = "multipart/form-data"
BODY_NAME: Final = "body"
"""How notices read from a JSON body are named in results (``body#/releases/0``)."""
UPLOAD_FIELD: Final = "file"
DEFAULT_UPLOAD_NAME: Final = "upload"


# ---------------------------------------------------------------- size limit


class BodyTooLargeError(Exception):
    """The body streamed past the limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the body is larger than {limit} bytes")
        self.limit = limit


def _too_large(limit: int) -> ProblemError:
    return ProblemError(
        problem(
            413,
            f"the body is larger than the {limit} bytes accepted",
            advice="split a large release package into several requests",
        )
    )


class BodyLimitMiddleware:
    """Refuses bodies over ``max_bytes``: by their declared length first, then by counting."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 413 for a declared length over the limit; otherwise count the body as it arrives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = respond(Request(scope), _too_large(self.max_bytes).problem)
            await response(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        await self.app(scope, counted_receive, send)


async def _on_too_large(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, BodyTooLargeError)
    return respond(request, _too_large(exc.limit).problem)


def install_body_limit(app: FastAPI, *, max_bytes: int = MAX_BODY_BYTES) -> None:
    """Limit every request body to ``max_bytes``, answering 413 above it."""
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_bytes)
    app.add_exception_handler(BodyTooLargeError, _on_too_large)


# ---------------------------------------------------------------- content types


def media_type(request: Request) -> str:
    """The media type of the body, lower case, without parameters ('' when not given)."""
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


def _charset(request: Request) -> str | None:
    """The charset parameter of the content type, lower case, if one is declared."""
    for parameter in request.headers.get("content-type", "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


def _charset_ok(request: Request) -> bool:
    """JSON is UTF-8 (RFC 8259): a declared charset must say so."""
    return _charset(request) in (None, "utf-8", "utf8")


def unsupported(request: Request, accepted: tuple[str, ...]) -> ProblemError:
    """The 415 problem, naming what was sent and the content types accepted."""
    given = media_type(request)
    if not given:
        sent = "a body without a content type"
    elif given == JSON_MEDIA_TYPE and not _charset_ok(request):
        sent = f"JSON in charset {_charset(request)!r} (JSON is UTF-8)"
    else:
        sent = f"content type {given!r}"
    return ProblemError(
        problem(415, f"{sent} is not accepted here; send {' or '.join(accepted)}"),
        headers={"Accept-Post": ", ".join(accepted)},
    )


async def json_body(request: Request) -> bytes:
    """The raw bytes of an ``application/json`` (UTF-8) body; 415 for any other content type."""
    if media_type(request) != JSON_MEDIA_TYPE or not _charset_ok(request):
        raise unsupported(request, (JSON_MEDIA_TYPE,))
    return await request.body()


# ---------------------------------------------------------------- notices from bytes


def read_notices(data: bytes, *, name: str) -> Intake:
    """The notices of one JSON document, in publication order; entries that are not notices are skipped.

    Raises MalformedJSONError (not strict JSON) and NoticeFormatError (JSON, but not OCDS);
    answers 422 when not one entry is a notice.
    """
    intake = Intake()
    read_bytes(data, name=name, ocid=None, intake=intake, is_json=True, max_bytes=MAX_BODY_BYTES, strict=True)
    if not intake.notices:
        # One entry skipped (a single release): the detail says why; several: the errors list each.
        reason = f": {intake.problems[0].message}" if len(intake.problems) == 1 else ""
        raise ProblemError(
            input_problem(
                422,
                "the body holds no notice that can be anchored or verified" + reason,
                slug=NOT_OCDS,
                errors=skipped_issues(intake.problems),
                advice="send an OCDS release, release package or record package",
            )
        )
    order_for_publication(intake)
    return intake


async def notice_intake_of(request: Request) -> Intake:
    """The notices of a JSON body."""
    data = await json_body(request)
    return await run_in_threadpool(read_notices, data, name=BODY_NAME)


@dataclass(frozen=True)
class VerifyInput:
    """What to verify: one subject per notice (or one for a document), and the entries skipped."""

    subjects: list[Subject]
    skipped: list[Issue] = field(default_factory=list)


def _subjects_of_file(data: bytes, *, name: str, is_json: bool) -> VerifyInput:
    if not is_json:
        # Any other file is an evidence document, looked up on the ledger by its SHA-256.
        return VerifyInput(subjects_of_bytes(data, name=name, is_json=False, intake=Intake()))
    intake = read_notices(data, name=name)
    return VerifyInput(subjects_of(intake), skipped_issues(intake.problems))


async def verify_input_of(request: Request) -> VerifyInput:
    """Subjects from a JSON body, or from the ``file`` part of a multipart upload."""
    kind = media_type(request)
    if kind == JSON_MEDIA_TYPE and _charset_ok(request):
        data = await request.body()
        return await run_in_threadpool(_subjects_of_file, data, name=BODY_NAME, is_json=True)
    if kind != MULTIPART_MEDIA_TYPE:
        raise unsupported(request, (JSON_MEDIA_TYPE, MULTIPART_MEDIA_TYPE))
    async with request.form(max_files=1, max_fields=16) as form:
        upload = form.get(UPLOAD_FIELD)
        if not isinstance(upload, UploadFile):
            raise ProblemError(
                input_problem(
                    400, f"the multipart body has no file part named {UPLOAD_FIELD!r}", slug=INVALID_REQUEST
                )
            )
        data = await upload.read()
        name = upload.filename or DEFAULT_UPLOAD_NAME
        upload_type = (upload.content_type or "").partition(";")[0].strip().lower()
    is_json = upload_type == JSON_MEDIA_TYPE or any(name.lower().endswith(s) for s in JSON_SUFFIXES)
    return await run_in_threadpool(_subjects_of_file, data, name=name, is_json=is_json)
