"""What the browser workbench asks the server for: facts it then checks against the chain itself.

The page never takes a verdict from here. It takes the deployment (whose chain id and code hash it
compares with every RPC endpoint), the exact stored bytes of an anchored notice (whose digest it
compares with the chain before showing them), a finder over the stored notices, and, for an agency,
its own outbox rows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from backend.chain.artifacts import load_artifact
from backend.chain.connect import resolve_rpc_url
from backend.chain.deployment import Deployment
from backend.core.jsontext import parse_json
from backend.core.notice import Notice, parse_notices
from backend.core.stages import Stage
from backend.errors import TenderledgerError
from backend.redaction import public_rpc_url
from backend.service.context import Backend
from backend.store import OutboxStatus


@dataclass(frozen=True)
class DeploymentFacts:
    """The deployment as the page needs it to find and check the ledger."""

    chain_id: int
    ledger: str
    code_hash: str
    immutable_ranges: list[tuple[int, int]]
    block_number: int
    governance: str
    rpc_url: str | None


def deployment_facts(backend: Backend) -> DeploymentFacts:
    """The deployment file, the artifact's immutable ranges, and the RPC URL this server uses
    (credentials removed). Raises ConfigurationError when nothing is deployed."""
    settings = backend.settings
    found = Deployment.load(settings.deployment_path)
    try:
        rpc_url = public_rpc_url(resolve_rpc_url(settings))
    except TenderledgerError:
        rpc_url = found.rpc_url
    return DeploymentFacts(
        chain_id=found.chain_id,
        ledger=found.ledger,
        code_hash=found.code_hash,
        immutable_ranges=list(load_artifact().immutable_ranges),
        block_number=found.block_number,
        governance=found.governance,
        rpc_url=rpc_url,
    )


def stored_source(backend: Backend, digest: bytes) -> tuple[bytes, str] | None:
    """The exact bytes of the file the notice with ``digest`` came from, and its JSON pointer."""
    store = backend.existing_store()
    return store.notice_source(digest) if store is not None else None


@dataclass(frozen=True)
class IndexedNotice:
    """One stored notice as the finder knows it."""

    ocid: str
    release_id: str
    stage: str
    buyer: str | None
    title: str | None


@dataclass(frozen=True)
class ProcessMatch:
    ocid: str
    buyer: str | None
    title: str | None
    release_ids: list[str]
    stages: list[str]


class ProcessFinder:
    """Stored notices with their buyer and title, each read once (stored bytes never change)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, IndexedNotice] = {}

    def search(self, backend: Backend, query: str, *, limit: int) -> list[ProcessMatch]:
        """Processes whose ocid, a release id, the buyer or the title contains ``query`` (any case)."""
        needle = query.strip().casefold()
        by_ocid: dict[str, list[IndexedNotice]] = {}
        for entry in self._all(backend):
            by_ocid.setdefault(entry.ocid, []).append(entry)
        matches: list[ProcessMatch] = []
        for ocid, entries in by_ocid.items():
            texts = [ocid, *(e.release_id for e in entries), *(e.buyer or "" for e in entries)]
            texts += [e.title or "" for e in entries]
            if needle and not any(needle in text.casefold() for text in texts):
                continue
            matches.append(
                ProcessMatch(
                    ocid=ocid,
                    buyer=next((e.buyer for e in entries if e.buyer), None),
                    title=next((e.title for e in entries if e.title), None),
                    release_ids=[e.release_id for e in entries],
                    stages=[e.stage for e in entries],
                )
            )
            if len(matches) >= limit:
                break
        return matches

    def _all(self, backend: Backend) -> list[IndexedNotice]:
        store = backend.existing_store()
        if store is None:
            return []
        with self._lock:
            for digest, ocid, release_id, stage in store.notice_rows():
                if digest not in self._entries:
                    self._entries[digest] = _indexed(backend, digest, ocid, release_id, stage)
            return list(self._entries.values())


def _indexed(backend: Backend, digest: str, ocid: str, release_id: str, stage: int) -> IndexedNotice:
    notice = _stored_notice(backend, bytes.fromhex(digest)) if int(stage) != Stage.DOCUMENT else None
    return IndexedNotice(
        ocid=ocid,
        release_id=release_id,
        stage=_stage_tag(stage),
        buyer=notice.buyer if notice else None,
        title=_title(notice) if notice else None,
    )


def _stored_notice(backend: Backend, digest: bytes) -> Notice | None:
    source = stored_source(backend, digest)
    if source is None:
        return None
    try:
        parsed = parse_notices(parse_json(source[0]), source="stored")
    except (TenderledgerError, ValueError):
        return None
    return next((n for n in parsed.notices if n.digest == digest), None)


def _stage_tag(stage: int) -> str:
    try:
        return Stage(int(stage)).tag
    except ValueError:
        return str(stage)


def _title(notice: Notice) -> str | None:
    tender = notice.release.get("tender")
    title = tender.get("title") if isinstance(tender, dict) else None
    return title.strip() if isinstance(title, str) and title.strip() else None


@dataclass(frozen=True)
class AgencySubmission:
    """One notice an agency submitted, as its outbox row says: pending, anchored or refused."""

    digest: str
    ocid: str
    release_id: str
    status: str
    error_name: str | None


_SHOWN_AS = {OutboxStatus.SENT: "pending", OutboxStatus.FINAL: "anchored"}


def agency_submissions(backend: Backend, agency: str) -> list[AgencySubmission]:
    """Every notice ``agency`` submitted, oldest first (its own rows only: tenants stay apart)."""
    rows = backend.store.outbox(statuses=[str(s) for s in OutboxStatus], kind="notice")
    return [
        AgencySubmission(
            digest="0x" + row.subject.removeprefix("0x"),
            ocid=row.ocid,
            release_id=row.release_id,
            status=_SHOWN_AS.get(OutboxStatus(row.status), str(row.status)),
            error_name=row.error_name,
        )
        for row in rows
        if row.agency == agency
    ]


SAMPLES_FOLDER = "auditor"
"""Files in ``$TENDERLEDGER_HOME/auditor/`` are offered on the verify page to try (the demo puts
its auditor's copies there: a tampered award among them)."""

MAX_SAMPLES = 50


def sample_files(backend: Backend) -> list[str]:
    """Names of the files the verify page offers to try, sorted; none when the folder is absent."""
    folder = backend.settings.home / SAMPLES_FOLDER
    if not folder.is_dir():
        return []
    return sorted(path.name for path in folder.iterdir() if path.is_file())[:MAX_SAMPLES]


def sample_bytes(backend: Backend, name: str) -> bytes | None:
    """The bytes of one offered file; None for any name not offered (no path reaches elsewhere)."""
    if name not in sample_files(backend):
        return None
    return (backend.settings.home / SAMPLES_FOLDER / name).read_bytes()
