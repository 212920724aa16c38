"""The OpenAPI document: served, complete, and honest about problem documents."""

from __future__ import annotations

from tests.api.conftest import ApiEnv

ROUTES = {
    ("/notices", "post"),
    ("/notices/{digest}", "get"),
    ("/verify", "post"),
    ("/processes/{ocid}", "get"),
    ("/batches/{root}", "get"),
    ("/health", "get"),
    ("/notices/{digest}/evidence", "get"),
    ("/processes/{ocid}/dossier", "get"),
}


def test_openapi_json_and_docs_are_served(api: ApiEnv) -> None:
    document = api.client.get("/openapi.json")
    docs = api.client.get("/docs")

    assert document.status_code == 200
    assert document.json()["openapi"].startswith("3.")
    assert docs.status_code == 200
    assert "text/html" in docs.headers["content-type"]


def test_every_route_is_documented_with_its_problem_responses(api: ApiEnv) -> None:
    document = api.client.get("/openapi.json").json()
    operations = {(path, method) for path, item in document["paths"].items() for method in item}

    assert operations == ROUTES
    for path, method in ROUTES:
        responses = document["paths"][path][method]["responses"]
        errors = {status: r for status, r in responses.items() if status[0] in "45"}
        assert errors, f"{method} {path} documents no error"
        for status, response in errors.items():
            assert list(response["content"]) == ["application/problem+json"], (path, method, status)


def test_the_write_route_declares_its_credential_and_the_others_do_not(api: ApiEnv) -> None:
    document = api.client.get("/openapi.json").json()

    assert document["components"]["securitySchemes"]["AgencyToken"]["scheme"] == "bearer"
    assert document["paths"]["/notices"]["post"]["security"] == [{"AgencyToken": []}]
    for path, method in ROUTES - {("/notices", "post")}:
        assert "security" not in document["paths"][path][method], (path, method)


def test_no_response_refers_to_fastapi_validation_errors(api: ApiEnv) -> None:
    text = api.client.get("/openapi.json").text

    assert "HTTPValidationError" not in text
