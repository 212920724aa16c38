"""The ledger's read side over raw JSON-RPC: what verifying a notice asks of the chain.

The same answers as :class:`backend.chain.ledger.Ledger`'s views and event readers, and
the same deployment check, with no web3 in the way: calls are encoded and decoded by
``chain.calldata``, events by ``chain.logs``, and the requests travel through an
``RpcClient``. Given a URL, that client needs no web3 at all, so a command that only
reads the ledger (``tenderledger verify``) starts without importing it; given the
in-process chain's ``Web3``, it goes through that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests

from backend.chain import calldata, logs
from backend.chain.artifacts import ContractArtifact, check_deployed_code, load_artifact
from backend.chain.deployment import Deployment
from backend.chain.logs import BatchEvent, PrefixReservation, SealKeyEvent
from backend.chain.rpc import RpcClient, RpcError
from backend.core.hashing import keccak256
from backend.core.ocid import normalize_ocid_prefix
from backend.core.receipt import unhex
from backend.core.records import (
    AnchoredEvent,
    LedgerBatch,
    LedgerRecord,
    ProcessState,
    SealKeyTenure,
    SealKeyWindow,
    tenures_from_events,
)
from backend.core.seal import to_checksum_address
from backend.errors import NetworkError

LOG_CHUNK_BLOCKS = 10_000  # blocks per eth_getLogs query, as Ledger asks
LOOKUP_CHUNK = 256  # keys per recordsByKey call
TOPIC_CHUNK = 256  # topic values per eth_getLogs query

Topics = list[Any]


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


class LedgerViews:
    """The reads of one deployed ledger. Construction checks the chain id and the deployed code."""

    def __init__(
        self,
        rpc: RpcClient,
        deployment: Deployment,
        *,
        artifact: ContractArtifact | None = None,
        check: bool = True,
    ) -> None:
        self.rpc = rpc
        self.deployment = deployment
        self.artifact = artifact or load_artifact()
        self.address = to_checksum_address(deployment.ledger)
        # Views need no sender, but the in-process chain wants a funded one: governance is.
        self.caller = deployment.governance
        if check:
            self.check_deployment()

    # ---------------------------------------------------------------- safety checks

    def check_deployment(self) -> None:
        """Refuse a chain id or deployed code that does not match the deployment file and artifact."""
        try:
            chain_id_hex, code_hex = self._batch(
                [("eth_chainId", []), ("eth_getCode", [self.address, "latest"])], unreachable_hint=True
            )
        except RpcError as exc:
            raise NetworkError(f"the chain refused a request: {exc.rpc_message}") from exc
        chain_id = int(chain_id_hex, 16)
        code = unhex(code_hex or "0x")
        check_deployed_code(
            self.artifact,
            chain_id=chain_id,
            address=self.address,
            code=code,
            expected_chain_id=self.deployment.chain_id,
            expected_code_hash=self.deployment.code_hash,
        )

    # ---------------------------------------------------------------- requests

    def _batch(
        self, calls: Sequence[tuple[str, Sequence[Any]]], *, unreachable_hint: bool = False
    ) -> list[Any]:
        """The results of ``calls`` in one round trip; the first error response is raised.

        An unreachable chain is reported in Ledger's words, so that a command says the same
        whichever of the two read the chain.
        """
        try:
            results = self.rpc.batch(calls)
        except NetworkError as exc:
            cause = exc.__cause__
            if not isinstance(cause, requests.ConnectionError):
                raise
            raise NetworkError(
                f"cannot reach the chain ({type(cause).__name__})",
                hint="is the devnet running? 'tenderledger devnet status'" if unreachable_hint else None,
            ) from exc
        for result in results:
            if isinstance(result, RpcError):
                raise result
        return results

    def _call(self, what: str, data: bytes) -> bytes:
        """One ``eth_call`` of a view at the latest block, its return data raw."""
        return self._calls(what, [data])[0]

    def _calls(self, what: str, datas: Sequence[bytes]) -> list[bytes]:
        """Several ``eth_call``s of views, in one round trip."""
        calls = [
            ("eth_call", [{"to": self.address, "from": self.caller, "data": _hex(data)}, "latest"])
            for data in datas
        ]
        try:
            return [unhex(result) for result in self._batch(calls)]
        except RpcError as exc:
            raise NetworkError(f"{what} failed: {exc.rpc_message}") from exc

    def head(self) -> int:
        """The number of the chain's latest block."""
        (number,) = self._batch([("eth_blockNumber", [])])
        return int(number, 16)

    def block_header(self, number: int) -> tuple[bytes, int]:
        """The hash and timestamp of block ``number``."""
        (block,) = self._batch([("eth_getBlockByNumber", [hex(number), False])])
        if block is None:
            raise NetworkError(f"the chain has no block {number}")
        return unhex(block["hash"]), int(block["timestamp"], 16)

    def _logs(
        self, topics: Sequence[Topics], *, from_block: int | None = None, to_block: int | None = None
    ) -> list[Any]:
        """Raw logs of the ledger matching any of ``topics`` (one filter each), in one round trip.

        Each filter is asked in chunks of LOG_CHUNK_BLOCKS blocks from the deployment block,
        as Ledger does; the logs come back in chain order per filter.
        """
        start = self.deployment.block_number if from_block is None else from_block
        end = self.head() if to_block is None else to_block
        calls = []
        for filter_topics in topics:
            trimmed = list(filter_topics)
            while trimmed and trimmed[-1] is None:  # the in-process chain matches nothing otherwise
                trimmed.pop()
            for low in range(start, end + 1, LOG_CHUNK_BLOCKS):
                high = min(low + LOG_CHUNK_BLOCKS - 1, end)
                query = {
                    "address": self.address,
                    "fromBlock": hex(low),
                    "toBlock": hex(high),
                    "topics": trimmed,
                }
                calls.append(("eth_getLogs", [query]))
        found: list[Any] = []
        try:
            for result in self._batch(calls):
                found.extend(result)
        except RpcError as exc:
            raise NetworkError(f"eth_getLogs failed: {exc.rpc_message}") from exc
        return found

    # ---------------------------------------------------------------- records

    def _records(self, what: str, selector: bytes, values: Sequence[bytes]) -> list[LedgerRecord | None]:
        datas = [
            calldata.bytes32_array_call(selector, values[i : i + LOOKUP_CHUNK])
            for i in range(0, len(values), LOOKUP_CHUNK)
        ]
        records: list[LedgerRecord | None] = []
        for data in self._calls(what, datas):
            records.extend(calldata.decode_records(data))
        return records

    def records_by_key(self, keys: Sequence[bytes]) -> list[LedgerRecord | None]:
        """``recordsByKey`` for any number of keys, in one round trip (None where not anchored)."""
        return self._records("recordsByKey", calldata.SELECTOR_RECORDS_BY_KEY, keys) if keys else []

    def records_by_digest(self, digests: Sequence[bytes]) -> list[LedgerRecord | None]:
        """``recordsByDigest`` for any number of digests, in one round trip."""
        return (
            self._records("recordsByDigest", calldata.SELECTOR_RECORDS_BY_DIGEST, digests) if digests else []
        )

    def batch_record(self, root: bytes) -> LedgerBatch | None:
        """The ledger's record of a batch root, None when it is not anchored."""
        data = self._call("batchRecord", calldata.bytes32_call(calldata.SELECTOR_BATCH_RECORD, root))
        return calldata.decode_batch_record(root, data)

    def process(self, ocid_hash: bytes) -> ProcessState:
        """The lifecycle state of a process (keccak of its ocid)."""
        return calldata.decode_process(
            self._call("processOf", calldata.bytes32_call(calldata.SELECTOR_PROCESS_OF, ocid_hash))
        )

    def prefix_owner(self, prefix: str) -> int:
        """The agency ``prefix`` is reserved for, 0 when none."""
        prefix_hash = keccak256(normalize_ocid_prefix(prefix).encode())
        return calldata.decode_uint(
            self._call("prefixOwner", calldata.bytes32_call(calldata.SELECTOR_PREFIX_OWNER, prefix_hash))
        )

    def seal_key(self, address: str) -> SealKeyWindow:
        """The contract's word on a seal key: its agency, and the blocks it was added and revoked in."""
        return calldata.decode_seal_key(
            self._call("sealKey", calldata.address_call(calldata.SELECTOR_SEAL_KEY, address))
        )

    # ---------------------------------------------------------------- events

    def _notice_events(self, position: int, values: Sequence[bytes]) -> list[AnchoredEvent]:
        """NoticeAnchored events whose indexed topic ``position`` (1 key, 2 ocid hash, 3 digest) is
        one of ``values`` (one log filter per TOPIC_CHUNK values, all in one round trip)."""
        filters: list[Topics] = []
        for i in range(0, len(values), TOPIC_CHUNK):
            topics: Topics = [_hex(logs.TOPIC_NOTICE_ANCHORED), None, None, None]
            topics[position] = [_hex(v) for v in values[i : i + TOPIC_CHUNK]]
            filters.append(topics)
        if not filters:
            return []
        return list(logs.notice_events_in(self._logs(filters), self.address))

    def notice_events_for_keys(self, keys: Sequence[bytes]) -> list[AnchoredEvent]:
        """NoticeAnchored events of the given notice keys."""
        return self._notice_events(1, keys)

    def notice_events_for_processes(self, ocid_hashes: Sequence[bytes]) -> list[AnchoredEvent]:
        """NoticeAnchored events of the given processes (keccak of their ocids)."""
        return self._notice_events(2, ocid_hashes)

    def notice_events_for_digests(self, digests: Sequence[bytes]) -> list[AnchoredEvent]:
        """NoticeAnchored events of the given digests."""
        return self._notice_events(3, digests)

    def notice_events(
        self,
        *,
        from_block: int | None = None,
        to_block: int | None = None,
        ocid_hash: bytes | None = None,
        digest: bytes | None = None,
    ) -> list[AnchoredEvent]:
        """NoticeAnchored events in chain order, optionally for one process or one digest."""
        topics: Topics = [
            _hex(logs.TOPIC_NOTICE_ANCHORED),
            None,
            None if ocid_hash is None else _hex(ocid_hash),
            None if digest is None else _hex(digest),
        ]
        raw = self._logs([topics], from_block=from_block, to_block=to_block)
        return list(logs.notice_events_in(raw, self.address))

    def batch_events(self, root: bytes) -> list[BatchEvent]:
        """The BatchAnchored event of a batch root (empty when it is not on the ledger)."""
        raw = self._logs([[_hex(logs.TOPIC_BATCH_ANCHORED), _hex(root)]])
        return list(logs.batch_events_in(raw, self.address))

    def all_batch_events(self) -> list[BatchEvent]:
        """Every BatchAnchored event, in chain order."""
        return list(logs.batch_events_in(self._logs([[_hex(logs.TOPIC_BATCH_ANCHORED)]]), self.address))

    def agency_names(self) -> dict[int, str]:
        """Every registered agency's name, from AgencyRegistered events."""
        raw = self._logs([[_hex(logs.TOPIC_AGENCY_REGISTERED)]])
        return dict(
            logs.decode_agency_registered(log)
            for log in logs.logs_of(raw, logs.TOPIC_AGENCY_REGISTERED, self.address)
        )

    def seal_key_events(self) -> list[SealKeyEvent]:
        """Every SealKeyAdded and SealKeyRevoked event, in chain order."""
        raw = self._logs([[_hex(logs.TOPIC_SEAL_KEY_ADDED)], [_hex(logs.TOPIC_SEAL_KEY_REVOKED)]])
        found = [
            logs.decode_seal_key_event(log)
            for topic in (logs.TOPIC_SEAL_KEY_ADDED, logs.TOPIC_SEAL_KEY_REVOKED)
            for log in logs.logs_of(raw, topic, self.address)
        ]
        return sorted(found, key=lambda e: (e.block_number, e.log_index))

    def seal_key_tenures(self) -> dict[str, SealKeyTenure]:
        """Every seal key's tenure, by (block, log index), rebuilt from the key events."""
        return tenures_from_events(
            (e.key, e.agency, e.added, (e.block_number, e.log_index)) for e in self.seal_key_events()
        )

    def prefix_reservations(self) -> list[PrefixReservation]:
        """Every OcidPrefixReserved event, in chain order."""
        raw = self._logs([[_hex(logs.TOPIC_OCID_PREFIX_RESERVED)]])
        found = [
            logs.decode_prefix_reserved(log)
            for log in logs.logs_of(raw, logs.TOPIC_OCID_PREFIX_RESERVED, self.address)
        ]
        return sorted(found, key=lambda r: (r.block_number, r.log_index))
