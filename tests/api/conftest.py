"""An API over a freshly deployed ledger on the in-process eth-tester chain.

Each test gets its own TENDERLEDGER_HOME with a deployment file, an agency with an
encrypted seal keystore (cheap scrypt), an evidence store and a token, and a
TestClient whose lifespan (the anchoring worker) runs for the test. ``add_agency``
registers more agencies (tenants of the same server); the real-data fixture reserves
each real publisher's ocid prefix for the agency that anchors its files.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]  # no stubs installed; only used to check responses
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from web3 import Web3
from web3.middleware.base import Web3Middleware
from web3.types import MakeRequestFn, RPCEndpoint, RPCResponse

from backend.api import create_app
from backend.chain.devnet import dev_account, tester_web3
from backend.chain.ledger import Ledger
from backend.chain.sender import TransactionSender
from backend.core.seal import ocid_hash
from backend.demo.runner import REAL_PUBLISHER_PREFIXES
from backend.keys import create_agency_keystore
from backend.service.context import Backend
from backend.service.governance import Governance, deploy_for
from backend.service.tokens import issue_token
from backend.settings import Settings
from backend.store import EvidenceStore

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REAL_CORPUS = PROJECT_ROOT.parent / "shared" / "ocds-real"
AGENCY = "Ministry of Public Works"
PASSWORD = "correct horse battery"
# Long enough that a healthy in-process chain always answers within it; the slow-chain test sets its own.
GENEROUS_WAIT_S = 60.0


def release(
    ocid: str,
    release_id: str,
    *,
    tag: str = "tender",
    date: str = "2024-03-01T10:00:00Z",
    deadline: str | None = None,
    **sections: Any,
) -> dict[str, Any]:
    """A small valid OCDS 1.1 release."""
    data: dict[str, Any] = {
        "ocid": ocid,
        "id": release_id,
        "date": date,
        "tag": [tag],
        "initiationType": "tender",
    }
    if tag.startswith("tender"):
        data["tender"] = {"id": f"{ocid}-tender", "title": "Road resurfacing, lot 1"}
        if deadline is not None:
            data["tender"]["tenderPeriod"] = {"endDate": deadline}
    elif tag.startswith("award"):
        data["awards"] = [{"id": f"{ocid}-award-1", "status": "active"}]
    data.update(sections)
    return data


class SendGate(Web3Middleware):
    """Holds every transaction until ``opened`` is set: a chain that is slow to take them."""

    opened = threading.Event()
    reached = threading.Event()

    def wrap_make_request(self, make_request: MakeRequestFn) -> MakeRequestFn:
        def gated(method: RPCEndpoint, params: Any) -> RPCResponse:
            if method == "eth_sendRawTransaction":
                type(self).reached.set()
                # Bounded so that a failing test cannot hang the suite; the tests open it themselves.
                type(self).opened.wait(timeout=120)
            return make_request(method, params)

        return gated


def gated_chain(w3: Web3) -> type[SendGate]:
    """Put a fresh gate (its own events) in front of ``w3``'s transactions; returns it, closed."""
    gate = type("Gate", (SendGate,), {"opened": threading.Event(), "reached": threading.Event()})
    w3.middleware_onion.add(gate, name="test_send_gate")
    return gate


