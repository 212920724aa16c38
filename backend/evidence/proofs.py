"""Proof material for evidence packages, read from a node's JSON-RPC.

For one anchor (a transaction and one of its logs) this gathers what proves it from a
single block hash:

* the block header's RLP (it must hash to the block hash);
* a Merkle-Patricia proof of the transaction under ``transactionsRoot`` and of the
  receipts up to and including its own under ``receiptsRoot`` (the earlier receipts
  give the log's index within the block);
* ``eth_getProof`` of the ledger at that block for two storage slots: the signer's
  ``_keys`` entry (agency, block added, block revoked) and the agency's ``_agencyNames``
  entry (keccak256 of its name), up to ``stateRoot``.

Everything fetched is checked here before it is packaged: the tries rebuilt from the
block's transactions and receipts must hash to the header's roots, and the header to the
block hash. Headers, transactions and receipts of past blocks stay available, but
``eth_getProof`` answers only for the states a node still holds (Anvil restarted from its
saved state: the latest only; a pruning node: about the last 128), so :class:`ProofReader`
runs while a block is fresh and its result is kept (:mod:`backend.evidence.capture`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rlp  # type: ignore[import-untyped]
from trie.hexary import HexaryTrie

from backend.chain.rpc import RpcClient, RpcError
from backend.core.hashing import keccak256
from backend.errors import VerificationError

SLOT_AGENCY_NAMES = 6
"""``NoticeLedger._agencyNames`` (mapping(uint32 => bytes32)): storage slot of the mapping."""
SLOT_KEYS = 8
"""``NoticeLedger._keys`` (mapping(address => SealKey)): storage slot of the mapping."""

# Header fields in their RLP order; the later ones exist from the fork that added them.
_HEADER_FIELDS = (
    ("parentHash", "bytes"),
    ("sha3Uncles", "bytes"),
    ("miner", "bytes"),
    ("stateRoot", "bytes"),
    ("transactionsRoot", "bytes"),
    ("receiptsRoot", "bytes"),
    ("logsBloom", "bytes"),
    ("difficulty", "int"),
    ("number", "int"),
    ("gasLimit", "int"),
    ("gasUsed", "int"),
    ("timestamp", "int"),
    ("extraData", "bytes"),
    ("mixHash", "bytes"),
    ("nonce", "bytes"),
)
_LATER_HEADER_FIELDS = (
    ("baseFeePerGas", "int"),  # London
    ("withdrawalsRoot", "bytes"),  # Shanghai
    ("blobGasUsed", "int"),  # Cancun
    ("excessBlobGas", "int"),
    ("parentBeaconBlockRoot", "bytes"),
    ("requestsHash", "bytes"),  # Prague
)


class ProofUnavailableError(VerificationError):
    """The node cannot give (or gives inconsistent) proof material for an anchor."""


def _bytes(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def _int(text: str) -> int:
    return int(text, 16)


def key_slot(signer: str) -> bytes:
    """Storage key of ``_keys[signer]``: keccak256(pad32(signer) || pad32(8))."""
    return keccak256(bytes(12) + _bytes(signer) + SLOT_KEYS.to_bytes(32, "big"))


def agency_name_slot(agency: int) -> bytes:
    """Storage key of ``_agencyNames[agency]``: keccak256(pad32(agency) || pad32(6))."""
    return keccak256(agency.to_bytes(32, "big") + SLOT_AGENCY_NAMES.to_bytes(32, "big"))


@dataclass(frozen=True, slots=True)
class SealKeySlot:
    """``NoticeLedger.SealKey`` as packed in one slot: agency (bits 0-31), added (32-71), revoked (72-111)."""

    agency: int
    added_block: int
    revoked_block: int

    @classmethod
    def unpack(cls, value: int) -> SealKeySlot:
        return cls(value & 0xFFFFFFFF, (value >> 32) & (2**40 - 1), (value >> 72) & (2**40 - 1))


def header_rlp(block: dict[str, Any]) -> bytes:
    """The RLP of a block header, from ``eth_getBlockBy*``'s JSON; checked against the block hash."""
    fields: list[bytes | int] = []
    for name, kind in _HEADER_FIELDS:
        fields.append(_int(block[name]) if kind == "int" else _bytes(block[name]))
    for name, kind in _LATER_HEADER_FIELDS:
        if name not in block:
            break
        fields.append(_int(block[name]) if kind == "int" else _bytes(block[name]))
    encoded: bytes = rlp.encode(fields)
    if keccak256(encoded) != _bytes(block["hash"]):
        raise ProofUnavailableError(
            f"the header of block {_int(block['number'])} as the node states it does not hash to its "
            "block hash (a header field this version does not know?)"
        )
    return encoded


