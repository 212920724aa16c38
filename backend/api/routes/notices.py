"""``/notices``: anchor notices (agencies), and follow one by its digest (anyone)."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request, Response

from backend.api.deps import AgencyDep, GatewayDep, NoticeIntake
from backend.api.models import (
    AnchorOutcome,
    AnchorReport,
    Issue,
    NoticeOutcome,
    NoticeStatus,
    receipt_model,
    skipped_issues,
)
from backend.api.problems import (
    DIGEST_CONFLICT,
    LEDGER_REFUSED,
    SCHEMA_INVALID,
    InputProblem,
    NoticeProblem,
    ProblemError,
    problem,
    problem_responses,
    problem_type,
    title_of,
)
from backend.core.digest import digest_from_hex
from backend.service.anchoring import Outcome
from backend.service.submission import DIGEST_CONFLICT as LEDGER_DIGEST_CONFLICT
from backend.service.submission import Submission

router = APIRouter(tags=["notices"])

STATUS_ROUTE: Final = "notice_status"

_LOCATION: Final = {
    "Location": {
        "description": "Where to follow the (first) notice: GET /notices/{digest}",
        "schema": {"type": "string"},
    }
}

_NOTICE_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": "One OCDS 1.1 release, a release package or a record package, as strict UTF-8 JSON.",
        "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
    }
}


@router.post(
    "/notices",
    status_code=201,
    response_model=AnchorReport,
    summary="Seal and anchor notices for the calling agency",
    responses={
        200: {
            "model": AnchorReport,
            "description": "Every notice was anchored before: the existing receipts",
            "headers": _LOCATION,
        },
        201: {"description": "Anchored now: the receipts", "headers": _LOCATION},
        202: {
            "model": AnchorReport,
            "headers": _LOCATION,
            "description": "Committed to the outbox; the chain has not confirmed yet. Follow the status URL.",
        },
        **problem_responses(
            400,
            401,
            409,
            413,
            415,
            422,
            500,
            502,
            503,
            models={400: InputProblem, 409: NoticeProblem, 422: NoticeProblem},
        ),
    },
    openapi_extra=_NOTICE_BODY,
)
def anchor_notices(
    request: Request,
    response: Response,
    agency: AgencyDep,
    intake: NoticeIntake,
    gateway: GatewayDep,
    allow_invalid: bool = False,
) -> AnchorReport:
    """Anchor the notices of the body, sealed by the agency the credential belongs to.

    Idempotent: a notice anchored before comes back with its existing receipt (200).
    ``allow_invalid=true`` anchors releases that fail the OCDS schema too.
    """
    submission = gateway.submit(intake, agency=agency, allow_invalid=allow_invalid)
    outcomes = [
        NoticeOutcome.of(n.result, status_url=_status_url(request, n.result.digest))
        for n in submission.notices
    ]
    failed = _failure_of(submission, outcomes)
    if failed is not None:
        raise ProblemError(failed)
    pending = [o for o in outcomes if o.outcome is AnchorOutcome.PENDING]
    fresh = [o for o in outcomes if o.outcome is AnchorOutcome.ANCHORED]
    response.status_code = 202 if pending else 201 if fresh else 200
    response.headers["Location"] = (pending or fresh or outcomes)[0].status_url
    only = outcomes[0] if len(outcomes) == 1 else None
    return AnchorReport(
        receipt=only.receipt if only else None, notices=outcomes, skipped=skipped_issues(submission.skipped)
    )


@router.get(
    "/notices/{digest}",
    name=STATUS_ROUTE,
    response_model=NoticeStatus,
    summary="Receipt and status of a notice",
    responses=problem_responses(400, 404, 500, 502, 503, models={400: InputProblem}),
)
def notice_status(digest: str, gateway: GatewayDep) -> NoticeStatus:
    """Pending (in the outbox), anchored (with its receipt) or refused (with the ledger's error)."""
    state = gateway.state(digest_from_hex(digest))
    if state is None:
        raise ProblemError(problem(404, "no notice with this digest is known to this server or the ledger"))
    return NoticeStatus.of(state)


def _status_url(request: Request, digest: str) -> str:
    return str(request.url_for(STATUS_ROUTE, digest=digest))


def _failure_of(submission: Submission, outcomes: list[NoticeOutcome]) -> NoticeProblem | None:
    """The problem for a body with notices the ledger refused or the schema failed; a conflict first."""
    pairs = list(zip(submission.notices, outcomes, strict=True))
    refused = [(n, o) for n, o in pairs if n.result.outcome is Outcome.REFUSED]
    invalid = [(n, o) for n, o in pairs if n.result.outcome is Outcome.INVALID]
    if not refused and not invalid:
        return None
    conflicts = [(n, o) for n, o in refused if n.result.error_name == LEDGER_DIGEST_CONFLICT]
    of_many = f" ({len(refused) + len(invalid)} of {len(pairs)} notices)" if len(pairs) > 1 else ""
    errors = [
        Issue(location=o.pointer + issue.location, message=issue.message)
        for _, o in invalid
        for issue in o.schema_issues
    ]
    if conflicts or refused:
        notice, outcome = (conflicts or refused)[0]
        slug, status = (DIGEST_CONFLICT, 409) if conflicts else (LEDGER_REFUSED, 422)
        error = outcome.contract_error
        detail = (
            f"the ledger refused {notice.result.ocid} / {notice.result.release_id}: "
            f"{error.name if error else 'unknown error'}{of_many}"
        )
        return NoticeProblem(
            type=problem_type(slug),
            title=title_of(slug, status),
            status=status,
            detail=detail,
            advice=error.advice if error else None,
            errors=errors,
            contract_error=error,
            receipt=receipt_model(notice.existing_receipt),
            notices=outcomes,
        )
    detail = f"the release fails the OCDS 1.1 release schema ({len(errors)} issues){of_many}"
    return NoticeProblem(
        type=problem_type(SCHEMA_INVALID),
        title=title_of(SCHEMA_INVALID, 422),
        status=422,
        detail=detail,
        advice="fix the release, or anchor it as published with allow_invalid=true",
        errors=errors,
        notices=outcomes,
    )
