"""Red flags over process timelines: each rule fires when it should and stays quiet otherwise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from backend.core.notice import document_notice, parse_notices, publication_order
from backend.core.redflags import (
    BACKFILL_THRESHOLD_SECONDS,
    DAY,
    FUTURE_DATE_TOLERANCE_SECONDS,
    MIN_TENDER_PERIOD_SECONDS,
    FlagCode,
    RedFlag,
    Severity,
    TimelineEntry,
    red_flags,
)
from backend.core.stages import Stage

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z


def entry(
    release_id: str,
    stage: Stage,
    published_at: int | None = T0,
    *,
    deadline: int | None = None,
    anchored_at: int | None = None,
    in_batch: bool = False,
    digest: bytes | None = None,
    amends: str | None = None,
    release: dict[str, Any] | None = None,
) -> TimelineEntry:
    return TimelineEntry(
        release_id=release_id,
        stage=stage,
        published_at=published_at,
        deadline=deadline,
        anchored_at=anchored_at if anchored_at is not None else published_at,
        in_batch=in_batch,
        digest=digest if digest is not None else release_id.encode().ljust(32, b"\0"),
        amends_release_id=amends,
        release=release,
    )


def flags_of(timeline: list[TimelineEntry], code: FlagCode) -> list[RedFlag]:
    return [flag for flag in red_flags(timeline) if flag.code is code]


def clean_process() -> list[TimelineEntry]:
    """Planning, a 30-day tender, award and contract after the deadline, each anchored at once."""
    deadline = T0 + 30 * DAY
    return [
        entry("p", Stage.PLANNING, T0 - DAY),
        entry("t", Stage.TENDER, T0, deadline=deadline),
        entry("a", Stage.AWARD, deadline + DAY),
        entry("c", Stage.CONTRACT, deadline + 2 * DAY),
    ]


def test_a_clean_process_raises_no_flag() -> None:
    assert red_flags(clean_process()) == []
    assert red_flags([]) == []


# ---------------------------------------------------------------- opened at a later stage


def test_contract_only_process_is_flagged_on_its_first_notice() -> None:
    (flag,) = flags_of(
        [entry("c1", Stage.CONTRACT), entry("c2", Stage.CONTRACT_AMENDMENT)], FlagCode.OPENED_AT_LATER_STAGE
    )
    assert (flag.release_id, flag.severity) == ("c1", Severity.WARNING)
    assert "'contract'" in flag.message


def test_tender_anchored_only_after_the_award_is_said_so() -> None:
    (flag,) = flags_of([entry("a", Stage.AWARD), entry("t", Stage.TENDER)], FlagCode.OPENED_AT_LATER_STAGE)
    assert "anchored only later" in flag.message


def test_documents_do_not_open_a_process() -> None:
    timeline = [entry("d", Stage.DOCUMENT, None), entry("t", Stage.TENDER)]
    assert flags_of(timeline, FlagCode.OPENED_AT_LATER_STAGE) == []
    assert flags_of([entry("d", Stage.DOCUMENT, None)], FlagCode.OPENED_AT_LATER_STAGE) == []


# ---------------------------------------------------------------- award before the deadline


def test_batch_award_dated_and_anchored_before_the_deadline_is_high() -> None:
    deadline = T0 + 30 * DAY
    timeline = [
        entry("t", Stage.TENDER, T0, deadline=deadline),
        entry("a", Stage.AWARD, deadline - DAY, in_batch=True),
    ]
    (flag,) = flags_of(timeline, FlagCode.AWARD_BEFORE_DEADLINE)
    assert (flag.release_id, flag.severity) == ("a", Severity.HIGH)
    assert "dated" in flag.message
    assert "anchored" in flag.message
    assert "Merkle batch" in flag.message


def test_award_exactly_at_the_deadline_is_not_flagged() -> None:
    deadline = T0 + 30 * DAY
    timeline = [entry("t", Stage.TENDER, T0, deadline=deadline), entry("a", Stage.AWARD, deadline)]
    assert flags_of(timeline, FlagCode.AWARD_BEFORE_DEADLINE) == []


def test_without_a_tender_on_the_ledger_the_awards_own_deadline_counts() -> None:
    # Cumulative releases repeat the tender section inside the award release.
    timeline = [entry("a", Stage.AWARD, T0, deadline=T0 + DAY)]
    (flag,) = flags_of(timeline, FlagCode.AWARD_BEFORE_DEADLINE)
    assert flag.release_id == "a"


def test_an_extended_deadline_is_the_one_in_force() -> None:
    first, extended = T0 + 20 * DAY, T0 + 40 * DAY
    timeline = [
        entry("t", Stage.TENDER, T0, deadline=first),
        entry("t2", Stage.TENDER_AMENDMENT, T0 + DAY, deadline=extended),
        entry("c", Stage.CONTRACT, first + DAY, anchored_at=first + DAY),
    ]
    (flag,) = flags_of(timeline, FlagCode.AWARD_BEFORE_DEADLINE)
    assert flag.release_id == "c"


def test_award_anchored_late_but_dated_before_the_deadline_is_flagged_as_dated() -> None:
    deadline = T0 + 30 * DAY
    timeline = [
        entry("t", Stage.TENDER, T0, deadline=deadline),
        entry("a", Stage.AWARD, deadline - 1, anchored_at=deadline + DAY),
    ]
    (flag,) = flags_of(timeline, FlagCode.AWARD_BEFORE_DEADLINE)
    assert "dated" in flag.message
    assert "anchored" not in flag.message


# ---------------------------------------------------------------- after a cancellation


def test_notices_after_a_tender_cancellation_are_flagged() -> None:
    timeline = [
        entry("t", Stage.TENDER, T0, deadline=T0 + 30 * DAY),
        entry("x", Stage.TENDER_CANCELLATION, T0 + DAY),
        entry("d", Stage.DOCUMENT, None),
        entry("t2", Stage.TENDER_UPDATE, T0 + 2 * DAY),
        entry("a", Stage.AWARD, T0 + 40 * DAY),
    ]
    flags = flags_of(timeline, FlagCode.NOTICE_AFTER_CANCELLATION)
    assert [(f.release_id, f.severity) for f in flags] == [("t2", Severity.WARNING), ("a", Severity.HIGH)]
    assert "'x'" in flags[0].message


def test_no_cancellation_no_flag() -> None:
    assert flags_of(clean_process(), FlagCode.NOTICE_AFTER_CANCELLATION) == []


# ---------------------------------------------------------------- deadline moved after it passed


def test_deadline_moved_by_an_amendment_after_it_passed_is_high() -> None:
    deadline = T0 + 10 * DAY
    timeline = [
        entry("t", Stage.TENDER, T0, deadline=deadline),
        entry("t2", Stage.TENDER_AMENDMENT, deadline + DAY, deadline=deadline + 20 * DAY),
    ]
    (flag,) = flags_of(timeline, FlagCode.DEADLINE_MOVED_AFTER_PASSED)
    assert (flag.release_id, flag.severity) == ("t2", Severity.HIGH)


def test_backdated_amendment_anchored_after_the_deadline_is_flagged_too() -> None:
    deadline = T0 + 10 * DAY
    timeline = [
        entry("t", Stage.TENDER, T0, deadline=deadline),
        entry(
            "t2", Stage.TENDER_AMENDMENT, deadline - DAY, deadline=deadline + DAY, anchored_at=deadline + 1
        ),
    ]
    (flag,) = flags_of(timeline, FlagCode.DEADLINE_MOVED_AFTER_PASSED)
    assert "anchored" in flag.message
    assert "dated" not in flag.message


def test_deadline_moved_in_time_or_repeated_unchanged_is_fine() -> None:
    deadline = T0 + 10 * DAY
    timeline = [
        entry("t", Stage.TENDER, T0, deadline=deadline),
        entry("t2", Stage.TENDER_AMENDMENT, T0 + DAY, deadline=deadline + 10 * DAY),
        entry("t3", Stage.TENDER_UPDATE, deadline + 15 * DAY, deadline=deadline + 10 * DAY),
    ]
    assert flags_of(timeline, FlagCode.DEADLINE_MOVED_AFTER_PASSED) == []


# ---------------------------------------------------------------- short tender period


@pytest.mark.parametrize(
    ("period", "severity"),
    [
        (MIN_TENDER_PERIOD_SECONDS - 1, Severity.WARNING),
        (MIN_TENDER_PERIOD_SECONDS, None),
        (DAY, Severity.WARNING),
        (0, Severity.HIGH),
        (-DAY, Severity.HIGH),
    ],
)
def test_tender_period_threshold(period: int, severity: Severity | None) -> None:
    flags = flags_of([entry("t", Stage.TENDER, T0, deadline=T0 + period)], FlagCode.SHORT_TENDER_PERIOD)
    assert [f.severity for f in flags] == ([severity] if severity else [])


def test_an_amendment_that_shortens_the_period_is_measured_from_the_tender() -> None:
    timeline = [
        entry("t", Stage.TENDER, T0, deadline=T0 + 30 * DAY),
        entry("t2", Stage.TENDER_AMENDMENT, T0 + 2 * DAY, deadline=T0 + 5 * DAY),
    ]
    (flag,) = flags_of(timeline, FlagCode.SHORT_TENDER_PERIOD)
    assert flag.release_id == "t2"
    assert "5 d" in flag.message


# ---------------------------------------------------------------- anchoring delay


@pytest.mark.parametrize(
    ("delay", "flagged"), [(BACKFILL_THRESHOLD_SECONDS, False), (BACKFILL_THRESHOLD_SECONDS + 1, True)]
)
def test_backfill_threshold(delay: int, flagged: bool) -> None:
    timeline = [entry("t", Stage.TENDER, T0, anchored_at=T0 + delay)]
    flags = flags_of(timeline, FlagCode.BACKFILLED)
    assert [f.severity for f in flags] == ([Severity.INFO] if flagged else [])


@pytest.mark.parametrize(
    ("ahead", "flagged"), [(FUTURE_DATE_TOLERANCE_SECONDS, False), (FUTURE_DATE_TOLERANCE_SECONDS + 1, True)]
)
def test_release_dated_after_its_anchoring_block(ahead: int, flagged: bool) -> None:
    timeline = [entry("t", Stage.TENDER, T0 + ahead, anchored_at=T0)]
    assert len(flags_of(timeline, FlagCode.DATED_AFTER_ANCHORING)) == int(flagged)


def test_unanchored_notices_have_no_anchoring_flags() -> None:
    timeline = [replace(entry("t", Stage.TENDER, T0), anchored_at=None)]
    assert red_flags(timeline) == []


# ---------------------------------------------------------------- dates out of lifecycle order


def test_award_dated_before_its_tender_is_flagged_on_the_award() -> None:
    timeline = [entry("t", Stage.TENDER, T0 + 5 * DAY), entry("a", Stage.AWARD, T0)]
    (flag,) = flags_of(timeline, FlagCode.DATES_OUT_OF_ORDER)
    assert flag.release_id == "a"
    assert "'t'" in flag.message


def test_same_phase_in_any_order_is_fine() -> None:
    timeline = [
        entry("i", Stage.IMPLEMENTATION, T0),
        entry("ca", Stage.CONTRACT_AMENDMENT, T0 + DAY),
        entry("x", Stage.TENDER_CANCELLATION, T0 - 2 * DAY),
        entry("t", Stage.TENDER, T0 - DAY),
    ]
    assert flags_of(timeline, FlagCode.DATES_OUT_OF_ORDER) == []


# ---------------------------------------------------------------- links and republication


def test_amendment_of_a_release_not_on_the_ledger_is_flagged() -> None:
    timeline = [
        entry("t", Stage.TENDER),
        entry("t3", Stage.TENDER_AMENDMENT, amends="t2"),
        entry("t4", Stage.TENDER_AMENDMENT, amends="t"),
    ]
    (flag,) = flags_of(timeline, FlagCode.AMENDS_UNKNOWN_RELEASE)
    assert flag.release_id == "t3"
    assert "'t2'" in flag.message


def test_an_amendment_that_names_nothing_is_accepted_and_said() -> None:
    timeline = [
        entry("t", Stage.TENDER),
        entry("a1", Stage.TENDER_AMENDMENT),
        entry("a2", Stage.TENDER_AMENDMENT, amends="t"),
        entry("c", Stage.CONTRACT),
        entry("c1", Stage.CONTRACT_AMENDMENT),
    ]
    flags = flags_of(timeline, FlagCode.AMENDMENT_NAMES_NOTHING)
    assert [f.release_id for f in flags] == ["a1", "c1"]
    assert {f.severity for f in flags} == {Severity.INFO}


def test_same_release_id_with_other_content_is_high_and_copies_are_not() -> None:
    timeline = [
        entry("t", Stage.TENDER, digest=b"\x01" * 32),
        entry("t", Stage.TENDER, digest=b"\x01" * 32),
        entry("t", Stage.TENDER, digest=b"\x02" * 32),
    ]
    (flag,) = flags_of(timeline, FlagCode.REPUBLISHED_WITH_OTHER_CONTENT)
    assert (flag.release_id, flag.severity) == ("t", Severity.HIGH)
    assert "0202" in flag.message


# ---------------------------------------------------------------- single bidder


@pytest.mark.parametrize(
    ("release", "flagged"),
    [
        ({"tender": {"numberOfTenderers": 1}}, True),
        ({"tender": {"numberOfTenderers": 2}}, False),
        ({"tender": {"numberOfTenderers": True}}, False),
        ({"tender": {"numberOfTenderers": "1"}}, False),
        ({"bids": {"details": [{"id": "b1"}]}}, True),
        ({"bids": {"details": [{"id": "b1"}, {"id": "b2"}]}}, False),
        ({"tender": {"numberOfTenderers": None}, "bids": {"details": [{"id": "b1"}]}}, True),
        ({"tender": {}}, False),
    ],
)
def test_single_bidder(release: dict[str, Any], flagged: bool) -> None:
    timeline = [entry("t", Stage.TENDER), entry("a", Stage.AWARD, release=release)]
    flags = flags_of(timeline, FlagCode.SINGLE_BIDDER)
    assert [f.release_id for f in flags] == (["a"] if flagged else [])


def test_the_latest_bid_count_decides() -> None:
    timeline = [
        entry("t", Stage.TENDER, release={"tender": {"numberOfTenderers": 1}}),
        entry("a", Stage.AWARD, release={"tender": {"numberOfTenderers": 3}}),
        entry("c", Stage.CONTRACT, release={"contracts": [{"id": "c"}]}),
    ]
    assert flags_of(timeline, FlagCode.SINGLE_BIDDER) == []


# ---------------------------------------------------------------- output


def test_flags_come_rule_by_rule_in_code_order() -> None:
    timeline = [
        entry("a", Stage.AWARD, T0, deadline=T0 + DAY, release={"tender": {"numberOfTenderers": 1}}),
        entry("a2", Stage.AWARD_UPDATE, T0, amends="zz", anchored_at=T0 + 30 * DAY),
    ]
    codes = [flag.code for flag in red_flags(timeline)]
    assert codes == sorted(codes, key=list(FlagCode).index)
    assert set(codes) == {
        FlagCode.OPENED_AT_LATER_STAGE,
        FlagCode.AWARD_BEFORE_DEADLINE,
        FlagCode.BACKFILLED,
        FlagCode.AMENDS_UNKNOWN_RELEASE,
        FlagCode.SINGLE_BIDDER,
    }


def test_out_of_range_chain_timestamps_still_give_a_message() -> None:
    timeline = [entry("a", Stage.AWARD, T0, deadline=2**64 - 1)]
    (flag,) = flags_of(timeline, FlagCode.AWARD_BEFORE_DEADLINE)
    assert f"@{2**64 - 1}" in flag.message


def test_timeline_entry_from_notice() -> None:
    release = {
        "ocid": "ocds-x",
        "id": "t2",
        "date": "2024-01-01T00:00:00Z",
        "tag": ["tenderAmendment"],
        "amendsReleaseID": "t1",
        "tender": {"tenderPeriod": {"endDate": "2024-02-01T00:00:00Z"}},
    }
    (notice,) = parse_notices(release, source="f.json").notices
    timeline_entry = TimelineEntry.from_notice(notice, anchored_at=1704067300, in_batch=True)
    assert timeline_entry == TimelineEntry(
        "t2", Stage.TENDER_AMENDMENT, 1704067200, 1706745600, 1704067300, True, notice.digest, "t1"
    )
    assert timeline_entry.release is release
    document = TimelineEntry.from_notice(document_notice(b"x", ocid="ocds-x", name="d", source="d"))
    assert (document.stage, document.release, document.anchored_at) == (Stage.DOCUMENT, None, None)


# ---------------------------------------------------------------- the real corpus


def corpus_timeline(documents: list[tuple[str, Any]], ocid: str, prefix: str) -> list[TimelineEntry]:
    notices = [
        notice
        for path, document in documents
        if path.startswith(prefix)
        for notice in parse_notices(document, source=path).notices
        if notice.ocid == ocid
    ]
    return [TimelineEntry.from_notice(notice) for notice in publication_order(notices)]


def test_corpus_uk_tender_closing_the_next_day_is_a_short_tender_period(
    real_documents: list[tuple[str, Any]],
) -> None:
    ocid = "ocds-b5fd17-2c41e69a-adc8-11e6-9901-0019b9f3037b"
    timeline = corpus_timeline(real_documents, ocid, "uk-contracts-finder/sample/releases/")
    flags = flags_of(timeline, FlagCode.SHORT_TENDER_PERIOD)
    assert len(flags) == 1
    assert "tender period of 7 h 15 min" in flags[0].message
    assert flags_of(timeline, FlagCode.REPUBLISHED_WITH_OTHER_CONTENT)  # also published twice, differently


def test_corpus_paraguay_award_and_contract_dated_before_a_tender(
    real_documents: list[tuple[str, Any]],
) -> None:
    timeline = corpus_timeline(
        real_documents, "ocds-03ad3f-275348", "paraguay/sample/releases/ocds-03ad3f-275348"
    )
    flagged = {flag.release_id for flag in flags_of(timeline, FlagCode.DATES_OUT_OF_ORDER)}
    assert flagged == {
        "275348-lpn-76-15-cont-serv-mant-prev-correctivo-provision-repuestos-necesidad-equipos-rayos-1-award",
        "275348-eduardo-elizeche-benitez-sac-1-contract",
    }


def test_corpus_mexico_processes_raise_no_lifecycle_flag(
    real_documents: list[tuple[str, Any]], load_real: Callable[[str], Any]
) -> None:
    timeline = corpus_timeline(
        real_documents, "ocds-xs1qbl-SFIN-03-0007-00-2017", "mexico-jalisco/sample/releases/"
    )
    assert [e.stage for e in timeline] == [
        Stage.PLANNING,
        Stage.TENDER,
        Stage.AWARD,
        Stage.CONTRACT,
        Stage.IMPLEMENTATION,
    ]
    assert red_flags(timeline) == []
