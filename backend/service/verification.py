"""Verifying notices against the chain, in bulk and streaming.

Subjects arrive as an iterable and are verified a chunk at a time, so that verifying
an archive of a hundred thousand notices holds only one chunk of parsed releases in
memory. For each chunk the chain is asked once for the records under the notices'
keys (``recordsByKey``), once for the NoticeAnchored events that carry their seals,
and once for the later notices of their processes. The evidence store, when there is
one, only supplies the stored original of a tampered notice (for the field diff) and
the inclusion proofs of batch members, which are checked against the root on chain:
it never decides a verdict.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from backend.chain.ledger import AnchoredEvent
from backend.chain.reader import LedgerReader
from backend.core import merkle
from backend.core.jsontext import parse_json
from backend.core.receipt import hex32, unhex
from backend.core.records import LedgerBatch, LedgerRecord, SealKeyWindow
from backend.core.stages import Stage
from backend.core.verdict import BatchEvidence, LaterNotice, NoticeFacts, SealEvidence, Verdict, judge
from backend.errors import ProofFormatError
from backend.service.anchoring import sealed_fields
from backend.service.bulk import paused_gc
from backend.service.context import Backend
from backend.service.intake import Intake
from backend.store import EvidenceStore

CHUNK = 512
KEY_POSITION, PROCESS_POSITION, DIGEST_POSITION = 1, 2, 3


@dataclass(frozen=True)
class Subject:
    """One notice to verify, as read from the auditor's file."""

    facts: NoticeFacts
    by_digest: bool  # documents verified without knowing their ocid are looked up by digest


def subjects_of(intake: Intake) -> list[Subject]:
    return list(iter_subjects(intake))


def iter_subjects(intake: Intake) -> Iterator[Subject]:
    for item in intake.notices:
        notice = item.notice
        fields = sealed_fields(notice)
        facts = NoticeFacts(
            file=notice.source,
            ocid=notice.ocid,
            release_id=notice.release_id,
            stage=notice.stage,
            digest=notice.digest,
            previous=fields.previous,
            deadline=fields.deadline,
            release=notice.release,
        )
        yield Subject(facts, by_digest=notice.stage is Stage.DOCUMENT and not notice.ocid)


def document_subject(data: bytes, *, name: str) -> Subject:
    """An evidence document verified by digest alone (its ocid comes from the chain)."""
    digest = hashlib.sha256(data).digest()
    facts = NoticeFacts(
        file=name,
        ocid="",
        release_id="sha256:" + digest.hex(),
        stage=Stage.DOCUMENT,
        digest=digest,
        previous=bytes(32),
        deadline=0,
    )
    return Subject(facts, by_digest=True)


