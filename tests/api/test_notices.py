"""POST /notices and GET /notices/{digest}: anchoring through the API, and following a notice."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from backend.api import create_app
from backend.core.digest import release_digest
from backend.core.receipt import check_receipt_offline
from backend.core.seal import notice_key
from backend.service.anchoring import AnchorService
from backend.service.context import Backend
from backend.service.intake import Intake, read_bytes
from backend.service.messages import ADVICE
from tests.api.conftest import AGENCY, ApiEnv, conforms, gated_chain, is_problem, release, serving

OCID = "ocds-213czf-000-00001"
FAR_DEADLINE = "2090-01-01T00:00:00Z"
PAST_DEADLINE = "2020-01-01T00:00:00Z"
POLL_LIMIT_S = 60.0


def hex_digest(body: dict[str, Any]) -> str:
    return "0x" + release_digest(body).hex()


def wait_for_status(client: TestClient, url: str, status: str) -> dict[str, Any]:
    """Poll the status URL until the notice reaches ``status`` (as a client would); fail after a minute."""
    deadline = time.monotonic() + POLL_LIMIT_S
    while True:
        body: dict[str, Any] = client.get(url).json()
        if body.get("status") == status or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


# ---------------------------------------------------------------- anchoring


def test_anchoring_a_release_answers_201_with_a_receipt_that_checks_offline(api: ApiEnv) -> None:
    body = release(OCID, "tender-1", deadline=FAR_DEADLINE)

    response = api.post_notice(body)

    assert response.status_code == 201, response.text
    conforms(api.client, response, path="/notices", method="post")
    data = response.json()
    receipt = data["receipt"]
    digest = release_digest(body)
    assert check_receipt_offline(receipt, digest=digest) == []
    assert receipt["notice"]["digest"] == "0x" + digest.hex()
    assert receipt["seal"]["agency_name"] == AGENCY
    assert [n["outcome"] for n in data["notices"]] == ["anchored"]
    assert response.headers["location"].endswith(f"/notices/0x{digest.hex()}")
    record = api.ledger.record_by_key(notice_key(OCID, "tender-1"))
    assert record is not None and record.digest == digest


def test_the_status_url_shows_the_same_receipt(api: ApiEnv) -> None:
    body = release(OCID, "tender-1", deadline=FAR_DEADLINE)
    anchored = api.post_notice(body)

    status = api.client.get(anchored.headers["location"])

    assert status.status_code == 200
    conforms(api.client, status, path="/notices/{digest}", method="get")
    assert status.json()["status"] == "anchored"
    assert status.json()["receipt"] == anchored.json()["receipt"]
    # Digests are accepted without 0x and in upper case, as people copy them.
    bare = api.client.get("/notices/" + hex_digest(body)[2:].upper())
    assert bare.json()["receipt"] == anchored.json()["receipt"]


def test_resubmitting_the_same_notice_answers_200_with_the_same_receipt_and_sends_nothing(
    api: ApiEnv,
) -> None:
    body = release(OCID, "tender-1", deadline=FAR_DEADLINE)
    first = api.post_notice(body)
    nonce = api.relayer_nonce()
    # Same content, other key order and whitespace: the same notice (RFC 8785 digest).
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=3).encode()

    again = api.client.post(
        "/notices", content=reordered, headers={**api.auth, "Content-Type": "application/json"}
    )

    assert again.status_code == 200, again.text
    conforms(api.client, again, path="/notices", method="post")
    assert again.json()["receipt"] == first.json()["receipt"]
    assert again.json()["notices"][0]["outcome"] == "already_anchored"
    assert api.relayer_nonce() == nonce
    assert api.anchored_events(OCID) == 1


def test_same_release_id_with_other_content_is_409_with_the_existing_receipt(api: ApiEnv) -> None:
    original = release(OCID, "tender-1", deadline=FAR_DEADLINE)
    first = api.post_notice(original)
    altered = release(OCID, "tender-1", deadline=FAR_DEADLINE)
    altered["tender"]["title"] = "Road resurfacing, lots 1 and 2"
    nonce = api.relayer_nonce()

    response = api.post_notice(altered)

    problem = is_problem(response, 409)
    conforms(api.client, response, path="/notices", method="post")
    assert problem["type"].endswith("/digest-conflict")
    assert problem["receipt"] == first.json()["receipt"]
    assert problem["contract_error"]["name"] == "DigestConflict"
    assert problem["contract_error"]["advice"] == ADVICE["DigestConflict"]
    # The ledger still holds the original, and nothing was sent.
    record = api.ledger.record_by_key(notice_key(OCID, "tender-1"))
    assert record is not None and record.digest == release_digest(original)
    assert api.anchored_events(OCID) == 1
    assert api.relayer_nonce() == nonce
    status = api.client.get(f"/notices/{hex_digest(altered)}").json()
    assert status["status"] == "refused"
    assert status["contract_error"]["name"] == "DigestConflict"


def test_the_409_receipt_comes_from_the_chain_when_another_store_anchored_the_original(
    api: ApiEnv, tmp_path: Path
) -> None:
    original = release(OCID, "tender-1", deadline=FAR_DEADLINE)
    elsewhere = _anchor_elsewhere(api, original, tmp_path)
    altered = {**original, "date": "2024-03-02T10:00:00Z"}

    problem = is_problem(api.post_notice(altered), 409)

    assert problem["receipt"] == elsewhere
    assert check_receipt_offline(problem["receipt"], digest=release_digest(original)) == []


def test_an_award_before_the_tender_deadline_is_422_with_the_decoded_contract_error(api: ApiEnv) -> None:
    assert api.post_notice(release(OCID, "tender-1", deadline=FAR_DEADLINE)).status_code == 201
    award = release(OCID, "award-1", tag="award", date="2024-04-01T10:00:00Z")

    response = api.post_notice(award)

    problem = is_problem(response, 422)
    conforms(api.client, response, path="/notices", method="post")
    assert problem["type"].endswith("/ledger-refused")
    assert problem["contract_error"]["name"] == "DeadlineNotPassed"
    assert problem["contract_error"]["advice"] == ADVICE["DeadlineNotPassed"]
    assert problem["notices"][0]["outcome"] == "refused"
    assert api.ledger.record_by_key(notice_key(OCID, "award-1")) is None


def test_a_refused_notice_is_judged_again_when_resubmitted(api: ApiEnv) -> None:
    api.post_notice(release(OCID, "tender-1", deadline=FAR_DEADLINE))
    award = release(OCID, "award-1", tag="award", date="2024-04-01T10:00:00Z")
    assert api.post_notice(award).status_code == 422

    api.advance_past(FAR_DEADLINE)
    response = api.post_notice(award)

    assert response.status_code == 201, response.text
    assert check_receipt_offline(response.json()["receipt"], digest=release_digest(award)) == []


def test_a_release_failing_the_schema_is_422_with_its_issues_unless_allowed(api: ApiEnv) -> None:
    body = release(OCID, "tender-1", tender={"id": "t-1", "value": {"amount": "a lot"}})

    refused = api.post_notice(body)

    problem = is_problem(refused, 422)
    conforms(api.client, refused, path="/notices", method="post")
    assert problem["type"].endswith("/schema-invalid")
    assert [e["location"] for e in problem["errors"]] == ["/tender/value/amount"]
    assert api.anchored_events() == 0

    allowed = api.post_notice(body, allow_invalid="true")

    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["notices"][0]["schema_issues"][0]["location"] == "/tender/value/amount"
    assert api.anchored_events(OCID) == 1


def test_a_bad_query_parameter_is_a_400_problem(api: ApiEnv) -> None:
    response = api.post_notice(release(OCID, "tender-1"), allow_invalid="perhaps")

    problem = is_problem(response, 400)
    conforms(api.client, response, path="/notices", method="post")
    assert [e["location"] for e in problem["errors"]] == ["query.allow_invalid"]
    assert api.anchored_events() == 0


def test_a_release_package_is_anchored_in_publication_order(api: ApiEnv) -> None:
    tender = release(OCID, "tender-1", deadline=PAST_DEADLINE, date="2019-12-01T10:00:00Z")
    award = release(OCID, "award-1", tag="award", date="2020-02-01T10:00:00Z")
    package = {
        "uri": "https://example.org/packages/1",
        "publishedDate": "2020-02-01T10:00:00Z",
        "publisher": {"name": "Ministry"},
        "version": "1.1",
        "releases": [award, {"url": "https://example.org/releases/elsewhere.json"}, tender],
    }

    response = api.post_notice(package)

    assert response.status_code == 201, response.text
    conforms(api.client, response, path="/notices", method="post")
    data = response.json()
    assert data["receipt"] is None  # several notices: each has its own
    assert [(n["release_id"], n["pointer"]) for n in data["notices"]] == [
        ("tender-1", "/releases/2"),
        ("award-1", "/releases/0"),
    ]
    for notice, body in zip(data["notices"], (tender, award), strict=True):
        assert check_receipt_offline(notice["receipt"], digest=release_digest(body)) == []
    assert [s["location"] for s in data["skipped"]] == ["/releases/1"]


def test_a_release_anchored_elsewhere_is_found_on_chain(api: ApiEnv, tmp_path: Path) -> None:
    body = release(OCID, "tender-1", deadline=FAR_DEADLINE)
    elsewhere = _anchor_elsewhere(api, body, tmp_path)

    status = api.client.get(f"/notices/{hex_digest(body)}")
    submitted = api.post_notice(body)

    assert status.json()["status"] == "anchored"
    assert status.json()["receipt"] == elsewhere
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["receipt"] == elsewhere
    assert api.anchored_events(OCID) == 1


# ---------------------------------------------------------------- GET /notices/{digest}


def test_an_unknown_digest_is_404_and_a_malformed_one_400(api: ApiEnv) -> None:
    unknown = api.client.get("/notices/0x" + "ab" * 32)
    malformed = api.client.get("/notices/not-a-digest")

    assert is_problem(unknown, 404)["type"] == "about:blank"
    conforms(api.client, unknown, path="/notices/{digest}", method="get")
    assert is_problem(malformed, 400)["type"].endswith("/invalid-request")
    conforms(api.client, malformed, path="/notices/{digest}", method="get")


# ---------------------------------------------------------------- a slow chain, and a restart


def test_a_slow_chain_gets_202_and_the_work_finishes_in_the_background(tmp_path: Path) -> None:
    with serving(tmp_path / "home", wait_s=0.2) as api:
        gate = gated_chain(api.w3)
        body = release(OCID, "tender-1", deadline=FAR_DEADLINE)
        digest = release_digest(body)

        response = api.post_notice(body)

        assert response.status_code == 202, response.text
        conforms(api.client, response, path="/notices", method="post")
        location = response.headers["location"]
        assert location.endswith(f"/notices/0x{digest.hex()}")
        assert response.json()["notices"][0]["outcome"] == "pending"
        # Committed to the outbox before any transaction: the chain has nothing yet.
        assert gate.reached.wait(timeout=POLL_LIMIT_S)
        assert api.client.get(location).json()["status"] == "pending"
        assert api.ledger.record_by_key(notice_key(OCID, "tender-1")) is None

        gate.opened.set()
        final = wait_for_status(api.client, location, "anchored")

        assert final["status"] == "anchored"
        assert check_receipt_offline(final["receipt"], digest=digest) == []
        assert api.anchored_events(OCID) == 1


def test_work_left_in_the_outbox_is_resumed_when_the_server_starts(api: ApiEnv) -> None:
    body = release(OCID, "tender-1", deadline=FAR_DEADLINE)
    # What a server killed right after acknowledging leaves behind: bytes kept, sealed entry committed.
    intake = Intake()
    read_bytes(json.dumps(body).encode(), name="left.json", ocid=None, intake=intake)
    service = AnchorService(api.backend)
    service.keep(intake, intake.notices)
    service.enqueue(intake.notices, agency=AGENCY)
    assert api.ledger.record_by_key(notice_key(OCID, "tender-1")) is None

    restarted = create_app(api.settings, backend=Backend(api.settings, w3=api.w3, store=api.store))
    with TestClient(restarted) as client:
        final = wait_for_status(client, f"/notices/{hex_digest(body)}", "anchored")

    assert final["status"] == "anchored"
    assert check_receipt_offline(final["receipt"], digest=release_digest(body)) == []


# ---------------------------------------------------------------- helpers


def _anchor_elsewhere(api: ApiEnv, body: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Anchor ``body`` as another installation would: same chain and agency key, its own evidence store."""
    from backend.store import EvidenceStore

    other_store = EvidenceStore(f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}")
    try:
        intake = Intake()
        read_bytes(json.dumps(body).encode(), name="elsewhere.json", ocid=None, intake=intake)
        (result,) = AnchorService(Backend(api.settings, w3=api.w3, store=other_store)).anchor(
            intake, agency=AGENCY
        )
        assert result.receipt is not None
        return result.receipt.to_json()
    finally:
        other_store.close()
