"""Which earlier release a release amends (``amendsReleaseID``), wherever the publisher put it.

OCDS 1.1 keeps ``amendsReleaseID`` inside amendment objects (``tender.amendments[]``,
``awards[].amendments[]``, ``contracts[].amendments[]``, and the deprecated
single ``amendment`` object of each), each paired with the ``releaseID`` of the
release that made that amendment. Releases often repeat the whole amendment
history, so most amendment objects describe *earlier* releases. The ledger also
accepts a top-level ``amendsReleaseID`` (the link the seal carries).

Precedence, first match wins:

1. a top-level ``amendsReleaseID``: the publisher said it of this very release;
2. amendment objects whose ``releaseID`` is this release's id;
3. amendment objects without a ``releaseID``: the latest by ``date`` (undated
   ones rank earliest; ties go to the later one in document order: tender,
   awards, contracts), with a warning when they disagree.

Amendment objects naming another ``releaseID`` are history and are ignored. A
link to the release itself is dropped with a warning.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from backend.core.dates import parse_ocds_datetime
from backend.core.ocds_fields import read_identifier

_UNDATED = -1


@dataclass(frozen=True, slots=True)
class AmendsLink:
    """The release this one amends (or None) and what was odd on the way."""

    release_id: str | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Candidate:
    amends: str
    releases: str | None
    date: int


def amended_release_id(release: Mapping[str, Any], *, release_id: str) -> AmendsLink:
    """Apply the precedence in the module docstring; never raises."""
    warnings: list[str] = []
    candidates = list(_candidates(release, warnings))
    top = _top_level(release, warnings)
    own = [c for c in candidates if c.releases == release_id]
    unpaired = [c for c in candidates if c.releases is None]
    chosen: str | None
    if top is not None:
        chosen = top
        others = {c.amends for c in own} - {top}
        if others:
            warnings.append(
                f"top-level amendsReleaseID {top!r} wins over amendment objects naming {sorted(others)}"
            )
    elif own:
        chosen = own[0].amends
        if len({c.amends for c in own}) > 1:
            warnings.append(f"amendments of this release disagree on amendsReleaseID; kept {chosen!r}")
    elif unpaired:
        latest = max(enumerate(unpaired), key=lambda pair: (pair[1].date, pair[0]))[1]
        chosen = latest.amends
        if len({c.amends for c in unpaired}) > 1:
            warnings.append(
                f"amendments without releaseID disagree on amendsReleaseID; kept the latest, {chosen!r}"
            )
    else:
        chosen = None
    if chosen == release_id:
        warnings.append("amendsReleaseID names the release itself, ignored")
        chosen = None
    return AmendsLink(chosen, tuple(warnings))


def _top_level(release: Mapping[str, Any], warnings: list[str]) -> str | None:
    if release.get("amendsReleaseID") is None:
        return None
    reading = read_identifier(release["amendsReleaseID"], field="amendsReleaseID")
    if reading.warning:
        warnings.append(reading.warning)
    if reading.problem:
        warnings.append(reading.problem + ", ignored")
    return reading.value


def _candidates(release: Mapping[str, Any], warnings: list[str]) -> Iterator[_Candidate]:
    for where, amendment in _amendment_objects(release):
        if amendment.get("amendsReleaseID") is None:
            continue
        target = read_identifier(amendment["amendsReleaseID"], field=f"{where}.amendsReleaseID")
        if target.warning:
            warnings.append(target.warning)
        if target.value is None:
            warnings.append(f"{target.problem}, ignored")
            continue
        paired = amendment.get("releaseID")
        releases = read_identifier(paired, field=f"{where}.releaseID").value if paired is not None else None
        date = parse_ocds_datetime(amendment.get("date"), field=f"{where}.date").timestamp
        yield _Candidate(target.value, releases, _UNDATED if date is None else date)


def _amendment_objects(release: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every amendment object, in document order, with a dotted path for warnings."""
    tender = release.get("tender")
    if isinstance(tender, dict):
        yield from _in_section(tender, "tender")
    for section in ("awards", "contracts"):
        items = release.get(section)
        if isinstance(items, list):
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    yield from _in_section(item, f"{section}[{index}]")


def _in_section(section: Mapping[str, Any], where: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    amendments = section.get("amendments")
    if isinstance(amendments, list):
        for index, amendment in enumerate(amendments):
            if isinstance(amendment, dict):
                yield f"{where}.amendments[{index}]", amendment
    single = section.get("amendment")  # deprecated in OCDS 1.1, still published
    if isinstance(single, dict):
        yield f"{where}.amendment", single
