"""OCDS date-times: pinned readings, the tolerated deviations, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.core.dates import ParsedDate, is_rfc3339_datetime, parse_ocds_datetime


@pytest.mark.parametrize(
    ("text", "timestamp"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("2017-10-10T10:46:54-04:00", 1507646814),
        ("2017-10-10T14:46:54Z", 1507646814),
        ("2017-10-10T14:46:54+00:00", 1507646814),
        ("2017-10-10T20:16:54+05:30", 1507646814),
        ("2017-10-10T14:46:54.999999Z", 1507646814),  # truncated, never rounded up
        ("2017-10-10t14:46:54z", 1507646814),
        ("2016-02-29T23:59:59Z", 1456790399),
        ("9999-12-31T23:59:59Z", 253402300799),
    ],
)
def test_rfc3339_dates_read_exactly_and_silently(text: str, timestamp: int) -> None:
    assert parse_ocds_datetime(text, field="date") == ParsedDate(timestamp, None)
    assert is_rfc3339_datetime(text)


@pytest.mark.parametrize(
    ("text", "timestamp", "assumed"),
    [
        ("2017-10-10T14:46:54", 1507646814, "no UTC offset, read as UTC"),
        ("2017-10-10", 1507593600, "no time"),
        ("2017-10-10 14:46:54Z", 1507646814, "space"),
        ("2017-10-10T14:46Z", 1507646760, "no seconds"),
        ("2017-10-10T10:46:54-0400", 1507646814, "without a colon"),
    ],
)
def test_tolerated_deviations_are_read_with_a_warning(text: str, timestamp: int, assumed: str) -> None:
    parsed = parse_ocds_datetime(text, field="date")
    assert parsed.timestamp == timestamp
    assert parsed.warning is not None
    assert parsed.warning.startswith("date: ")
    assert assumed in parsed.warning
    assert not is_rfc3339_datetime(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "10/10/2017",
        "2017-10-10T14:46:54 Z",
        " 2017-10-10T14:46:54Z",
        "2017-02-30T00:00:00Z",
        "2017-10-10T24:00:00Z",
        "2016-12-31T23:59:60Z",  # leap seconds do not exist in unix time
        "2017-10-10T14:46:54+24:00",
        "2017-10-10T14:46:54+05:60",
        "2017-W41-2",
        "20171010T144654Z",
        "٢٠١٧-10-10T14:46:54Z",  # non-ASCII digits
        "0000-01-01T00:00:00Z",
    ],
)
def test_unreadable_text_is_none_with_a_warning(text: str) -> None:
    parsed = parse_ocds_datetime(text, field="tender.tenderPeriod.endDate")
    assert parsed.timestamp is None
    assert parsed.warning is not None
    assert parsed.warning.startswith("tender.tenderPeriod.endDate: ")
    assert not is_rfc3339_datetime(text)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00", "1969-12-31T23:59:59Z", "1970-01-01T00:30:00+01:00"])
def test_dates_before_1970_are_read_as_no_date(text: str) -> None:
    parsed = parse_ocds_datetime(text, field="date")
    assert parsed.timestamp is None
    assert parsed.warning is not None
    assert "before 1970" in parsed.warning


@pytest.mark.parametrize("value", [1507646814, 1.5, True, ["2017-10-10T14:46:54Z"], {"date": "x"}])
def test_non_strings_are_none_with_a_warning(value: object) -> None:
    parsed = parse_ocds_datetime(value, field="date")
    assert parsed.timestamp is None
    assert parsed.warning is not None
    assert not is_rfc3339_datetime(value)


def test_null_is_no_date_without_a_warning() -> None:
    assert parse_ocds_datetime(None, field="date").timestamp is None
    assert parse_ocds_datetime(None, field="date").warning is None


def test_a_paragraph_in_a_date_gives_a_short_warning() -> None:
    warning = parse_ocds_datetime("x" * 5000, field="date").warning
    assert warning is not None
    assert len(warning) < 200


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-4)), timezone(timedelta(hours=5, minutes=30))]
        ),
    )
)
def test_isoformat_round_trips_to_the_unix_second(moment: datetime) -> None:
    parsed = parse_ocds_datetime(moment.isoformat(), field="date")
    assert parsed.warning is None
    assert parsed.timestamp == int(moment.replace(microsecond=0).timestamp())


@given(st.text(max_size=40))
def test_any_text_reads_without_raising(text: str) -> None:
    parsed = parse_ocds_datetime(text, field="date")
    assert (parsed.timestamp is None) <= (parsed.warning is not None)
