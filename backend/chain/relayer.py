"""The relayer: signs the ledger's transactions with its own key, sends them, and sees them mined.

Transactions are signed here (never by the node) as legacy EIP-155 transactions at
the node's gas price. Nonces are kept locally, so that several transactions are in
flight at once; each is simulated with ``eth_call`` first, so that a refusal comes
back as the ledger's decoded error before anything is sent.

Things fail. While the node is unreachable, every call is retried with a growing,
bounded delay (:class:`Retry`); then a ``NetworkError`` ends the run and the work
stays where it was. A transaction that stops making progress is looked up
(:meth:`Relayer.repair`): dropped from the node's pool, or lost in a node restart,
it is broadcast again with its recorded bytes, in nonce order; its nonce taken by
another sender, it is handed back to be signed again. When the node comes back from
an older state, its nonce for the relayer is below the ones in flight: the gap is
filled first with the relayer's own mined transactions, sent again from their bytes.

What a transaction carries is the caller's business: a :class:`Flight` holds it as
``work``, untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from eth_account.signers.local import LocalAccount

from backend.chain.revert import decode_revert
from backend.chain.rpc import RpcClient, RpcError, revert_bytes
from backend.core.seal import to_checksum_address
from backend.errors import ChainError, LedgerRevertError, NetworkError

T = TypeVar("T")
W = TypeVar("W")

NETWORK_RETRIES = 8
BACKOFF_START_S = 0.25
BACKOFF_MAX_S = 8.0
BLOCK_GAS_SHARE = 0.9
LOOKUP_CHUNK = 256


@dataclass(frozen=True)
class Retry:
    """Retrying while the chain is unreachable: ``attempts`` tries, the delay doubling from
    ``start_s`` up to ``max_s``."""

    attempts: int
    start_s: float
    max_s: float

    @classmethod
    def default(cls) -> Retry:
        """The module's schedule, read when a retry is made (not when this module is imported)."""
        return cls(NETWORK_RETRIES, BACKOFF_START_S, BACKOFF_MAX_S)

    def delay(self, attempt: int) -> float:
        return float(min(self.max_s, self.start_s * 2**attempt))

    def sleep(self, attempt: int) -> None:
        time.sleep(self.delay(attempt))

    def run(self, call: Callable[[], T]) -> T:
        """``call()``, retried while the chain is unreachable; NetworkError once the tries are spent."""
        for attempt in range(self.attempts):
            try:
                return call()
            except NetworkError as exc:
                if attempt == self.attempts - 1:
                    raise NetworkError(
                        f"the chain keeps failing: {exc.message}",
                        hint="the work stays in the outbox; run the command again later",
                    ) from exc
                self.sleep(attempt)
        raise AssertionError("unreachable")


@dataclass
class Flight(Generic[W]):
    """One signed transaction, and the work it carries."""

    work: W
    data: bytes
    gas: int
    nonce: int
    tx_hash: str
    raw_tx: str
    sent_at: float = field(default_factory=time.monotonic)


@dataclass
class Broadcast(Generic[W]):
    """What a broadcast did: the flights now in the air, and those the node would not take
    (the first refused and every later one, in nonce order) with the node's error."""

    sent: list[Flight[W]]
    returned: list[Flight[W]]
    error: RpcError | None = None


