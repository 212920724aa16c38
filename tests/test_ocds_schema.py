"""Loading the pinned OCDS release schema: present and right, missing, or altered."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from backend.errors import SchemaUnavailableError
from backend.ocds_schema import (
    OCDS_VERSION,
    RELEASE_SCHEMA_PATH,
    RELEASE_SCHEMA_SHA256,
    load_release_schema,
    release_validator,
)


def test_the_installed_schema_is_the_pinned_ocds_1_1_5_release_schema() -> None:
    assert hashlib.sha256(RELEASE_SCHEMA_PATH.read_bytes()).hexdigest() == RELEASE_SCHEMA_SHA256
    schema = load_release_schema()
    assert schema["id"].endswith("/" + OCDS_VERSION.replace(".", "__") + "/release-schema.json")
    assert schema["required"] == ["ocid", "id", "date", "tag", "initiationType"]


def test_a_missing_schema_says_to_run_make_setup(tmp_path: Path) -> None:
    with pytest.raises(SchemaUnavailableError) as raised:
        load_release_schema(tmp_path / "release-schema.json")
    assert "not installed" in str(raised.value)
    assert "make setup" in raised.value.diagnostics()
    assert raised.value.exit_code == 2  # a set-up problem, not a failed notice


def test_an_altered_schema_is_refused(tmp_path: Path) -> None:
    altered = tmp_path / "release-schema.json"
    altered.write_bytes(RELEASE_SCHEMA_PATH.read_bytes().replace(b'"minItems": 1', b'"minItems": 0', 1))
    with pytest.raises(SchemaUnavailableError, match="not the pinned one") as raised:
        load_release_schema(altered)
    assert "make setup" in raised.value.hint


def test_the_shared_validator_is_built_once() -> None:
    assert release_validator() is release_validator()
    assert release_validator().validate_release({"ocid": 1}) != []
