"""Crash between steps: the command line dies at a named step, and the next run finishes the work.

The crash is a failpoint (``backend/service/failpoints.py``): ``os._exit`` at the step,
as a power cut would. Each case checks what the crash left behind (so the failpoint is
known to have hit where it says), then runs the same command again and checks that the
work finished without a second anchor, and without a second transaction either: the
rerun looks notices up on chain by key and digest, and recorded transactions up by hash
and nonce, before it sends anything.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from backend.service.failpoints import EXIT_STATUS
from backend.store import EvidenceStore
from tests.faults.conftest import (
    AGENCY,
    ALL_STATUSES,
    Expected,
    FaultChain,
    Miner,
    RpcTap,
    assert_promises,
    counts,
    outcomes,
    run_cli,
    start_cli,
    wait_until,
)

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(120)]

NOTICES = 40  # one anchorNotices transaction
MANY = 300  # three transactions of up to 128 notices, all in flight at once


def _anchor(chain: FaultChain, folder: Path, failpoint: str | None = None) -> CompletedProcess[str]:
    env = {"TENDERLEDGER_FAILPOINT": failpoint} if failpoint else None
    return run_cli(chain.home, "anchor", "--agency", AGENCY, "--json", str(folder), env=env)


def _outbox(chain: FaultChain) -> dict[str, int]:
    store = EvidenceStore(chain.settings().store_url)
    try:
        return counts([e.status for e in store.outbox(statuses=ALL_STATUSES)])
    finally:
        store.close()


def _crashed(result: CompletedProcess[str]) -> None:
    assert result.returncode == EXIT_STATUS, result.stderr
    assert "failpoint" in result.stderr and "Traceback" not in result.stderr


def test_a_crash_after_the_outbox_commit_before_anything_is_sent(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(NOTICES)
    nonce = chain.relayer_nonce()

    _crashed(_anchor(chain, folder, "before-write-ahead"))

    # Acknowledged (committed to the outbox), nothing on chain, no transaction even signed into the store.
    assert _outbox(chain) == {"pending": NOTICES}
    assert chain.anchored_events() == []
    assert chain.relayer_nonce("pending") == nonce

    rerun = _anchor(chain, folder)
    assert rerun.returncode == 0, rerun.stderr
    assert outcomes(rerun) == {"anchored": NOTICES}
    assert chain.relayer_nonce() == nonce + 1
    assert_promises(chain, Expected.of(folder))


def test_a_crash_after_the_write_ahead_before_the_broadcast(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(NOTICES)
    nonce = chain.relayer_nonce()

    _crashed(_anchor(chain, folder, "after-write-ahead"))

    # The signed transaction is recorded (rows "sent", with its hash); the node never saw it.
    assert _outbox(chain) == {"sent": NOTICES}
    assert chain.anchored_events() == []
    assert chain.relayer_nonce("pending") == nonce

    rerun = _anchor(chain, folder)
    assert rerun.returncode == 0, rerun.stderr
    assert outcomes(rerun) == {"anchored": NOTICES}
    assert chain.relayer_nonce() == nonce + 1, "one transaction in all"
    assert_promises(chain, Expected.of(folder))


def test_a_crash_after_the_broadcast_of_a_mined_transaction_before_its_receipt_is_stored(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(MANY)
    nonce = chain.relayer_nonce()

    _crashed(_anchor(chain, folder, "after-broadcast"))

    # Anvil mined the three transactions at once; the store never heard back.
    assert _outbox(chain) == {"sent": MANY}
    assert len(chain.anchored_events()) == MANY
    assert chain.relayer_nonce() == nonce + 3

    rerun = _anchor(chain, folder)
    assert rerun.returncode == 0, rerun.stderr
    assert outcomes(rerun) == {"already_anchored": MANY}
    assert chain.relayer_nonce() == nonce + 3, "the rerun found them by key and digest: nothing sent"
    assert_promises(chain, Expected.of(folder))


def test_a_crash_after_the_broadcast_while_the_transactions_wait_in_the_pool(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    """A chain with block times (QBFT): the transactions are still pending when the rerun starts."""
    folder = releases(MANY)
    nonce = chain.relayer_nonce()
    chain.automine(False)

    _crashed(_anchor(chain, folder, "after-broadcast"))

    assert _outbox(chain) == {"sent": MANY}
    assert chain.anchored_events() == []
    assert chain.relayer_nonce("pending") == nonce + 3, "the three transactions wait in the pool"

    with RpcTap(chain.rpc_url) as tap:
        process = start_cli(
            chain.home, "--rpc-url", tap.url, "anchor", "--agency", AGENCY, "--json", str(folder)
        )
        # No block is mined until the rerun has chosen: send again, or wait for what it sent before.
        wait_until(
            lambda: tap.called("eth_sendRawTransaction", "eth_getTransactionReceipt"), what="the rerun"
        )
        with Miner(chain):
            stdout, stderr = process.communicate(timeout=120)
    rerun = CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert rerun.returncode == 0, rerun.stderr
    assert sum(outcomes(rerun).values()) == MANY
    assert set(outcomes(rerun)) <= {"anchored", "already_anchored"}
    # Looked up by hash before resending: the rerun waited for the recorded transactions.
    assert chain.relayer_nonce() == nonce + 3, "no second transaction for notices already sent"
    assert_promises(chain, Expected.of(folder))


def test_a_crash_after_the_first_receipts_are_stored(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(MANY)
    nonce = chain.relayer_nonce()
    chain.automine(False)

    with Miner(chain, interval=0.3):
        _crashed(_anchor(chain, folder, "after-receipts"))

    settled = _outbox(chain)
    assert settled.get("final", 0) >= 1 and sum(settled.values()) == MANY, settled

    with Miner(chain):
        rerun = _anchor(chain, folder)
    assert rerun.returncode == 0, rerun.stderr
    assert chain.relayer_nonce() == nonce + 3
    assert_promises(chain, Expected.of(folder))