@dataclass
class ApiEnv:
    """A running API and what stands behind it."""

    client: TestClient
    app: FastAPI
    settings: Settings
    backend: Backend
    store: EvidenceStore
    w3: Web3
    ledger: Ledger
    governance: TransactionSender
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def post_notice(self, body: Any, token: str | None = None, **params: Any) -> httpx.Response:
        """POST ``body`` as JSON to /notices with the agency's credential (or ``token``)."""
        headers = {"Authorization": f"Bearer {token}"} if token else self.auth
        response: httpx.Response = self.client.post("/notices", json=body, headers=headers, params=params)
        return response

    def add_agency(self, name: str, *, keystore_label: str | None = None) -> str:
        """Register ``name`` on the ledger with a fresh seal key; returns a token for it.

        ``keystore_label`` names the keystore and the token differently from the chain (as a
        token stored before tokens were checked against the chain could).
        """
        label = keystore_label or name
        key = create_agency_keystore(self.settings, label)
        Governance(self.ledger, self.governance).register(name, key.address)
        return issue_token(self.store, label)

    def reserve_prefix(self, name: str, prefix: str) -> None:
        """Reserve an ocid prefix for the agency ``name`` (once)."""
        Governance(self.ledger, self.governance).reserve(name, self.ledger.agency_id(name), [prefix])

    def anchored_events(self, ocid: str | None = None) -> int:
        """NoticeAnchored events on the ledger (of one process when ``ocid`` is given)."""
        return len(list(self.ledger.notice_events(ocid_hash=ocid_hash(ocid) if ocid else None)))

    def relayer_nonce(self) -> int:
        return int(self.w3.eth.get_transaction_count(dev_account(1).address))

    def advance_past(self, iso_time: str) -> None:
        """Move the chain clock past an ISO 8601 UTC time."""
        from datetime import datetime

        target = int(datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp()) + 60
        tester = self.w3.provider.ethereum_tester  # type: ignore[attr-defined]
        tester.time_travel(max(target, int(self.w3.eth.get_block("latest")["timestamp"]) + 1))


@contextmanager
def serving(home: Path, *, wait_s: float = GENEROUS_WAIT_S) -> Iterator[ApiEnv]:
    """Deploy, register the agency, issue a token, serve; the API runs inside the ``with`` block."""
    settings = Settings(
        home=home, key_password=SecretStr(PASSWORD), keystore_scrypt_n=1024, api_anchor_wait_s=wait_s
    )
    w3 = tester_web3()
    governance = deploy_for(settings, w3, admin_delay=3600)
    governance.enroll(settings, AGENCY)
    store = EvidenceStore(settings.store_url)
    token = issue_token(store, AGENCY)
    backend = Backend(settings, w3=w3, store=store)
    app = create_app(settings, backend=backend)
    try:
        with TestClient(app) as client:
            yield ApiEnv(
                client=client,
                app=app,
                settings=settings,
                backend=backend,
                store=store,
                w3=w3,
                ledger=governance.ledger,
                governance=governance.sender,
                token=token,
            )
    finally:
        store.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiEnv]:
    with serving(tmp_path / "home") as env:
        yield env


def conforms(client: TestClient, response: httpx.Response, *, path: str, method: str) -> None:
    """Fail unless ``response`` is documented for the operation, with its media type and schema.

    ``path`` is the OpenAPI path template (``/notices/{digest}``).
    """
    document = client.get("/openapi.json").json()
    operation = document["paths"][path][method.lower()]
    declared = operation["responses"].get(str(response.status_code))
    assert declared is not None, f"{response.status_code} is not documented for {method} {path}"
    media = response.headers.get("content-type", "").partition(";")[0]
    assert media in declared.get("content", {}), f"{media} is not documented for {response.status_code}"
    schema = declared["content"][media]["schema"]
    # The whole document is the root, so #/components/... references resolve.
    validator = jsonschema.Draft202012Validator({**document, **schema})
    errors = sorted(validator.iter_errors(response.json()), key=str)
    assert not errors, f"{method} {path} {response.status_code} does not match its schema: {errors[0]}"


def is_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The RFC 9457 problem document of ``response``, after checking its status, type and members."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    return body


@pytest.fixture
def real_release(api: ApiEnv) -> Callable[[str], bytes]:
    """The exact bytes of a file of the real OCDS corpus; skips the test when the corpus is absent.

    The API's agency anchors what it reads: the publisher's ocid prefix is reserved for it first.
    """
    if not REAL_CORPUS.is_dir():
        pytest.skip(f"real OCDS corpus not found at {REAL_CORPUS}")

    def read(relative: str) -> bytes:
        prefix = REAL_PUBLISHER_PREFIXES.get(relative.split("/", 1)[0])
        if prefix is not None:
            api.reserve_prefix(AGENCY, prefix)
        return (REAL_CORPUS / relative).read_bytes()

    return read
