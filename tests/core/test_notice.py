"""Reading OCDS documents into notices: the shapes, the messy cases, and the real corpus."""

from __future__ import annotations

import copy
import hashlib
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from backend.core.digest import release_digest
from backend.core.notice import (
    DOCUMENT_ID_PREFIX,
    Notice,
    SkipCode,
    document_notice,
    find_conflicting_republications,
    notice_from_release,
    parse_notices,
    publication_order,
)
from backend.core.stages import Stage
from backend.errors import NoticeFormatError

OCID = "ocds-abc123-0001"


def make_release(release_id: str = "r1", **fields: Any) -> dict[str, Any]:
    """A small valid release; keyword arguments replace or add top-level fields."""
    release: dict[str, Any] = {
        "ocid": OCID,
        "id": release_id,
        "date": "2024-03-01T10:00:00Z",
        "tag": ["tender"],
        "initiationType": "tender",
        "buyer": {"id": "GB-1", "name": "Ministry of Roads"},
        "tender": {"id": "t1", "tenderPeriod": {"endDate": "2024-04-01T12:00:00+02:00"}},
    }
    release.update(fields)
    return release


def only_notice(document: Any) -> Notice:
    parsed = parse_notices(document, source="f.json")
    assert parsed.skipped == ()
    assert len(parsed.notices) == 1
    return parsed.notices[0]


def has_warning(notice: Notice, fragment: str) -> bool:
    return any(fragment in warning for warning in notice.warnings)


# ---------------------------------------------------------------- shapes


def test_single_release_becomes_one_notice_with_every_field() -> None:
    release = make_release()
    parsed = parse_notices(release, source="dir/f.json")
    assert parsed.kind == "release"
    (notice,) = parsed.notices
    assert notice.ocid == OCID
    assert notice.release_id == "r1"
    assert notice.stage is Stage.TENDER
    assert notice.tags == ("tender",)
    assert notice.date == "2024-03-01T10:00:00Z"
    assert notice.published_at == 1709287200
    assert notice.deadline == 1711965600  # 12:00+02:00 is 10:00Z
    assert notice.amends_release_id is None
    assert notice.buyer == "Ministry of Roads"
    assert notice.release is release
    assert notice.digest == release_digest(release)
    assert len(notice.digest) == 32
    assert notice.source == "dir/f.json"
    assert notice.warnings == ()


def test_release_package_keeps_document_order_and_points_at_each_release() -> None:
    package = {"uri": "x", "releases": [make_release("a"), make_release("b", tag=["award"])]}
    parsed = parse_notices(package, source="p.json")
    assert parsed.kind == "release_package"
    assert [(n.release_id, n.stage, n.source) for n in parsed.notices] == [
        ("a", Stage.TENDER, "p.json#/releases/0"),
        ("b", Stage.AWARD, "p.json#/releases/1"),
    ]


def test_record_package_reads_embedded_releases_and_skips_linked_compiled_and_versioned() -> None:
    package = {
        "records": [
            {
                "ocid": OCID,
                "releases": [
                    {
                        "url": "https://example.org/r0.json",
                        "date": "2024-01-01T00:00:00Z",
                        "tag": ["planning"],
                    },
                    make_release("r1"),
                ],
                "compiledRelease": make_release("compiled", tag=["compiled"]),
                "versionedRelease": {"ocid": OCID},
            }
        ]
    }
    parsed = parse_notices(package, source="rp.json")
    assert parsed.kind == "record_package"
    assert [n.source for n in parsed.notices] == ["rp.json#/records/0/releases/1"]
    assert [(s.source, s.code) for s in parsed.skipped] == [
        ("rp.json#/records/0/releases/0", SkipCode.LINKED_RELEASE),
        ("rp.json#/records/0/compiledRelease", SkipCode.COMPILED_RELEASE),
        ("rp.json#/records/0/versionedRelease", SkipCode.VERSIONED_RELEASE),
    ]
    assert "https://example.org/r0.json" in parsed.skipped[0].reason


