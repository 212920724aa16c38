"""Reorgs deeper than one block (``anvil_reorg``), with receipts final only after N confirmations.

``confirmations`` is 3 here (1 on QBFT, where a block is final once sealed). A receipt
is final when its block and two more stand on the chain; a reorg of two blocks takes
away anchors that are not final yet, and they are sent again. A reorg that puts the
same transaction into another block only moves the receipts. A reorg deeper than N is
beyond what confirmations promise; anchoring the same notices again still repairs it.
The API's gateway, which anchors in the background, notices a reorg by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import backend.service.submission as submission_module
from backend.chain.lock import serialize_chain_access
from backend.core.receipt import hex32
from backend.service.anchoring import AnchorService, Outcome
from backend.service.audit import StoreAudit
from backend.service.intake import read_paths
from backend.service.outbox import OutboxRunner
from backend.service.submission import NoticeGateway
from backend.service.verification import VerifyService, subjects_of
from backend.store import EvidenceStore
from tests.faults.conftest import (
    AGENCY,
    ALL_STATUSES,
    Expected,
    FaultChain,
    anchor,
    assert_promises,
    counts,
    wait_until,
)

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(120)]

CONFIRMATIONS = 3
GROUP = 10  # notices per transaction: one block each with automine


def _finality(chain: FaultChain, store: EvidenceStore) -> dict[int, tuple[bool, str]]:
    """Block of each stored receipt -> (final?, outbox status of its notices)."""
    status = {e.subject: e.status for e in store.outbox(statuses=ALL_STATUSES)}
    found: dict[int, tuple[bool, str]] = {}
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT digest, block_number, final FROM receipts").fetchall()
    for digest, block, final in rows:
        found.setdefault(int(block), (bool(final), status[digest]))
        assert found[int(block)] == (bool(final), status[digest]), "one block, one state"
    return found


def _assert_final_exactly_after_n_blocks(chain: FaultChain, store: EvidenceStore) -> None:
    latest = chain.block_number()
    for block, (final, status) in _finality(chain, store).items():
        deep_enough = latest - block + 1 >= CONFIRMATIONS
        assert final is deep_enough, f"block {block} of {latest}: final={final}"
        assert status == ("final" if deep_enough else "anchored")


def test_receipts_are_final_only_after_n_confirmations_and_a_reorg_of_two_blocks_is_anchored_again(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(3 * GROUP)
    backend = chain.backend(confirmations=CONFIRMATIONS)

    first = anchor(backend, folder, group_size=GROUP)
    assert first.outcomes == {"anchored": 3 * GROUP}
    _assert_final_exactly_after_n_blocks(chain, backend.store)
    assert counts([s for _, s in _finality(chain, backend.store).values()]) == {"final": 1, "anchored": 2}

    chain.rpc("anvil_reorg", 2, [])  # the last two blocks, and the 20 notices in them, are gone
    assert len(chain.anchored_events()) == GROUP

    again = anchor(backend, folder, group_size=GROUP)
    assert again.outcomes == {"already_anchored": GROUP, "anchored": 2 * GROUP}
    assert again.report.lost == 2 * GROUP
    _assert_final_exactly_after_n_blocks(chain, backend.store)

    chain.mine(CONFIRMATIONS)
    OutboxRunner(backend).finalize()
    _assert_final_exactly_after_n_blocks(chain, backend.store)
    assert set(counts([s for _, s in _finality(chain, backend.store).values()])) == {"final"}
    assert_promises(chain, Expected.of(folder))


def test_a_reorg_that_moves_the_transaction_to_another_block_moves_the_receipts_and_sends_nothing(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(GROUP)
    backend = chain.backend(confirmations=CONFIRMATIONS)
    first = anchor(backend, folder, group_size=GROUP)
    assert first.outcomes == {"anchored": GROUP}
    (receipt,) = {r.receipt.anchor.tx_hash: r.receipt.to_json() for r in first.results if r.receipt}.values()
    raw = backend.store.sent_transaction(receipt["anchor"]["tx_hash"])
    nonce = chain.relayer_nonce()
    chain.mine(1)

    # Two blocks replaced: the anchoring transaction now sits one block higher.
    chain.rpc("anvil_reorg", 2, [[raw, 1]])
    (moved,) = {e.block_number for e in chain.anchored_events()}
    assert moved == receipt["anchor"]["block_number"] + 1

    again = anchor(backend, folder, group_size=GROUP)
    assert again.outcomes == {"already_anchored": GROUP}
    assert chain.relayer_nonce() == nonce, "nothing sent again"
    block = chain.rpc("eth_getBlockByNumber", hex(moved), False)
    for result in again.results:
        assert result.receipt is not None
        assert result.receipt.to_json()["anchor"]["block_number"] == moved
        assert result.receipt.to_json()["anchor"]["block_hash"] == block["hash"]
    assert_promises(chain, Expected.of(folder))


def test_a_reorg_deeper_than_the_confirmations_is_repaired_when_the_notices_are_anchored_again(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(2 * GROUP)
    backend = chain.backend(confirmations=CONFIRMATIONS)
    anchor(backend, folder, group_size=GROUP)
    chain.mine(CONFIRMATIONS)
    OutboxRunner(backend).finalize()
    assert counts([s for _, s in _finality(chain, backend.store).values()]) == {"final": 2}

    chain.rpc("anvil_reorg", CONFIRMATIONS + 2, [])  # deeper than N: final receipts name lost blocks
    assert chain.anchored_events() == []

    again = anchor(backend, folder, group_size=GROUP)
    assert again.outcomes == {"anchored": 2 * GROUP}
    assert_promises(chain, Expected.of(folder))


def test_a_merkle_batch_a_reorg_took_is_anchored_again(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(64)
    backend = chain.backend(confirmations=CONFIRMATIONS)
    chain.mine(CONFIRMATIONS)  # so that the reorg below takes only the batch, not the agency's key
    service = AnchorService(backend)
    first = service.anchor(read_paths([folder]), agency=AGENCY, batch=True)
    assert {r.outcome for r in first} == {Outcome.ANCHORED}
    (batch,) = backend.store.outbox(statuses=ALL_STATUSES, kind="batch")
    assert batch.status == "anchored", "not final: one block of three"
    root = bytes.fromhex(batch.subject)

    chain.rpc("anvil_reorg", 2, [])
    assert chain.ledger.batch_events(root) == []

    again = service.anchor(read_paths([folder]), agency=AGENCY, batch=True)
    assert {r.outcome for r in again} == {Outcome.ANCHORED}
    assert len(chain.ledger.batch_events(root)) == 1, "the root anchored once, again"
    verdicts = list(VerifyService(backend, store=backend.store).verify(subjects_of(read_paths([folder]))))
    assert {str(v.status) for v in verdicts} <= {"anchored", "superseded"} and len(verdicts) == 64
    audit = StoreAudit(backend.ledger, backend.store, complete=True)
    assert list(audit.run()) == []


def test_the_api_gateway_anchors_again_what_a_reorg_took_after_it_answered(
    chain: FaultChain, releases: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(submission_module, "FINALITY_POLL_S", 0.1, raising=False)
    folder = releases(4)
    backend = chain.backend(confirmations=CONFIRMATIONS)
    serialize_chain_access(backend.w3)
    chain.mine(CONFIRMATIONS)  # so that the reorg below takes only the anchor, not the agency's key
    gateway = NoticeGateway(backend, wait_s=60)
    try:
        submission = gateway.submit(read_paths([folder]), agency=AGENCY)
        assert {n.result.outcome for n in submission.notices} == {Outcome.ANCHORED}
        digests = [bytes.fromhex(n.result.digest.removeprefix("0x")) for n in submission.notices]
        answered = {n.result.digest: n.result.receipt for n in submission.notices}
        assert {e.status for e in backend.store.outbox(statuses=ALL_STATUSES)} == {"anchored"}

        chain.rpc("anvil_reorg", 2, [])
        assert chain.anchored_events() == []

        # Nobody submits again: the gateway finds the loss itself and anchors them again.
        wait_until(lambda: len(chain.anchored_events()) == 4, timeout=30, what="the gateway to anchor again")
        chain.mine(CONFIRMATIONS)
        wait_until(
            lambda: {e.status for e in backend.store.outbox(statuses=ALL_STATUSES)} == {"final"},
            timeout=30,
            what="the receipts to become final",
        )
        for digest in digests:
            state = gateway.state(digest)
            assert state is not None and state.status == "anchored" and state.receipt is not None
            assert state.receipt != answered[hex32(digest)], "a new receipt, in a block the chain holds"
    finally:
        assert gateway.close()
    assert_promises(chain, Expected.of(folder))
