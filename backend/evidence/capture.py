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


def state_id(receipt: dict[str, Any]) -> tuple[str, str, str]:
    """(block hash, ledger, "signer/agency") of a receipt's anchor, as the store keys its state proof."""
    anchor, seal = receipt["anchor"], receipt["seal"]
    return (
        str(anchor["block_hash"]).lower(),
        str(receipt["chain"]["ledger"]).lower(),
        f"{str(seal['signer']).lower()}/{int(seal['agency'])}",
    )


def state_args(receipt: dict[str, Any]) -> tuple[str, int, str, int]:
    """(ledger, block number, signer, agency): what a state proof of the receipt's anchor is asked for."""
    anchor, seal = receipt["anchor"], receipt["seal"]
    return (
        str(receipt["chain"]["ledger"]),
        int(anchor["block_number"]),
        str(seal["signer"]),
        int(seal["agency"]),
    )


class ProofArchive:
    """The state proofs taken while blocks were fresh, kept in the evidence store (``store.proofs``)."""

    def __init__(self, store: EvidenceStore) -> None:
        self.store = store

    def state(self, receipt: dict[str, Any]) -> dict[str, Any] | None:
        body = self.store.state_proof(state_id(receipt))
        return None if body is None else cast(dict[str, Any], json.loads(body))

    def known(self) -> set[tuple[str, str, str]]:
        return self.store.state_proof_keys()

    def keep(self, states: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        self.store.keep_state_proofs(
            [(state_id(receipt), json.dumps(state, sort_keys=True)) for receipt, state in states]
        )


def receipt_json(receipt: object) -> dict[str, Any] | None:
    """A stored receipt in its versioned JSON form (from the JSON, or an object with ``to_json``)."""
    if receipt is None:
        return None
    to_json = getattr(receipt, "to_json", None)
    return cast(dict[str, Any], to_json() if callable(to_json) else receipt)


def proof_of_receipt(
    source: RpcClient | ProofReader, receipt: dict[str, Any], *, state: dict[str, Any] | None = None
) -> AnchorProof:
    """The proof material of one receipt's anchor, from the node; ``state`` is its state proof
    as kept when the block was fresh (else the node is asked for it now)."""
    reader = source if isinstance(source, ProofReader) else ProofReader(source)
    anchor, seal = receipt["anchor"], receipt["seal"]
    if state is not None:
        reader.remember_state(*state_args(receipt), state)
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
    """Take and keep the state proof of every receipt's anchor not kept yet: the one part of an
    evidence package a node forgets (headers, transactions and receipts it keeps).

    Anchors of one block, ledger and seal key share one proof: 128 notices of a transaction,
    or the 1,024 of a batch, cost one ``eth_getProof``. Returns how many proofs were taken,
    and one problem line per anchor the node could not prove.
    """
    known = archive.known()
    reader = ProofReader(rpc)
    taken: list[tuple[dict[str, Any], dict[str, Any]]] = []
    problems: list[str] = []
    for receipt in receipts:
        key = state_id(receipt)
        if key in known:
            continue
        known.add(key)
        anchor = receipt["anchor"]
        try:
            state = reader.state(*state_args(receipt))
        except ProofUnavailableError as exc:
            problems.append(f"block {anchor['block_number']}, tx {anchor['tx_hash']}: {exc.message}")
            continue
        taken.append((receipt, state))
    archive.keep(taken)
    return len(taken), problems


def capture_store(backend: Backend) -> tuple[int, list[str]]:
    """Capture the proof material of every receipt in ``backend``'s store not captured yet."""
    store = backend.store
    receipts = [r for r in map(receipt_json, store.all_receipts()) if r is not None]
    return capture_receipts(ProofArchive(store), RpcClient(backend.w3), receipts)


def node_at(rpc_url: str) -> RpcClient:
    """A JSON-RPC client of the node at ``rpc_url`` (to check a package's block against it)."""
    from backend.chain.connect import web3_for

    return RpcClient(web3_for(rpc_url))
