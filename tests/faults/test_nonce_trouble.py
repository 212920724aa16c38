"""Nonce trouble: a transaction the node dropped, and the relayer's nonce used by another sender.

Anvil runs without automine here and a miner thread makes a block every 0.1 s, so that
transactions wait in the pool as they do on a chain with block times. The runner
pipelines small groups (8 notices, 4 transactions in flight) so that a run has ten
transactions and the trouble hits one in the middle. ``stall_s`` is short so that the
repair starts soon after the trouble.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backend.chain.devnet import dev_account
from backend.errors import NetworkError
from backend.service.outbox import OutboxRunner
from tests.faults.conftest import (
    Expected,
    FaultChain,
    Miner,
    anchor,
    assert_in_publication_order,
    assert_promises,
    on_send,
    relayer_transfer,
)

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(120)]

NOTICES = 80
OPTIONS = {"group_size": 8, "window": 4, "stall_s": 0.3}
GROUPS = NOTICES // 8


def _nonces(chain: FaultChain) -> list[tuple[int, int, str]]:
    """(nonce, status, to) of every mined relayer transaction, in chain order."""
    return [
        (int(t["nonce"], 16), int(t["status"], 16), t["to"].lower()) for t in chain.relayer_transactions()
    ]


def test_a_dropped_transaction_is_broadcast_again_and_the_rest_land_in_order(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(NOTICES)
    backend = chain.backend()
    start = chain.relayer_nonce()
    chain.automine(False)
    dropped: list[str] = []

    with Miner(chain) as miner:

        def drop_the_second(raw_tx: str, send: Callable[[], str]) -> str:
            with miner.paused():
                tx_hash = send()
                if not dropped and chain.relayer_nonce("pending") == start + 2:
                    chain.rpc("anvil_dropTransaction", tx_hash)  # a nonce gap: the later ones cannot be mined
                    dropped.append(tx_hash)
                return tx_hash

        def tap(runner: OutboxRunner) -> None:
            on_send(runner, drop_the_second)

        done = anchor(backend, folder, tap=tap, **OPTIONS)

    assert dropped, "the second transaction was dropped from the pool"
    assert done.outcomes == {"anchored": NOTICES}
    assert done.report.rebroadcasts >= 1
    mined = _nonces(chain)
    # The same ten transactions, nonces without a gap, each one successful, the dropped one among them.
    assert [n for n, _, _ in mined] == list(range(start, start + GROUPS))
    assert all(status == 1 for _, status, _ in mined)
    assert dropped[0] in {t["hash"] for t in chain.relayer_transactions()}
    assert_in_publication_order(chain, backend.store)
    assert_promises(chain, Expected.of(folder))


def test_a_nonce_taken_by_another_sender_before_the_broadcast_is_signed_again_in_order(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(NOTICES)
    backend = chain.backend()
    start = chain.relayer_nonce()
    taken: list[str] = []

    def another_sender_first(raw_tx: str, send: Callable[[], str]) -> str:
        if not taken:  # the same key, used elsewhere, takes the nonce the runner just signed with
            taken.append(relayer_transfer(chain, nonce=start, gas_price=chain.w3.eth.gas_price))
        return send()

    def tap(runner: OutboxRunner) -> None:
        on_send(runner, another_sender_first)

    done = anchor(backend, folder, tap=tap, **OPTIONS)

    assert done.outcomes == {"anchored": NOTICES}
    mined = _nonces(chain)
    assert [n for n, _, _ in mined] == list(range(start, start + GROUPS + 1))
    assert all(status == 1 for _, status, _ in mined)
    assert mined[0][2] == dev_account(1).address.lower(), "the other sender's transfer took the first nonce"
    assert_in_publication_order(chain, backend.store)
    assert_promises(chain, Expected.of(folder))


def test_a_transaction_replaced_in_the_pool_by_another_sender_is_detected_and_its_notices_resent(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(NOTICES)
    backend = chain.backend()
    start = chain.relayer_nonce()
    chain.automine(False)
    replaced: list[str] = []

    with Miner(chain) as miner:

        def replace_the_second(raw_tx: str, send: Callable[[], str]) -> str:
            with miner.paused():
                tx_hash = send()
                if not replaced and chain.relayer_nonce("pending") == start + 2:
                    # Same key, same nonce, a higher price: the node keeps the other one.
                    price = 2 * chain.w3.eth.gas_price
                    replaced.append(relayer_transfer(chain, nonce=start + 1, gas_price=price))
                return tx_hash

        def tap(runner: OutboxRunner) -> None:
            on_send(runner, replace_the_second)

        done = anchor(backend, folder, tap=tap, **OPTIONS)

    assert replaced
    assert done.outcomes == {"anchored": NOTICES}
    mined = _nonces(chain)
    # No gap, nothing failed, one more transaction than groups: the other sender's transfer.
    assert [n for n, _, _ in mined] == list(range(start, start + GROUPS + 1))
    assert all(status == 1 for _, status, _ in mined)
    assert replaced[0] in {t["hash"] for t in chain.relayer_transactions()}
    assert_promises(chain, Expected.of(folder))


def test_a_send_whose_answer_was_lost_is_not_signed_again(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    """The node took the transaction (and mined it) but the answer never came back: the retry of the
    same bytes hears "nonce too low", which here means the transaction is ours and already in."""
    folder = releases(NOTICES)
    backend = chain.backend()
    start = chain.relayer_nonce()
    lost: list[str] = []

    def lose_the_first_answer(raw_tx: str, send: Callable[[], str]) -> str:
        tx_hash = send()
        if not lost:
            lost.append(tx_hash)
            raise NetworkError("connection reset while reading the answer")
        return tx_hash

    done = anchor(backend, folder, tap=lambda d: on_send(d, lose_the_first_answer), **OPTIONS)

    assert lost and done.outcomes == {"anchored": NOTICES}
    mined = _nonces(chain)
    assert [n for n, _, _ in mined] == list(range(start, start + GROUPS)), "no transaction signed twice"
    assert_in_publication_order(chain, backend.store)
    assert_promises(chain, Expected.of(folder))