def test_a_lone_record_is_read_like_a_record_of_a_package() -> None:
    # Shape published by UK Contracts Finder: a record without package and without ocid.
    record = {"releases": [make_release("r1")], "compiledRelease": make_release("c", tag=["compiled"])}
    parsed = parse_notices(record, source="rec.json")
    assert parsed.kind == "record"
    assert [n.source for n in parsed.notices] == ["rec.json#/releases/0"]
    assert [(s.source, s.code) for s in parsed.skipped] == [
        ("rec.json#/compiledRelease", SkipCode.COMPILED_RELEASE)
    ]


def test_record_entries_that_are_not_records_are_skipped_not_fatal() -> None:
    package = {"records": [7, {"ocid": OCID}, {"ocid": OCID, "releases": [make_release("ok")]}]}
    parsed = parse_notices(package, source="rp.json")
    assert [n.release_id for n in parsed.notices] == ["ok"]
    assert [(s.source, s.code) for s in parsed.skipped] == [
        ("rp.json#/records/0", SkipCode.BAD_RECORD),
        ("rp.json#/records/1", SkipCode.BAD_RECORD),
    ]


def test_release_whose_ocid_differs_from_its_record_keeps_its_own_with_a_warning() -> None:
    package = {"records": [{"ocid": "ocds-other", "releases": [make_release()]}]}
    notice = parse_notices(package, source="rp.json").notices[0]
    assert notice.ocid == OCID
    assert has_warning(notice, "differs from its record's ocid")


@pytest.mark.parametrize(
    "document",
    [
        [make_release()],
        "text",
        12,
        None,
        {"publisher": {"name": "x"}},
        {"releases": {"0": {}}},
        {"records": "x"},
        {"releases": "x", "compiledRelease": {}},
    ],
    ids=[
        "array",
        "string",
        "number",
        "null",
        "unknown-object",
        "releases-not-array",
        "records-not-array",
        "lone-record-releases-not-array",
    ],
)
def test_a_document_that_is_not_ocds_at_all_raises_notice_format_error(document: Any) -> None:
    with pytest.raises(NoticeFormatError) as raised:
        parse_notices(document, source="bad.json")
    assert "bad.json" in str(raised.value)
    assert raised.value.exit_code == 2


def test_notice_from_release_raises_the_skip_reason() -> None:
    assert notice_from_release(make_release(), source="f.json").release_id == "r1"
    with pytest.raises(NoticeFormatError, match="compiled"):
        notice_from_release(make_release(tag=["compiled"]), source="f.json")


# ---------------------------------------------------------------- messy data: tags


def test_tag_as_a_bare_string_is_read_as_a_one_element_list() -> None:
    notice = only_notice(make_release(tag="award"))
    assert notice.tags == ("award",)
    assert notice.stage is Stage.AWARD
    assert has_warning(notice, "bare string")


@pytest.mark.parametrize(
    ("tag", "stage"),
    [
        ("awardNotice", Stage.AWARD),
        ("contractAwardNotice", Stage.AWARD),
        ("contractNotice", Stage.TENDER),  # TED's call for competition, not a contract
        ("tenderNotice", Stage.TENDER),
        ("priorInformationNotice", Stage.PLANNING),
        ("Tender", Stage.TENDER),
        ("CONTRACTAMENDMENT", Stage.CONTRACT_AMENDMENT),
    ],
)
def test_known_non_standard_tags_map_to_a_stage_with_a_warning(tag: str, stage: Stage) -> None:
    notice = only_notice(make_release(tag=[tag]))
    assert notice.stage is stage
    assert notice.tags == (tag,)
    assert len(notice.warnings) == 1
    assert repr(tag) in notice.warnings[0]


def test_unknown_tag_alone_falls_back_to_the_sections_present() -> None:
    notice = only_notice(make_release(tag=["bid"], awards=[{"id": "a1"}]))
    assert notice.stage is Stage.AWARD
    assert has_warning(notice, "non-standard tag 'bid' ignored")
    assert has_warning(notice, "inferred")


