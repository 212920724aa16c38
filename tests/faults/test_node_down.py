"""Node down: Anvil stops in the middle of a run and comes back from its saved state, or from an older one.

- Restarted from its saved state (SIGTERM writes it): pending work waits, retrying with a
  bounded, growing delay, and finishes when the node is back.
- Restarted from an older state (SIGKILL, then the state file of some blocks ago): the
  node has forgotten transactions the run had settled, and its nonce for the relayer is
  below the run's. The run sends the forgotten transactions again from their recorded
  bytes, in nonce order, and ends with every notice anchored once, in publication order.
- Down for longer than the command line waits: it gives up with one clear line (exit 3),
  the work stays in the outbox, nothing is reported verified that the chain lacks, and
  the next run finishes the work.
- Restored from older state after a run ended: the anchors the chain lost go back to
  pending when the same notices are anchored again, and are anchored again.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import backend.chain.relayer as relayer_module
from backend.chain.relayer import Retry
from backend.service.outbox import OutboxRunner
from backend.store import EvidenceStore
from tests.faults.conftest import (
    AGENCY,
    ALL_STATUSES,
    Expected,
    FaultChain,
    RpcTap,
    anchor,
    assert_in_publication_order,
    assert_promises,
    counts,
    on_send,
    outcomes,
    run_cli,
    wait_until,
)

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(120)]

NOTICES = 400
OPTIONS = {"group_size": 16, "window": 4, "stall_s": 0.3}  # 25 transactions, 4 in flight
BACKOFF_MAX_S = 0.2
# Small delays and more attempts than the real ones: the same bounded schedule, faster.
FAST_BACKOFF = {"BACKOFF_START_S": 0.02, "BACKOFF_MAX_S": BACKOFF_MAX_S, "NETWORK_RETRIES": 40}
GIVE_UP_SOON = {"BACKOFF_START_S": 0.02, "BACKOFF_MAX_S": 0.05, "NETWORK_RETRIES": 3}


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The relayer's backoff shortened, and every delay it waits recorded."""
    for name, value in FAST_BACKOFF.items():
        monkeypatch.setattr(relayer_module, name, value)
    delays: list[float] = []
    sleep = Retry.sleep

    def recorded(retry: Retry, attempt: int) -> None:
        delays.append(min(relayer_module.BACKOFF_MAX_S, relayer_module.BACKOFF_START_S * 2**attempt))
        sleep(retry, attempt)

    monkeypatch.setattr(Retry, "sleep", recorded)
    return delays


def _on_nth_send(nth: int, action: Callable[[], None]) -> Callable[[OutboxRunner], None]:
    sends = [0]

    def hook(raw_tx: str, send: Callable[[], str]) -> str:
        sends[0] += 1
        if sends[0] == nth:
            action()
        return send()

    return lambda runner: on_send(runner, hook)


def test_pending_work_waits_with_bounded_backoff_while_the_node_is_down_and_finishes_after(
    chain: FaultChain, releases: Callable[..., Path], fast_backoff: list[float]
) -> None:
    folder = releases(NOTICES)
    start = chain.relayer_nonce()
    stopped = threading.Event()

    def stop() -> None:
        chain.quiet()
        chain.stop_node()  # SIGTERM: Anvil writes its state and exits
        stopped.set()

    with RpcTap(lambda: chain.rpc_url) as tap, ThreadPoolExecutor(1) as pool:
        backend = chain.backend(via=tap.url)
        running = pool.submit(anchor, backend, folder, tap=_on_nth_send(6, stop), **OPTIONS)
        assert stopped.wait(timeout=60)
        wait_until(lambda: len(fast_backoff) >= 4, what="the run to back off")
        assert not running.done(), "the run waits for the node"
        chain.start_node()
        done = running.result(timeout=120)

    assert done.outcomes == {"anchored": NOTICES}
    # The delays grew, and never beyond the bound.
    assert fast_backoff[:3] == sorted(fast_backoff[:3])
    assert max(fast_backoff) <= BACKOFF_MAX_S
    assert chain.relayer_nonce() == start + NOTICES // 16, "one transaction per group, none twice"
    assert_in_publication_order(chain, backend.store)
    assert_promises(chain, Expected.of(folder))


