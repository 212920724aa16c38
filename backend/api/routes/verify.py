"""``POST /verify``: verdicts for a notice or a file, exactly as ``tenderledger verify --json`` gives them."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter

from backend.api.deps import BackendDep, VerifyUpload
from backend.api.models import VerdictDocument, VerifyReport
from backend.api.problems import InputProblem, problem_responses
from backend.service.verification import VerifyService

router = APIRouter(tags=["verify"])

_VERIFY_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "description": "A release, release package or record package as JSON; or any file uploaded as the "
        "multipart part 'file' (.json files are read as OCDS, others verified by their SHA-256).",
        "content": {
            "application/json": {"schema": {"type": "object", "additionalProperties": True}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        # Raw bytes: "format" says so to OpenAPI 3.0 tools, "contentMediaType" to 3.1.
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "contentMediaType": "application/octet-stream",
                        }
                    },
                    "required": ["file"],
                }
            },
        },
    }
}


@router.post(
    "/verify",
    response_model=VerifyReport,
    response_model_exclude_unset=True,
    summary="Verify notices against the chain (public)",
    responses=problem_responses(
        400, 413, 415, 422, 500, 502, 503, models={400: InputProblem, 422: InputProblem}
    ),
    openapi_extra=_VERIFY_BODY,
)
def verify(upload: VerifyUpload, backend: BackendDep) -> VerifyReport:
    """One verdict per notice: anchored, superseded, tampered (with the changed fields), not_anchored or
    invalid_seal. The chain decides; the evidence store only supplies originals for field diffs."""
    verdicts = list(VerifyService(backend, store=backend.existing_store()).verify(upload.subjects))
    return VerifyReport(
        verdicts=[VerdictDocument.model_validate(v.to_json()) for v in verdicts],
        passed=all(v.status.passes for v in verdicts),
        skipped=upload.skipped,
    )
