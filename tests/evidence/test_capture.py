"""Capturing proof material never breaks anchoring: a node that cannot answer gives problem lines."""

from __future__ import annotations

from typing import Any

from backend.chain.rpc import RpcError
from backend.evidence.capture import ProofArchive, keep_proofs_of
from backend.store import EvidenceStore

RECEIPT = {
    "chain": {"chain_id": 31337, "ledger": "0x5FbDB2315678afecb367f032d93F642f64180aa3"},
    "seal": {"signer": "0xEAc9F4dFE967a6a03393a7306859e2632cE1Fa1D", "agency": 1},
    "anchor": {
        "block_hash": "0x" + "ab" * 32,
        "tx_hash": "0x" + "cd" * 32,
        "block_number": 6,
        "log_index": 1,
    },
}


class NodeWithoutHistory:
    """Answers every request with the error a pruned node gives."""

    def call(self, method: str, params: list[Any]) -> Any:
        raise RpcError(method, {"message": "BlockOutOfRangeError: block height is 9 but requested was 6"})

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        return [RpcError(method, {"message": "missing trie node"}) for method, _ in calls]


def test_an_anchor_the_node_cannot_prove_is_reported_not_raised() -> None:
    store = EvidenceStore("sqlite://")
    problems = keep_proofs_of(store, NodeWithoutHistory(), [RECEIPT])  # type: ignore[arg-type]
    assert len(problems) == 1
    assert "block 6" in problems[0] and "BlockOutOfRangeError" in problems[0]
    assert ProofArchive(store).known() == set()
