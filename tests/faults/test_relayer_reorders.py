"""A relayer holding several sealed notices sends them out of order (Anvil, automine off).

The relayer is a courier: it cannot forge a seal, but it chooses the order of what it
carries. Sending an amendment (later deadline) before its tender (earlier deadline),
then awarding at the tender's deadline, would award days early; sending an award before
its tender would let the tender declare a deadline after the award. Both orders land
in one block here (automine off, consecutive nonces), and the ledger refuses the
out-of-order notice with its own custom error.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from backend.chain.devnet import advance_time, dev_account
from backend.chain.revert import ledger_error
from backend.core.seal import SealedFields, previous_link, seal_notice
from backend.core.stages import Stage
from tests.faults.conftest import FaultChain

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(120)]

OCID = "ocds-reordr-0001"
DAY = 86_400


def sealed(
    chain: FaultChain, release_id: str, stage: Stage, deadline: int, previous: str | None = None
) -> Any:
    fields = SealedFields(
        OCID,
        release_id,
        int(stage),
        hashlib.sha256(release_id.encode()).digest(),
        previous_link(previous),
        deadline,
    )
    seal = seal_notice(
        chain.agency_key.key, fields, chain_id=chain.deployment.chain_id, contract=chain.deployment.ledger
    )
    return chain.ledger.contract.functions.anchorNotice(fields.as_tuple(), seal)


def send_in_one_block(chain: FaultChain, *calls: Any) -> list[dict[str, Any]]:
    """Sign ``calls`` from the relayer with consecutive nonces, mine them in one block, return receipts."""
    relayer = dev_account(1)
    nonce = chain.relayer_nonce("pending")
    hashes = []
    chain.automine(False)
    for offset, call in enumerate(calls):
        tx = call.build_transaction(
            {
                "from": relayer.address,
                "nonce": nonce + offset,
                "gas": 400_000,
                "gasPrice": chain.w3.eth.gas_price,
                "chainId": chain.deployment.chain_id,
            }
        )
        hashes.append(
            chain.rpc(
                "eth_sendRawTransaction", "0x" + bytes(relayer.sign_transaction(tx).raw_transaction).hex()
            )
        )
    chain.mine()
    chain.automine(True)
    receipts = [chain.rpc("eth_getTransactionReceipt", h) for h in hashes]
    assert len({r["blockNumber"] for r in receipts}) == 1, "one block"
    return receipts


def refusal(chain: FaultChain, call: Any) -> str | None:
    """The ledger's custom error for ``call`` now, or None when it would be accepted."""
    try:
        call.call({"from": dev_account(1).address})
    except Exception as exc:  # the provider's revert exception, whatever its class
        error = ledger_error(exc)
        return error.reason if error is not None else f"undecoded: {exc}"
    return None


def test_an_amendment_sent_before_its_tender_makes_the_tender_refused_and_the_award_wait(
    chain: FaultChain,
) -> None:
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    tender = sealed(chain, "tender", Stage.TENDER, now + 3 * DAY)
    naming = sealed(chain, "amendment-naming-the-tender", Stage.TENDER_AMENDMENT, now + 10 * DAY, "tender")
    unlinked = sealed(chain, "amendment", Stage.TENDER_AMENDMENT, now + 10 * DAY)
    # The amendment that names its tender cannot go first: the tender is not on the ledger.
    assert refusal(chain, naming) == "PreviousNotAnchored"
    # One that names nothing can (real publishers omit the link), and then the tender cannot follow.
    first, second = send_in_one_block(chain, unlinked, tender)
    assert (int(first["status"], 16), int(second["status"], 16)) == (1, 0)
    assert refusal(chain, tender) == "TenderAfterAmendment"
    # So the deadline in force is the amendment's: an award at the tender's deadline is refused.
    advance_time(chain.w3, 3 * DAY + 60)
    award = sealed(chain, "award", Stage.AWARD, 0)
    assert refusal(chain, award) == "DeadlineNotPassed"
    advance_time(chain.w3, 7 * DAY)
    assert refusal(chain, award) is None


def test_an_award_sent_before_its_tender_keeps_the_tender_from_declaring_a_later_deadline(
    chain: FaultChain,
) -> None:
    now = int(chain.w3.eth.get_block("latest")["timestamp"])
    award = sealed(chain, "award", Stage.AWARD, 0)
    tender = sealed(chain, "tender", Stage.TENDER, now + 3 * DAY)
    first, second = send_in_one_block(chain, award, tender)
    assert (int(first["status"], 16), int(second["status"], 16)) == (1, 0)
    assert refusal(chain, tender) == "DeadlineAfterAward"
