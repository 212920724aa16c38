"""OCDS dates: read ISO 8601 / RFC 3339 date-times into unix seconds, UTC.

OCDS says every date is an RFC 3339 date-time with an offset. Publishers do not
always comply, so the reader accepts a small, fixed superset and says what it
assumed; anything else is unreadable. The grammar is spelled out here instead of
borrowed from ``datetime.fromisoformat``, whose accepted forms change between
Python versions: a deadline is part of every seal, so the same text must give the
same number on every machine, for years.

Accepted (RFC 3339 unless a warning is given):

- ``2017-10-10T10:46:54-04:00``, ``...Z``, ``...+00:00``, fractional seconds
  (truncated towards the past: seconds are the ledger's resolution);
- without an offset: read as UTC, with a warning;
- ``+0400`` (offset without colon), a space instead of ``T``, no seconds, or a
  date alone (midnight): read, with a warning;
- anything else, or a time before 1970-01-01T00:00:00Z (``0001-01-01T00:00:00``
  is a common placeholder for "no date"), gives None and a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_SECOND = timedelta(seconds=1)

# [0-9], not \d: \d also matches non-ASCII digits such as Arabic-Indic ones.
_DATETIME = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"(?:(?P<sep>[Tt ])(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})"
    r"(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?)?"
    r"(?P<offset>[Zz]|[+-][0-9]{2}:?[0-9]{2})?)?"
)


@dataclass(frozen=True, slots=True)
class ParsedDate:
    """The result of reading one date: unix seconds (or None) and what was assumed."""

    timestamp: int | None
    warning: str | None = None


def parse_ocds_datetime(value: object, *, field: str) -> ParsedDate:
    """Read an OCDS date-time into unix seconds UTC; never raises.

    ``field`` names the value in warnings (e.g. ``"date"``,
    ``"tender.tenderPeriod.endDate"``). JSON ``null`` or a missing value gives
    ``ParsedDate(None)`` without a warning: absence is not an oddity here, the
    caller decides whether it is.
    """
    if value is None:
        return ParsedDate(None)
    if not isinstance(value, str):
        return ParsedDate(None, f"{field}: {type(value).__name__} instead of a date-time string, ignored")
    match = _DATETIME.fullmatch(value)
    if match is None:
        return ParsedDate(None, f"{field}: {_clip(value)!r} is not an ISO 8601 date-time, ignored")
    assumed = _assumptions(match)
    try:
        moment = _to_datetime(match)
    except ValueError:
        return ParsedDate(None, f"{field}: {_clip(value)!r} is not a valid date-time, ignored")
    if moment < _EPOCH:
        return ParsedDate(None, f"{field}: {_clip(value)!r} is before 1970, read as no date")
    timestamp = (moment - _EPOCH) // _ONE_SECOND
    if assumed:
        return ParsedDate(timestamp, f"{field}: {_clip(value)!r} {'; '.join(assumed)}")
    return ParsedDate(timestamp)


def is_rfc3339_datetime(value: object) -> bool:
    """True for a strict RFC 3339 date-time (with seconds and an offset), as OCDS requires."""
    if not isinstance(value, str):
        return False
    match = _DATETIME.fullmatch(value)
    if match is None or _assumptions(match):
        return False
    try:
        _to_datetime(match)
    except ValueError:
        return False
    return True


def _assumptions(match: re.Match[str]) -> list[str]:
    """What the reader had to assume for a text that is not strict RFC 3339."""
    if match["hour"] is None:
        return ["has no time, read as 00:00:00 UTC"]
    assumed = []
    if match["sep"] == " ":
        assumed.append("uses a space instead of 'T'")
    if match["second"] is None:
        assumed.append("has no seconds, read as :00")
    offset = match["offset"]
    if offset is None:
        assumed.append("has no UTC offset, read as UTC")
    elif offset[0] in "+-" and ":" not in offset:
        assumed.append("has an offset without a colon")
    return assumed


def _to_datetime(match: re.Match[str]) -> datetime:
    """The aware datetime of a grammar match; ValueError for impossible values (Feb 30, 24:00)."""
    tz = _offset(match["offset"])
    return datetime(
        int(match["year"]),
        int(match["month"]),
        int(match["day"]),
        int(match["hour"] or 0),
        int(match["minute"] or 0),
        int(match["second"] or 0),
        int((match["fraction"] or "0")[:6].ljust(6, "0")),
        tzinfo=tz,
    )


def _offset(text: str | None) -> timezone:
    if text is None or text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError("UTC offset out of range")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


_CLIP = 64


def _clip(text: str) -> str:
    """Keep warnings one short line even when a publisher puts a paragraph in a date."""
    return text if len(text) <= _CLIP else text[:_CLIP] + "..."
