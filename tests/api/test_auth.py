"""Agency credentials: write routes need one, read routes do not, and a refused caller changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from backend.service.tokens import token_sha256
from backend.store.tokens import ApiTokenRow
from tests.api.conftest import ApiEnv, conforms, is_problem, release

OCID = "ocds-213czf-000-00002"


def _assert_nothing_changed(api: ApiEnv, nonce: int) -> None:
    assert api.anchored_events() == 0
    assert api.relayer_nonce() == nonce
    assert list(api.store.notice_rows()) == []
    assert api.store.outbox(statuses=("pending", "sent", "anchored", "final", "refused")) == []


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic dXNlcjpwYXNzd29yZA==",
        "Bearer",
        "Bearer ",
        "Bearer not-a-token",
        "Token tl_" + "A" * 43,
    ],
)
def test_a_missing_or_malformed_credential_is_401(api: ApiEnv, authorization: str | None) -> None:
    nonce = api.relayer_nonce()
    headers = {} if authorization is None else {"Authorization": authorization}

    response = api.client.post("/notices", json=release(OCID, "tender-1"), headers=headers)

    problem = is_problem(response, 401)
    conforms(api.client, response, path="/notices", method="post")
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert problem["type"] == "about:blank"
    _assert_nothing_changed(api, nonce)


def test_an_unknown_token_is_401_invalid_token(api: ApiEnv) -> None:
    nonce = api.relayer_nonce()

    response = api.client.post(
        "/notices", json=release(OCID, "tender-1"), headers={"Authorization": "Bearer tl_" + "A" * 43}
    )

    is_problem(response, 401)
    conforms(api.client, response, path="/notices", method="post")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    _assert_nothing_changed(api, nonce)


def test_a_revoked_token_is_401(api: ApiEnv) -> None:
    with api.store.session() as session:
        session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.token_sha256 == token_sha256(api.token))
            .values(revoked=True)
        )
    nonce = api.relayer_nonce()

    response = api.post_notice(release(OCID, "tender-1"))

    is_problem(response, 401)
    _assert_nothing_changed(api, nonce)


def test_the_credential_is_checked_before_the_body_is_read(api: ApiEnv) -> None:
    response = api.client.post("/notices", content=b'{"not": json', headers={"Content-Type": "text/plain"})

    is_problem(response, 401)


def test_read_and_verify_routes_are_public(api: ApiEnv) -> None:
    body = release(OCID, "tender-1")
    anchored = api.post_notice(body)
    assert anchored.status_code == 201

    assert api.client.get(anchored.headers["location"]).status_code == 200
    assert api.client.post("/verify", json=body).status_code == 200
    assert api.client.get(f"/processes/{OCID}").status_code == 200
    assert api.client.get("/health").status_code == 200
