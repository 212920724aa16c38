"""The workbench in the browser: its built files, and the few read-only facts it asks the server for.

The page verifies notices itself, against the chain's JSON-RPC. From this server it takes only
the page, the deployment (chain id, ledger address, the code hash the ledger's code must have,
a default RPC URL), batch manifests (``/batches/{root}``, re-hashed by the page), the stored
originals of tampered notices (whose digest the page checks against the chain before showing
them), a search index over the stored notices, and, for an agency, its own outbox.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from backend.api.deps import AgencyDep, BackendDep
from backend.api.problems import ProblemError, problem, problem_responses
from backend.core.digest import digest_from_hex
from backend.errors import TenderledgerError
from backend.service.workbench import (
    ProcessFinder,
    agency_submissions,
    deployment_facts,
    sample_bytes,
    sample_files,
    stored_source,
)

# Support routes of the page, kept out of the OpenAPI document (docs/workbench.md describes them).
router = APIRouter(tags=["workbench"], include_in_schema=False)

WORKBENCH_DIR: Final = Path(__file__).resolve().parents[3] / "web" / "dist"
"""Where ``make setup`` builds the workbench (``cd web && npm run build``)."""

ASSETS_PATH: Final = "/ui"
SEARCH_LIMIT: Final = 50

_NOT_BUILT: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tenderledger</title></head>
<body><main><h1>The workbench is not built</h1>
<p>Run <code>make setup</code> (or <code>cd web &amp;&amp; npm install &amp;&amp; npm run build</code>),
then reload this page. The REST API is documented at <a href="/docs">/docs</a>.</p></main></body></html>
"""


class DeploymentInfo(BaseModel):
    """What the page needs to find and check the ledger on its own."""

    chain_id: int
    ledger: str
    code_hash: str = Field(description="keccak256 of the ledger's runtime code with immutables zeroed")
    immutable_ranges: list[tuple[int, int]] = Field(
        description="(start, length) of each immutable in the code"
    )
    block_number: int = Field(description="Block of the deployment: events are read from here")
    governance: str
    rpc_url: str | None = Field(description="The RPC endpoint this server uses, without credentials")


class StoredOriginal(BaseModel):
    """The exact bytes of the file a notice was anchored from, and the JSON pointer to it there."""

    digest: str
    source: str
    pointer: str


class ProcessHit(BaseModel):
    ocid: str
    buyer: str | None
    title: str | None
    release_ids: list[str]
    stages: list[str]


class SearchResult(BaseModel):
    query: str
    processes: list[ProcessHit]


class OutboxItem(BaseModel):
    digest: str
    ocid: str
    release_id: str
    status: str
    error_name: str | None


class AgencyOutbox(BaseModel):
    agency: str
    items: list[OutboxItem]
    ocids: list[str]


@router.get("/")
def workbench_page() -> Any:
    """The workbench page."""
    index = WORKBENCH_DIR / "index.html"
    if not index.is_file():
        return HTMLResponse(_NOT_BUILT, status_code=503)
    return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})


@router.get(
    "/deployment",
    response_model=DeploymentInfo,
    summary="The deployment the workbench verifies against (public)",
    responses=problem_responses(500, 503),
)
def deployment(backend: BackendDep) -> DeploymentInfo:
    """Chain id, ledger address, the code it must hold, the first block, and a default RPC URL."""
    try:
        facts = deployment_facts(backend)
    except TenderledgerError as error:
        raise ProblemError(problem(503, error.message, advice="deploy the ledger first")) from None
    return DeploymentInfo.model_validate(facts, from_attributes=True)


@router.get(
    "/originals/{digest}",
    response_model=StoredOriginal,
    summary="The stored original of an anchored notice (public)",
    responses=problem_responses(400, 404),
)
def original(digest: str, backend: BackendDep) -> StoredOriginal:
    """The exact bytes kept for ``digest`` and the pointer to the release in them.

    Anyone can check them: the release at the pointer hashes to the digest, which the chain holds.
    """
    wanted = digest_from_hex(digest)
    source = stored_source(backend, wanted)
    if source is None:
        raise ProblemError(problem(404, "the evidence store holds no notice with this digest"))
    data, pointer = source
    return StoredOriginal(digest="0x" + wanted.hex(), source=data.decode("utf-8"), pointer=pointer)


_finder = ProcessFinder()


@router.get("/search", response_model=SearchResult, summary="Processes by ocid, buyer, title or release id")
def search(backend: BackendDep, q: str = "") -> SearchResult:
    """Processes among the stored notices whose ocid, buyer, title or a release id contains ``q``.

    Only a finder: the page verifies each process's notices against the chain.
    """
    hits = _finder.search(backend, q, limit=SEARCH_LIMIT)
    return SearchResult(query=q, processes=[ProcessHit.model_validate(h, from_attributes=True) for h in hits])


@router.get(
    "/agency/outbox",
    response_model=AgencyOutbox,
    summary="The calling agency's outbox: pending, anchored and refused notices",
    responses=problem_responses(401),
)
def agency_outbox(agency: AgencyDep, backend: BackendDep) -> AgencyOutbox:
    """Every notice this agency submitted, oldest first, and the processes they belong to."""
    items = [OutboxItem.model_validate(i, from_attributes=True) for i in agency_submissions(backend, agency)]
    return AgencyOutbox(agency=agency, items=items, ocids=sorted({i.ocid for i in items if i.ocid}))


class Samples(BaseModel):
    """Files offered on the verify page to try (``$TENDERLEDGER_HOME/auditor/``)."""

    files: list[str]


@router.get("/samples", response_model=Samples, summary="Files offered to try on the verify page")
def samples(backend: BackendDep) -> Samples:
    """The names of the files in ``$TENDERLEDGER_HOME/auditor/`` (the demo's auditor copies)."""
    return Samples(files=sample_files(backend))


@router.get("/samples/{name}", summary="One file offered to try", responses=problem_responses(404))
def sample(name: str, backend: BackendDep) -> Response:
    """Its bytes, as they are: the page verifies them like any dropped file."""
    data = sample_bytes(backend, name)
    if data is None:
        raise ProblemError(problem(404, "no such file is offered to try"))
    return Response(data, media_type="application/octet-stream")


def mount_workbench(app: FastAPI) -> None:
    """Serve the built workbench files under ``/ui`` (the page itself is ``GET /``)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=WORKBENCH_DIR, check_dir=False), name="workbench")
