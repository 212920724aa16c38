"""Typed work items and receipts: what the outbox and the store keep reads back exactly."""

from __future__ import annotations

import json

import pytest

from backend.chain import calldata
from backend.core.receipt import AnchorPoint, BatchMembership, Receipt, build_receipt
from backend.core.seal import SealedFields
from backend.core.work import BatchWork, NoticeWork, work_of
from backend.errors import ReceiptFormatError

FIELDS = SealedFields("ocds-abc123-1", "r-1", 1, b"\x11" * 32, b"\x22" * 32, 1_800_000_000)
SEAL = b"\x33" * 65
SIGNER = "0x" + "44" * 20
ANCHOR = AnchorPoint("0x" + "55" * 32, 7, "0x" + "66" * 32, 1_700_000_000, 2)


def test_a_notice_payload_reads_back_as_the_same_work_item() -> None:
    item = NoticeWork(seal=SEAL, signer=SIGNER, agency_id=3, fields=FIELDS)
    payload = json.loads(json.dumps(item.to_payload()))
    assert work_of("notice", payload) == item
    assert item.members == (FIELDS.digest.hex(),) and item.size == 1


def test_a_batch_payload_reads_back_and_a_wrong_size_is_refused() -> None:
    item = BatchWork(
        seal=SEAL, signer=SIGNER, agency_id=3, root=b"\x77" * 32, label="l", leaves=(b"\x01" * 32,)
    )
    payload = json.loads(json.dumps(item.to_payload()))
    assert work_of("batch", payload) == item
    with pytest.raises(ValueError, match="lists 1 leaves"):
        work_of("batch", {**payload, "size": 2})
    with pytest.raises(ValueError, match="unknown outbox work kind"):
        work_of("parcel", payload)


def test_calldata_of_work_items_is_that_of_the_ledger_calls() -> None:
    one = NoticeWork(seal=SEAL, signer=SIGNER, agency_id=1, fields=FIELDS)
    assert calldata.anchor_call([one]) == calldata.anchor_notice_data(FIELDS, SEAL)
    assert calldata.anchor_call([one, one]) == calldata.anchor_notices_data([(FIELDS, SEAL)] * 2)
    batch = BatchWork(
        seal=SEAL, signer=SIGNER, agency_id=1, root=b"\x77" * 32, label="l", leaves=(b"\x01" * 32,)
    )
    assert calldata.anchor_call([batch]) == calldata.anchor_batch_data(batch.root, 1, "l", SEAL)
    with pytest.raises(ValueError, match="separate transactions"):
        calldata.anchor_call([one, batch])


@pytest.mark.parametrize("in_batch", [False, True])
def test_a_receipt_survives_its_json_form(in_batch: bool) -> None:
    batch = BatchMembership(b"\x88" * 32, 4, "label", 1, {"format": "x", "path": []}) if in_batch else None
    receipt = build_receipt(
        chain_id=31337,
        ledger=SIGNER,
        fields=FIELDS,
        seal=SEAL,
        signer=SIGNER,
        agency=1,
        agency_name="Ministry",
        anchor=ANCHOR,
        batch=batch,
    )
    document = json.loads(json.dumps(receipt.to_json()))
    assert Receipt.from_json(document) == receipt
    assert document["seal"]["covers"] == ("batch" if in_batch else "notice")


def test_a_document_of_another_format_is_not_a_receipt() -> None:
    receipt = build_receipt(
        chain_id=1,
        ledger=SIGNER,
        fields=FIELDS,
        seal=SEAL,
        signer=SIGNER,
        agency=1,
        agency_name=None,
        anchor=ANCHOR,
    )
    with pytest.raises(ReceiptFormatError, match="unknown receipt format"):
        Receipt.from_json({**receipt.to_json(), "format": "tenderledger-receipt/1"})
    broken = receipt.to_json()
    del broken["anchor"]
    with pytest.raises(ReceiptFormatError, match="bad field"):
        Receipt.from_json(broken)
