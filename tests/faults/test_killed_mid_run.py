"""Killed mid-run: ``tenderledger anchor`` of 1,000 notices, SIGKILLed at random points, run again.

The chain mines a block every 0.2 s (as a QBFT network with short block times would), so
a kill can land while transactions wait in the pool as well as anywhere else: reading
and validating, keeping the bytes, sealing and committing the outbox, signing and
writing ahead, broadcasting, collecting receipts. Kill points come from a seeded random
generator: some at a random time after the start, some just after the outbox first
holds work, some just after the relayer's first transaction of the round reaches the
node. After the killed rounds a last run completes, and then every promise is checked
on chain: 1,000 notices anchored, each exactly once, each verifying, the store matching
the chain, and no transaction spent on a notice that was already anchored.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.conftest import (
    AGENCY,
    Expected,
    FaultChain,
    Miner,
    assert_promises,
    outcomes,
    run_cli,
    start_cli,
)

pytestmark = [pytest.mark.anvil, pytest.mark.slow, pytest.mark.timeout(180)]

NOTICES = 1_000
ROUNDS = 6
SEED = 20_260_611
POLL_S = 0.005


@dataclass(frozen=True)
class Round:
    how: str  # what the kill waited for: a random time, the outbox commit, a transaction sent
    remaining: int  # notices without a receipt in the store when the round started
    killed: bool


def _outbox_rows(home: Path, *statuses: str) -> int:
    """Outbox rows (with one of ``statuses``, when given), read as another process would."""
    database = home / "evidence.sqlite3"
    if not database.exists():
        return 0
    query = "SELECT count(*) FROM outbox"
    if statuses:
        query += " WHERE status IN (" + ",".join("?" * len(statuses)) + ")"
    try:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1) as connection:
            (count,) = connection.execute(query, statuses).fetchone()
            return int(count)
    except sqlite3.Error:
        return 0  # not created yet


def _kill_at_a_random_point(chain: FaultChain, folder: Path, rng: random.Random) -> Round:
    """Start ``anchor``, kill it with SIGKILL at a point drawn from ``rng``."""
    rows = _outbox_rows(chain.home)
    nonce = chain.relayer_nonce("pending")
    remaining = NOTICES - _outbox_rows(chain.home, "anchored", "final")
    # Points that need work to happen are drawn only while there is work left to send.
    how = rng.choice(("time", "outbox", "sending")) if len(chain.anchored_events()) < NOTICES else "time"
    delay = rng.uniform(0.2, 2.0) if how == "time" else rng.uniform(0.0, 0.15)
    reached: Callable[[], bool] = {
        "time": lambda: True,
        "outbox": lambda: _outbox_rows(chain.home) > rows or rows == NOTICES,
        "sending": lambda: chain.relayer_nonce("pending") > nonce,
    }[how]
    process = start_cli(chain.home, "anchor", "--agency", AGENCY, "--json", str(folder), quiet=True)
    while process.poll() is None and not reached():
        time.sleep(POLL_S)
    deadline = time.monotonic() + delay
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(POLL_S)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    return Round(how, remaining, killed=process.returncode == -signal.SIGKILL)


def test_anchoring_1000_notices_killed_at_random_points_ends_with_each_anchored_exactly_once(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(NOTICES)
    rng = random.Random(SEED)

    with Miner(chain, interval=0.2):
        kills = [_kill_at_a_random_point(chain, folder, rng) for _ in range(ROUNDS)]
        final = run_cli(chain.home, "anchor", "--agency", AGENCY, "--json", str(folder))

    assert sum(r.killed for r in kills) >= ROUNDS // 2, f"most rounds must really be killed: {kills}"
    assert sum(r.killed and r.remaining > 0 for r in kills) >= 2, f"killed while work was left: {kills}"
    assert final.returncode == 0, final.stderr
    assert sum(outcomes(final).values()) == NOTICES
    assert set(outcomes(final)) <= {"anchored", "already_anchored"}
    # No transaction was wasted on notices already anchored (or already sent): each one anchored some.
    anchoring = [
        t for t in chain.relayer_transactions() if t["to"].lower() == chain.deployment.ledger.lower()
    ]
    assert all(int(t["status"], 16) == 1 for t in anchoring)
    per_tx = {t["hash"] for t in anchoring} - {"0x" + e.tx_hash.hex() for e in chain.anchored_events()}
    assert not per_tx, f"{len(per_tx)} transactions anchored nothing"
    assert_promises(chain, Expected.of(folder))
