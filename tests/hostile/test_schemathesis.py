"""The API against its own OpenAPI document, fuzzed by schemathesis, in process (no server).

Every operation is exercised with valid and invalid requests (examples, coverage and
fuzzing phases; positive and negative data), the write route with a real agency token.
Each response must not be a server error and must be documented: its status code, its
content type, its headers and its body schema. On top of schemathesis's checks, one of
our own: a request the API refuses (any 4xx or 5xx) leaves the ledger as it was, with no
event, no transaction and no outbox row.

The run is bounded and repeatable: a fixed seed, derandomized generation, no example
database, few examples per operation, no deadline.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from backend.api import create_app
from backend.core.digest import release_digest
from backend.service.tokens import TOKEN_BYTES, TOKEN_PREFIX, token_sha256
from backend.settings import Settings
from tests.api.conftest import AGENCY, ApiEnv, release, serving
from tests.hostile.conftest import api_state

SEED = 20_251_101
MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    negative_data_rejection,
    unsupported_method,
    allow_header_conformance,
    missing_required_header,
]
LEDGER_REFUSALS = ("/ledger-refused", "/digest-conflict")
"""Problem types of refusals by the ledger contract (every other refusal is of the input)."""
# The agency credential schemathesis sends; registered for the API's agency by the fixture.
TOKEN = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)

# The document is read from the app itself, built without a chain or store (nothing is opened),
# so that schemathesis can make one test per operation when the module is collected. The
# requests go to the app served by ``fuzzed_api``, whose document is checked to be the same.
OPENAPI = create_app(Settings(home=Path("openapi-only"))).openapi()

# Random bodies are never OCDS and random digests never hex, so on their own the fuzzer would
# meet only refusals. These examples (added to a copy of the document, for this test only)
# take it down the other paths too: anchored (201), anchored before (200), a digest conflict
# (409), refused by the ledger (422), failing the OCDS schema (422), receipts, verdicts and
# timelines (200). Operations run in document order, so POST /notices comes first.
OCID = "ocds-213czf-fuzz-0001"
TENDER = release(OCID, "tender-1", deadline="2099-01-01T00:00:00Z")
EXAMPLES: dict[str, dict[str, Any]] = {
    "tender": TENDER,
    "tender-again": TENDER,
    "tender-altered": {**TENDER, "tender": {**TENDER["tender"], "title": "Road resurfacing, lot 2"}},
    "award-before-the-deadline": release(OCID, "award-1", tag="award"),
    "schema-invalid": release("ocds-213czf-fuzz-0002", "tender-1", date="last tuesday"),
    "package": {
        "uri": "https://example.org/package.json",
        "publishedDate": "2024-03-02T00:00:00Z",
        "releases": [release("ocds-213czf-fuzz-0003", f"planning-{i}", tag="planning") for i in (1, 2)],
    },
}
DIGEST = "0x" + release_digest(TENDER).hex()


def with_examples(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` with request examples that reach every kind of response."""
    copy = json.loads(json.dumps(document))
    paths = copy["paths"]
    named = {name: {"value": body} for name, body in EXAMPLES.items()}
    paths["/notices"]["post"]["requestBody"]["content"]["application/json"]["examples"] = named
    paths["/verify"]["post"]["requestBody"]["content"]["application/json"]["examples"] = named
    for path, value in (("/notices/{digest}", DIGEST), ("/processes/{ocid}", OCID)):
        (parameter,) = paths[path]["get"]["parameters"]
        parameter["examples"] = {"anchored": {"value": value}}
    return copy


schema = schemathesis.openapi.from_dict(with_examples(OPENAPI))
schema.config.update(headers={"Authorization": f"Bearer {TOKEN}"})
schema.config.seed = SEED
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    database="none",
)
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])


@pytest.fixture(scope="module")
def fuzzed_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    with serving(tmp_path_factory.mktemp("schemathesis") / "home") as env:
        env.store.add_token(AGENCY, token_sha256(TOKEN), expires_at=datetime.now(UTC) + timedelta(days=1))
        assert env.client.get("/openapi.json").json() == OPENAPI
        yield env


@schema.parametrize()
def test_every_operation_conforms_and_refusals_change_nothing(case: Case, fuzzed_api: ApiEnv) -> None:
    before = api_state(fuzzed_api)

    response = case.call_and_validate(checks=CHECKS, app=fuzzed_api.app)

    if response.status_code < 400:
        return
    after = api_state(fuzzed_api)
    problem_type = str(response.json().get("type", ""))
    if problem_type.endswith(LEDGER_REFUSALS):
        # The ledger itself said no: the attempt is on record as refused, the chain is untouched.
        assert after.chain_unchanged_since(before), f"{case.method} {case.path}: {before} -> {after}"
    else:
        assert after == before, (
            f"{case.method} {case.formatted_path} was refused ({response.status_code}) "
            f"but the ledger or the store changed: {before} -> {after}"
        )
