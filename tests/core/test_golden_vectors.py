"""Golden vectors (tests/vectors/seals-and-receipts.json): seals, batch leaves and receipts, byte for byte.

Changing any of these invalidates seals or receipts already handed out: a change here must
come with a new format version, never with an edited vector.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from backend.core.canonical import canonicalize
from backend.core.merkle import MerkleTree, member_leaf
from backend.core.receipt import AnchorPoint, BatchMembership, build_receipt, check_receipt_offline, unhex
from backend.core.seal import (
    SealedFields,
    address_of_private_key,
    batch_struct_hash,
    domain_separator,
    notice_key,
    notice_struct_hash,
    previous_link,
    seal_batch,
    seal_notice,
    typed_data_hash,
)

V: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "vectors" / "seals-and-receipts.json").read_text()
)
KEY = bytes.fromhex(V["private_key"])


def notice_fields() -> SealedFields:
    n = V["notice"]
    return SealedFields(
        n["ocid"], n["release_id"], n["stage"], unhex(n["digest"]), unhex(n["previous"]), n["deadline"]
    )


def test_previous_link_and_notice_key() -> None:
    assert "0x" + previous_link(V["notice"]["previous_release_id"]).hex() == V["notice"]["previous"]
    assert "0x" + notice_key(V["notice"]["ocid"], V["notice"]["release_id"]).hex() == V["notice_key"]


def test_notice_typed_data_hash_and_seal() -> None:
    fields = notice_fields()
    separator = domain_separator(V["chain_id"], V["ledger"])
    assert "0x" + separator.hex() == V["domain_separator"]
    assert "0x" + notice_struct_hash(fields).hex() == V["notice_struct_hash"]
    assert "0x" + typed_data_hash(separator, notice_struct_hash(fields)).hex() == V["notice_typed_data_hash"]
    assert (
        "0x" + seal_notice(KEY, fields, chain_id=V["chain_id"], contract=V["ledger"]).hex()
        == V["notice_seal"]
    )
    assert address_of_private_key(KEY) == V["signer"]


def test_notice_typed_data_hash_agrees_with_eth_account() -> None:
    n = V["notice"]
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Notice": [
                {"name": "ocid", "type": "string"},
                {"name": "releaseId", "type": "string"},
                {"name": "stage", "type": "uint8"},
                {"name": "digest", "type": "bytes32"},
                {"name": "previous", "type": "bytes32"},
                {"name": "deadline", "type": "uint64"},
            ],
        },
        "primaryType": "Notice",
        "domain": {
            "name": "tenderledger",
            "version": "1",
            "chainId": V["chain_id"],
            "verifyingContract": V["ledger"],
        },
        "message": {
            "ocid": n["ocid"],
            "releaseId": n["release_id"],
            "stage": n["stage"],
            "digest": unhex(n["digest"]),
            "previous": unhex(n["previous"]),
            "deadline": n["deadline"],
        },
    }
    signed = Account.sign_message(encode_typed_data(full_message=typed), private_key=KEY)
    assert "0x" + bytes(signed.message_hash).hex() == V["notice_typed_data_hash"]
    assert "0x" + bytes(signed.signature).hex() == V["notice_seal"]


def test_batch_leaves_root_and_seal() -> None:
    b = V["batch"]
    leaves = [member_leaf(ocid, release_id, unhex(digest)) for ocid, release_id, digest in b["members"]]
    assert ["0x" + leaf.hex() for leaf in leaves] == b["leaves"]
    root = MerkleTree(leaves).root
    assert "0x" + root.hex() == b["root"]
    assert "0x" + batch_struct_hash(root, b["size"], b["label"]).hex() == b["struct_hash"]
    seal = seal_batch(KEY, root, b["size"], b["label"], chain_id=V["chain_id"], contract=V["ledger"])
    assert "0x" + seal.hex() == b["seal"]


def test_receipts_byte_for_byte() -> None:
    a = V["anchor"]
    anchor = AnchorPoint(
        a["tx_hash"], a["block_number"], a["block_hash"], a["block_timestamp"], a["log_index"]
    )
    common = {"chain_id": V["chain_id"], "ledger": V["ledger"], "signer": V["signer"], "agency": 1}
    single = build_receipt(
        fields=notice_fields(),
        seal=unhex(V["notice_seal"]),
        agency_name="Ministry of Public Works",
        anchor=anchor,
        **common,
    )
    assert canonicalize(single.to_json()) == canonicalize(V["receipt_notice"])
    assert check_receipt_offline(single, digest=unhex(V["notice"]["digest"])) == []

    b = V["batch"]
    leaves = [member_leaf(o, r, unhex(d)) for o, r, d in b["members"]]
    tree = MerkleTree(leaves)
    ocid, release_id, digest = b["members"][1]
    member = build_receipt(
        fields=SealedFields(ocid, release_id, 3, unhex(digest), bytes(32), 0),
        seal=unhex(b["seal"]),
        agency_name="Ministry of Public Works",
        anchor=anchor,
        batch=BatchMembership(tree.root, 3, b["label"], 1, tree.inclusion_proof(1).to_json()),
        **common,
    )
    assert canonicalize(member.to_json()) == canonicalize(V["receipt_batch_member"])
    assert check_receipt_offline(member, digest=unhex(digest)) == []
    # The leaf commits to the notice key: the same proof under another release id fails.
    moved = member.to_json()
    moved["notice"]["release_id"] = "r2"
    assert any("inclusion proof" in p for p in check_receipt_offline(moved, digest=unhex(digest)))
