"""Bulk reads of the ledger over raw JSON-RPC: records and NoticeAnchored events.

The same answers as :class:`backend.chain.ledger.Ledger`'s views and event readers,
without web3's per-value formatting: many ``recordsByKey`` calls travel in one
JSON-RPC batch, and event logs are decoded directly from their topics and data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from backend.chain import calldata
from backend.chain.ledger import Ledger
from backend.chain.rpc import RpcClient, RpcError
from backend.core.receipt import unhex
from backend.core.records import AnchoredEvent, LedgerRecord
from backend.core.seal import SealedFields, to_checksum_address
from backend.errors import NetworkError

LOOKUP_CHUNK = 256
TOPIC_CHUNK = 256
WORD = 32


def _word_int(data: bytes, offset: int) -> int:
    return int.from_bytes(data[offset : offset + WORD], "big")


def _dynamic(data: bytes, offset: int) -> bytes:
    length = _word_int(data, offset)
    return data[offset + WORD : offset + WORD + length]


def decode_notice_anchored(log: dict[str, Any]) -> AnchoredEvent:
    """A raw NoticeAnchored log as an AnchoredEvent (the layout of INoticeLedger's event)."""
    topics = [unhex(t) for t in log["topics"]]
    data = unhex(log["data"])
    agency = _word_int(data, 0)
    signer = to_checksum_address(data[WORD + 12 : 2 * WORD])
    notice = _word_int(data, 2 * WORD)
    seal_at = _word_int(data, 3 * WORD)
    ocid = _dynamic(data, notice + _word_int(data, notice)).decode()
    release_id = _dynamic(data, notice + _word_int(data, notice + WORD)).decode()
    fields = SealedFields(
        ocid,
        release_id,
        _word_int(data, notice + 2 * WORD),
        data[notice + 3 * WORD : notice + 4 * WORD],
        data[notice + 4 * WORD : notice + 5 * WORD],
        _word_int(data, notice + 5 * WORD),
    )
    return AnchoredEvent(
        key=topics[1],
        ocid_hash=topics[2],
        digest=topics[3],
        agency=agency,
        signer=signer,
        fields=fields,
        seal=_dynamic(data, seal_at),
        block_number=int(log["blockNumber"], 16),
        block_hash=unhex(log["blockHash"]),
        tx_hash=unhex(log["transactionHash"]),
        log_index=int(log["logIndex"], 16),
    )


class LedgerReader:
    """Fast bulk reads of one deployed ledger."""

    def __init__(self, ledger: Ledger, rpc: RpcClient | None = None) -> None:
        self.ledger = ledger
        self.rpc = rpc or RpcClient(ledger.w3)
        self.contract = ledger.address
        self.from_block = ledger.deployment.block_number
        # Views need no sender, but the in-process chain wants a funded one: governance is.
        self.caller = ledger.deployment.governance

    def _records(self, selector: bytes, values: Sequence[bytes]) -> list[LedgerRecord | None]:
        calls = [
            (
                "eth_call",
                [
                    {
                        "to": self.contract,
                        "from": self.caller,
                        "data": "0x"
                        + calldata.bytes32_array_call(selector, values[i : i + LOOKUP_CHUNK]).hex(),
                    },
                    "latest",
                ],
            )
            for i in range(0, len(values), LOOKUP_CHUNK)
        ]
        records: list[LedgerRecord | None] = []
        for result in self.rpc.batch(calls):
            if isinstance(result, RpcError):
                raise NetworkError(f"recordsByKey failed: {result.rpc_message}")
            records.extend(calldata.decode_records(unhex(result)))
        return records

    def records_by_key(self, keys: Sequence[bytes]) -> list[LedgerRecord | None]:
        """``recordsByKey`` for any number of keys, in one round trip."""
        return self._records(calldata.SELECTOR_RECORDS_BY_KEY, keys) if keys else []

    def records_by_digest(self, digests: Sequence[bytes]) -> list[LedgerRecord | None]:
        """``recordsByDigest`` for any number of digests, in one round trip."""
        return self._records(calldata.SELECTOR_RECORDS_BY_DIGEST, digests) if digests else []

    def notice_events(self, *, position: int, values: Sequence[bytes]) -> list[AnchoredEvent]:
        """NoticeAnchored events whose indexed field ``position`` is one of ``values``.

        Positions: 1 the notice key, 2 the ocid hash, 3 the digest.
        """
        if not values:
            return []
        if not self.rpc.is_http:  # the in-process chain's log filter wants web3's own formatting
            readers: dict[int, Callable[[Sequence[bytes]], Iterator[AnchoredEvent]]] = {
                1: self.ledger.notice_events_for_keys,
                2: self.ledger.notice_events_for_processes,
                3: self.ledger.notice_events_for_digests,
            }
            return list(readers[position](list(values)))
        latest = hex(int(self.rpc.call("eth_blockNumber", []), 16))
        calls = []
        for i in range(0, len(values), TOPIC_CHUNK):
            topics: list[Any] = ["0x" + calldata.TOPIC_NOTICE_ANCHORED.hex(), None, None, None]
            topics[position] = ["0x" + v.hex() for v in values[i : i + TOPIC_CHUNK]]
            calls.append(
                (
                    "eth_getLogs",
                    [
                        {
                            "address": self.contract,
                            "fromBlock": hex(self.from_block),
                            "toBlock": latest,
                            "topics": topics[: position + 1],
                        }
                    ],
                )
            )
        events: list[AnchoredEvent] = []
        for result in self.rpc.batch(calls):
            if isinstance(result, RpcError):
                raise NetworkError(f"eth_getLogs failed: {result.rpc_message}")
            events.extend(decode_notice_anchored(log) for log in result if not log.get("removed"))
        return events
