"""Reading single OCDS fields that publishers get wrong in known ways; nothing here raises."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class IdentifierReading:
    """An ``ocid``, ``id`` or ``amendsReleaseID`` as the ledger will key it.

    Exactly one of ``value`` and ``problem`` is set.
    """

    value: str | None
    warning: str | None = None
    problem: str | None = None


def read_identifier(value: object, *, field: str) -> IdentifierReading:
    """A non-empty string as published; an integer as its decimal text (with a warning).

    Integers are accepted because some publishers' exporters write numeric ids,
    and the digest still covers the release exactly as published; the decimal
    text is the only reading of an integer that two tools will agree on. Floats,
    booleans, objects, null and blank strings are problems: no single text
    stands for them.
    """
    if isinstance(value, str):
        if value.strip():
            return IdentifierReading(value)
        return IdentifierReading(None, problem=f"{field} is a blank string")
    if isinstance(value, int) and not isinstance(value, bool):
        return IdentifierReading(str(value), warning=f"{field} is a number ({value}), read as {str(value)!r}")
    return IdentifierReading(None, problem=f"{field} is {json_type(value)}, not a string")


def buyer_name(release: Mapping[str, Any]) -> str | None:
    """The buyer's name, else its id, else the first party with the ``buyer`` role."""
    candidates = [release.get("buyer")]
    parties = release.get("parties")
    if isinstance(parties, list):
        candidates += [
            party for party in parties if isinstance(party, dict) and "buyer" in _roles(party.get("roles"))
        ]
    for organization in candidates:
        if not isinstance(organization, dict):
            continue
        for key in ("name", "id"):
            text = _text(organization.get(key))
            if text is not None:
                return text
    return None


def tender_deadline(release: Mapping[str, Any]) -> object:
    """The raw ``tender.tenderPeriod.endDate``, or None when any level is missing or not an object."""
    tender = release.get("tender")
    period = tender.get("tenderPeriod") if isinstance(tender, dict) else None
    return period.get("endDate") if isinstance(period, dict) else None


def json_type(value: object) -> str:
    """The JSON type of a parsed value, with its article, for messages: 'a number', 'null'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a " + type(value).__name__


def _roles(value: object) -> list[str]:
    return [role for role in value if isinstance(role, str)] if isinstance(value, list) else []


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None
