"""``GET /processes/{ocid}``: a procurement process's timeline from the chain, and its red flags."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.deps import BackendDep
from backend.api.models import ProcessTimeline
from backend.api.problems import ProblemError, problem, problem_responses
from backend.service.history import process_history

router = APIRouter(tags=["processes"])


@router.get(
    "/processes/{ocid:path}",
    response_model=ProcessTimeline,
    response_model_exclude_unset=True,
    summary="Process timeline and red flags (public)",
    responses=problem_responses(404, 500, 502, 503),
)
def process_timeline(ocid: str, backend: BackendDep) -> ProcessTimeline:
    """The notices of the process in ledger order (as ``tenderledger history --json`` prints them)."""
    history = process_history(backend, ocid, store=backend.existing_store())
    if not history.entries:
        raise ProblemError(problem(404, "the ledger has no notice of this process"))
    return ProcessTimeline.model_validate(history.to_json())