def test_unknown_tag_beside_a_standard_one_is_ignored() -> None:
    notice = only_notice(make_release(tag=["bid", "award"]))
    assert notice.stage is Stage.AWARD
    assert notice.tags == ("bid", "award")
    assert has_warning(notice, "non-standard tag 'bid' ignored")
    assert not has_warning(notice, "inferred")


@pytest.mark.parametrize(
    ("sections", "stage"),
    [
        ({"planning": {"budget": {}}}, Stage.PLANNING),
        ({"planning": {"x": 1}, "tender": {"id": "t"}}, Stage.TENDER),
        ({"tender": {"id": "t"}, "awards": [{"id": "a"}]}, Stage.AWARD),
        ({"awards": [{"id": "a"}], "contracts": [{"id": "c"}]}, Stage.CONTRACT),
    ],
)
def test_missing_tag_infers_the_latest_section_present(sections: dict[str, Any], stage: Stage) -> None:
    release = {"ocid": OCID, "id": "r1", "date": "2024-03-01T10:00:00Z", **sections}
    notice = only_notice(release)
    assert notice.stage is stage
    assert notice.tags == ()
    assert has_warning(notice, "release has no tag")


@pytest.mark.parametrize(
    ("tag", "warning"),
    [
        ([], "empty list"),
        (None, "null instead of a list"),
        (3, "a number instead"),
        ([1, None], "non-string"),
    ],
)
def test_empty_null_or_odd_tag_infers_from_sections(tag: Any, warning: str) -> None:
    notice = only_notice(make_release(tag=tag))
    assert notice.stage is Stage.TENDER  # the tender section
    assert notice.tags == ()
    assert has_warning(notice, warning)


def test_empty_sections_do_not_count_for_inference() -> None:
    release = {"ocid": OCID, "id": "r1", "tag": ["bid"], "tender": {}, "awards": [], "contracts": []}
    parsed = parse_notices(release, source="f.json")
    assert parsed.notices == ()
    (skipped,) = parsed.skipped
    assert skipped.code is SkipCode.NO_STAGE


@pytest.mark.parametrize("tag", [["compiled"], ["tender", "compiled"], "compiled"])
def test_compiled_release_is_skipped(tag: Any) -> None:
    parsed = parse_notices(make_release(tag=tag), source="f.json")
    assert parsed.notices == ()
    assert [s.code for s in parsed.skipped] == [SkipCode.COMPILED_RELEASE]


def test_one_release_holding_tender_award_and_contract_is_one_notice_at_the_latest_stage() -> None:
    release = make_release(tag=["tender", "award", "contract"], awards=[{"id": "a"}], contracts=[{"id": "c"}])
    notice = only_notice(release)
    assert notice.stage is Stage.CONTRACT
    assert notice.tags == ("tender", "award", "contract")
    assert notice.warnings == ()


def test_stage_is_the_numeric_maximum_whatever_the_tag_order() -> None:
    assert only_notice(make_release(tag=["contractTermination", "tenderCancellation"])).stage is (
        Stage.CONTRACT_TERMINATION
    )
    assert (
        only_notice(make_release(tag=["tenderCancellation", "planning"])).stage is Stage.TENDER_CANCELLATION
    )


def test_contract_only_process_is_a_plain_contract_notice() -> None:
    release = {
        "ocid": OCID,
        "id": "c1",
        "date": "2024-05-01T00:00:00Z",
        "tag": ["contract"],
        "initiationType": "tender",
        "contracts": [{"id": "c", "awardID": "a"}],
    }
    notice = only_notice(release)
    assert notice.stage is Stage.CONTRACT
    assert notice.deadline is None
    assert notice.warnings == ()


# ---------------------------------------------------------------- messy data: entries and identifiers


