"""Response bodies of the REST API, as Pydantic models so that the OpenAPI schema describes them.

Receipts, verdicts and timelines keep the exact JSON the command line prints
(``anchor``, ``verify --json``, ``history --json``): the models describe those
documents, they do not reshape them. Receipt models allow extra members, so a
receipt is never trimmed on its way out, whatever its format version adds.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from backend.core import receipt as core_receipt
from backend.core.verdict import Status
from backend.service.anchoring import AnchorResult, Outcome
from backend.service.intake import InputProblem
from backend.service.messages import ADVICE
from backend.service.submission import NoticeState

# ---------------------------------------------------------------- receipts


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ReceiptChain(_Open):
    """The chain and the ledger contract the notice was anchored on."""

    chain_id: int
    ledger: str = Field(description="Checksummed address of the NoticeLedger contract")


class ReceiptNotice(_Open):
    """The sealed notice fields, as the ledger recorded them."""

    ocid: str
    release_id: str
    key: str = Field(description="keccak256 key of (ocid, release id) on the ledger")
    stage: str
    stage_code: int
    digest: str = Field(description="0x-prefixed SHA-256 of the RFC 8785 bytes of the release")
    digest_scheme: str
    previous: str
    deadline: int


class ReceiptSeal(_Open):
    """The agency's EIP-712 seal and who made it."""

    format: str
    signature: str
    signer: str
    agency: int
    agency_name: str | None
    covers: str


class ReceiptAnchor(_Open):
    """The transaction, block and log that anchored the notice."""

    tx_hash: str
    block_number: int
    block_hash: str
    block_timestamp: int
    log_index: int


class ReceiptBatch(_Open):
    """For a batch member: the Merkle root on chain and the inclusion proof (RFC 9162)."""

    root: str
    size: int
    label: str
    index: int
    proof: dict[str, Any]


class ReceiptDocument(_Open):
    """A versioned anchoring receipt (``tenderledger-receipt/1``): all it takes to re-check the anchor."""

    format: str
    chain: ReceiptChain
    notice: ReceiptNotice
    seal: ReceiptSeal
    anchor: ReceiptAnchor
    batch: ReceiptBatch | None


def receipt_model(receipt: core_receipt.Receipt | None) -> ReceiptDocument | None:
    """A receipt as its model, its JSON document kept whole."""
    return None if receipt is None else ReceiptDocument.model_validate(receipt.to_json())


# ---------------------------------------------------------------- anchoring


class Issue(BaseModel):
    """One thing wrong with the input: where (a JSON pointer into the body, or a parameter) and what."""

    location: str
    message: str


class ContractError(BaseModel):
    """A refusal by the ledger contract: its custom error, decoded."""

    name: str = Field(description="The contract's custom error, e.g. DeadlineNotPassed")
    advice: str | None = Field(description="What the error means for the publisher")
    message: str | None = Field(description="The decoded error with its arguments")

    @classmethod
    def of(cls, name: str | None, message: str | None) -> ContractError | None:
        """The decoded error named ``name`` with its advice; None when there is none."""
        if name is None:
            return None
        return cls(name=name, advice=ADVICE.get(name), message=(message or "").split("\n", 1)[0] or None)


class AnchorOutcome(StrEnum):
    """What became of a notice: anchored now, anchored before, refused, invalid, or pending."""

    ANCHORED = Outcome.ANCHORED.value
    ALREADY_ANCHORED = Outcome.ALREADY_ANCHORED.value
    REFUSED = Outcome.REFUSED.value
    INVALID = Outcome.INVALID.value
    PENDING = Outcome.PENDING.value


class NoticeOutcome(BaseModel):
    """What became of one notice of the request body."""

    ocid: str
    release_id: str
    digest: str
    stage: str
    outcome: AnchorOutcome
    pointer: str = Field(
        description="JSON pointer of the release in the request body ('' for the body itself)"
    )
    status_url: str = Field(description="Where to follow this notice: GET /notices/{digest}")
    receipt: ReceiptDocument | None
    contract_error: ContractError | None
    schema_issues: list[Issue]

    @classmethod
    def of(cls, result: AnchorResult, *, status_url: str) -> NoticeOutcome:
        """The outcome of one anchoring result."""
        return cls(
            ocid=result.ocid,
            release_id=result.release_id,
            digest=result.digest,
            stage=result.stage,
            outcome=AnchorOutcome(result.outcome.value),
            pointer=result.source.partition("#")[2],
            status_url=status_url,
            receipt=receipt_model(result.receipt),
            contract_error=ContractError.of(result.error_name, result.error),
            schema_issues=[Issue(location=i.path, message=i.message) for i in result.schema_issues],
        )


