"""Bulk reads of the ledger over raw JSON-RPC: records and NoticeAnchored events.

Events are decoded by ``chain.logs``, the one decoder of the anchoring events.

The same answers as :class:`backend.chain.ledger.Ledger`'s views and event readers,
without web3's per-value formatting: many ``recordsByKey`` calls travel in one
JSON-RPC batch, and event logs are decoded directly from their topics and data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from backend.chain import calldata, logs
from backend.chain.ledger import Ledger
from backend.chain.rpc import RpcClient, RpcError
from backend.core.receipt import unhex
from backend.core.records import AnchoredEvent, LedgerRecord
from backend.errors import NetworkError

LOOKUP_CHUNK = 256
TOPIC_CHUNK = 256
WORD = 32


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
            topics: list[Any] = ["0x" + logs.TOPIC_NOTICE_ANCHORED.hex(), None, None, None]
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
            events.extend(logs.notice_events_in(result, self.contract))
        return events
