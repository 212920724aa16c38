"""Proof material kept while a block is fresh, so that packages can be exported later.

A node answers ``eth_getProof`` only for the states it still holds. Anvil restarted from
its saved state holds the latest one only (``BlockOutOfRangeError`` for older blocks), and
a pruning Besu or Geth node keeps about the last 128. Headers, transactions and receipts
stay, but the storage proof of step 4 must be taken while the anchor's block is recent.
:func:`capture_receipts` takes everything an evidence package needs for each receipt and
keeps it in the evidence store (``store.proofs``), keyed by (block hash, transaction,
log index).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, cast

from backend.chain.rpc import RpcClient
from backend.errors import TenderledgerError
from backend.evidence.proofs import AnchorProof, ProofReader, ProofUnavailableError
from backend.service.context import Backend
from backend.store import EvidenceStore


def anchor_id(receipt: dict[str, Any]) -> tuple[str, str, str]:
    """(block hash, transaction hash, log index) of a receipt's anchor, as the table keys it."""
    anchor = receipt["anchor"]
    return (str(anchor["block_hash"]).lower(), str(anchor["tx_hash"]).lower(), str(int(anchor["log_index"])))


class ProofArchive:
    """The captured proof material, kept in the evidence store (``store.proofs``)."""

    def __init__(self, store: EvidenceStore) -> None:
        self.store = store

    def get(self, receipt: dict[str, Any]) -> AnchorProof | None:
        body = self.store.anchor_proof(anchor_id(receipt))
        return None if body is None else AnchorProof.from_json(json.loads(body))

    def known(self) -> set[tuple[str, str, str]]:
        return self.store.anchor_proof_keys()

    def keep(self, proofs: Sequence[tuple[dict[str, Any], AnchorProof]]) -> None:
        self.store.keep_anchor_proofs(
            [(anchor_id(receipt), json.dumps(proof.to_json(), sort_keys=True)) for receipt, proof in proofs]
        )


def receipt_json(receipt: object) -> dict[str, Any] | None:
    """A stored receipt in its versioned JSON form (from the JSON, or an object with ``to_json``)."""
    if receipt is None:
        return None
    to_json = getattr(receipt, "to_json", None)
    return cast(dict[str, Any], to_json() if callable(to_json) else receipt)


def proof_of_receipt(source: RpcClient | ProofReader, receipt: dict[str, Any]) -> AnchorProof:
    """The proof material of one receipt's anchor, from the node."""
    reader = source if isinstance(source, ProofReader) else ProofReader(source)
    anchor, seal = receipt["anchor"], receipt["seal"]
    return reader.anchor(
        ledger=str(receipt["chain"]["ledger"]),
        tx_hash=str(anchor["tx_hash"]),
        block_hash=str(anchor["block_hash"]),
        log_index=int(anchor["log_index"]),
        signer=str(seal["signer"]),
        agency=int(seal["agency"]),
    )


def keep_proofs_of(store: EvidenceStore, rpc: RpcClient, receipts: Iterable[object]) -> list[str]:
    """What the anchoring path calls once receipts are settled: capture their proof material now.

    ``receipts`` are receipt objects (with ``to_json``) or their JSON. Never raises for an
    anchor the node cannot prove (anchoring must not fail for it): returns one problem
    line per such anchor, for the log; ``evidence capture`` can try again later.
    """
    documents = [found for found in map(receipt_json, receipts) if found is not None]
    try:
        return capture_receipts(ProofArchive(store), rpc, documents)[1]
    except (TenderledgerError, OSError, KeyError, TypeError, ValueError) as exc:
        # A node that cannot answer (the in-process chain has no eth_getProof) must not fail anchoring.
        return [f"proof material not captured: {exc}"]


def capture_receipts(
    archive: ProofArchive, rpc: RpcClient, receipts: Iterable[dict[str, Any]]
) -> tuple[int, list[str]]:
    """Capture and keep the proof material of every receipt not captured yet.

    Members of one batch share their anchor: it is captured once. Returns how many
    anchors were captured, and one problem line per anchor the node could not prove.
    """
    known = archive.known()
    reader = ProofReader(rpc)
    captured: list[tuple[dict[str, Any], AnchorProof]] = []
    problems: list[str] = []
    for receipt in receipts:
        key = anchor_id(receipt)
        if key in known:
            continue
        known.add(key)
        try:
            captured.append((receipt, proof_of_receipt(reader, receipt)))
        except ProofUnavailableError as exc:
            problems.append(f"block {receipt['anchor']['block_number']}, tx {key[1]}: {exc.message}")
    archive.keep(captured)
    return len(captured), problems


def capture_store(backend: Backend) -> tuple[int, list[str]]:
    """Capture the proof material of every receipt in ``backend``'s store not captured yet."""
    store = backend.store
    receipts = [r for r in map(receipt_json, store.all_receipts()) if r is not None]
    return capture_receipts(ProofArchive(store), RpcClient(backend.w3), receipts)


def node_at(rpc_url: str) -> RpcClient:
    """A JSON-RPC client of the node at ``rpc_url`` (to check a package's block against it)."""
    from backend.chain.connect import web3_for

    return RpcClient(web3_for(rpc_url))