def skipped_issues(problems: list[InputProblem]) -> list[Issue]:
    """Skipped entries as issues located by their JSON pointer in the body."""
    return [Issue(location=p.source.partition("#")[2], message=p.message) for p in problems]


class AnchorReport(BaseModel):
    """The notices of a request body, in publication order, with their receipts."""

    receipt: ReceiptDocument | None = Field(
        description="The receipt, when the body held one notice and it is anchored"
    )
    notices: list[NoticeOutcome]
    skipped: list[Issue] = Field(description="Entries of the body that are not notices, and why")


class NoticeStatus(BaseModel):
    """Where one notice stands."""

    digest: str
    status: str = Field(description="pending (in the outbox, not yet on chain), anchored, or refused")
    ocid: str
    release_id: str
    receipt: ReceiptDocument | None
    contract_error: ContractError | None

    @classmethod
    def of(cls, state: NoticeState) -> NoticeStatus:
        """The status of a notice state from the gateway."""
        return cls(
            digest="0x" + state.digest.hex(),
            status=state.status,
            ocid=state.ocid,
            release_id=state.release_id,
            receipt=receipt_model(state.receipt),
            contract_error=ContractError.of(state.error_name, state.error),
        )


# ---------------------------------------------------------------- verification


class VerdictDocument(BaseModel):
    """One ``tenderledger verify --json`` line. Members the command leaves out are left out here too."""

    file: str
    ocid: str
    release_id: str
    digest: str
    status: Status
    stage: str
    agency: str | int | None
    agency_id: int | None
    signer: str | None
    block_number: int | None
    block_timestamp: int | None
    tx_hash: str | None
    log_index: int | None = Field(default=None, description="Position of the anchoring event in its block")
    changed: list[str] | None = Field(
        default=None, description="Tampered notices: JSON pointers of changed fields"
    )
    superseded_by: list[str] | None = None
    batch_root: str | None = None
    notes: list[str] | None = None


class VerifyReport(BaseModel):
    """One verdict per notice, in the order of the input."""

    verdicts: list[VerdictDocument]
    passed: bool = Field(
        description="True when every notice is anchored or superseded (verify's exit status 0)"
    )
    skipped: list[Issue]


# ---------------------------------------------------------------- processes


class TimelineEntry(BaseModel):
    """One notice of a process, as ``tenderledger history --json`` prints it."""

    release_id: str
    stage: str
    digest: str
    status: str = Field(description="anchored, or refused (known from the evidence store)")
    block_number: int | None
    block_timestamp: int | None
    tx_hash: str | None
    agency: str | int | None
    signer: str | None
    deadline: int | None
    error: str | None = None


class RedFlag(BaseModel):
    """A red flag raised on the timeline (docs/red-flags.md lists the codes)."""

    code: str
    severity: str
    release_id: str
    message: str


class ProcessTimeline(BaseModel):
    """A procurement process in ledger order, and the red flags an auditor would look at."""

    ocid: str
    timeline: list[TimelineEntry]
    red_flags: list[RedFlag]


# ---------------------------------------------------------------- health


class ChainCheck(BaseModel):
    """Whether the chain answers, with the chain id and ledger code of the deployment."""

    reachable: bool
    chain_id: int | None
    expected_chain_id: int | None
    ledger: str | None
    problem: str | None


class StoreCheck(BaseModel):
    """Whether the evidence store answers, and the outbox backlog."""

    reachable: bool
    outbox_backlog: int | None = Field(description="Notices committed to the outbox and not yet on chain")
    problem: str | None


class HealthChecks(BaseModel):
    """Every health check."""

    chain: ChainCheck
    store: StoreCheck
    anchoring_worker: bool | None = Field(
        description="Whether the anchoring worker runs (null: not started yet)"
    )


class Health(BaseModel):
    """A healthy service, with every check."""

    status: str = Field(description="ok")
    checks: HealthChecks