class VerifyService:
    def __init__(self, backend: Backend, *, store: EvidenceStore | None = None) -> None:
        self.backend = backend
        self.ledger = backend.ledger
        self.reader = LedgerReader(self.ledger)
        self.store = store
        self._windows: dict[str, SealKeyWindow] = {}
        self._agency_names: dict[int, str] | None = None
        self._batches: dict[bytes, LedgerBatch | None] = {}

    @property
    def chain_id(self) -> int:
        return self.ledger.deployment.chain_id

    def verify(self, subjects: Iterable[Subject]) -> Iterator[Verdict]:
        """One verdict per subject, in order, streaming chunk by chunk."""
        iterator = iter(subjects)
        while True:
            # Reading the chunk builds thousands of acyclic objects too: no collector there either.
            with paused_gc():
                chunk = list(islice(iterator, CHUNK))
                if not chunk:
                    return
                verdicts = self._verify_chunk(chunk)
            yield from verdicts

    # ---------------------------------------------------------------- one chunk

    def _verify_chunk(self, chunk: Sequence[Subject]) -> list[Verdict]:
        records = self._records(chunk)
        events = self._events(chunk, records)
        later = self._later_notices({e.ocid_hash for e in events if e is not None})
        stored = self._stored_receipts([s for s, r in zip(chunk, records, strict=True) if r is None])
        verdicts = []
        for subject, record, event in zip(chunk, records, events, strict=True):
            facts = subject.facts
            if subject.by_digest and event is not None:
                facts = NoticeFacts(
                    file=facts.file,
                    ocid=event.fields.ocid,
                    release_id=event.fields.release_id,
                    stage=facts.stage,
                    digest=facts.digest,
                    previous=event.fields.previous,
                    deadline=event.fields.deadline,
                    release=facts.release,
                )
            evidence = None
            after: list[LaterNotice] = []
            if event is not None:
                evidence = SealEvidence(
                    fields=event.fields,
                    seal=event.seal,
                    tx_hash=hex32(event.tx_hash),
                    log_index=event.log_index,
                )
                position = (event.block_number, event.log_index)
                after = [n for pos, n in later.get(event.ocid_hash, []) if pos > position]
            window = self._window(record.signer) if record is not None else None
            original = (
                self._original(record.digest)
                if record is not None and record.digest != facts.digest
                else None
            )
            batch = self._batch_evidence(facts, stored.get(facts.digest)) if record is None else None
            agency = (
                record.agency
                if record is not None
                else (batch.record.agency if batch and batch.record else None)
            )
            verdicts.append(
                judge(
                    facts,
                    chain_id=self.chain_id,
                    ledger=self.ledger.address,
                    record=record,
                    evidence=evidence,
                    key_window=window,
                    later=after,
                    batch=batch,
                    original=original,
                    agency_name=self._agency_name(agency) if agency else None,
                )
            )
        return verdicts

    def _records(self, chunk: Sequence[Subject]) -> list[LedgerRecord | None]:
        by_key = [s for s in chunk if not s.by_digest]
        by_digest = [s for s in chunk if s.by_digest]
        key_records = iter(self.reader.records_by_key([s.facts.key for s in by_key]))
        digest_records = iter(self.reader.records_by_digest([s.facts.digest for s in by_digest]))
        return [next(digest_records) if s.by_digest else next(key_records) for s in chunk]

    def _events(
        self, chunk: Sequence[Subject], records: Sequence[LedgerRecord | None]
    ) -> list[AnchoredEvent | None]:
        """The NoticeAnchored event of each anchored subject (by key, or by digest for documents)."""
        found = [(s, r) for s, r in zip(chunk, records, strict=True) if r is not None]
        keys = list(dict.fromkeys(s.facts.key for s, _ in found if not s.by_digest))
        digests = list(dict.fromkeys(r.digest for s, r in found if s.by_digest))
        by_key = {e.key: e for e in self.reader.notice_events(position=KEY_POSITION, values=keys)}
        by_digest = {e.digest: e for e in self.reader.notice_events(position=DIGEST_POSITION, values=digests)}
        events: list[AnchoredEvent | None] = []
        for subject, record in zip(chunk, records, strict=True):
            if record is None:
                events.append(None)
            elif subject.by_digest:
                events.append(by_digest.get(record.digest))
            else:
                events.append(by_key.get(subject.facts.key))
        return events

    def _later_notices(
        self, ocid_hashes: set[bytes]
    ) -> dict[bytes, list[tuple[tuple[int, int], LaterNotice]]]:
        grouped: dict[bytes, list[tuple[tuple[int, int], LaterNotice]]] = defaultdict(list)
        for event in self.reader.notice_events(position=PROCESS_POSITION, values=sorted(ocid_hashes)):
            grouped[event.ocid_hash].append(
                (
                    (event.block_number, event.log_index),
                    LaterNotice(
                        release_id=event.fields.release_id,
                        stage=Stage(event.fields.stage),
                        previous=event.fields.previous,
                        block_number=event.block_number,
                        log_index=event.log_index,
                    ),
                )
            )
        return grouped

    def _window(self, signer: str) -> SealKeyWindow:
        if signer not in self._windows:
            self._windows[signer] = self.ledger.seal_key(signer)
        return self._windows[signer]

    def _agency_name(self, agency: int) -> str | None:
        if self._agency_names is None:
            self._agency_names = self.ledger.agency_names()
        return self._agency_names.get(agency)

    # ---------------------------------------------------------------- evidence store (optional)

    def _original(self, digest: bytes) -> Any | None:
        """The stored release anchored with ``digest``, rebuilt from the exact bytes kept."""
        if self.store is None:
            return None
        source = self.store.notice_source(digest)
        if source is None:
            return None
        data, pointer = source
        value: Any = parse_json(data)
        for token in [t for t in pointer.split("/") if t] if pointer else []:
            token = token.replace("~1", "/").replace("~0", "~")
            value = value[int(token)] if isinstance(value, list) else value[token]
        return value

    def _stored_receipts(self, subjects: Sequence[Subject]) -> dict[bytes, dict[str, Any]]:
        """Stored receipts of notices the ledger holds no record of (batch members), in one query."""
        if self.store is None or not subjects:
            return {}
        return self.store.receipts([s.facts.digest for s in subjects])

    def _batch_evidence(self, facts: NoticeFacts, receipt: dict[str, Any] | None) -> BatchEvidence | None:
        """A stored batch receipt for this digest, its proof checked here and its root on chain."""
        if receipt is None or not receipt.get("batch"):
            return None
        batch = receipt["batch"]
        root = unhex(batch["root"])
        try:
            proof = merkle.InclusionProof.from_json(batch["proof"])
        except ProofFormatError:
            proof_ok = False
        else:
            proof_ok = (
                proof.leaf_index == int(batch["index"])
                and proof.tree_size == int(batch["size"])
                and merkle.verify_inclusion(facts.digest, proof, root)
            )
        if root not in self._batches:
            self._batches[root] = self.ledger.batch_record(root)
        record = self._batches[root]
        return BatchEvidence(
            root=root,
            size=int(batch["size"]),
            label=batch["label"],
            seal=unhex(receipt["seal"]["signature"]),
            proof_ok=proof_ok,
            record=record,
            key_window=self._window(record.signer) if record else None,
            tx_hash=receipt["anchor"]["tx_hash"],
        )
