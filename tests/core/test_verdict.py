"""The verdict function itself: each step of ``judge``, with real seals and no chain."""

from __future__ import annotations

from typing import Any

import pytest

from backend.core.records import LedgerBatch, LedgerRecord, SealKeyTenure, tenures_from_events
from backend.core.seal import SealedFields, address_of_private_key, previous_link, seal_batch, seal_notice
from backend.core.stages import Stage
from backend.core.verdict import (
    BatchEvidence,
    LaterNotice,
    NoticeFacts,
    ProcessOwner,
    SealEvidence,
    SingleAnchor,
    Status,
    judge,
)

CHAIN_ID = 31337
LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
KEY_A = bytes.fromhex("11" * 32)
KEY_B = bytes.fromhex("22" * 32)
SIGNER_A = address_of_private_key(KEY_A)
SIGNER_B = address_of_private_key(KEY_B)
OCID = "ocds-213czf-000-00001"
NAMES = {1: "Agency A", 2: "Agency B"}
TENURES = {
    SIGNER_A: SealKeyTenure(agency=1, added=(2, 0)),
    SIGNER_B: SealKeyTenure(agency=2, added=(3, 0)),
}


def facts(digest: bytes, *, release_id: str = "r1", stage: Stage = Stage.TENDER) -> NoticeFacts:
    return NoticeFacts(
        file="notice.json",
        ocid=OCID,
        release_id=release_id,
        stage=stage,
        digest=digest,
        previous=bytes(32),
        deadline=0,
        release={"id": release_id, "value": digest.hex()},
    )


def single(
    digest: bytes, *, block: int, log: int = 0, key: bytes = KEY_A, agency: int = 1, release_id: str = "r1"
) -> SingleAnchor:
    fields = SealedFields(OCID, release_id, int(Stage.TENDER), digest, bytes(32), 0)
    seal = seal_notice(key, fields, chain_id=CHAIN_ID, contract=LEDGER)
    record = LedgerRecord(
        digest, address_of_private_key(key), agency, block, 1_700_000_000 + block, Stage.TENDER
    )
    return SingleAnchor(record, SealEvidence(fields, seal, "0x" + "ab" * 32, log))


def member(
    digest: bytes, *, block: int, log: int = 0, leaf: int = 0, key: bytes = KEY_A, agency: int = 1
) -> BatchEvidence:
    root = bytes([block]) * 32
    seal = seal_batch(key, root, 4, "archive", chain_id=CHAIN_ID, contract=LEDGER)
    record = LedgerBatch(root, address_of_private_key(key), agency, block, 1_700_000_000 + block)
    return BatchEvidence(
        root=root,
        size=4,
        label="archive",
        seal=seal,
        proof_ok=True,
        record=record,
        digest=digest,
        leaf_index=leaf,
        log_index=log,
        tx_hash="0x" + "cd" * 32,
    )


def verdict(notice: NoticeFacts, anchors: list[Any], **kwargs: Any) -> Any:
    kwargs.setdefault("tenures", TENURES)
    return judge(notice, chain_id=CHAIN_ID, ledger=LEDGER, anchors=anchors, agency_names=NAMES, **kwargs)


GENUINE, ALTERED = b"\x01" * 32, b"\x02" * 32


def test_nothing_on_chain_is_not_anchored() -> None:
    assert verdict(facts(GENUINE), []).status is Status.NOT_ANCHORED


def test_exact_single_notice_is_anchored_with_who_and_where() -> None:
    v = verdict(facts(GENUINE), [single(GENUINE, block=5, log=3)])
    assert v.status is Status.ANCHORED
    assert (v.agency, v.agency_name, v.signer, v.block_number, v.log_index) == (1, "Agency A", SIGNER_A, 5, 3)


@pytest.mark.parametrize("order", [0, 1])
def test_first_anchor_wins_whatever_path_and_order(order: int) -> None:
    anchors = [member(GENUINE, block=5, leaf=2), single(ALTERED, block=9, key=KEY_A)]
    anchors = anchors if order == 0 else anchors[::-1]
    genuine = verdict(facts(GENUINE), anchors)
    assert genuine.status is Status.ANCHORED and genuine.batch_root is not None
    copy = verdict(facts(ALTERED), anchors, original={"id": "r1", "value": GENUINE.hex()})
    assert copy.status is Status.TAMPERED
    assert copy.block_number == 5, "the verdict names the first anchor"
    assert copy.changed == ["/value"]
    assert any("anchored later" in n and "block 9" in n for n in copy.notes)


def test_within_one_block_the_log_index_decides_and_within_a_batch_the_leaf() -> None:
    anchors = [single(ALTERED, block=7, log=4), member(GENUINE, block=7, log=1, leaf=900)]
    assert verdict(facts(GENUINE), anchors).status is Status.ANCHORED
    assert verdict(facts(ALTERED), anchors).status is Status.TAMPERED
    twins = [member(ALTERED, block=7, leaf=3), member(GENUINE, block=7, leaf=1)]
    assert verdict(facts(GENUINE), twins).status is Status.ANCHORED


