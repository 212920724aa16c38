"""The server side of the workbench: the page, its deployment, stored originals, search, an agency's
outbox, and /docs from our own files. The page checks all of it against the chain; these tests pin
what the server says."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.core.canonical import canonicalize
from backend.core.jsontext import parse_json
from backend.core.pointer import resolve_pointer
from tests.api.conftest import AGENCY, ApiEnv, release, serving


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiEnv]:
    with serving(tmp_path / "home") as env:
        yield env


def test_deployment_names_the_chain_the_ledger_and_its_code(api: ApiEnv) -> None:
    answer = api.client.get("/deployment")
    assert answer.status_code == 200
    body = answer.json()
    assert body["chain_id"] == api.w3.eth.chain_id
    assert body["ledger"] == api.ledger.address
    assert body["code_hash"].startswith("0x") and len(body["code_hash"]) == 66
    assert body["immutable_ranges"] and all(length == 32 for _start, length in body["immutable_ranges"])


def test_the_stored_original_hashes_to_the_anchored_digest(api: ApiEnv) -> None:
    notice = release("ocds-wbtest-1", "wb-1")
    anchored = api.post_notice({"releases": [notice]})
    assert anchored.status_code == 201, anchored.text
    digest = anchored.json()["notices"][0]["digest"]
    answer = api.client.get(f"/originals/{digest}")
    assert answer.status_code == 200
    stored = answer.json()
    original = resolve_pointer(parse_json(stored["source"].encode()), stored["pointer"])
    assert "0x" + hashlib.sha256(canonicalize(original)).hexdigest() == digest.lower()


def test_an_unknown_or_malformed_digest_is_a_problem(api: ApiEnv) -> None:
    assert api.client.get("/originals/" + "ab" * 32).status_code == 404
    bad = api.client.get("/originals/not-a-digest")
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")


def test_search_finds_processes_by_title_and_ocid(api: ApiEnv) -> None:
    api.post_notice(release("ocds-wbtest-2", "wb-2"))
    by_title = api.client.get("/search", params={"q": "road RESURFACING"}).json()["processes"]
    assert [p["ocid"] for p in by_title] == ["ocds-wbtest-2"]
    assert by_title[0]["title"] == "Road resurfacing, lot 1"
    assert api.client.get("/search", params={"q": "no such process"}).json()["processes"] == []


def test_the_outbox_needs_the_agency_credential_and_shows_its_own_notices(api: ApiEnv) -> None:
    assert api.client.get("/agency/outbox").status_code == 401
    api.post_notice(release("ocds-wbtest-3", "wb-3"))
    other = api.add_agency("Another Agency")
    outbox = api.client.get("/agency/outbox", headers=api.auth).json()
    assert outbox["agency"] == AGENCY
    assert [(i["release_id"], i["status"]) for i in outbox["items"]] == [("wb-3", "anchored")]
    assert outbox["ocids"] == ["ocds-wbtest-3"]
    theirs = api.client.get("/agency/outbox", headers={"Authorization": f"Bearer {other}"}).json()
    assert theirs["items"] == []


def test_the_page_and_the_docs_come_from_this_server(api: ApiEnv) -> None:
    page = api.client.get("/")
    assert page.headers["content-type"].startswith("text/html")
    docs = api.client.get("/docs").text
    assert "cdn." not in docs and "//unpkg" not in docs
    if page.status_code == 200:  # built: the page's assets and Swagger UI are ours
        assert '<script type="module"' in page.text and "/ui/assets/" in page.text
        assert "/ui/swagger-ui/swagger-ui-bundle.js" in docs
        assert api.client.get("/ui/swagger-ui/swagger-ui-bundle.js").status_code == 200
    else:
        assert page.status_code == 503 and "make setup" in page.text


def test_workbench_routes_stay_out_of_the_openapi_document(api: ApiEnv) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    assert not {"/", "/deployment", "/search", "/agency/outbox", "/originals/{digest}"} & set(paths)
