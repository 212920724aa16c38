"""Verifying notices against the chain, in bulk and streaming.

Subjects arrive as an iterable and are verified a chunk at a time, so that verifying
an archive of a hundred thousand notices holds only one chunk of parsed releases in
memory. For each chunk the chain is asked once for the records under the notices'
keys (``recordsByKey``) and once for the NoticeAnchored events of their processes
(which carry the seals, say who opened each process, and list the later notices).

Batch members are found in the evidence store's batch manifests, and count only
through their root: a manifest is believed when it re-hashes to a root on chain, and
the root's BatchAnchored event gives its position. Every anchor of an (ocid, release
id), single or batch member, is handed to ``judge``, which lets the first one win.
Without a store, batch members cannot be found and verify ``not_anchored``.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import islice
from typing import Any

from backend.core.jsontext import parse_json
from backend.core.ocid import normalize_ocid_prefix, ocid_prefix
from backend.core.pointer import resolve_pointer
from backend.core.receipt import hex32
from backend.core.records import AnchoredEvent, LedgerBatch, SealKeyTenure
from backend.core.seal import ocid_hash, sealed_fields
from backend.core.stages import Stage
from backend.core.verdict import (
    Anchor,
    BatchEvidence,
    LaterNotice,
    NoticeFacts,
    ProcessOwner,
    SealEvidence,
    SingleAnchor,
    Verdict,
    authoritative,
    judge,
)
from backend.service.bulk import paused_gc
from backend.service.context import Backend
from backend.service.intake import Intake, read_bytes
from backend.store import EvidenceStore
from backend.store.manifests import ManifestMember, ManifestStore, manifest_matches

CHUNK = 512


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


def subjects_of_bytes(data: bytes, *, name: str, is_json: bool, intake: Intake) -> list[Subject]:
    """What verification judges in one file's bytes: its notices, or, for any other file, an
    evidence document looked up by its digest. Problems of the file are recorded on ``intake``."""
    if not is_json:
        return [document_subject(data, name=name)]
    part = Intake()
    read_bytes(data, name=name, ocid=None, intake=part, keep_bytes=False, is_json=True)
    intake.problems.extend(part.problems)
    return subjects_of(part)


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


Position3 = tuple[int, int, int]


@dataclass(frozen=True)
class _BatchRoot:
    """A batch root as the chain states it, and whether this store's manifest hashes to it."""

    record: LedgerBatch | None
    size: int
    label: str
    seal: bytes
    log_index: int
    tx_hash: str | None
    manifest_ok: bool


