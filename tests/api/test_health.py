"""GET /health, and how the other routes answer when the chain is gone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web3 import Web3

from backend.api import create_app
from backend.chain import devnet
from backend.service.context import Backend
from tests.api.conftest import ApiEnv, conforms, is_problem, release


def test_a_healthy_service_is_200(api: ApiEnv) -> None:
    response = api.client.get("/health")

    assert response.status_code == 200, response.text
    conforms(api.client, response, path="/health", method="get")
    checks = response.json()["checks"]
    assert checks["chain"] == {
        "reachable": True,
        "chain_id": api.ledger.deployment.chain_id,
        "expected_chain_id": api.ledger.deployment.chain_id,
        "ledger": api.ledger.address,
        "problem": None,
    }
    assert checks["store"] == {"reachable": True, "outbox_backlog": 0, "problem": None}
    assert checks["anchoring_worker"] is True


@pytest.fixture
def unreachable(api: ApiEnv) -> Iterator[TestClient]:
    """The same home (deployment file, store, token) served over a chain endpoint nobody listens on."""
    provider = Web3.HTTPProvider(
        f"http://127.0.0.1:{devnet.free_port()}",
        request_kwargs={"timeout": 5},
        exception_retry_configuration=None,
    )
    app = create_app(api.settings, backend=Backend(api.settings, w3=Web3(provider), store=api.store))
    with TestClient(app) as client:
        yield client


def test_an_unreachable_chain_is_503_with_every_check(api: ApiEnv, unreachable: TestClient) -> None:
    response = unreachable.get("/health")

    problem = is_problem(response, 503)
    conforms(unreachable, response, path="/health", method="get")
    assert problem["checks"]["chain"]["reachable"] is False
    assert problem["checks"]["chain"]["expected_chain_id"] == api.ledger.deployment.chain_id
    assert problem["checks"]["store"]["reachable"] is True
    assert "cannot reach the chain" in problem["detail"]


def test_other_routes_answer_503_when_the_chain_is_unreachable(api: ApiEnv, unreachable: TestClient) -> None:
    body = release("ocds-213czf-000-00007", "tender-1")

    anchoring = unreachable.post("/notices", json=body, headers=api.auth)
    verifying = unreachable.post("/verify", json=body)
    timeline = unreachable.get("/processes/ocds-213czf-000-00007")

    for response, path, method in (
        (anchoring, "/notices", "post"),
        (verifying, "/verify", "post"),
        (timeline, "/processes/{ocid}", "get"),
    ):
        assert is_problem(response, 503)["type"].endswith("/chain-unavailable")
        conforms(unreachable, response, path=path, method=method)
    assert api.store.outbox() == []  # nothing was acknowledged, so nothing is owed


def test_a_chain_without_the_deployed_ledger_is_503(api: ApiEnv) -> None:
    app = create_app(api.settings, backend=Backend(api.settings, w3=devnet.tester_web3(), store=api.store))
    with TestClient(app) as client:
        response = client.get("/health")

    problem = is_problem(response, 503)
    assert problem["checks"]["chain"]["reachable"] is True
    assert "no contract" in problem["checks"]["chain"]["problem"]
