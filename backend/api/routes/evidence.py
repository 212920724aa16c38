"""``GET /notices/{digest}/evidence`` and ``GET /processes/{ocid}/dossier``: evidence packages as zips.

The same packages as ``tenderledger evidence export``, checked before they are served.
The QR code of the certificate opens the workbench of the server that made it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from backend.api.deps import BackendDep
from backend.api.problems import ProblemError, problem, problem_responses
from backend.errors import InputError
from backend.evidence.certificate import LANGUAGES
from backend.evidence.export import EvidenceExporter, ExportedPackage, parse_digest

router = APIRouter(tags=["evidence"])
_DIGEST = re.compile(r"(0x)?[0-9a-fA-F]{64}")
ZIP_MEDIA_TYPE = "application/zip"
_ZIP_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {ZIP_MEDIA_TYPE: {}}, "description": "The evidence package (a zip)"}
}
LangQuery = Annotated[str, Query(description=f"Certificate language: {', '.join(LANGUAGES)}")]


def _zip(make: Callable[[], ExportedPackage]) -> Response:
    """The package ``make`` exports, as an attachment; what the store does not hold is a 404."""
    try:
        package = make()
    except InputError as error:
        raise ProblemError(problem(404, error.message)) from None
    return Response(
        package.data,
        media_type=ZIP_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{package.name}"'},
    )


def _exporter(request: Request, backend: BackendDep, lang: str) -> EvidenceExporter:
    if lang not in LANGUAGES:
        choices = ", ".join(LANGUAGES)
        raise ProblemError(problem(400, f"no certificate language {lang!r}; use one of {choices}"))
    try:
        return EvidenceExporter(backend, lang=lang, workbench_url=str(request.base_url))
    except InputError as error:
        raise ProblemError(problem(404, error.message)) from None


@router.get(
    "/notices/{digest}/evidence",
    response_class=Response,
    summary="Evidence package of an anchored notice (public)",
    responses={**_ZIP_RESPONSE, **problem_responses(400, 404, 500, 502, 503)},
)
def notice_evidence(digest: str, request: Request, backend: BackendDep, lang: LangQuery = "en") -> Response:
    """``evidence-<ocid>-<release id>.zip``: the notice, its receipt, proofs, certificate and verifier."""
    wanted = parse_digest(digest) if _DIGEST.fullmatch(digest) else None
    if wanted is None:
        raise ProblemError(problem(400, "a digest is 32 bytes in hex (64 hex digits, optionally 0x)"))
    exporter = _exporter(request, backend, lang)
    return _zip(lambda: exporter.notice_package(exporter.stored_notice(wanted)))


@router.get(
    "/processes/{ocid:path}/dossier",
    response_class=Response,
    summary="Evidence dossier of a procurement process (public)",
    responses={**_ZIP_RESPONSE, **problem_responses(400, 404, 500, 502, 503)},
)
def process_dossier(ocid: str, request: Request, backend: BackendDep, lang: LangQuery = "en") -> Response:
    """``dossier-<ocid>.zip``: every notice and evidence document of the process, timeline and red flags."""
    exporter = _exporter(request, backend, lang)
    return _zip(lambda: exporter.dossier(ocid))
