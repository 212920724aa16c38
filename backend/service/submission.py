"""The notice gateway: the one way notices submitted through the API reach the chain.

Requests arrive on many threads at once; the chain is reached through one relayer
key and, in tests, through an in-process EVM that is not thread-safe. So:

1. Durable first. The notice bytes and a sealed outbox row are committed before
   anything is sent (``AnchorService.keep`` and ``enqueue``). Concurrent requests
   take turns for this step, so they never race each other in the store.
2. One sender. A single worker thread runs the outbox (``service.outbox``): the relayer's nonces
   come from one counter and cannot clash.
3. One transaction per notice. Work is keyed by (agency, notice digest): the outbox
   holds one row per agency and digest, and every request of an agency for a digest
   waits on the same future. Ten identical submissions make one transaction and read
   one receipt.
4. Tenants apart. An agency's submission is settled only by its own anchor: the same
   bytes another agency anchored come back refused (``ProcessOfOtherAgency``), never
   with the other agency's receipt (see ``settlement``).

A request waits for its notices up to a limit; past it the caller is told the work
is pending and the worker carries on, retrying with a growing delay while the chain
is unreachable. Work an earlier process left in the outbox is resumed when the
worker starts, so nothing acknowledged is lost.

A receipt handed out is final only once ``settings.confirmations`` blocks stand on it.
While some are not (never on QBFT, where ``confirmations`` is 1), the worker looks at
them again every ``FINALITY_POLL_S`` seconds, also when nobody submits anything: those
old enough become final, and a notice whose block a reorg (or a node restored from
older state) took away goes back to pending and is anchored again.

Every thread's chain access goes through ``chain.lock.serialize_chain_access``: one
lock held around each JSON-RPC request, so reads can interleave with a slow send.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Final, TypeVar

import requests

from backend.core.receipt import Receipt, hex32, receipt_of_event
from backend.core.records import AnchoredEvent
from backend.core.seal import notice_key
from backend.errors import NetworkError, TenderledgerError
from backend.service.anchoring import AnchorResult, AnchorService, Outcome
from backend.service.context import Backend
from backend.service.intake import InputProblem, Intake
from backend.service.outbox import OutboxRunner
from backend.store import OutboxEntry, OutboxKey
from backend.store.outbox import OPEN_STATUSES, OutboxStatus, WorkKind

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_START_S: Final = 1.0
RETRY_MAX_S: Final = 60.0
CLOSE_TIMEOUT_S: Final = 10.0
FINALITY_POLL_S: Final = 2.0
"""How often the idle worker looks again at receipts that are not final yet."""

DIGEST_CONFLICT: Final = "DigestConflict"
"""The ledger error for an (ocid, release id) already anchored with another digest."""

RECHECKED_REFUSALS: Final = frozenset({"NoticeAlreadyAnchored"})
"""Refusals that can be wrong: another sender (a CLI run on the same outbox) anchored
the notice between the outbox runner's chain lookup and its send. Such a notice is looked
up once more, which finds its receipt."""

# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class SubmittedNotice:
    """One notice of a submission, and for a digest conflict the receipt of what the ledger holds."""

    result: AnchorResult
    existing_receipt: Receipt | None = None


@dataclass(frozen=True)
class Submission:
    """What became of each notice of a request body, in publication order."""

    notices: list[SubmittedNotice]
    skipped: list[InputProblem] = field(default_factory=list)


@dataclass(frozen=True)
class NoticeState:
    """Where one notice stands: ``pending`` (in the outbox), ``anchored`` or ``refused``."""

    digest: bytes
    status: str
    ocid: str
    release_id: str
    receipt: Receipt | None = None
    error: str | None = None
    error_name: str | None = None


# ---------------------------------------------------------------- the gateway


class NoticeGateway:
    """Anchors submitted notices through one worker thread; callers wait on per-digest futures."""

    def __init__(self, backend: Backend, *, wait_s: float) -> None:
        self.backend = backend
        self.wait_s = wait_s
        # Order: _intake_lock before _state_lock, everywhere.
        self._intake_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._waiters: dict[OutboxKey, Future[bool]] = {}  # future of "anchored by this gateway"
        self._owed: set[OutboxKey] = set()  # notices the worker still has to settle
        self._rechecked: set[OutboxKey] = set()
        self._unconfirmed = False  # some receipts wait for confirmations: look at them again
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._lifecycle = threading.Lock()
        self._worker: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start the worker (once); it first resumes open work left in the outbox."""
        with self._lifecycle:
            if self._worker is not None:
                return
            self._stopping.clear()
            self._worker = threading.Thread(target=self._work, name="notice-gateway", daemon=True)
            self._worker.start()

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> bool:
        """Stop the worker; True when it stopped within ``timeout``. Open work stays in the outbox."""
        with self._lifecycle:
            worker, self._worker = self._worker, None
        if worker is None:
            return True
        self._stopping.set()
        self._wake.set()
        worker.join(timeout)
        return not worker.is_alive()

    @property
    def idle(self) -> bool:
        """Whether the worker owes nothing: every notice accepted so far is anchored or refused."""
        with self._state_lock:
            return not self._owed

    @property
    def worker_alive(self) -> bool | None:
        """Whether the worker runs; None before it was started (the first submission starts it)."""
        worker = self._worker
        return None if worker is None else worker.is_alive()

    # ---------------------------------------------------------------- submitting

    def submit(
        self, intake: Intake, *, agency: str, allow_invalid: bool = False, wait_s: float | None = None
    ) -> Submission:
        """Anchor the notices of ``intake`` for ``agency``, waiting for the chain up to ``wait_s``.

        When this returns, every accepted notice is committed to the outbox. A notice not
        settled in time comes back PENDING: the worker goes on with it. Errors raised before
        the outbox commit (an unknown keystore, an unreachable chain) mean nothing was accepted.
        """
        self.start()
        service = AnchorService(self.backend)
        issues = service.validate(intake.notices)
        accepted = [n for n in intake.notices if allow_invalid or n.notice.digest not in issues]
        with self._intake_lock:
            service.keep(intake, intake.notices)
            entries = service.enqueue(accepted, agency=agency)
            futures = self._register(entries)
        if futures:
            self._wake.set()
            wait(futures.values(), timeout=self.wait_s if wait_s is None else wait_s)
        # A future still running when the wait ended may have settled since: its receipt is then new.
        anchored_now = {key[2] for key, future in futures.items() if not future.done() or future.result()}
        results = self._as_settled_for(
            agency, service.results(intake, accepted, issues, anchored_now=anchored_now)
        )
        notices = []
        for result in results:
            existing = None
            if result.outcome is Outcome.REFUSED and result.error_name == DIGEST_CONFLICT:
                existing = self._existing_receipt(result.ocid, result.release_id)
            notices.append(SubmittedNotice(result, existing))
        return Submission(notices, skipped=list(intake.problems))

    def _as_settled_for(self, agency: str, results: list[AnchorResult]) -> list[AnchorResult]:
        """``results`` as ``agency``'s own outbox rows have them.

        Receipts are stored by digest, so a result can find the receipt of the same bytes
        anchored by another agency: only a settled row of ``agency`` may carry one. A row
        still open is pending; a refused one is refused, with its own error.
        """
        own = {
            hex32(bytes.fromhex(e.subject)): e
            for e in self.backend.store.outbox_by_subjects(
                ((WorkKind.NOTICE, r.digest.removeprefix("0x")) for r in results), agency=agency
            )
        }
        for result in results:
            entry = own.get(result.digest)
            if result.outcome is Outcome.INVALID or entry is None or entry.status.is_settled:
                continue
            result.receipt = None
            refused = entry.status is OutboxStatus.REFUSED
            result.outcome = Outcome.REFUSED if refused else Outcome.PENDING
            result.error, result.error_name = (entry.error, entry.error_name) if refused else (None, None)
        return results

    def _register(self, entries: Iterable[OutboxEntry]) -> dict[OutboxKey, Future[bool]]:
        """Futures for the entries not yet settled; a refused entry is judged again."""
        entries = list(entries)
        refused = [e.id for e in entries if e.status is OutboxStatus.REFUSED]
        if refused:
            # A resubmission asks again: the refusal may no longer hold (the deadline has passed).
            self.backend.store.set_status(refused, OutboxStatus.PENDING, clear_tx=True)
        keys = {e.key for e in entries if e.status.is_open or e.status is OutboxStatus.REFUSED}
        with self._state_lock:
            self._owed |= keys
            self._rechecked -= keys
            return {key: self._waiters.setdefault(key, Future()) for key in keys}

    # ---------------------------------------------------------------- the worker

    def _work(self) -> None:
        self._resume_outbox()
        delay = 0.0
        while not self._stopping.is_set():
            with self._state_lock:
                idle = not self._owed
            if idle:
                woken = self._wake.wait(FINALITY_POLL_S if self._unconfirmed else None)
                if not woken and not self._stopping.is_set():
                    self._finalize()
            elif delay:
                self._wake.wait(delay)
            self._wake.clear()
            if self._stopping.is_set():
                return
            with self._state_lock:
                work = set(self._owed)
            if not work:
                continue
            delay = 0.0 if self._dispatch(work) else min(RETRY_MAX_S, max(RETRY_START_S, 2 * delay))

    def _finalize(self) -> None:
        """Receipts deep enough become final; notices whose block left the chain are owed again."""
        try:
            self._reopen(OutboxRunner(self.backend).finalize())
        except TenderledgerError as error:
            log.warning("cannot check receipts for finality, will retry: %s", error.diagnostics())
        except Exception:
            log.exception("cannot check receipts for finality, will retry")

    def _reopen(self, entries: Iterable[OutboxEntry]) -> None:
        """Entries put back to pending (their block is gone) are work again; note what waits for blocks."""
        keys = {e.key for e in entries if e.kind is WorkKind.NOTICE}
        if keys:
            log.warning("%d notices lost their block (a reorg, or a node behind): anchoring again", len(keys))
            with self._state_lock:
                self._owed |= keys
        self._unconfirmed = bool(
            self.backend.store.outbox(statuses=(OutboxStatus.ANCHORED,), kind=WorkKind.NOTICE, limit=1)
        )

    def _resume_outbox(self) -> None:
        try:
            entries = self.backend.store.outbox(statuses=OPEN_STATUSES, kind=WorkKind.NOTICE)
        except Exception:
            log.exception("cannot read the outbox to resume open work")
            return
        if entries:
            log.info("resuming %d notices left in the outbox", len(entries))
            with self._state_lock:
                self._owed.update(e.key for e in entries)
        try:
            self._reopen([])
        except Exception:
            log.exception("cannot read the outbox for receipts waiting for confirmations")

    def _dispatch(self, work: set[OutboxKey]) -> bool:
        """One outbox run over ``work``; True when everything settled or was requeued on purpose."""
        anchored: set[str] = set()
        sent_ok = False
        try:
            entries = self.backend.store.outbox_by_keys(sorted(work))
            dispatcher = OutboxRunner(self.backend)
            try:
                # Outbox order is publication order: a tender goes before the award that follows it.
                dispatcher.run(sorted(entries, key=lambda e: e.id))
                sent_ok = True
            finally:
                anchored = set(dispatcher.report.anchored_subjects)
                # Finalizing looks at every receipt of the store: earlier work may have lost its block.
                reopened = self.backend.store.outbox_by_subjects(
                    (WorkKind.NOTICE, s) for s in sorted(dispatcher.report.reopened)
                )
                self._reopen(e for e in reopened if e.key not in work and e.status.is_open)
        except TenderledgerError as error:
            log.warning("anchoring paused, will retry: %s", error.diagnostics())
        except Exception:
            log.exception("anchoring failed unexpectedly, will retry")
        try:
            return self._settle(work, anchored) and sent_ok
        except Exception:
            log.exception("cannot read the outcome of anchoring, will retry")
            return False

    def _settle(self, work: set[OutboxKey], anchored: set[str]) -> bool:
        """Resolve the futures of settled work; True unless something is left open for no reason."""
        store = self.backend.store
        # Under the intake lock, a resubmission cannot reopen an entry between reading and resolving it.
        with self._intake_lock:
            entries = {e.key: e for e in store.outbox_by_keys(work)}
            with self._state_lock:
                rechecked = set(self._rechecked)
            done: dict[OutboxKey, bool] = {}
            recheck: list[OutboxEntry] = []
            for key in work:
                entry = entries.get(key)
                if entry is None or entry.status.is_settled:
                    done[key] = key[2] in anchored
                elif entry.status is OutboxStatus.REFUSED:
                    if entry.error_name in RECHECKED_REFUSALS and key not in rechecked:
                        recheck.append(entry)
                    else:
                        done[key] = False
            if recheck:
                store.set_status([e.id for e in recheck], OutboxStatus.PENDING, clear_tx=True)
            with self._state_lock:
                self._rechecked.update(e.key for e in recheck)
                for key, fresh in done.items():
                    self._owed.discard(key)
                    self._rechecked.discard(key)
                    future = self._waiters.pop(key, None)
                    if future is not None:
                        future.set_result(fresh)
                left_open = (self._owed & work) - {e.key for e in recheck}
        return not left_open

    # ---------------------------------------------------------------- reading state

    def state(self, digest: bytes) -> NoticeState | None:
        """Where the notice with ``digest`` stands; None when neither the store nor the chain knows it."""
        store = self.backend.store
        receipt = store.receipt(digest)
        if receipt is not None:
            fields = receipt.fields
            return NoticeState(digest, "anchored", fields.ocid, fields.release_id, receipt=receipt)
        entries = store.outbox_by_subjects([(WorkKind.NOTICE, digest.hex())])
        if entries:
            # Several agencies may have sent these bytes: one still in the works makes it pending.
            entry = next((e for e in entries if e.status.is_open), entries[0])
            if entry.status is OutboxStatus.REFUSED:
                return NoticeState(
                    digest,
                    "refused",
                    entry.ocid,
                    entry.release_id,
                    error=entry.error,
                    error_name=entry.error_name,
                )
            return NoticeState(digest, "pending", entry.ocid, entry.release_id)
        # Anchored elsewhere (another server, the command line on another machine): ask the chain.
        events = _on_chain(lambda: list(self.backend.ledger.notice_events_for_digests([digest])))
        if not events:
            return None
        event = events[0]
        return NoticeState(
            digest, "anchored", event.fields.ocid, event.fields.release_id, receipt=self._receipt_of(event)
        )

    def _existing_receipt(self, ocid: str, release_id: str) -> Receipt | None:
        """The receipt of what the ledger holds under (ocid, release id), from the store or the chain."""
        try:
            key = notice_key(ocid, release_id)
            record = _on_chain(lambda: self.backend.ledger.record_by_key(key))
            if record is None:
                return None
            stored = self.backend.store.receipt(record.digest)
            if stored is not None:
                return stored
            events = _on_chain(lambda: list(self.backend.ledger.notice_events_for_keys([key])))
            for event in events:
                if event.digest == record.digest:
                    return self._receipt_of(event)
        except TenderledgerError as error:
            # The refusal stands without it; the caller can still look the notice up later.
            log.warning(
                "cannot fetch the receipt of the anchored %s / %s: %s", ocid, release_id, error.message
            )
        return None

    def _receipt_of(self, event: AnchoredEvent) -> Receipt:
        ledger = self.backend.ledger
        _hash, timestamp = _on_chain(lambda: ledger.block_header(event.block_number))
        return receipt_of_event(
            event,
            chain_id=ledger.deployment.chain_id,
            ledger=ledger.address,
            agency_name=_on_chain(lambda: ledger.agency_name(event.agency)),
            block_timestamp=timestamp,
        )


def _on_chain(call: Callable[[], T]) -> T:
    """Run a chain read; a dropped connection becomes the NetworkError the API reports as 503."""
    try:
        return call()
    except requests.exceptions.ConnectionError as exc:
        # The exception's text quotes the endpoint's path and query, where credentials may be.
        raise NetworkError(f"cannot reach the chain ({type(exc).__name__})") from exc