class Relayer:
    """The relayer key's view of one chain and one contract: reads, signing, sending."""

    def __init__(
        self,
        rpc: RpcClient,
        account: LocalAccount,
        *,
        contract: str,
        chain_id: int,
        retry: Retry | None = None,
    ) -> None:
        self.rpc = rpc
        self.account = account
        self.sender = to_checksum_address(account.address)
        self.contract = contract
        self.chain_id = chain_id
        self.retry = retry or Retry.default()
        self.rebroadcasts = 0
        self._nonce: int | None = None
        self._gas_price: int | None = None
        self._gas_cap: int | None = None
        self._landed: dict[int, str] = {}  # nonce -> signed bytes of this relayer's mined transactions
        self._block_times: dict[str, int] = {}  # by block hash: a height can change hands in a reorg

    # ---------------------------------------------------------------- reads, retried

    def call(self, method: str, params: Sequence[Any]) -> Any:
        """One JSON-RPC request, retried while the chain is unreachable."""
        return self.retry.run(lambda: self.rpc.call(method, params))

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        """Several requests in one round trip, retried while the chain is unreachable."""
        return self.retry.run(lambda: self.rpc.batch(calls))

    def latest_block(self) -> int:
        return int(self.call("eth_blockNumber", []), 16)

    def block_hashes(self, heights: Iterable[int]) -> dict[int, str | None]:
        """The chain's block hash at each height (None above the head)."""
        ordered = sorted(set(heights))
        hashes: dict[int, str | None] = {}
        for start in range(0, len(ordered), LOOKUP_CHUNK):
            chunk = ordered[start : start + LOOKUP_CHUNK]
            blocks = self.batch([("eth_getBlockByNumber", [hex(h), False]) for h in chunk])
            for height, block in zip(chunk, blocks, strict=True):
                hashes[height] = block.get("hash") if isinstance(block, dict) else None
        return hashes

    def note_block_time(self, block_hash: str, timestamp: int) -> None:
        """A block's timestamp learnt elsewhere (a log that carries it): no request for it later."""
        self._block_times.setdefault(block_hash, timestamp)

    def block_time(self, block_number: int, block_hash: str) -> int:
        """The timestamp of the block with ``block_hash`` (by number if the chain no longer has it)."""
        if block_hash not in self._block_times:
            block = self.call("eth_getBlockByHash", [block_hash, False])
            if not isinstance(block, dict):
                block = self.call("eth_getBlockByNumber", [hex(block_number), False])
            self._block_times[block_hash] = int(block["timestamp"], 16)
        return self._block_times[block_hash]

    def block_gas_cap(self) -> int:
        """The gas one transaction may use: a share of the latest block's limit."""
        if self._gas_cap is None:
            block = self.call("eth_getBlockByNumber", ["latest", False])
            self._gas_cap = int(int(block["gasLimit"], 16) * BLOCK_GAS_SHARE)
        return self._gas_cap

    def transactions(self, tx_hashes: Sequence[str]) -> list[dict[str, Any] | None]:
        """The node's view of each transaction (pending or mined); None for one it does not know."""
        found = self.batch([("eth_getTransactionByHash", [h]) for h in tx_hashes])
        return [tx if isinstance(tx, dict) else None for tx in found]

    def known(self, tx_hash: str) -> dict[str, Any] | None:
        """The node's view of one transaction, or None when it does not know it."""
        try:
            found = self.call("eth_getTransactionByHash", [tx_hash])
        except RpcError:
            return None
        return found if isinstance(found, dict) else None

    def receipts(self, tx_hashes: Sequence[str]) -> list[dict[str, Any] | None]:
        """The receipt of each transaction; None for one not mined (or not known)."""
        found = self.batch([("eth_getTransactionReceipt", [h]) for h in tx_hashes])
        return [r if isinstance(r, dict) else None for r in found]

    def mined_nonce(self) -> int:
        """How many of the relayer's transactions the chain has mined."""
        return int(self.call("eth_getTransactionCount", [self.sender, "latest"]), 16)

    # ---------------------------------------------------------------- signing

    def simulate(self, data: bytes, gas: int) -> None:
        """Run the call against the pending state; raise the ledger's decoded refusal if it would revert."""
        call = {"from": self.sender, "to": self.contract, "data": "0x" + data.hex(), "gas": hex(gas)}
        try:
            self.call("eth_call", [call, "pending"])
        except RpcError as error:
            raw = revert_bytes(error)
            decoded = decode_revert(raw) if raw else None
            if decoded is None:
                raise ChainError(f"the chain refused the call: {error.rpc_message}") from error
            raise LedgerRevertError(decoded.name, decoded.args) from error

    def sign(self, work: W, data: bytes, gas: int) -> Flight[W]:
        """Sign a call of the contract with ``data`` and the next nonce; nothing is sent."""
        nonce = self._next_nonce()
        tx: dict[str, Any] = {
            "nonce": nonce,
            "gasPrice": self._price(),
            "gas": gas,
            "to": self.contract,
            "value": 0,
            "data": data,
            "chainId": self.chain_id,
        }
        signed = self.account.sign_transaction(tx)
        return Flight(
            work=work,
            data=data,
            gas=gas,
            nonce=nonce,
            tx_hash="0x" + bytes(signed.hash).hex(),
            raw_tx="0x" + bytes(signed.raw_transaction).hex(),
        )

    def forget_nonce(self) -> None:
        """The next nonce is asked of the chain again (the local count is no longer to be trusted)."""
        self._nonce = None

    def _next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = int(self.call("eth_getTransactionCount", [self.sender, "pending"]), 16)
        nonce = self._nonce
        self._nonce += 1
        return nonce

    def _price(self) -> int:
        if self._gas_price is None:
            self._gas_price = int(self.call("eth_gasPrice", []), 16)
        return self._gas_price

    # ---------------------------------------------------------------- sending

    def broadcast(
        self, ready: list[Flight[W]], write_ahead: Callable[[Sequence[Flight[W]]], None]
    ) -> Broadcast[W]:
        """``write_ahead(flights)``, then broadcast them in nonce order.

        Flights signed again (their nonce taken by another sender) are written ahead
        again before they go. A flight the node refuses outright comes back, with every
        later one, in ``returned``.
        """
        pending = list(ready)
        write_ahead(pending)
        sent: list[Flight[W]] = []
        attempt = 0
        while pending:
            flight = pending[0]
            try:
                self.rpc.call("eth_sendRawTransaction", [flight.raw_tx])
            except RpcError as error:
                if not _already_known(error):
                    if not _nonce_problem(error):
                        self._nonce = None
                        return Broadcast(sent, pending, error)
                    # "Nonce too low" for our own transaction: an earlier attempt (one whose
                    # answer was lost with the connection) reached the node. It is sent.
                    if self.known(flight.tx_hash) is None:
                        # Another sender used this key, or the node forgot our nonces: sign the
                        # rest again from the chain's count, write them ahead again, go on.
                        attempt += 1
                        if attempt >= self.retry.attempts:
                            raise ChainError(f"nonce trouble does not clear: {error.rpc_message}") from error
                        self._nonce = None
                        pending = [self.sign(f.work, f.data, f.gas) for f in pending]
                        write_ahead(pending)
                        continue
            except NetworkError as error:
                attempt += 1
                if attempt >= self.retry.attempts:
                    raise NetworkError(
                        "the chain did not take the transactions after several attempts",
                        hint="the work stays in the outbox; run the command again when the chain is back",
                    ) from error
                self.retry.sleep(attempt)
                continue  # the same bytes again: their nonce is still ours
            flight.sent_at = time.monotonic()
            sent.append(pending.pop(0))
        return Broadcast(sent, [])

    @staticmethod
    def raise_unless_refusal(error: RpcError) -> None:
        """A node's refusal to take a transaction that is not a ledger refusal ends the run."""
        raw = revert_bytes(error)
        if (decode_revert(raw) if raw else None) is None:
            raise ChainError(f"the chain did not take the transaction: {error.rpc_message}") from error

    def collect(
        self, inflight: list[Flight[W]]
    ) -> tuple[list[tuple[Flight[W], dict[str, Any]]], list[Flight[W]]]:
        """The flights of ``inflight`` that were mined, taken out of it: those that succeeded, with
        their receipts, and those that reverted (the chain moved since their simulation)."""
        receipts = self.receipts([flight.tx_hash for flight in inflight])
        succeeded: list[tuple[Flight[W], dict[str, Any]]] = []
        reverted: list[Flight[W]] = []
        for flight, receipt in zip(list(inflight), receipts, strict=True):
            if receipt is None:
                continue
            inflight.remove(flight)
            self._landed[flight.nonce] = flight.raw_tx
            if int(receipt["status"], 16) == 1:
                succeeded.append((flight, receipt))
            else:
                reverted.append(flight)
        return succeeded, reverted

    def repair(self, inflight: list[Flight[W]]) -> list[Flight[W]]:
        """Transactions that stopped progressing: fill a nonce gap, rebroadcast the lost; always in
        nonce order. Returns the flights that can never be mined (taken out of ``inflight``), in the
        order their work is to go back to the front of the queue."""
        mined = self.mined_nonce()
        lowest = min(f.nonce for f in inflight)
        if mined < lowest and not self._fill_gap(range(mined, lowest)):
            # The chain lost nonces below ours that this relayer cannot send again (a node restored
            # from a state older than the run): everything in flight is to be signed again.
            self._nonce = None
            lost = sorted(inflight, key=lambda f: f.nonce, reverse=True)
            inflight.clear()
            return lost
        displaced: list[Flight[W]] = []
        for flight in sorted(inflight, key=lambda f: f.nonce):
            if flight.nonce >= mined and self.known(flight.tx_hash) is not None:
                flight.sent_at = time.monotonic()  # still waiting in the pool
                continue
            if flight.nonce < mined:
                if self.call("eth_getTransactionReceipt", [flight.tx_hash]) is not None:
                    continue  # mined after all; the next collection settles it
                # Our nonce was used by another transaction: this one can never be mined.
                inflight.remove(flight)
                self._nonce = None
                displaced.append(flight)
                continue
            # Dropped from the pool, or forgotten by a restarted node: broadcast the same bytes again.
            self._rebroadcast(flight.raw_tx, flight.tx_hash)
            flight.sent_at = time.monotonic()
        return displaced

    def _fill_gap(self, nonces: range) -> bool:
        """Send again, in order, the transactions this relayer got mined with ``nonces`` and the chain
        has since lost (a node restored from older state, a reorg); False if some are not ours."""
        raws = [raw for nonce in nonces if (raw := self._landed.get(nonce)) is not None]
        if len(raws) != len(nonces):
            return False
        for raw in raws:
            self._rebroadcast(raw, "a transaction the chain lost")
        return True

    def _rebroadcast(self, raw_tx: str, what: str) -> None:
        try:
            self.call("eth_sendRawTransaction", [raw_tx])
        except RpcError as error:
            # Already there, or its nonce filled meanwhile: either way, nothing more to do with it.
            if not _already_known(error) and not _nonce_problem(error):
                raise ChainError(f"cannot rebroadcast {what}: {error.rpc_message}") from error
        self.rebroadcasts += 1


def _already_known(error: RpcError) -> bool:
    text = error.rpc_message.lower()
    return "already known" in text or "known transaction" in text or "already imported" in text


def _nonce_problem(error: RpcError) -> bool:
    text = error.rpc_message.lower()
    return "nonce" in text or "replacement transaction underpriced" in text
