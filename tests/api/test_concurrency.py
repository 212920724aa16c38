"""Many requests at once: one transaction per notice, one receipt for everyone, no nonce clashes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from backend.core.digest import release_digest
from backend.core.receipt import check_receipt_offline
from backend.service.intake import Intake
from backend.service.submission import NoticeGateway, Submission
from tests.api.conftest import ApiEnv, gated_chain, release

OCID = "ocds-213czf-000-00008"
CALLERS = 10


def _hold_chain_until_all_arrived(api: ApiEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep transactions waiting until all callers are inside the gateway, so their requests overlap."""
    gate = gated_chain(api.w3)
    gateway: NoticeGateway = api.app.state.gateway
    submit = gateway.submit
    arrived = [0]
    lock = threading.Lock()

    def counted(intake: Intake, **options: Any) -> Submission:
        with lock:
            arrived[0] += 1
            if arrived[0] == CALLERS:
                gate.opened.set()
        return submit(intake, **options)

    monkeypatch.setattr(gateway, "submit", counted)


def _post_all(api: ApiEnv, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    start = threading.Barrier(len(bodies))

    def post(body: dict[str, Any]) -> httpx.Response:
        start.wait()
        return api.post_notice(body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def test_ten_identical_submissions_make_one_transaction_and_share_one_receipt(
    api: ApiEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = release(OCID, "tender-1")
    nonce = api.relayer_nonce()
    _hold_chain_until_all_arrived(api, monkeypatch)

    responses = _post_all(api, [body] * CALLERS)

    assert {r.status_code for r in responses} <= {200, 201}, [r.text for r in responses]
    assert any(r.status_code == 201 for r in responses)
    receipts = [r.json()["receipt"] for r in responses]
    assert all(receipt == receipts[0] for receipt in receipts)
    assert check_receipt_offline(receipts[0], digest=release_digest(body)) == []
    assert api.anchored_events(OCID) == 1
    assert api.relayer_nonce() == nonce + 1


def test_ten_different_submissions_are_all_anchored_from_one_relayer(
    api: ApiEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    bodies = [release(OCID, f"tender-{i}") for i in range(CALLERS)]
    _hold_chain_until_all_arrived(api, monkeypatch)

    responses = _post_all(api, bodies)

    assert [r.status_code for r in responses] == [201] * CALLERS, [r.text for r in responses]
    for response, body in zip(responses, bodies, strict=True):
        assert check_receipt_offline(response.json()["receipt"], digest=release_digest(body)) == []
    assert api.anchored_events(OCID) == CALLERS
    # Every transaction the relayer sent was mined and succeeded: no nonce was reused or skipped.
    hashes = {r.json()["receipt"]["anchor"]["tx_hash"] for r in responses}
    assert api.relayer_nonce() == len(hashes)
    assert all(api.w3.eth.get_transaction_receipt(h)["status"] == 1 for h in hashes)
