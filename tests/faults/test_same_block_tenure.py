"""Key tenure by (block, log index): a notice and its key's revocation in one block, in both orders.

The contract accepts a notice mined before its key's revocation in the same block and
refuses one mined after it. ``verify`` and ``audit-store`` must judge the same way, from
one tenure model: before, the notice is anchored and the audit is clean; after, the
notice was refused and verifies not_anchored. (Automine off, so both transactions wait in
the pool for one block; the fee decides their order.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backend.core.verdict import Status
from backend.service.audit import StoreAudit
from backend.service.intake import read_paths
from backend.service.verification import VerifyService, subjects_of
from tests.faults.conftest import FaultChain, Miner, anchor, on_send
from tests.faults.test_revoked_key import _revoke_raw

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(120)]


@pytest.mark.parametrize("revocation_first", [False, True], ids=["notice-first", "revocation-first"])
def test_verify_and_audit_agree_on_a_notice_in_its_keys_revocation_block(
    chain: FaultChain, releases: Callable[..., Path], revocation_first: bool
) -> None:
    folder = releases(4)
    backend = chain.backend()
    chain.automine(False)
    revocations: list[str] = []

    with Miner(chain) as miner:

        def revoke_beside_it(raw_tx: str, send: Callable[[], str]) -> str:
            with miner.paused():  # both transactions wait for the same block
                tx_hash = send()
                if not revocations:
                    # The fee decides the order: more than the relayer's transaction pays is
                    # mined before it, one wei less after it (empty blocks lower the base fee,
                    # so the price is read from the relayer's own transaction, not guessed).
                    paid = int(chain.rpc("eth_getTransactionByHash", tx_hash)["gasPrice"], 16)
                    fee = 3 * paid if revocation_first else paid - 1
                    revocations.append(_revoke_raw(chain, chain.agency_key, gas_price=fee))
            return tx_hash

        done = anchor(backend, folder, tap=lambda d: on_send(d, revoke_beside_it), stall_s=0.3)

    revocation = chain.rpc("eth_getTransactionReceipt", revocations[0])
    (notices_tx,) = chain.relayer_transactions()[:1]
    assert notices_tx["blockNumber"] == revocation["blockNumber"], "both in one block"
    notice_index, revocation_index = (
        int(notices_tx["transactionIndex"], 16),
        int(revocation["transactionIndex"], 16),
    )
    assert (revocation_index < notice_index) is revocation_first

    verdicts = list(
        VerifyService(backend, store=backend.existing_store()).verify(subjects_of(read_paths([folder])))
    )
    store = backend.existing_store()
    assert store is not None
    audit = StoreAudit(backend.ledger, store)
    discrepancies = list(audit.run())
    if revocation_first:
        assert done.outcomes == {"refused": 4}
        assert {v.status for v in verdicts} == {Status.NOT_ANCHORED}
    else:
        assert done.outcomes == {"anchored": 4}
        assert {v.status for v in verdicts} == {Status.ANCHORED}, [v.notes for v in verdicts]
    assert discrepancies == [], "audit-store judges the seal by the same tenure as verify"
    assert audit.summary.events == (0 if revocation_first else 4)