def test_non_object_entries_are_skipped_and_the_others_still_come_out() -> None:
    package = {"releases": [1, "x", None, [make_release()], make_release("good"), True]}
    parsed = parse_notices(package, source="p.json")
    assert [n.release_id for n in parsed.notices] == ["good"]
    assert [(s.source, s.code) for s in parsed.skipped] == [
        (f"p.json#/releases/{i}", SkipCode.NOT_AN_OBJECT) for i in (0, 1, 2, 3, 5)
    ]
    assert "a number" in parsed.skipped[0].reason


def test_integer_ids_are_read_as_their_decimal_text_with_a_warning() -> None:
    release = make_release(ocid=42, id=7)
    notice = only_notice(release)
    assert (notice.ocid, notice.release_id) == ("42", "7")
    assert has_warning(notice, "ocid is a number")
    assert has_warning(notice, "id is a number")
    assert notice.release["id"] == 7  # the digest still covers the release as published


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("ocid", None, SkipCode.BAD_OCID),
        ("ocid", 1.5, SkipCode.BAD_OCID),
        ("ocid", True, SkipCode.BAD_OCID),
        ("ocid", "  ", SkipCode.BAD_OCID),
        ("ocid", {"id": 1}, SkipCode.BAD_OCID),
        ("id", None, SkipCode.BAD_ID),
        ("id", "", SkipCode.BAD_ID),
        ("id", [1], SkipCode.BAD_ID),
        ("id", False, SkipCode.BAD_ID),
    ],
)
def test_unusable_ocid_or_id_skips_the_release(field: str, value: Any, code: SkipCode) -> None:
    package = {"releases": [make_release(**{field: value}), make_release("other")]}
    parsed = parse_notices(package, source="p.json")
    assert [n.release_id for n in parsed.notices] == ["other"]
    assert [(s.source, s.code) for s in parsed.skipped] == [("p.json#/releases/0", code)]


@pytest.mark.parametrize(("field", "code"), [("ocid", SkipCode.BAD_OCID), ("id", SkipCode.BAD_ID)])
def test_missing_ocid_or_id_skips_the_release(field: str, code: SkipCode) -> None:
    release = make_release()
    del release[field]
    (skipped,) = parse_notices(release, source="f.json").skipped
    assert skipped.code is code
    assert skipped.reason == f"release has no {field}"


def test_a_release_that_cannot_be_canonicalized_is_skipped_alone() -> None:
    bad = make_release("bad", tender={"value": {"amount": float("nan")}})
    parsed = parse_notices({"releases": [bad, make_release("good")]}, source="p.json")
    assert [n.release_id for n in parsed.notices] == ["good"]
    assert [s.code for s in parsed.skipped] == [SkipCode.NOT_CANONICALIZABLE]


def test_parsing_never_modifies_the_release() -> None:
    release = make_release(tag="tender", ocid=5, tender={"amendments": [{"amendsReleaseID": "r0"}]})
    before = copy.deepcopy(release)
    notice = only_notice(release)
    assert release == before
    assert notice.release is release


# ---------------------------------------------------------------- messy data: republication


def test_same_ocid_and_id_with_other_content_yields_both_and_the_helper_finds_them() -> None:
    first = make_release("r1")
    second = make_release("r1", buyer={"name": "MINISTRY OF ROADS"})
    copy_of_first = copy.deepcopy(first)
    other_process = make_release("r1", ocid="ocds-abc123-0002", buyer={"name": "x"})
    parsed = parse_notices({"releases": [first, second, copy_of_first, other_process]}, source="p.json")
    assert len(parsed.notices) == 4
    (conflict,) = find_conflicting_republications(parsed.notices)
    assert (conflict.ocid, conflict.release_id) == (OCID, "r1")
    assert [n.source for n in conflict.notices] == [
        "p.json#/releases/0",
        "p.json#/releases/1",
        "p.json#/releases/2",
    ]
    assert conflict.digests == (release_digest(first), release_digest(second))


def test_exact_copies_are_not_conflicts() -> None:
    notices = [only_notice(make_release()), only_notice(make_release())]
    assert find_conflicting_republications(notices) == []