def receipt_rlp(receipt: dict[str, Any]) -> bytes:
    """The consensus encoding of a transaction receipt (EIP-2718: type byte, then the RLP list)."""
    logs = [
        [_bytes(log["address"]), [_bytes(t) for t in log["topics"]], _bytes(log["data"])]
        for log in receipt["logs"]
    ]
    body: bytes = rlp.encode(
        [_int(receipt["status"]), _int(receipt["cumulativeGasUsed"]), _bytes(receipt["logsBloom"]), logs]
    )
    kind = _int(receipt.get("type", "0x0"))
    return body if kind == 0 else bytes([kind]) + body


def trie_proof(values: Sequence[bytes], indices: Sequence[int], root: bytes) -> list[bytes]:
    """The nodes proving ``values[i]`` for each i in ``indices`` in the trie keyed by rlp(index).

    The trie rebuilt from all ``values`` must have ``root`` (the header's). Nodes shorter
    than 32 bytes live inside their parent and are not listed on their own.
    """
    trie = HexaryTrie(db={})
    for index, value in enumerate(values):
        trie[rlp.encode(index)] = value
    if trie.root_hash != root:
        raise ProofUnavailableError("the block's transactions or receipts do not hash to its header's root")
    nodes: dict[bytes, bytes] = {}
    for index in indices:
        for node in trie.get_proof(rlp.encode(index)):  # type: ignore[no-untyped-call]
            encoded: bytes = rlp.encode(node)
            if len(encoded) >= 32 or keccak256(encoded) == root:
                nodes.setdefault(keccak256(encoded), encoded)
    return list(nodes.values())


@dataclass(frozen=True, slots=True)
class BlockProof:
    """What proves an anchor's block: its number, hash and header RLP."""

    number: int
    hash: str
    header: bytes


