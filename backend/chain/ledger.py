"""The NoticeLedger contract as Python: deploy, connect (with checks), govern, anchor, read."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import requests
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from backend.chain import logs
from backend.chain.artifacts import ContractArtifact, check_deployed_code, load_artifact, masked_code_hash
from backend.chain.deployment import Deployment
from backend.chain.logs import BatchEvent, PrefixReservation, SealKeyEvent
from backend.chain.revert import revert_exceptions
from backend.chain.sender import TransactionSender, refusal_of
from backend.core.hashing import keccak256
from backend.core.ocid import normalize_ocid_prefix
from backend.core.records import (
    AnchoredEvent,
    LedgerBatch,
    LedgerRecord,
    ProcessState,
    SealKeyTenure,
    SealKeyWindow,
    tenures_from_events,
)
from backend.core.seal import SealedFields, to_checksum_address
from backend.core.stages import Stage
from backend.errors import ChainError, DeploymentMismatchError, NetworkError

GOVERNANCE_ROLE = Web3.keccak(text="GOVERNANCE_ROLE")
RELAYER_ROLE = Web3.keccak(text="RELAYER_ROLE")
DEFAULT_ADMIN_ROLE = bytes(32)
# Delay before a new governance admin may accept the role (AccessControlDefaultAdminRules).
DEFAULT_ADMIN_DELAY_S = 86_400
LOG_CHUNK_BLOCKS = 10_000
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


def deploy_ledger(
    w3: Web3,
    governance: TransactionSender,
    *,
    relayers: Sequence[str] = (),
    admin_delay: int = DEFAULT_ADMIN_DELAY_S,
    rpc_url: str | None = None,
) -> Deployment:
    """Deploy NoticeLedger with ``governance`` as admin, grant RELAYER_ROLE, return the deployment."""
    artifact = load_artifact()
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = governance.transact(factory.constructor(admin_delay, governance.address))
    address = receipt["contractAddress"]
    if address is None:
        raise ChainError("deployment transaction created no contract")
    ledger = w3.eth.contract(address=address, abi=artifact.abi)
    for relayer in relayers:
        governance.transact(ledger.functions.grantRole(RELAYER_ROLE, Web3.to_checksum_address(relayer)))
    code = bytes(w3.eth.get_code(address))
    code_hash = masked_code_hash(code, artifact.immutable_ranges)
    if code_hash != artifact.code_hash:
        raise DeploymentMismatchError("deployed code differs from the artifact just deployed")
    return Deployment(
        chain_id=governance.chain_id,
        ledger=str(address),
        code_hash=code_hash,
        block_number=int(receipt["blockNumber"]),
        block_hash="0x" + bytes(receipt["blockHash"]).hex(),
        tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
        governance=governance.address,
        relayers=[Web3.to_checksum_address(r) for r in relayers],
        compiler=artifact.compiler_version,
        source_hash=artifact.source_hash,
        deployed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        rpc_url=rpc_url,
    )


class Ledger:
    """A connected NoticeLedger. Construction checks the chain id and the deployed code."""

    def __init__(
        self,
        w3: Web3,
        deployment: Deployment,
        *,
        artifact: ContractArtifact | None = None,
        check: bool = True,
    ) -> None:
        self.w3 = w3
        self.deployment = deployment
        self.artifact = artifact or load_artifact()
        self.address = Web3.to_checksum_address(deployment.ledger)
        self.contract: Contract = w3.eth.contract(address=self.address, abi=self.artifact.abi)
        if check:
            self.check_deployment()

    # ---------------------------------------------------------------- safety checks

    def check_deployment(self) -> None:
        """Refuse a chain id or deployed code that does not match the deployment file and artifact."""
        try:
            chain_id = int(self.w3.eth.chain_id)
            code = bytes(self.w3.eth.get_code(self.address))
        except requests.exceptions.ConnectionError as exc:
            raise NetworkError(
                f"cannot reach the chain ({type(exc).__name__})",
                hint="is the devnet running? 'tenderledger devnet status'",
            ) from exc
        check_deployed_code(
            self.artifact,
            chain_id=chain_id,
            address=self.address,
            code=code,
            expected_chain_id=self.deployment.chain_id,
            expected_code_hash=self.deployment.code_hash,
        )

    # ---------------------------------------------------------------- reads

    def _call(self, name: str, *args: Any, block: int | str = "latest") -> Any:
        try:
            return getattr(self.contract.functions, name)(*args).call(block_identifier=block)
        except requests.exceptions.ConnectionError as exc:
            raise NetworkError(f"cannot reach the chain ({type(exc).__name__})") from exc
        except revert_exceptions() as exc:
            raise refusal_of(exc) from exc

    @staticmethod
    def _record(raw: Sequence[Any]) -> LedgerRecord | None:
        digest, signer, agency, block_number, timestamp, stage = raw
        if signer == ZERO_ADDRESS:
            return None
        return LedgerRecord(
            digest=bytes(digest),
            signer=str(signer),
            agency=int(agency),
            block_number=int(block_number),
            timestamp=int(timestamp),
            stage=Stage(int(stage)),
        )

    def record_by_key(self, key: bytes, *, block: int | str = "latest") -> LedgerRecord | None:
        return self._record(self._call("recordByKey", key, block=block))

    def record_by_digest(self, digest: bytes, *, block: int | str = "latest") -> LedgerRecord | None:
        return self._record(self._call("recordByDigest", digest, block=block))

    def records_by_key(self, keys: Sequence[bytes]) -> list[LedgerRecord | None]:
        return [self._record(raw) for raw in self._call("recordsByKey", list(keys))] if keys else []

    def records_by_digest(self, digests: Sequence[bytes]) -> list[LedgerRecord | None]:
        return [self._record(raw) for raw in self._call("recordsByDigest", list(digests))] if digests else []

    def batch_record(self, root: bytes) -> LedgerBatch | None:
        signer, agency, block_number, timestamp = self._call("batchRecord", root)
        if signer == ZERO_ADDRESS:
            return None
        return LedgerBatch(
            root=root,
            signer=str(signer),
            agency=int(agency),
            block_number=int(block_number),
            timestamp=int(timestamp),
        )

    def process(self, ocid_hash: bytes) -> ProcessState:
        agency, deadline, has_tender, cancelled, notices, first_award_at = self._call("processOf", ocid_hash)
        return ProcessState(
            agency=int(agency),
            deadline=int(deadline),
            has_tender=bool(has_tender),
            cancelled=bool(cancelled),
            notices=int(notices),
            first_award_at=int(first_award_at),
        )

    def seal_key(self, address: str) -> SealKeyWindow:
        agency, added, revoked = self._call("sealKey", Web3.to_checksum_address(address))
        return SealKeyWindow(agency=int(agency), added_block=int(added), revoked_block=int(revoked))

    def agency_id(self, name: str) -> int:
        return int(self._call("agencyOf", name))

    def agency_name(self, agency: int) -> str | None:
        """The registered name of ``agency``, from its AgencyRegistered event."""
        logs = self._logs("AgencyRegistered", argument_filters={"agency": agency})
        return str(logs[0]["args"]["name"]) if logs else None

    def counts(self) -> tuple[int, int]:
        agencies, batches = self._call("counts")
        return int(agencies), int(batches)

    def has_role(self, role: bytes, account: str) -> bool:
        return bool(self._call("hasRole", role, Web3.to_checksum_address(account)))

    # ---------------------------------------------------------------- governance

    def register_agency(self, governance: TransactionSender, name: str) -> int:
        receipt = governance.transact(self.contract.functions.registerAgency(name))
        (event,) = self.contract.events.AgencyRegistered().process_receipt(receipt)
        return int(event["args"]["agency"])

    def add_seal_key(self, governance: TransactionSender, agency: int, key: str) -> TxReceipt:
        return governance.transact(self.contract.functions.addSealKey(agency, Web3.to_checksum_address(key)))

    def revoke_seal_key(self, governance: TransactionSender, key: str) -> TxReceipt:
        return governance.transact(self.contract.functions.revokeSealKey(Web3.to_checksum_address(key)))

    def reserve_ocid_prefix(self, governance: TransactionSender, agency: int, prefix: str) -> TxReceipt:
        """Reserve ``prefix`` (``scheme-publisher``, lowercased here) for ``agency``."""
        return governance.transact(
            self.contract.functions.reserveOcidPrefix(agency, normalize_ocid_prefix(prefix))
        )

    def prefix_owner(self, prefix: str) -> int:
        """The agency ``prefix`` is reserved for, 0 when none."""
        return int(self._call("prefixOwner", keccak256(normalize_ocid_prefix(prefix).encode())))

    def grant_relayer(self, governance: TransactionSender, relayer: str) -> TxReceipt:
        return governance.transact(
            self.contract.functions.grantRole(RELAYER_ROLE, Web3.to_checksum_address(relayer))
        )

    # ---------------------------------------------------------------- anchoring

    def anchor_notice(self, sender: TransactionSender, fields: SealedFields, seal: bytes) -> TxReceipt:
        return sender.transact(self.contract.functions.anchorNotice(fields.as_tuple(), seal))

    def anchor_notices(
        self, sender: TransactionSender, items: Sequence[tuple[SealedFields, bytes]]
    ) -> TxReceipt:
        return sender.transact(
            self.contract.functions.anchorNotices([f.as_tuple() for f, _ in items], [s for _, s in items])
        )

    def anchor_batch(
        self, sender: TransactionSender, root: bytes, size: int, label: str, seal: bytes
    ) -> TxReceipt:
        return sender.transact(self.contract.functions.anchorBatch((root, size, label), seal))

    # ---------------------------------------------------------------- events

    def _logs(
        self,
        event: str,
        *,
        from_block: int | None = None,
        to_block: int | str = "latest",
        argument_filters: dict[str, Any] | None = None,
    ) -> list[Any]:
        start = self.deployment.block_number if from_block is None else from_block
        end = int(self.w3.eth.block_number) if to_block == "latest" else int(to_block)
        found: list[Any] = []
        handle = getattr(self.contract.events, event)()
        for low in range(start, end + 1, LOG_CHUNK_BLOCKS):
            high = min(low + LOG_CHUNK_BLOCKS - 1, end)
            try:
                found.extend(
                    handle.get_logs(from_block=low, to_block=high, argument_filters=argument_filters)
                )
            except requests.exceptions.ConnectionError as exc:
                raise NetworkError(f"cannot reach the chain ({type(exc).__name__})") from exc
        return found

    def _raw_logs(
        self,
        topic: bytes,
        *,
        filters: Sequence[Sequence[bytes] | bytes | None] = (),
        from_block: int | None = None,
        to_block: int | str = "latest",
    ) -> list[Any]:
        """Raw logs of one event of the ledger, in chain order; ``filters`` are the indexed topics."""
        start = self.deployment.block_number if from_block is None else from_block
        end = int(self.w3.eth.block_number) if to_block == "latest" else int(to_block)
        topics: list[Any] = ["0x" + topic.hex()]
        for wanted in filters:
            if wanted is None or isinstance(wanted, bytes):
                topics.append(None if wanted is None else "0x" + wanted.hex())
            else:
                topics.append(["0x" + value.hex() for value in wanted])
        while topics and topics[-1] is None:
            topics.pop()
        found: list[Any] = []
        for low in range(start, end + 1, LOG_CHUNK_BLOCKS):
            high = min(low + LOG_CHUNK_BLOCKS - 1, end)
            query: Any = {"address": self.address, "fromBlock": low, "toBlock": high, "topics": topics}
            try:
                found.extend(self.w3.eth.get_logs(query))
            except requests.exceptions.ConnectionError as exc:
                raise NetworkError(f"cannot reach the chain ({type(exc).__name__})") from exc
        return found

    def _notice_events(self, position: int, values: Sequence[bytes]) -> Iterator[AnchoredEvent]:
        """NoticeAnchored events whose indexed topic ``position`` (1 key, 2 ocid hash, 3 digest) is
        one of ``values`` (one log query per 256 values)."""
        for start in range(0, len(values), 256):
            filters: list[Sequence[bytes] | None] = [None] * (position - 1)
            filters.append(list(values[start : start + 256]))
            yield from logs.notice_events_in(
                self._raw_logs(logs.TOPIC_NOTICE_ANCHORED, filters=filters), self.address
            )

    def notice_events_for_keys(self, keys: Sequence[bytes]) -> Iterator[AnchoredEvent]:
        """NoticeAnchored events of the given notice keys."""
        return self._notice_events(1, keys)

    def notice_events_for_processes(self, ocid_hashes: Sequence[bytes]) -> Iterator[AnchoredEvent]:
        """NoticeAnchored events of the given processes (keccak of their ocids)."""
        return self._notice_events(2, ocid_hashes)

    def notice_events_for_digests(self, digests: Sequence[bytes]) -> Iterator[AnchoredEvent]:
        """NoticeAnchored events of the given digests."""
        return self._notice_events(3, digests)

    def batch_events(self, root: bytes) -> list[BatchEvent]:
        """The BatchAnchored event of a batch root (empty when it is not on the ledger)."""
        return list(
            logs.batch_events_in(self._raw_logs(logs.TOPIC_BATCH_ANCHORED, filters=[root]), self.address)
        )

    def agency_names(self) -> dict[int, str]:
        """Every registered agency's name, from AgencyRegistered events."""
        return {
            int(log["args"]["agency"]): str(log["args"]["name"]) for log in self._logs("AgencyRegistered")
        }

    def seal_key_events(self) -> list[SealKeyEvent]:
        """Every SealKeyAdded and SealKeyRevoked event, in chain order."""
        found = [
            SealKeyEvent(
                key=to_checksum_address(log["args"]["key"]),
                agency=int(log["args"]["agency"]),
                added=name == "SealKeyAdded",
                block_number=int(log["blockNumber"]),
                log_index=int(log["logIndex"]),
            )
            for name in ("SealKeyAdded", "SealKeyRevoked")
            for log in self._logs(name)
        ]
        return sorted(found, key=lambda e: (e.block_number, e.log_index))

    def prefix_reservations(self) -> list[PrefixReservation]:
        """Every OcidPrefixReserved event, in chain order."""
        found = [
            PrefixReservation(
                prefix=str(log["args"]["prefix"]),
                agency=int(log["args"]["agency"]),
                block_number=int(log["blockNumber"]),
                log_index=int(log["logIndex"]),
            )
            for log in self._logs("OcidPrefixReserved")
        ]
        return sorted(found, key=lambda r: (r.block_number, r.log_index))

    def seal_key_tenures(self) -> dict[str, SealKeyTenure]:
        """Every seal key's tenure, by (block, log index), rebuilt from the key events."""
        return tenures_from_events(
            (e.key, e.agency, e.added, (e.block_number, e.log_index)) for e in self.seal_key_events()
        )

    def all_batch_events(self) -> list[BatchEvent]:
        """Every BatchAnchored event, in chain order."""
        return list(logs.batch_events_in(self._raw_logs(logs.TOPIC_BATCH_ANCHORED), self.address))

    def head(self) -> int:
        """The number of the chain's latest block."""
        try:
            return int(self.w3.eth.block_number)
        except requests.exceptions.ConnectionError as exc:
            raise NetworkError(f"cannot reach the chain ({type(exc).__name__})") from exc

    def block_header(self, number: int) -> tuple[bytes, int]:
        """The hash and timestamp of block ``number``."""
        try:
            block = self.w3.eth.get_block(number)
        except requests.exceptions.ConnectionError as exc:
            raise NetworkError(f"cannot reach the chain ({type(exc).__name__})") from exc
        return bytes(block["hash"]), int(block["timestamp"])

    def notice_events(
        self,
        *,
        from_block: int | None = None,
        to_block: int | str = "latest",
        ocid_hash: bytes | None = None,
        digest: bytes | None = None,
    ) -> Iterator[AnchoredEvent]:
        """NoticeAnchored events in chain order, optionally for one process or one digest."""
        raw = self._raw_logs(
            logs.TOPIC_NOTICE_ANCHORED,
            filters=[None, ocid_hash, digest],
            from_block=from_block,
            to_block=to_block,
        )
        yield from logs.notice_events_in(raw, self.address)