def test_notices_compare_by_value_and_hash_without_the_release_object() -> None:
    a, b = only_notice(make_release()), only_notice(make_release())
    assert a == b
    assert len({a, b}) == 1
    assert a.key == (OCID, "r1")


# ---------------------------------------------------------------- dates and deadline


def test_date_without_offset_is_read_as_utc_with_a_warning() -> None:
    notice = only_notice(make_release(date="2024-03-01T10:00:00"))
    assert notice.published_at == 1709287200
    assert notice.date == "2024-03-01T10:00:00"
    assert has_warning(notice, "no UTC offset")


@pytest.mark.parametrize("date", ["01/03/2024", "2024-02-30T00:00:00Z", "", 1709287200])
def test_unreadable_date_gives_none_and_a_warning_but_still_a_notice(date: Any) -> None:
    notice = only_notice(make_release(date=date))
    assert notice.published_at is None
    assert notice.date == (date if isinstance(date, str) else None)
    assert has_warning(notice, "date:")


def test_missing_date_is_a_warning() -> None:
    release = make_release()
    del release["date"]
    notice = only_notice(release)
    assert notice.published_at is None
    assert has_warning(notice, "release has no date")


@pytest.mark.parametrize(
    "tender", [None, {}, {"tenderPeriod": None}, {"tenderPeriod": {"startDate": "x"}}, []]
)
def test_no_tender_period_end_means_no_deadline_and_no_warning(tender: Any) -> None:
    notice = only_notice(make_release(tender=tender))
    assert notice.deadline is None
    assert notice.warnings == ()


def test_unreadable_deadline_is_none_with_a_warning() -> None:
    notice = only_notice(make_release(tender={"tenderPeriod": {"endDate": "next Friday"}}))
    assert notice.deadline is None
    assert has_warning(notice, "tender.tenderPeriod.endDate")


# ---------------------------------------------------------------- amendsReleaseID


def amendment(amends: Any, release_id: str | None = None, date: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"amendsReleaseID": amends}
    if release_id is not None:
        found["releaseID"] = release_id
    if date is not None:
        found["date"] = date
    return found


def test_top_level_amends_release_id_is_read() -> None:
    assert only_notice(make_release("r2", amendsReleaseID="r1")).amends_release_id == "r1"


def test_amendment_object_naming_this_release_gives_the_link() -> None:
    tender = {"amendments": [amendment("r0", "r1"), amendment("r1", "r2")]}  # r1's amendment is history
    notice = only_notice(make_release("r2", tag=["tenderAmendment"], tender=tender))
    assert notice.amends_release_id == "r1"
    assert notice.warnings == ()


@pytest.mark.parametrize("section", ["awards", "contracts"])
def test_amendments_in_awards_and_contracts_are_read(section: str) -> None:
    release = make_release(
        "c2", **{section: [{"id": "x"}, {"id": "y", "amendments": [amendment("c1", "c2")]}]}
    )
    assert only_notice(release).amends_release_id == "c1"


def test_deprecated_single_amendment_object_is_read() -> None:
    release = make_release("r2", tender={"amendment": amendment("r1")})
    assert only_notice(release).amends_release_id == "r1"


def test_unpaired_amendments_pick_the_latest_dated_with_a_warning_when_they_disagree() -> None:
    tender = {
        "amendments": [
            amendment("r1", date="2024-03-05T00:00:00Z"),
            amendment("r0", date="2024-03-02T00:00:00Z"),
            amendment("rx"),  # undated ranks earliest
        ]
    }
    notice = only_notice(make_release("r2", tender=tender))
    assert notice.amends_release_id == "r1"
    assert has_warning(notice, "disagree")


def test_top_level_link_wins_over_amendment_objects_with_a_warning() -> None:
    release = make_release("r2", amendsReleaseID="r1", tender={"amendments": [amendment("r0", "r2")]})
    notice = only_notice(release)
    assert notice.amends_release_id == "r1"
    assert has_warning(notice, "wins over")