def test_a_seal_that_recovers_to_another_key_is_invalid_seal() -> None:
    forged = single(GENUINE, block=5)
    record = LedgerRecord(GENUINE, SIGNER_B, 2, 5, 1, Stage.TENDER)
    v = verdict(facts(GENUINE), [SingleAnchor(record, forged.evidence)])
    assert v.status is Status.INVALID_SEAL
    assert "not to the recorded signer" in v.notes[0]


def test_a_seal_over_other_fields_is_invalid_seal() -> None:
    other = single(ALTERED, block=5)
    assert other.evidence is not None
    record = LedgerRecord(GENUINE, SIGNER_A, 1, 5, 1, Stage.TENDER)
    v = verdict(facts(GENUINE), [SingleAnchor(record, other.evidence)])
    assert v.status is Status.INVALID_SEAL


@pytest.mark.parametrize(("anchor_log", "expected"), [(1, Status.ANCHORED), (3, Status.INVALID_SEAL)])
def test_key_tenure_is_judged_by_block_and_log_index(anchor_log: int, expected: Status) -> None:
    # The key is revoked in block 8 at log 2: a notice of block 8 before it stays valid.
    tenures = tenures_from_events([(SIGNER_A, 1, True, (2, 0)), (SIGNER_A, 1, False, (8, 2))])
    v = verdict(facts(GENUINE), [single(GENUINE, block=8, log=anchor_log)], tenures=tenures)
    assert v.status is expected


def test_a_key_of_another_agency_is_invalid_seal() -> None:
    v = verdict(facts(GENUINE), [single(GENUINE, block=5, key=KEY_B, agency=1)])
    assert v.status is Status.INVALID_SEAL and "not a seal key of agency 1" in v.notes[0]


def test_a_notice_in_a_process_of_another_agency_is_a_conflict() -> None:
    owner = ProcessOwner(1, "it opened the process in block 3")
    v = verdict(facts(GENUINE), [member(GENUINE, block=6, key=KEY_B, agency=2)], owner=owner)
    assert v.status is Status.CONFLICT and not v.status.passes
    assert "belongs to agency 1 ('Agency A')" in v.notes[0]


def test_a_foreign_anchor_never_beats_the_owners_later_one() -> None:
    owner = ProcessOwner(1, "ocid prefix reserved")
    anchors = [member(ALTERED, block=4, key=KEY_B, agency=2), single(GENUINE, block=6)]
    genuine = verdict(facts(GENUINE), anchors, owner=owner)
    assert genuine.status is Status.ANCHORED and genuine.agency == 1
    assert any("ignored an anchor" in n for n in genuine.notes)
    assert verdict(facts(ALTERED), anchors, owner=owner).status is Status.TAMPERED


def test_a_later_amendment_supersedes_and_a_named_link_always_does() -> None:
    later = [
        LaterNotice("amend", Stage.TENDER_AMENDMENT, bytes(32), 9, 0),
        LaterNotice("award-update", Stage.AWARD_UPDATE, previous_link("r1"), 10, 0),
    ]
    v = verdict(facts(GENUINE), [single(GENUINE, block=5)], later=later)
    assert v.status is Status.SUPERSEDED and v.superseded_by == ["amend", "award-update"]


def test_a_batch_member_whose_manifest_is_unproven_is_invalid_and_a_missing_root_too() -> None:
    bad = member(GENUINE, block=5)
    unproven = BatchEvidence(**{**{f: getattr(bad, f) for f in bad.__slots__}, "proof_ok": False})
    assert verdict(facts(GENUINE), [unproven]).status is Status.INVALID_SEAL
    gone = BatchEvidence(**{**{f: getattr(bad, f) for f in bad.__slots__}, "record": None})
    assert verdict(facts(GENUINE), [gone]).status is Status.INVALID_SEAL


def test_a_later_notice_of_another_agency_never_supersedes_the_owners() -> None:
    owner = ProcessOwner(1, "it opened the process in block 3")
    foreign_cancellation = [LaterNotice("cancel", Stage.TENDER_CANCELLATION, bytes(32), 9, 0, agency=2)]
    v = verdict(facts(GENUINE), [single(GENUINE, block=5)], owner=owner, later=foreign_cancellation)
    assert v.status is Status.ANCHORED and v.superseded_by == []
    own_cancellation = [LaterNotice("cancel", Stage.TENDER_CANCELLATION, bytes(32), 9, 0, agency=1)]
    v = verdict(facts(GENUINE), [single(GENUINE, block=5)], owner=owner, later=own_cancellation)
    assert v.status is Status.SUPERSEDED
