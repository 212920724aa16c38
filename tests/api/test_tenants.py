"""Tenants of one server: agencies that share a ledger and an API, and do not trust each other.

Two agencies, two tokens, one server. What one agency submits never shows in, or
changes, the public record of another's process; the same bytes never make one
agency's receipt the other's; receipts name agencies as the chain registered them.
Credentials are checked against the chain, revocable and short-lived; each agency's
keystore has its own password; no secret leaks into errors or the deployment file.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from backend.chain.deployment import Deployment
from backend.chain.devnet import TESTER_CHAIN_ID, dev_account
from backend.chain.devnet import tester_web3 as in_process_chain
from backend.chain.ledger import Ledger, deploy_ledger
from backend.chain.sender import TransactionSender
from backend.core.seal import ocid_hash
from backend.errors import KeystoreError, StoreError, UsageError
from backend.keys import create_agency_keystore, keystore_path, load_agency_key, unlock_keystore
from backend.service.tokens import issue_agency_token, issue_token, revoke_agency_tokens
from backend.settings import SCRYPT_N_MIN, Settings, key_password_env
from backend.store import EvidenceStore
from tests.api.conftest import AGENCY, PASSWORD, ApiEnv, conforms, is_problem, release

OTHER = "National Procurement Directorate"
OCID = "ocds-213czf-tenants-0001"
FUTURE_DEADLINE = "2090-01-01T00:00:00Z"


def _refused_as_process_of_other_agency(response: Any) -> dict[str, Any]:
    problem = is_problem(response, 422)
    assert problem["contract_error"]["name"] == "ProcessOfOtherAgency"
    assert problem["advice"] == "the process belongs to another agency"
    assert "ProcessOfOtherAgency" in problem["detail"]
    return problem


# ---------------------------------------------------------------- tenants apart


def test_another_agencys_award_is_refused_and_leaves_no_trace_in_the_process(api: ApiEnv) -> None:
    other = api.add_agency(OTHER)
    assert api.post_notice(release(OCID, "tender-1", deadline=FUTURE_DEADLINE)).status_code == 201
    before = api.client.get(f"/processes/{OCID}").json()

    # Before the tender's deadline: were it A's own award, it would raise award_before_deadline.
    response = api.post_notice(release(OCID, "award-1", tag="award", date="2024-03-02T10:00:00Z"), other)

    problem = _refused_as_process_of_other_agency(response)
    conforms(api.client, response, path="/notices", method="post")
    assert problem["notices"][0]["receipt"] is None
    after = api.client.get(f"/processes/{OCID}")
    assert after.status_code == 200
    assert after.json() == before, "another agency's refused award changes A's public timeline"
    assert [e["release_id"] for e in after.json()["timeline"]] == ["tender-1"]
    assert not [f for f in after.json()["red_flags"] if f["code"] == "award_before_deadline"]
    assert api.anchored_events(OCID) == 1


def test_the_process_agencys_own_refusal_still_shows_in_its_timeline(api: ApiEnv) -> None:
    api.add_agency(OTHER)
    assert api.post_notice(release(OCID, "tender-1", deadline=FUTURE_DEADLINE)).status_code == 201

    own = api.post_notice(release(OCID, "award-1", tag="award", date="2024-03-02T10:00:00Z"))

    assert is_problem(own, 422)["contract_error"]["name"] == "DeadlineNotPassed"
    timeline = api.client.get(f"/processes/{OCID}").json()["timeline"]
    assert [(e["release_id"], e["status"]) for e in timeline] == [
        ("tender-1", "anchored"),
        ("award-1", "refused"),
    ]


def test_bytes_another_agency_anchored_never_come_back_with_its_receipt(api: ApiEnv) -> None:
    other = api.add_agency(OTHER)
    body = release(OCID, "tender-1", deadline=FUTURE_DEADLINE)
    first = api.post_notice(body)
    assert first.status_code == 201
    receipt = first.json()["receipt"]

    copied = api.post_notice(body, other)

    assert copied.status_code != 200
    _refused_as_process_of_other_agency(copied)
    assert copied.json()["notices"][0]["receipt"] is None
    # A's own resubmission is still idempotent, and the notice's public status is A's anchor.
    again = api.post_notice(body)
    assert again.status_code == 200
    assert again.json()["receipt"] == receipt
    status = api.client.get(first.headers["location"]).json()
    assert status["status"] == "anchored"
    assert status["receipt"]["seal"]["agency_name"] == AGENCY
    assert api.anchored_events(OCID) == 1


def test_a_receipt_names_the_agency_registered_on_chain_not_the_callers_label(api: ApiEnv) -> None:
    label = "NATIONAL PROCUREMENT DIRECTORATE!"
    token = api.add_agency(OTHER, keystore_label=label)

    response = api.post_notice(
        release("ocds-213czf-tenants-0002", "tender-1", deadline=FUTURE_DEADLINE), token
    )

    assert response.status_code == 201, response.text
    assert response.json()["receipt"]["seal"]["agency_name"] == OTHER
    status = api.client.get(response.headers["location"]).json()
    assert status["receipt"]["seal"]["agency_name"] == OTHER
    (verdict,) = api.client.post(
        "/verify", json=release("ocds-213czf-tenants-0002", "tender-1", deadline=FUTURE_DEADLINE)
    ).json()["verdicts"]
    assert verdict["agency"] == OTHER


# ---------------------------------------------------------------- credentials


def test_a_token_is_refused_for_a_name_that_only_matches_the_keystore_file(api: ApiEnv) -> None:
    # The keystore file of "Ministry of Public Works" is ministry-of-public-works.json: so is this name's.
    assert keystore_path(api.settings, "MINISTRY OF PUBLIC WORKS!") == keystore_path(api.settings, AGENCY)

    with pytest.raises(UsageError, match="no agency is registered") as unregistered:
        issue_agency_token(api.backend, "MINISTRY OF PUBLIC WORKS!")
    assert "did you mean 'Ministry of Public Works'" in unregistered.value.hint

    # Even registered on chain under that spelling, the Ministry's keystore does not name it.
    api.ledger.register_agency(api.governance, "MINISTRY OF PUBLIC WORKS!")
    with pytest.raises(UsageError, match="names 'Ministry of Public Works'"):
        issue_agency_token(api.backend, "MINISTRY OF PUBLIC WORKS!")
    with pytest.raises(KeystoreError, match="belongs to 'Ministry of Public Works'"):
        load_agency_key(api.settings, "MINISTRY OF PUBLIC WORKS!")


def test_a_token_is_issued_only_for_a_key_the_chain_gives_the_agency(api: ApiEnv) -> None:
    # A keystore naming an agency whose key governance never added.
    api.ledger.register_agency(api.governance, OTHER)
    create_agency_keystore(api.settings, OTHER)
    with pytest.raises(UsageError, match="is not a seal key of"):
        issue_agency_token(api.backend, OTHER)

    issued = issue_agency_token(api.backend, AGENCY)

    assert issued.agency == AGENCY
    assert timedelta(days=89) < issued.expires_at - datetime.now(UTC) <= timedelta(days=90)
    assert api.post_notice(release(OCID, "tender-1"), issued.secret).status_code == 201


def test_a_revoked_token_is_401(api: ApiEnv) -> None:
    assert revoke_agency_tokens(api.store, AGENCY) == 1

    response = api.post_notice(release(OCID, "tender-1"))

    is_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert api.anchored_events() == 0


def test_an_expired_token_is_401(api: ApiEnv) -> None:
    expired = issue_token(api.store, AGENCY, days=1, now=datetime.now(UTC) - timedelta(days=1, seconds=1))
    fresh = issue_token(api.store, AGENCY, days=1)

    response = api.post_notice(release(OCID, "tender-1"), expired)

    is_problem(response, 401)
    assert api.anchored_events() == 0
    assert api.post_notice(release(OCID, "tender-1"), fresh).status_code == 201


def test_each_agency_unlocks_with_its_own_password_and_the_shared_one_is_the_fallback(
    api: ApiEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    own_password = "directorate's own password"
    assert key_password_env(OTHER) == "TENDERLEDGER_KEY_PASSWORD_NATIONAL_PROCUREMENT_DIRECTORATE"
    monkeypatch.setenv(key_password_env(OTHER), own_password)
    other = api.add_agency(OTHER)

    path = keystore_path(api.settings, OTHER)
    unlock_keystore(path, own_password)
    with pytest.raises(KeystoreError, match="wrong password"):
        unlock_keystore(path, PASSWORD)
    # One server, two passwords: the Ministry's comes from the shared setting.
    assert api.settings.agency_key_password(AGENCY).get_secret_value() == PASSWORD  # type: ignore[union-attr]
    assert api.post_notice(release(OCID, "tender-1"), other).status_code == 201
    assert api.post_notice(release("ocds-213czf-tenants-0003", "tender-1")).status_code == 201


def test_a_keystore_for_a_chain_that_is_not_a_devnet_costs_at_least_2_17(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, key_password=SecretStr(PASSWORD), keystore_scrypt_n=1024)

    create_agency_keystore(settings, "Cheap Devnet Agency", chain_id=TESTER_CHAIN_ID)
    create_agency_keystore(settings, "Real Chain Agency", chain_id=1)

    def cost(name: str) -> int:
        return int(json.loads(keystore_path(settings, name).read_text())["crypto"]["kdfparams"]["n"])

    assert cost("Cheap Devnet Agency") == 1024
    assert cost("Real Chain Agency") >= SCRYPT_N_MIN == 2**17


# ---------------------------------------------------------------- secrets


DB_PASSWORD = "s3cret-db-pw"


def test_a_database_password_never_appears_in_a_store_error(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"postgresql://tenderledger:{DB_PASSWORD}@127.0.0.1:1/evidence"

    # No driver for it here: refused as a store error, the URL shown with its password masked.
    with pytest.raises(StoreError) as no_driver:
        EvidenceStore(url)
    assert DB_PASSWORD not in no_driver.value.diagnostics()
    assert "postgresql://tenderledger:***@127.0.0.1:1/evidence" in no_driver.value.message

    # A database that cannot be opened (here, a path that does not exist) behind the same URL.
    def unreachable(_url: str) -> Engine:
        return create_engine(f"sqlite:////nonexistent-{DB_PASSWORD}/evidence.sqlite3")

    monkeypatch.setattr(EvidenceStore, "_engine", staticmethod(unreachable))
    with pytest.raises(StoreError) as unopened:
        EvidenceStore(url)
    assert DB_PASSWORD not in unopened.value.diagnostics()
    assert unopened.value.__cause__ is None and unopened.value.__suppress_context__
    assert "cannot open the evidence store at postgresql://tenderledger:***@" in unopened.value.message


def test_the_deployment_file_holds_no_rpc_credentials(tmp_path: Path) -> None:
    w3 = in_process_chain()
    governance = TransactionSender(w3, dev_account(0))
    secret_url = "https://operator:n0de-key@rpc.example.org:8545/v3/project?apikey=abc123#token=xyz"

    deployment = deploy_ledger(w3, governance, relayers=[dev_account(1).address], rpc_url=secret_url)
    path = tmp_path / "deployment.json"
    deployment.save(path)

    text = path.read_text()
    for secret in ("operator", "n0de-key", "apikey", "abc123", "xyz"):
        assert secret not in text
    assert Deployment.load(path).rpc_url == "https://rpc.example.org:8545/v3/project"
    assert Ledger(w3, Deployment.load(path)).process(ocid_hash(OCID)).agency == 0
