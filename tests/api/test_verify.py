"""POST /verify: the verdicts ``tenderledger verify --json`` gives, for a JSON body or an uploaded file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from backend.api.bodies import read_notices
from backend.service.verification import VerifyService, subjects_of
from tests.api.conftest import ApiEnv, conforms, is_problem, release

OCID = "ocds-213czf-000-00004"
# The members every ``verify --json`` line has; tampered ones add "changed".
CLI_MEMBERS = {
    "file",
    "ocid",
    "release_id",
    "digest",
    "status",
    "stage",
    "agency",
    "agency_id",
    "signer",
    "block_number",
    "block_timestamp",
    "tx_hash",
    "log_index",
}
TENDER_FILE = "paraguay/sample/releases/277004-adquisicion-equipos-e-insumos-informaticos-tender.json"


def cli_verdicts(api: ApiEnv, data: bytes, *, name: str) -> list[dict[str, Any]]:
    """What the verify command computes for these bytes (same service, same store)."""
    service = VerifyService(api.backend, store=api.store)
    return [v.to_json() for v in service.verify(subjects_of(read_notices(data, name=name)))]


def test_an_anchored_notice_verifies_as_verify_json_says(api: ApiEnv) -> None:
    body = release(OCID, "tender-1")
    anchored = api.post_notice(body).json()["receipt"]

    response = api.client.post("/verify", json=body)

    assert response.status_code == 200, response.text
    conforms(api.client, response, path="/verify", method="post")
    (verdict,) = response.json()["verdicts"]
    assert verdict["status"] == "anchored"
    assert set(verdict) == CLI_MEMBERS
    assert verdict["tx_hash"] == anchored["anchor"]["tx_hash"]
    assert verdict["file"] == "body"
    assert response.json()["passed"] is True
    assert response.json()["verdicts"] == cli_verdicts(api, json.dumps(body).encode(), name="body")


def test_a_tampered_copy_lists_the_changed_fields(api: ApiEnv) -> None:
    body = release(OCID, "tender-1")
    api.post_notice(body)
    tampered = json.loads(json.dumps(body))
    tampered["tender"]["title"] = "Road resurfacing, all lots"
    tampered["tender"]["value"] = {"amount": 1_000_000, "currency": "USD"}

    response = api.client.post("/verify", json=tampered)

    conforms(api.client, response, path="/verify", method="post")
    (verdict,) = response.json()["verdicts"]
    assert verdict["status"] == "tampered"
    assert verdict["changed"] == ["/tender/title", "/tender/value"]
    assert response.json()["passed"] is False
    assert response.json()["verdicts"] == cli_verdicts(api, json.dumps(tampered).encode(), name="body")


def test_an_unknown_notice_is_not_anchored(api: ApiEnv) -> None:
    response = api.client.post("/verify", json=release(OCID, "never-published"))

    conforms(api.client, response, path="/verify", method="post")
    (verdict,) = response.json()["verdicts"]
    assert verdict["status"] == "not_anchored"
    assert verdict["block_number"] is None
    assert response.json()["passed"] is False


def test_an_uploaded_file_verifies_like_a_body(api: ApiEnv) -> None:
    body = release(OCID, "tender-1")
    api.post_notice(body)
    tampered = {**body, "date": "2024-03-09T10:00:00Z"}
    files = {"file": ("tender-1.json", json.dumps(tampered).encode(), "application/json")}

    response = api.client.post("/verify", files=files)

    assert response.status_code == 200, response.text
    conforms(api.client, response, path="/verify", method="post")
    (verdict,) = response.json()["verdicts"]
    assert verdict["file"] == "tender-1.json"
    assert verdict["status"] == "tampered"
    assert verdict["changed"] == ["/date"]


def test_an_uploaded_document_is_looked_up_by_its_sha256(api: ApiEnv) -> None:
    minutes = b"%PDF-1.4 minutes of the bid opening"

    response = api.client.post("/verify", files={"file": ("minutes.pdf", minutes, "application/pdf")})

    conforms(api.client, response, path="/verify", method="post")
    (verdict,) = response.json()["verdicts"]
    assert verdict["stage"] == "document"
    assert verdict["digest"] == "0x" + hashlib.sha256(minutes).hexdigest()
    assert verdict["status"] == "not_anchored"


def test_a_multipart_body_without_a_file_part_is_400(api: ApiEnv) -> None:
    response = api.client.post("/verify", data={"note": "no file"}, files={"other": ("x.json", b"{}")})

    is_problem(response, 400)
    conforms(api.client, response, path="/verify", method="post")


def test_a_package_gets_one_verdict_per_release_in_publication_order(api: ApiEnv) -> None:
    first = release(OCID, "tender-1", date="2024-03-01T10:00:00Z")
    second = release(OCID, "tender-2", date="2024-03-05T10:00:00Z")
    api.post_notice(first)

    response = api.client.post("/verify", json={"releases": [second, first]})

    assert [(v["release_id"], v["status"], v["file"]) for v in response.json()["verdicts"]] == [
        ("tender-1", "anchored", "body#/releases/1"),
        ("tender-2", "not_anchored", "body#/releases/0"),
    ]


def test_a_real_release_anchored_and_uploaded_verifies(
    api: ApiEnv, real_release: Callable[[str], bytes]
) -> None:
    data = real_release(TENDER_FILE)
    anchored = api.client.post(
        "/notices", content=data, headers={**api.auth, "Content-Type": "application/json"}
    )
    assert anchored.status_code == 201, anchored.text

    response = api.client.post("/verify", files={"file": ("tender.json", data, "application/json")})

    (verdict,) = response.json()["verdicts"]
    assert verdict["status"] == "anchored"
    assert verdict["ocid"] == "ocds-03ad3f-277004"
    assert response.json()["verdicts"] == cli_verdicts(api, data, name="tender.json")
