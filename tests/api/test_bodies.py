"""Bad bodies: every one is a problem document (400, 413, 415 or 422), never a 500, and changes nothing."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest

from backend.api.bodies import MAX_BODY_BYTES
from backend.core.digest import release_digest
from tests.api.conftest import ApiEnv, conforms, is_problem, release

OCID = "ocds-213czf-000-00003"
JSON_TYPE = {"Content-Type": "application/json"}


def _zip_of_release() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("release.json", json.dumps(release(OCID, "tender-1")))
    return buffer.getvalue()


MALFORMED = {
    "syntax": b'{"ocid": "ocds-213czf-1", "id": ',
    "duplicate_keys": b'{"ocid": "ocds-213czf-1", "id": "1", "id": "2", "tag": ["tender"]}',
    "nan": b'{"ocid": "ocds-213czf-1", "id": "1", "tag": ["tender"], "value": NaN}',
    "infinity": b'{"ocid": "ocds-213czf-1", "id": "1", "tag": ["tender"], "value": -Infinity}',
    "not_utf8": '{"ocid": "ocds-213czf-1", "id": "1", "title": "Pavimentación"}'.encode("latin-1"),
    "utf8_bom": b'\xef\xbb\xbf{"ocid": "ocds-213czf-1", "id": "1", "tag": ["tender"]}',
    "lone_surrogate": b'{"ocid": "ocds-213czf-1", "id": "\\ud800", "tag": ["tender"]}',
    "deep_nesting": b'{"ocid": "ocds-213czf-1", "id": "1", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "trailing_data": b'{"ocid": "ocds-213czf-1", "id": "1", "tag": ["tender"]} {}',
    "empty": b"",
    "zip_archive": _zip_of_release(),
}

NOT_OCDS = {
    "array": b"[]",
    "string": b'"tender"',
    "object_without_ocds_keys": b'{"name": "not a release"}',
    "releases_not_an_array": b'{"releases": "none"}',
    "release_without_id": b'{"ocid": "ocds-213czf-1", "tag": ["tender"]}',
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_json_is_400_on_anchoring(api: ApiEnv, name: str) -> None:
    nonce = api.relayer_nonce()

    response = api.client.post("/notices", content=MALFORMED[name], headers={**api.auth, **JSON_TYPE})

    problem = is_problem(response, 400)
    conforms(api.client, response, path="/notices", method="post")
    assert problem["type"].endswith("/malformed-json")
    assert api.anchored_events() == 0
    assert api.relayer_nonce() == nonce


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_json_is_400_on_verify(api: ApiEnv, name: str) -> None:
    response = api.client.post("/verify", content=MALFORMED[name], headers=JSON_TYPE)

    is_problem(response, 400)
    conforms(api.client, response, path="/verify", method="post")


@pytest.mark.parametrize("name", sorted(NOT_OCDS))
def test_json_that_is_not_ocds_is_422(api: ApiEnv, name: str) -> None:
    response = api.client.post("/notices", content=NOT_OCDS[name], headers={**api.auth, **JSON_TYPE})
    verified = api.client.post("/verify", content=NOT_OCDS[name], headers=JSON_TYPE)

    assert is_problem(response, 422)["type"].endswith("/not-ocds")
    conforms(api.client, response, path="/notices", method="post")
    assert is_problem(verified, 422)["type"].endswith("/not-ocds")
    conforms(api.client, verified, path="/verify", method="post")
    assert api.anchored_events() == 0


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/zip",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
    ],
)
def test_a_wrong_content_type_is_415(api: ApiEnv, content_type: str | None) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    body = json.dumps(release(OCID, "tender-1")).encode()

    anchoring = api.client.post("/notices", content=body, headers={**api.auth, **headers})
    verifying = api.client.post("/verify", content=body, headers=headers)

    assert is_problem(anchoring, 415)["type"] == "about:blank"
    conforms(api.client, anchoring, path="/notices", method="post")
    is_problem(verifying, 415)
    conforms(api.client, verifying, path="/verify", method="post")
    assert api.anchored_events() == 0


def test_json_with_an_explicit_utf8_charset_is_accepted(api: ApiEnv) -> None:
    response = api.client.post(
        "/notices",
        content=json.dumps(release(OCID, "tender-1")).encode(),
        headers={**api.auth, "Content-Type": "application/json; charset=UTF-8"},
    )

    assert response.status_code == 201, response.text


def test_a_declared_length_over_the_limit_is_413(api: ApiEnv) -> None:
    response = api.client.post(
        "/notices", content=b" " * (MAX_BODY_BYTES + 1), headers={**api.auth, **JSON_TYPE}
    )

    assert is_problem(response, 413)["type"] == "about:blank"
    conforms(api.client, response, path="/notices", method="post")
    assert api.anchored_events() == 0


def test_a_streamed_body_over_the_limit_is_413(api: ApiEnv) -> None:
    chunk = b" " * (1024 * 1024)

    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // len(chunk)):
            yield chunk
        yield b"[]"

    response = api.client.post("/verify", content=chunks(), headers=JSON_TYPE)

    assert "content-length" not in {k.lower() for k in response.request.headers}
    is_problem(response, 413)
    conforms(api.client, response, path="/verify", method="post")


def test_a_body_of_exactly_the_limit_is_accepted(api: ApiEnv) -> None:
    body = release(OCID, "tender-1")
    text = json.dumps(body).encode()
    padded = text + b" " * (MAX_BODY_BYTES - len(text))
    assert len(padded) == MAX_BODY_BYTES

    response = api.client.post("/notices", content=padded, headers={**api.auth, **JSON_TYPE})

    assert response.status_code == 201, response.text
    assert response.json()["receipt"]["notice"]["digest"] == "0x" + release_digest(body).hex()


def test_an_unknown_route_and_a_wrong_method_are_problems(api: ApiEnv) -> None:
    missing = api.client.get("/no-such-route")
    wrong_method = api.client.delete("/notices")

    is_problem(missing, 404)
    assert is_problem(wrong_method, 405)["title"] == "Method Not Allowed"
    assert "POST" in wrong_method.headers["allow"]
