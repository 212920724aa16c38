"""Validation against the pinned OCDS 1.1.5 release schema (installed by make setup)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # the reference implementation, unstubbed
import pytest

from backend.core.dates import is_rfc3339_datetime
from backend.core.notice import parse_notices
from backend.core.pointer import json_pointer
from backend.core.schema import MAX_MESSAGE_CHARS, ReleaseValidator, SchemaIssue
from backend.errors import SchemaUnavailableError
from backend.ocds_schema import load_release_schema


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return load_release_schema()


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> ReleaseValidator:
    return ReleaseValidator(schema)


def valid_release() -> dict[str, Any]:
    return {
        "ocid": "ocds-abc123-0001",
        "id": "r1",
        "date": "2024-03-01T10:00:00Z",
        "tag": ["tender"],
        "initiationType": "tender",
        "buyer": {"id": "GB-1", "name": "Ministry of Roads"},
        "tender": {
            "id": "t1",
            "status": "active",
            "numberOfTenderers": 2,
            "tenderPeriod": {"endDate": "2024-04-01T12:00:00+02:00"},
            "documents": [{"id": "d1", "url": "https://example.org/notice.pdf"}],
        },
        "awards": [{"id": "a1", "status": "pending"}],
    }


def paths(issues: list[SchemaIssue]) -> list[tuple[str, str]]:
    return [(issue.path, issue.keyword) for issue in issues]


def test_a_valid_release_has_no_issue(validator: ReleaseValidator) -> None:
    assert validator.validate_release(valid_release()) == []
    assert validator.is_valid(valid_release())


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda r: r.update(ocid=5), [("/ocid", "type")]),
        (lambda r: r.pop("initiationType"), [("", "required")]),
        (lambda r: r.update(tag="tender"), [("/tag", "type")]),
        (lambda r: r.update(tag=["awardNotice"]), [("/tag/0", "enum")]),
        (lambda r: r.update(tag=[]), [("/tag", "minItems")]),
        (lambda r: r["awards"][0].update(status="won"), [("/awards/0/status", "enum")]),
        (lambda r: r.update(date="2024-03-01T10:00:00"), [("/date", "format")]),
        # A leap second passes the engine's own date-time check but not the notice reader.
        (lambda r: r.update(date="2016-12-31T23:59:60Z"), [("/date", "format")]),
        (
            lambda r: r["tender"]["tenderPeriod"].update(endDate="soon"),
            [("/tender/tenderPeriod/endDate", "format")],
        ),
        (
            lambda r: r["tender"]["documents"][0].update(url="not a uri"),
            [("/tender/documents/0/url", "format")],
        ),
        (lambda r: r["tender"].update(numberOfTenderers="2"), [("/tender/numberOfTenderers", "type")]),
    ],
)
def test_each_kind_of_issue_points_at_the_offending_value(
    validator: ReleaseValidator, mutate: Callable[[dict[str, Any]], Any], expected: list[tuple[str, str]]
) -> None:
    release = valid_release()
    mutate(release)
    issues = validator.validate_release(release)
    assert paths(issues) == expected
    assert not validator.is_valid(release)


def test_issues_are_sorted_one_line_and_short(validator: ReleaseValidator) -> None:
    release = valid_release()
    release["tender"]["description"] = ["line one\nline two " + "x" * 1000]
    release["ocid"] = None
    release["awards"][0]["status"] = "won"
    issues = validator.validate_release(release)
    assert issues == sorted(issues)
    assert [i.path for i in issues] == ["/awards/0/status", "/ocid", "/tender/description"]
    assert all(len(i.message) <= MAX_MESSAGE_CHARS and "\n" not in i.message for i in issues)


def test_what_json_cannot_hold_is_one_issue_not_an_exception(validator: ReleaseValidator) -> None:
    release: dict[Any, Any] = valid_release()
    release[5] = "int key"
    (issue,) = validator.validate_release(release)
    assert (issue.path, issue.keyword) == ("", "json")
    assert not validator.is_valid(release)


@pytest.mark.parametrize("value", [[1, 2], "release", None, 3])
def test_a_non_object_is_a_type_issue_at_the_root(validator: ReleaseValidator, value: Any) -> None:
    assert paths(validator.validate_release(value)) == [("", "type")]


def test_json_pointer_escapes_tilde_and_slash() -> None:
    assert json_pointer([]) == ""
    assert json_pointer(["awards", 0, "a/b", "c~d"]) == "/awards/0/a~1b/c~0d"


def test_external_references_are_never_fetched() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "properties": {"a": {"$ref": "https://example.org/x"}},
    }
    with pytest.raises(SchemaUnavailableError, match=r"example\.org"):
        ReleaseValidator(schema)


def reference_paths(schema: dict[str, Any], release: Any) -> set[str]:
    """Failing paths by the jsonschema package, with the same date-time check and without uri."""
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date-time")(lambda value: not isinstance(value, str) or is_rfc3339_datetime(value))
    engine = jsonschema.Draft4Validator(schema, format_checker=checker)
    return {json_pointer(list(error.absolute_path)) for error in engine.iter_errors(release)}


MUTATIONS: list[Callable[[dict[str, Any]], Any]] = [
    lambda r: r.update(id=None),
    lambda r: r.update(tag=["tender", "nope"]),
    lambda r: r.update(language=["es"]),
    lambda r: r["tender"].update(tenderPeriod={"endDate": 20240401}),
    lambda r: r["tender"].update(items=[{"id": "1", "quantity": "3"}]),
    lambda r: r["tender"].update(value={"amount": "12", "currency": "XXX1"}),
    lambda r: r["awards"][0].update(suppliers=[{"name": 1}]),
    lambda r: r.update(parties=[{"id": "1", "roles": "buyer"}]),
    lambda r: r.update(
        contracts=[{"id": "c", "awardID": None, "period": {"startDate": "2024-13-01T00:00:00Z"}}]
    ),
    lambda r: r.update(planning={"budget": {"amount": {"amount": "x"}}}),
]


@pytest.mark.parametrize("index", range(len(MUTATIONS)))
def test_failing_paths_agree_with_the_reference_implementation(
    schema: dict[str, Any], validator: ReleaseValidator, index: int
) -> None:
    release = valid_release()
    MUTATIONS[index](release)
    ours = {issue.path for issue in validator.validate_release(release)}
    assert ours
    assert ours == reference_paths(schema, release)


# ---------------------------------------------------------------- the real corpus


def real_releases(documents: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [
        (notice.source, notice.release)
        for path, document in documents
        for notice in parse_notices(document, source=path).notices
    ]


def test_corpus_every_notice_release_is_valid(
    validator: ReleaseValidator, real_documents: list[tuple[str, Any]]
) -> None:
    releases = real_releases(real_documents)
    assert len(releases) == 112
    invalid = {source: validator.validate_release(release) for source, release in releases}
    assert {source: issues for source, issues in invalid.items() if issues} == {}


def test_corpus_compiled_releases_that_fail_are_reported(
    validator: ReleaseValidator, load_real: Callable[[str], Any]
) -> None:
    # Paraguay's compiled releases merge contracts whose award is unknown (awardID null)
    # and repeat the same supplier: invalid, although every release they merge is valid.
    record = load_real("paraguay/sample/records/277004.json")["records"][0]
    issues = validator.validate_release(record["compiledRelease"])
    assert ("/awards/0/suppliers", "uniqueItems") in paths(issues)


def test_corpus_one_broken_field_in_a_real_release_is_found(
    validator: ReleaseValidator, load_real: Callable[[str], Any]
) -> None:
    path = "mexico-jalisco/sample/releases/ocds-xs1qbl-SFIN-03-0007-00-2017-20180118T043956464Z-award.json"
    release = copy.deepcopy(load_real(path)["releases"][0])
    assert validator.validate_release(release) == []
    release["awards"][0]["value"]["amount"] = "179568.0"
    assert paths(validator.validate_release(release)) == [("/awards/0/value/amount", "type")]
