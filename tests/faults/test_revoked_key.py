"""Key revoked while queued: the ledger's decoded refusal, once, and never an endless retry.

A notice sealed with a key that governance revokes before the notice reaches the chain
is refused by the ledger (``RevokedSealKey``): that is the third promise (nobody without
a registered seal key changes the ledger) holding under a fault. The refusal is reported
with its decoded error and kept in the outbox as ``refused``; running again does not
send it again. In a group of 128 with one such notice, that notice is reported and the
127 others are anchored. The revocation may also land between the runner's
simulation and the mining of its transaction: the failed transaction is judged again,
and refused.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from backend.chain.devnet import dev_account
from backend.chain.ledger import Ledger
from backend.chain.lock import serialize_chain_access
from backend.keys import create_agency_keystore
from backend.service.anchoring import AnchorResult, Outcome
from backend.service.intake import read_paths
from backend.service.outbox import OutboxRunner
from backend.service.submission import NoticeGateway
from tests.faults.conftest import (
    AGENCY,
    ALL_STATUSES,
    Expected,
    FaultChain,
    Miner,
    anchor,
    assert_promises,
    counts,
    dispatch,
    enqueue,
    on_send,
    wait_until,
)

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(120)]

OTHER = "Harbour Authority"


def _revoke(chain: FaultChain, key: LocalAccount) -> None:
    chain.ledger.revoke_seal_key(chain.governance, key.address)


def _revoke_raw(chain: FaultChain, key: LocalAccount, *, gas_price: int) -> str:
    """Send governance's revocation without waiting for it (the miner may be paused)."""
    ledger = chain.ledger
    governance = dev_account(0)
    tx = ledger.contract.functions.revokeSealKey(key.address).build_transaction(
        {
            "from": governance.address,
            "nonce": int(chain.rpc("eth_getTransactionCount", governance.address, "pending"), 16),
            "gas": 200_000,
            "gasPrice": gas_price,
            "chainId": chain.deployment.chain_id,
        }
    )
    signed = governance.sign_transaction(tx)
    result: str = chain.rpc("eth_sendRawTransaction", "0x" + bytes(signed.raw_transaction).hex())
    return result


def _refusals(results: list[AnchorResult]) -> dict[str, int]:
    return counts([str(r.error_name) for r in results if r.outcome is Outcome.REFUSED])


def test_a_queued_notice_whose_key_is_revoked_is_refused_with_the_decoded_error_and_not_retried(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(8)
    backend = chain.backend()
    intake, entries = enqueue(backend, folder)  # acknowledged: committed to the outbox
    _revoke(chain, chain.agency_key)
    nonce = chain.relayer_nonce()

    done = dispatch(backend, intake, entries)

    assert done.outcomes == {"refused": 8}
    assert _refusals(done.results) == {"RevokedSealKey": 8}
    assert all("RevokedSealKey" in (r.error or "") for r in done.results)
    assert chain.relayer_nonce() == nonce, "refused in simulation: no transaction"
    stored = backend.store.outbox(statuses=ALL_STATUSES)
    assert {(e.status, e.error_name) for e in stored} == {("refused", "RevokedSealKey")}

    again = dispatch(backend, intake, backend.store.outbox(statuses=ALL_STATUSES))
    assert again.outcomes == {"refused": 8}
    assert chain.relayer_nonce() == nonce, "not retried"
    assert chain.anchored_events() == []


def test_a_group_of_128_with_one_revoked_notice_reports_it_and_anchors_the_127_others(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    good = releases(127, seed=31, name="good")
    bad = releases(1, seed=32, name="bad")
    backend = chain.backend()
    other = create_agency_keystore(backend.settings, OTHER)
    ledger = Ledger(chain.w3, chain.deployment)
    ledger.add_seal_key(chain.governance, ledger.register_agency(chain.governance, OTHER), other.address)

    _, good_entries = enqueue(backend, good)
    _, bad_entries = enqueue(backend, bad, agency=OTHER)
    _revoke(chain, other)
    entries = [*good_entries[:64], *bad_entries, *good_entries[64:]]  # the bad one in the middle

    report = OutboxRunner(backend).run(entries)

    assert report.anchored == 127
    assert report.refused == 1
    ((error, name),) = report.refusals.values()
    assert name == "RevokedSealKey" and "RevokedSealKey" in error
    assert all(int(t["status"], 16) == 1 for t in chain.relayer_transactions())
    assert_promises(chain, Expected.of(good), refused=1)


def test_a_revocation_mined_before_the_queued_transaction_is_refused_after_one_failed_attempt(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(8)
    backend = chain.backend()
    chain.automine(False)
    revoked: list[str] = []

    with Miner(chain) as miner:

        def revoke_behind_it(raw_tx: str, send: Callable[[], str]) -> str:
            with miner.paused():
                tx_hash = send()
                if not revoked:  # the revocation pays more: mined first, in the same block
                    revoked.append(_revoke_raw(chain, chain.agency_key, gas_price=2 * chain.w3.eth.gas_price))
            return tx_hash

        done = anchor(backend, folder, tap=lambda d: on_send(d, revoke_behind_it), stall_s=0.3)

    assert done.outcomes == {"refused": 8}
    assert _refusals(done.results) == {"RevokedSealKey": 8}
    statuses = [int(t["status"], 16) for t in chain.relayer_transactions()]
    assert statuses == [0], "one failed transaction, and no more"
    assert chain.anchored_events() == []


def test_the_api_gateway_reports_the_refusal_and_stops(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(4)
    backend = chain.backend()
    serialize_chain_access(backend.w3)
    gateway = NoticeGateway(backend, wait_s=0.5)
    chain.automine(False)
    try:
        pending = gateway.submit(read_paths([folder]), agency=AGENCY)  # acknowledged, in the pool
        assert {n.result.outcome for n in pending.notices} == {Outcome.PENDING}
        _revoke_raw(chain, chain.agency_key, gas_price=2 * chain.w3.eth.gas_price)
        with Miner(chain):
            digests = [bytes.fromhex(n.result.digest.removeprefix("0x")) for n in pending.notices]
            wait_until(
                lambda: all((s := gateway.state(d)) is not None and s.status == "refused" for d in digests),
                timeout=60,
                what="the refusals",
            )
            wait_until(lambda: gateway.idle, timeout=30, what="the gateway to have nothing left to do")
        for digest in digests:
            state = gateway.state(digest)
            assert state is not None and state.error_name == "RevokedSealKey"
        assert [int(t["status"], 16) for t in chain.relayer_transactions()] == [0]
    finally:
        assert gateway.close()
