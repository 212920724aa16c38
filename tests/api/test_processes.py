"""GET /processes/{ocid}: the timeline ``tenderledger history --json`` prints, with its red flags."""

from __future__ import annotations

from collections.abc import Callable

from backend.service.history import process_history
from tests.api.conftest import ApiEnv, conforms, is_problem, release

REAL_PROCESS = "ocds-03ad3f-277004"
REAL_FILES = [
    "paraguay/sample/releases/277004-adquisicion-equipos-e-insumos-informaticos-planning.json",
    "paraguay/sample/releases/277004-adquisicion-equipos-e-insumos-informaticos-tender.json",
    "paraguay/sample/releases/277004-adquisicion-equipos-e-insumos-informaticos-1-award.json",
]


def test_a_real_process_timeline_in_ledger_order(api: ApiEnv, real_release: Callable[[str], bytes]) -> None:
    for name in REAL_FILES:
        response = api.client.post(
            "/notices", content=real_release(name), headers={**api.auth, "Content-Type": "application/json"}
        )
        assert response.status_code == 201, response.text

    response = api.client.get(f"/processes/{REAL_PROCESS}")

    assert response.status_code == 200, response.text
    conforms(api.client, response, path="/processes/{ocid}", method="get")
    timeline = response.json()["timeline"]
    assert [(e["stage"], e["status"]) for e in timeline] == [
        ("planning", "anchored"),
        ("tender", "anchored"),
        ("award", "anchored"),
    ]
    assert response.json() == process_history(api.backend, REAL_PROCESS, store=api.store).to_json()


def test_a_refused_notice_and_its_red_flag_appear(api: ApiEnv) -> None:
    ocid = "ocds-213czf-000-00005"
    api.post_notice(release(ocid, "tender-1", deadline="2090-01-01T00:00:00Z"))
    api.post_notice(release(ocid, "award-1", tag="award", date="2024-04-01T10:00:00Z"))

    response = api.client.get(f"/processes/{ocid}")

    conforms(api.client, response, path="/processes/{ocid}", method="get")
    data = response.json()
    assert [(e["release_id"], e["status"], e.get("error")) for e in data["timeline"]] == [
        ("tender-1", "anchored", None),
        ("award-1", "refused", "DeadlineNotPassed"),
    ]
    assert "error" not in data["timeline"][0]  # as history --json: only refused entries carry one
    assert "award_before_deadline" in {flag["code"] for flag in data["red_flags"]}


def test_an_ocid_with_a_slash_is_one_path_parameter(api: ApiEnv) -> None:
    ocid = "ocds-213czf-000/00006"
    assert api.post_notice(release(ocid, "tender-1")).status_code == 201

    response = api.client.get(f"/processes/{ocid}")

    assert response.status_code == 200, response.text
    assert response.json()["ocid"] == ocid


def test_an_unknown_process_is_404(api: ApiEnv) -> None:
    response = api.client.get("/processes/ocds-213czf-000-99999")

    is_problem(response, 404)
    conforms(api.client, response, path="/processes/{ocid}", method="get")
