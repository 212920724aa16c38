"""Concurrent duplicates on Anvil: ten identical submissions at once make one transaction and one receipt.

The ten callers go through the API's gateway (``NoticeGateway``, what ``POST /notices``
calls) on ten threads. Anvil mines nothing until all ten are inside the gateway, so their
requests overlap for as long as the transaction waits in the pool.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from backend.chain.lock import serialize_chain_access
from backend.core.receipt import check_receipt_offline
from backend.service.anchoring import Outcome
from backend.service.intake import read_paths
from backend.service.submission import NoticeGateway, Submission
from tests.faults.conftest import AGENCY, Expected, FaultChain, Miner, assert_promises

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(120)]

CALLERS = 10


def test_ten_identical_concurrent_submissions_make_one_transaction_and_get_the_same_receipt(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(1)
    (path,) = folder.glob("*.json")
    backend = chain.backend()
    serialize_chain_access(backend.w3)
    gateway = NoticeGateway(backend, wait_s=60)
    nonce = chain.relayer_nonce()
    chain.automine(False)
    arrived = threading.Barrier(CALLERS + 1)

    def submit(_caller: int) -> Submission:
        intake = read_paths([path])
        arrived.wait(timeout=30)
        return gateway.submit(intake, agency=AGENCY)

    try:
        with ThreadPoolExecutor(CALLERS) as pool:
            running = [pool.submit(submit, caller) for caller in range(CALLERS)]
            arrived.wait(timeout=30)
            with Miner(chain):
                submissions = [future.result(timeout=60) for future in running]
    finally:
        assert gateway.close()

    results = [s.notices[0].result for s in submissions]
    assert {r.outcome for r in results} <= {Outcome.ANCHORED, Outcome.ALREADY_ANCHORED}
    assert Outcome.ANCHORED in {r.outcome for r in results}
    receipts = [r.receipt for r in results]
    assert receipts[0] is not None and all(r == receipts[0] for r in receipts), "one receipt for all"
    assert (
        check_receipt_offline(receipts[0], digest=bytes.fromhex(results[0].digest.removeprefix("0x"))) == []
    )
    assert chain.relayer_nonce() == nonce + 1, "one transaction"
    assert_promises(chain, Expected.of(folder))
