"""``GET /batches/{root}``: a Merkle batch's manifest, re-hashed against its root, and the root on chain."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from backend.api.deps import BackendDep
from backend.api.problems import ProblemError, problem, problem_responses
from backend.service.batches import batch_manifest

router = APIRouter(tags=["batches"])
_ROOT = re.compile(r"(0x)?[0-9a-fA-F]{64}")


class BatchLeaf(BaseModel):
    index: int
    ocid: str
    release_id: str
    key: str
    digest: str
    stage_code: int


class BatchManifestModel(BaseModel):
    """A batch's ordered leaves (each ``member_leaf`` of ocid, release id and digest)."""

    root: str
    size: int
    leaf_format: str
    hashes_to_root: bool
    on_chain: dict[str, Any] | None
    label: str | None
    leaves: list[BatchLeaf]


@router.get(
    "/batches/{root}",
    response_model=BatchManifestModel,
    summary="A Merkle batch's manifest (public)",
    responses=problem_responses(400, 404, 500, 502, 503),
)
def get_batch(root: str, backend: BackendDep) -> BatchManifestModel:
    """The ordered leaves of the batch anchored as ``root``, whether they hash to it, and its anchor."""
    if not _ROOT.fullmatch(root):
        raise ProblemError(problem(400, "a batch root is 32 bytes in hex (64 hex digits, optionally 0x)"))
    manifest = batch_manifest(backend, bytes.fromhex(root.removeprefix("0x")))
    if manifest is None:
        raise ProblemError(problem(404, "the evidence store holds no manifest for this batch root"))
    return BatchManifestModel.model_validate(manifest.to_json())