def test_a_node_restarted_from_an_older_state_gets_the_lost_transactions_again_in_nonce_order(
    chain: FaultChain, releases: Callable[..., Path], fast_backoff: list[float]
) -> None:
    folder = releases(NOTICES)
    start = chain.relayer_nonce()
    older: list[bytes] = []

    def snapshot() -> None:
        chain.quiet()
        older.append(chain.snapshot())

    def restore() -> None:
        chain.restore(older[0])  # crash, then start from the state of some blocks ago

    snapshot_then_restore = _on_nth_send(4, snapshot)
    restore_later = _on_nth_send(12, restore)

    def tap(runner: OutboxRunner) -> None:
        snapshot_then_restore(runner)
        restore_later(runner)

    with RpcTap(lambda: chain.rpc_url) as proxy:
        backend = chain.backend(via=proxy.url)
        done = anchor(backend, folder, tap=tap, **OPTIONS)

    assert older and chain.relayer_nonce() >= start + NOTICES // 16
    assert done.outcomes == {"anchored": NOTICES}
    assert done.report.rebroadcasts >= 1 or done.report.lost >= 1
    assert_in_publication_order(chain, backend.store)
    assert_promises(chain, Expected.of(folder))


def test_the_command_line_gives_up_cleanly_while_the_node_stays_down_and_the_next_run_finishes(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(300)  # three transactions
    start = chain.relayer_nonce()

    def stop() -> None:
        # Anvil answers before it has stored the block it mines: stopped at that moment, it can
        # save state holding the block's storage writes but not the block. Let it finish first.
        chain.quiet()
        chain.stop_node()

    with RpcTap(lambda: chain.rpc_url) as tap:
        tap.before(
            "eth_sendRawTransaction", stop, nth=2
        )  # the first transaction is mined, then the node stops
        failed = run_cli(
            chain.home,
            "--rpc-url",
            tap.url,
            "anchor",
            "--agency",
            AGENCY,
            "--json",
            str(folder),
            tune=GIVE_UP_SOON,
        )

    assert failed.returncode == 3, failed.stderr
    first, *rest = failed.stderr.strip().splitlines()[-2:]
    assert first.startswith("error: the chain did not take the transactions"), failed.stderr
    assert "the work stays in the outbox" in rest[0]
    assert "Traceback" not in failed.stderr
    assert failed.stdout == "", "nothing reported as anchored"
    store = EvidenceStore(chain.settings().store_url)
    assert counts([e.status for e in store.outbox(statuses=ALL_STATUSES)]) == {"sent": 300}, (
        "all acknowledged"
    )
    store.close()

    chain.start_node()
    # Only what the chain holds verifies: the first transaction's notices.
    verified = run_cli(chain.home, "verify", "--json", str(folder))
    statuses = counts([json.loads(line)["status"] for line in verified.stdout.splitlines()])
    assert statuses.get("not_anchored", 0) == 300 - len(chain.anchored_events()) > 0
    assert verified.returncode == 1

    rerun = run_cli(chain.home, "anchor", "--agency", AGENCY, "--json", str(folder))
    assert rerun.returncode == 0, rerun.stderr
    assert sum(outcomes(rerun).values()) == 300
    assert chain.relayer_nonce() == start + 3
    assert_promises(chain, Expected.of(folder))


def test_anchors_a_node_restored_from_an_older_state_lost_are_anchored_again(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    first = releases(200, seed=21, name="first")
    second = releases(200, seed=22, name="second")
    done = run_cli(chain.home, "anchor", "--agency", AGENCY, "--json", str(first))
    assert done.returncode == 0, done.stderr
    older = chain.snapshot()
    done = run_cli(chain.home, "anchor", "--agency", AGENCY, "--json", str(second))
    assert outcomes(done) == {"anchored": 200}

    chain.restore(older)  # the node comes back without the second run's blocks

    verified = run_cli(chain.home, "verify", "--json", str(second))
    assert {json.loads(line)["status"] for line in verified.stdout.splitlines()} == {"not_anchored"}
    again = run_cli(chain.home, "anchor", "--agency", AGENCY, "--json", str(second))
    assert again.returncode == 0, again.stderr
    assert outcomes(again) == {"anchored": 200}, "the lost anchors were anchored again"
    assert_promises(chain, Expected.of(first, second))