def test_amendment_objects_about_other_releases_only_give_no_link() -> None:
    release = make_release("r3", tender={"amendments": [amendment("r0", "r1"), amendment("r1", "r2")]})
    assert only_notice(release).amends_release_id is None


def test_self_link_and_non_string_links_are_ignored_with_warnings() -> None:
    assert only_notice(make_release("r1", amendsReleaseID="r1")).amends_release_id is None
    notice = only_notice(make_release("r2", tender={"amendments": [amendment({"id": "r1"}, "r2")]}))
    assert notice.amends_release_id is None
    assert has_warning(notice, "ignored")


# ---------------------------------------------------------------- buyer


@pytest.mark.parametrize(
    ("fields", "buyer"),
    [
        ({"buyer": {"id": "GB-1", "name": " Council "}}, "Council"),
        ({"buyer": {"id": "GB-1", "name": ""}}, "GB-1"),
        (
            {
                "buyer": None,
                "parties": [{"name": "S", "roles": ["supplier"]}, {"name": "B", "roles": ["buyer"]}],
            },
            "B",
        ),
        ({"buyer": "Council"}, None),
        ({"buyer": None}, None),
    ],
)
def test_buyer_is_name_then_id_then_buyer_party(fields: dict[str, Any], buyer: str | None) -> None:
    assert only_notice(make_release(**fields)).buyer == buyer


# ---------------------------------------------------------------- documents


def test_document_notice_is_keyed_and_digested_by_its_raw_bytes() -> None:
    data = b"%PDF-1.7 bid opening minutes"
    notice = document_notice(data, ocid=OCID, name="minutes.pdf", source="minutes.pdf")
    sha = hashlib.sha256(data).digest()
    assert notice.digest == sha
    assert notice.release_id == DOCUMENT_ID_PREFIX + sha.hex()
    assert notice.stage is Stage.DOCUMENT
    assert notice.ocid == OCID
    assert dict(notice.release) == {"name": "minutes.pdf", "size": len(data)}
    assert notice.warnings == ()
    assert document_notice(data, ocid=OCID, name="renamed.pdf", source="x").key == notice.key
    assert document_notice(data + b" ", ocid=OCID, name="minutes.pdf", source="x").key != notice.key


def test_empty_document_is_a_notice_with_a_warning() -> None:
    notice = document_notice(b"", ocid=OCID, name="scan.pdf", source="scan.pdf")
    assert notice.release_id == DOCUMENT_ID_PREFIX + hashlib.sha256(b"").hexdigest()
    assert notice.warnings == ("document is empty (0 bytes)",)


@pytest.mark.parametrize("ocid", ["", "   "])
def test_document_without_ocid_is_refused(ocid: str) -> None:
    with pytest.raises(NoticeFormatError):
        document_notice(b"x", ocid=ocid, name="a.pdf", source="a.pdf")


# ---------------------------------------------------------------- publication order


def test_publication_order_is_date_then_stage_then_source() -> None:
    award = only_notice(make_release("aw", tag=["award"], date="2024-03-01T10:00:00Z"))
    tender = only_notice(make_release("te", tag=["tender"], date="2024-03-01T10:00:00Z"))
    planning = only_notice(make_release("pl", tag=["planning"], date="2024-02-01T10:00:00Z"))
    undated = only_notice(make_release("un", tag=["planning"], date=None))
    document = document_notice(b"x", ocid=OCID, name="d", source="d")
    ordered = publication_order([undated, award, document, tender, planning])
    assert [n.release_id for n in ordered[:3]] == ["pl", "te", "aw"]
    assert ordered[3:] == [undated, document]  # undated last, stage breaks the tie


def test_publication_order_compares_source_numbers_as_numbers() -> None:
    releases = [make_release(f"r{i}") for i in range(12)]
    notices = list(parse_notices({"releases": releases}, source="p.json").notices)
    assert publication_order(reversed(notices)) == notices


# ---------------------------------------------------------------- the real corpus