class VerifyService:
    def __init__(self, backend: Backend, *, store: EvidenceStore | None = None) -> None:
        self.backend = backend
        # The ledger's read side: over HTTP it needs no web3, so verifying starts at once.
        self.ledger = backend.views
        self.store = store
        self.manifests = ManifestStore(store) if store is not None else None
        self._tenures: dict[str, SealKeyTenure] | None = None
        self._agency_names: dict[int, str] | None = None
        self._reservations: dict[str, tuple[int, tuple[int, int]]] | None = None
        self._roots: dict[bytes, _BatchRoot] = {}

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

    def unseen_batch_roots(self) -> list[bytes]:
        """Batch roots on chain whose manifest this evidence store does not hold (all, without one).

        Anchors inside them cannot be seen: a verdict is then "first anchor" only among the
        anchors that can be, and the auditor should be told so.
        """
        on_chain = [e.root for e in self.ledger.all_batch_events()]
        known = set(self.manifests.roots()) if self.manifests is not None else set()
        return [root for root in on_chain if root not in known]

    # ---------------------------------------------------------------- one chunk

    def _verify_chunk(self, chunk: Sequence[Subject]) -> list[Verdict]:
        facts_list, notes = self._resolve_documents(chunk)
        keys = [f.key for f in facts_list]
        records = self.ledger.records_by_key(keys)
        ocid_hashes = sorted({ocid_hash(f.ocid) for f in facts_list if f.ocid})
        process_events = self.ledger.notice_events_for_processes(ocid_hashes)
        events_by_key: dict[bytes, list[AnchoredEvent]] = defaultdict(list)
        events_by_process: dict[bytes, list[AnchoredEvent]] = defaultdict(list)
        for event in process_events:
            events_by_key[event.key].append(event)
            events_by_process[event.ocid_hash].append(event)
        members_by_key: dict[bytes, list[ManifestMember]] = defaultdict(list)
        members_by_ocid: dict[str, list[ManifestMember]] = defaultdict(list)
        unproven: dict[bytes, set[bytes]] = defaultdict(set)
        if self.manifests is not None:
            for member in self.manifests.members_by_ocid({f.ocid for f in facts_list if f.ocid}):
                root = self._root(member.root)
                if root.record is not None and root.manifest_ok:
                    members_by_key[member.key].append(member)
                    members_by_ocid[member.ocid].append(member)
                elif root.record is not None:
                    unproven[member.key].add(member.root)
        owners = {
            ocid: self._owner(ocid, events_by_process.get(ocid_hash(ocid), []), members_by_ocid.get(ocid, []))
            for ocid in {f.ocid for f in facts_list if f.ocid}
        }
        verdicts = []
        for facts, record, extra in zip(facts_list, records, notes, strict=True):
            extra += [
                f"ignored the evidence store's manifest of batch 0x{root.hex()}: "
                "it does not hash to the root on chain"
                for root in sorted(unproven.get(facts.key, ()))
            ]
            anchors: list[Anchor] = []
            if record is not None:
                anchored = [e for e in events_by_key.get(facts.key, []) if e.digest == record.digest]
                anchors.append(SingleAnchor(record, self._evidence(anchored[0] if anchored else None)))
            anchors.extend(self._member_anchor(m) for m in members_by_key.get(facts.key, []))
            first = authoritative(anchors, owners.get(facts.ocid))
            later = self._later(
                events_by_process.get(ocid_hash(facts.ocid), []) if facts.ocid else [],
                members_by_ocid.get(facts.ocid, []),
                after=first.position if first is not None else None,
            )
            original = (
                self._original(first.digest) if first is not None and first.digest != facts.digest else None
            )
            verdicts.append(
                judge(
                    facts,
                    chain_id=self.chain_id,
                    ledger=self.ledger.address,
                    anchors=anchors,
                    tenures=self._tenures_for({a.record.signer for a in anchors if a.record is not None}),
                    owner=owners.get(facts.ocid),
                    later=later,
                    original=original,
                    agency_names=self._names(),
                    notes=extra,
                )
            )
        return verdicts

    def _resolve_documents(self, chunk: Sequence[Subject]) -> tuple[list[NoticeFacts], list[list[str]]]:
        """Each subject's facts; a document known only by its digest takes its first anchor's ocid."""
        digests = [s.facts.digest for s in chunk if s.by_digest]
        found: dict[bytes, list[tuple[Position3, str, str, str]]] = defaultdict(list)
        if digests:
            for event in self.ledger.notice_events_for_digests(digests):
                found[event.digest].append(
                    (
                        (event.block_number, event.log_index, -1),
                        event.fields.ocid,
                        event.fields.release_id,
                        self._agency_label(event.agency),
                    )
                )
            if self.manifests is not None:
                for member in self.manifests.members_by_digest(digests):
                    root = self._root(member.root)
                    if root.record is not None and root.manifest_ok:
                        found[member.digest].append(
                            (
                                (root.record.block_number, root.log_index, member.leaf_index),
                                member.ocid,
                                member.release_id,
                                self._agency_label(root.record.agency),
                            )
                        )
        facts_list: list[NoticeFacts] = []
        notes: list[list[str]] = []
        for subject in chunk:
            facts, extra = subject.facts, []
            anchored = sorted(found.get(facts.digest, [])) if subject.by_digest else []
            if anchored:
                _, ocid, release_id, _agency = anchored[0]
                facts = replace(facts, ocid=ocid, release_id=release_id)
                extra = [
                    f"the same file is also anchored for process {other_ocid} by {agency}"
                    for _, other_ocid, _, agency in anchored[1:]
                    if other_ocid != ocid
                ]
            facts_list.append(facts)
            notes.append(extra)
        return facts_list, notes

    @staticmethod
    def _evidence(event: AnchoredEvent | None) -> SealEvidence | None:
        if event is None:
            return None
        return SealEvidence(
            fields=event.fields, seal=event.seal, tx_hash=hex32(event.tx_hash), log_index=event.log_index
        )

    def _member_anchor(self, member: ManifestMember) -> BatchEvidence:
        root = self._root(member.root)
        return BatchEvidence(
            root=member.root,
            size=root.size,
            label=root.label,
            seal=root.seal,
            proof_ok=root.manifest_ok,
            record=root.record,
            digest=member.digest,
            leaf_index=member.leaf_index,
            log_index=root.log_index,
            tx_hash=root.tx_hash,
        )

    def _root(self, root: bytes) -> _BatchRoot:
        """A batch root's chain record and event, and whether the kept manifest hashes to it."""
        if root not in self._roots:
            record = self.ledger.batch_record(root)
            events = self.ledger.batch_events(root) if record is not None else []
            event = events[0] if events else None
            manifest_ok = False
            if event is not None and self.manifests is not None:
                members = self.manifests.manifest(root)
                manifest_ok = len(members) == event.size and manifest_matches(root, members)
            self._roots[root] = _BatchRoot(
                record=record if event is not None else None,
                size=event.size if event else 0,
                label=event.label if event else "",
                seal=event.seal if event else b"",
                log_index=event.log_index if event else 0,
                tx_hash=hex32(event.tx_hash) if event else None,
                manifest_ok=manifest_ok,
            )
        return self._roots[root]

    def _owner(
        self, ocid: str, events: Sequence[AnchoredEvent], members: Sequence[ManifestMember]
    ) -> ProcessOwner | None:
        """Who the process belongs to: its reserved prefix's agency, else its first anchor's.

        An anchor made under a prefix reserved for another agency, after the reservation,
        cannot open the process (the contract refuses such single notices; batch members
        are caught here).
        """
        candidates: list[tuple[Position3, int, str]] = [
            (
                (e.block_number, e.log_index, -1),
                e.agency,
                f"it opened the process in block {e.block_number}, transaction {hex32(e.tx_hash)}",
            )
            for e in events
        ]
        for member in members:
            root = self._root(member.root)
            if root.record is not None and root.manifest_ok:
                candidates.append(
                    (
                        (root.record.block_number, root.log_index, member.leaf_index),
                        root.record.agency,
                        f"it opened the process in block {root.record.block_number}, "
                        f"leaf {member.leaf_index} of batch 0x{member.root.hex()}",
                    )
                )
        candidates.sort()
        prefix = ocid_prefix(ocid)
        reserved = self._reserved().get(prefix) if prefix else None
        for position, agency, reason in candidates:
            if reserved is None:
                return ProcessOwner(agency, reason)
            owner, reserved_at = reserved
            if agency == owner or position[:2] < reserved_at:
                return ProcessOwner(agency, reason)
        if reserved is not None:
            owner, (block, _log) = reserved
            return ProcessOwner(owner, f"ocid prefix {prefix!r} is reserved for it since block {block}")
        return None

    def _later(
        self,
        events: Sequence[AnchoredEvent],
        members: Sequence[ManifestMember],
        *,
        after: Position3 | None,
    ) -> list[LaterNotice]:
        if after is None:
            return []
        found: list[tuple[Position3, LaterNotice]] = []
        for e in events:
            found.append(
                (
                    (e.block_number, e.log_index, -1),
                    LaterNotice(
                        release_id=e.fields.release_id,
                        stage=Stage(e.fields.stage),
                        previous=e.fields.previous,
                        block_number=e.block_number,
                        log_index=e.log_index,
                        agency=e.agency,
                    ),
                )
            )
        for m in members:
            root = self._root(m.root)
            if root.record is not None and root.manifest_ok:
                found.append(
                    (
                        (root.record.block_number, root.log_index, m.leaf_index),
                        LaterNotice(
                            release_id=m.release_id,
                            stage=Stage(m.stage),
                            previous=bytes(32),
                            block_number=root.record.block_number,
                            log_index=root.log_index,
                            agency=root.record.agency,
                        ),
                    )
                )
        return [n for position, n in sorted(found, key=lambda f: f[0]) if position > after]

    def _tenures_for(self, signers: set[str]) -> dict[str, SealKeyTenure]:
        """Key tenures from the key events; read again when a signer is not known yet."""
        if self._tenures is None or not signers <= self._tenures.keys():
            self._tenures = self.ledger.seal_key_tenures()
        return self._tenures

    def _reserved(self) -> dict[str, tuple[int, tuple[int, int]]]:
        if self._reservations is None:
            self._reservations = {}
            for r in self.ledger.prefix_reservations():
                self._reservations.setdefault(
                    normalize_ocid_prefix(r.prefix), (r.agency, (r.block_number, r.log_index))
                )
        return self._reservations

    def _names(self) -> dict[int, str]:
        if self._agency_names is None:
            self._agency_names = self.ledger.agency_names()
        return self._agency_names

    def _agency_label(self, agency: int) -> str:
        name = self._names().get(agency)
        return f"agency {agency} ({name!r})" if name else f"agency {agency}"

    # ---------------------------------------------------------------- evidence store (optional)

    def _original(self, digest: bytes) -> Any | None:
        """The stored release anchored with ``digest``, rebuilt from the exact bytes kept."""
        if self.store is None:
            return None
        source = self.store.notice_source(digest)
        if source is None:
            return None
        data, pointer = source
        return resolve_pointer(parse_json(data), pointer)