@dataclass(frozen=True, slots=True)
class AnchorProof:
    """Everything that proves one anchor (a log of one transaction) from its block hash."""

    block: BlockProof
    tx_index: int
    log_position: int
    transaction_nodes: list[bytes]
    receipt_nodes: list[bytes]
    state_nodes: list[bytes]
    code_hash: str
    seal_key: SealKeySlot

    def to_json(self) -> dict[str, Any]:
        """The JSON kept by :mod:`capture` (and read back by :meth:`from_json`)."""
        return {
            "block": {
                "number": self.block.number,
                "hash": self.block.hash,
                "header": _hex(self.block.header),
            },
            "tx_index": self.tx_index,
            "log_position": self.log_position,
            "transaction_nodes": [_hex(n) for n in self.transaction_nodes],
            "receipt_nodes": [_hex(n) for n in self.receipt_nodes],
            "state_nodes": [_hex(n) for n in self.state_nodes],
            "code_hash": self.code_hash,
            "seal_key": [self.seal_key.agency, self.seal_key.added_block, self.seal_key.revoked_block],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnchorProof:
        block = data["block"]
        return cls(
            block=BlockProof(int(block["number"]), str(block["hash"]), _bytes(block["header"])),
            tx_index=int(data["tx_index"]),
            log_position=int(data["log_position"]),
            transaction_nodes=[_bytes(n) for n in data["transaction_nodes"]],
            receipt_nodes=[_bytes(n) for n in data["receipt_nodes"]],
            state_nodes=[_bytes(n) for n in data["state_nodes"]],
            code_hash=str(data["code_hash"]),
            seal_key=SealKeySlot(*(int(v) for v in data["seal_key"])),
        )


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _call(rpc: RpcClient, method: str, params: list[Any]) -> Any:
    try:
        result = rpc.call(method, params)
    except RpcError as exc:
        raise ProofUnavailableError(
            f"the node cannot give {method}: {exc.rpc_message}",
            hint="evidence packages need a node that keeps history (an archive node, or Anvil)",
        ) from None
    if result is None:
        raise ProofUnavailableError(f"the node knows nothing for {method} {params[0]}")
    return result


class ProofReader:
    """Reads proof material from a node, each block's transactions and receipts, and each state
    proof, once: a transaction of 128 notices, or a batch of 1,024, costs the node one read."""

    def __init__(self, rpc: RpcClient) -> None:
        self.rpc = rpc
        self._blocks: dict[str, tuple[dict[str, Any], bytes, list[bytes], list[dict[str, Any]]]] = {}
        self._tries: dict[tuple[str, int], tuple[list[bytes], list[bytes]]] = {}
        self._states: dict[tuple[str, int, str], dict[str, Any]] = {}

    def _block(self, block_hash: str) -> tuple[dict[str, Any], bytes, list[bytes], list[dict[str, Any]]]:
        if block_hash not in self._blocks:
            block = _call(self.rpc, "eth_getBlockByHash", [block_hash, False])
            header = header_rlp(block)
            number = _int(block["number"])
            tx_hashes = [str(h).lower() for h in block["transactions"]]
            raw_txs = self.rpc.batch([("eth_getRawTransactionByHash", [h]) for h in tx_hashes])
            if any(isinstance(raw, RpcError) or raw is None for raw in raw_txs):
                raise ProofUnavailableError(f"the node does not give the raw transactions of block {number}")
            receipts = _call(self.rpc, "eth_getBlockReceipts", [hex(number)])
            if [str(r["transactionHash"]).lower() for r in receipts] != tx_hashes:
                raise ProofUnavailableError(f"the receipts of block {number} do not match its transactions")
            self._blocks[block_hash] = (block, header, [_bytes(r) for r in raw_txs], receipts)
        return self._blocks[block_hash]

    def _tx_proofs(self, block_hash: str, tx_index: int) -> tuple[list[bytes], list[bytes]]:
        if (block_hash, tx_index) not in self._tries:
            block, _header, raw_txs, receipts = self._block(block_hash)
            self._tries[(block_hash, tx_index)] = (
                trie_proof(raw_txs, [tx_index], _bytes(block["transactionsRoot"])),
                trie_proof(
                    [receipt_rlp(r) for r in receipts], range(tx_index + 1), _bytes(block["receiptsRoot"])
                ),
            )
        return self._tries[(block_hash, tx_index)]

    def state(self, ledger: str, number: int, signer: str, agency: int) -> dict[str, Any]:
        """The node's ``eth_getProof`` of the seal key's and the agency name's slots at block
        ``number`` (or the answer kept earlier with :meth:`remember_state`)."""
        key = (ledger.lower(), number, f"{signer.lower()}/{agency}")
        if key not in self._states:
            slots = ["0x" + key_slot(signer).hex(), "0x" + agency_name_slot(agency).hex()]
            self._states[key] = _call(self.rpc, "eth_getProof", [ledger, slots, hex(number)])
        return self._states[key]

    def remember_state(
        self, ledger: str, number: int, signer: str, agency: int, state: dict[str, Any]
    ) -> None:
        """Use ``state`` (an ``eth_getProof`` answer taken while the block was fresh) for that key."""
        self._states[(ledger.lower(), number, f"{signer.lower()}/{agency}")] = state

    def anchor(
        self, *, ledger: str, tx_hash: str, block_hash: str, log_index: int, signer: str, agency: int
    ) -> AnchorProof:
        """Gather and check the proof material of the log ``log_index`` (block-wide) of ``tx_hash``."""
        block, header, _raw_txs, receipts = self._block(block_hash)
        number = _int(block["number"])
        tx_hashes = [str(r["transactionHash"]).lower() for r in receipts]
        if tx_hash.lower() not in tx_hashes:
            raise ProofUnavailableError(f"transaction {tx_hash} is not in block {number} {block_hash}")
        tx_index = tx_hashes.index(tx_hash.lower())
        logs = receipts[tx_index]["logs"]
        positions = [i for i, log in enumerate(logs) if _int(log["logIndex"]) == log_index]
        if len(positions) != 1 or str(logs[positions[0]]["address"]).lower() != ledger.lower():
            raise ProofUnavailableError(f"transaction {tx_hash} has no ledger log with index {log_index}")
        transaction_nodes, receipt_nodes = self._tx_proofs(block_hash, tx_index)
        account = self.state(ledger, number, signer, agency)
        state_nodes: dict[str, bytes] = {}
        for node in [*account["accountProof"], *(n for s in account["storageProof"] for n in s["proof"])]:
            state_nodes.setdefault(str(node).lower(), _bytes(node))
        return AnchorProof(
            block=BlockProof(number, str(block["hash"]), header),
            tx_index=tx_index,
            log_position=positions[0],
            transaction_nodes=transaction_nodes,
            receipt_nodes=receipt_nodes,
            state_nodes=list(state_nodes.values()),
            code_hash=str(account["codeHash"]),
            seal_key=SealKeySlot.unpack(_int(account["storageProof"][0]["value"])),
        )