def test_whole_corpus_reads_without_raising_and_counts_are_stable(
    real_documents: list[tuple[str, Any]],
) -> None:
    notices: list[Notice] = []
    skipped: Counter[SkipCode] = Counter()
    kinds: Counter[str] = Counter()
    for path, document in real_documents:
        parsed = parse_notices(document, source=path)
        kinds[parsed.kind] += 1
        notices += parsed.notices
        skipped.update(s.code for s in parsed.skipped)
    assert kinds == {"release": 95, "record_package": 22, "record": 11, "release_package": 10}
    assert len(notices) == 112
    assert skipped == {
        SkipCode.LINKED_RELEASE: 97,
        SkipCode.COMPILED_RELEASE: 35,
        SkipCode.VERSIONED_RELEASE: 11,
    }
    assert all(len(n.digest) == 32 and n.published_at is not None for n in notices)


@pytest.mark.parametrize("publisher", ["paraguay", "mexico-jalisco"])
def test_corpus_stage_matches_the_publishers_file_name(
    real_documents: list[tuple[str, Any]], publisher: str
) -> None:
    checked = 0
    for path, document in real_documents:
        if not path.startswith(f"{publisher}/sample/releases/"):
            continue
        for notice in parse_notices(document, source=path).notices:
            assert path.removesuffix(".json").endswith("-" + notice.stage.tag), path
            checked += 1
    assert checked >= 10


def test_corpus_paraguay_republished_releases_are_found(real_documents: list[tuple[str, Any]]) -> None:
    notices = [
        n
        for path, document in real_documents
        if path.startswith("paraguay/sample/releases/")
        for n in parse_notices(document, source=path).notices
    ]
    conflicts = find_conflicting_republications(notices)
    keys = {(c.ocid, c.release_id) for c in conflicts}
    assert (
        "ocds-03ad3f-274231",
        "274231-adquisicion-equipos-comunicacion-terminales-opticos-transmision-1-award",
    ) in keys
    assert len(conflicts) == 20
    assert all(len(c.digests) == 2 for c in conflicts)


def test_corpus_record_package_of_linked_releases_gives_no_notice(load_real: Callable[[str], Any]) -> None:
    parsed = parse_notices(load_real("paraguay/sample/records/274231.json"), source="274231.json")
    assert parsed.kind == "record_package"
    assert parsed.notices == ()
    assert [s.code for s in parsed.skipped] == [SkipCode.LINKED_RELEASE] * 4 + [SkipCode.COMPILED_RELEASE]


def test_corpus_standalone_compiled_release_is_skipped(load_real: Callable[[str], Any]) -> None:
    path = "paraguay/sample/records/ocds-03ad3f-277004-277004-adquisicion-equipos-e-insumos-informaticos.json"
    parsed = parse_notices(load_real(path), source=path)
    assert (parsed.kind, parsed.notices) == ("release", ())
    assert [s.code for s in parsed.skipped] == [SkipCode.COMPILED_RELEASE]


def test_corpus_uk_lone_record_gives_its_tender(load_real: Callable[[str], Any]) -> None:
    path = "uk-contracts-finder/sample/records/ocds-b5fd17-2c330cf9-adc8-11e6-9901-0019b9f3037b.json"
    parsed = parse_notices(load_real(path), source=path)
    assert parsed.kind == "record"
    (notice,) = parsed.notices
    assert (notice.stage, notice.buyer, notice.deadline) == (Stage.TENDER, "Met Office", 1424995200)
    assert [s.code for s in parsed.skipped] == [SkipCode.COMPILED_RELEASE, SkipCode.VERSIONED_RELEASE]


def test_corpus_paraguay_process_is_ordered_planning_tender_award_contract(
    real_documents: list[tuple[str, Any]],
) -> None:
    notices = [
        n
        for path, document in real_documents
        if path.startswith("paraguay/sample/releases/273637-")
        for n in parse_notices(document, source=path).notices
    ]
    ordered = publication_order(sorted(notices, key=lambda n: -n.stage))
    assert [n.stage for n in ordered] == [Stage.PLANNING, Stage.TENDER, Stage.AWARD, Stage.CONTRACT]
