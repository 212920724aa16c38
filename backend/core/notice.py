"""Notices: what the ledger anchors, read from parsed OCDS JSON or from evidence documents.

A notice is one OCDS release (or one evidence document) together with what the
ledger needs to know about it: its key (ocid, release id), its lifecycle stage,
its dates as unix seconds, the release it amends, and its digest. Reading real
publishers' files never fails as a whole because of one bad entry: entries that
cannot be notices are listed in :attr:`ParsedDocument.skipped` with a reason,
and oddities that could be read anyway travel with the notice as warnings. The
rules for each kind of messy data are in docs/messy-data.md.

The input is already-parsed JSON (``dict``/``list``/``str``/``int``/``float``/
``bool``/``None``); strict byte-level parsing happens before this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

from backend.core.amendments import amended_release_id
from backend.core.dates import parse_ocds_datetime
from backend.core.digest import document_digest, release_digest
from backend.core.ocds_fields import (
    IdentifierReading,
    buyer_name,
    json_type,
    read_identifier,
    tender_deadline,
)
from backend.core.release_stage import read_stage
from backend.core.stages import Stage
from backend.errors import NoticeFormatError, TenderledgerError

NOTICE_RULES_VERSION = "ocds-notice/1"
"""Version of the reading rules below. Stage, deadline and amendsReleaseID are
sealed, so a change in how they are read must bump this."""

DOCUMENT_ID_PREFIX = "sha256:"
"""A document's release id is this prefix and the hex SHA-256 of its bytes: the
same file under the same ocid always gets the same key, so anchoring it again is
idempotent, and no OCDS release id can be mistaken for it by accident."""

DocumentKind = Literal["release", "release_package", "record_package", "record"]

# A document with none of these keys (and no releases/records) is not OCDS at all.
_RELEASE_KEYS = ("ocid", "id", "tag")
_RECORD_KEYS = ("ocid", "compiledRelease", "versionedRelease")


@dataclass(frozen=True, slots=True)
class Notice:
    """One anchorable notice: an OCDS release, or an evidence document."""

    ocid: str
    release_id: str
    stage: Stage
    """The latest lifecycle stage among its tags (numeric max); DOCUMENT for documents."""
    tags: tuple[str, ...]
    """The string tags as published (a bare-string tag becomes a one-element tuple)."""
    date: str | None
    """The release date as published (None when absent or not a string)."""
    published_at: int | None
    """The release date in unix seconds UTC, or None when unreadable."""
    deadline: int | None
    """``tender.tenderPeriod.endDate`` in unix seconds UTC, or None."""
    amends_release_id: str | None
    buyer: str | None
    """The buyer's name, or its id, or the first party with the buyer role."""
    release: Mapping[str, Any] = field(compare=False, repr=False)
    """The release exactly as parsed, never modified. For a document: a small
    read-only descriptor ``{"name", "size"}``, which is *not* what the digest covers."""
    digest: bytes
    """32 bytes: SHA-256 of the RFC 8785 bytes of the release, or of the document's raw bytes."""
    source: str
    """Where it came from: ``file.json`` or ``file.json#/releases/3`` (a JSON pointer)."""
    warnings: tuple[str, ...]
    """Non-fatal oddities met while reading it."""

    @property
    def key(self) -> tuple[str, str]:
        """(ocid, release id): what the ledger anchors once."""
        return (self.ocid, self.release_id)


class SkipCode(StrEnum):
    """Why an entry of a document did not become a notice."""

    NOT_AN_OBJECT = "not_an_object"
    LINKED_RELEASE = "linked_release"
    COMPILED_RELEASE = "compiled_release"
    VERSIONED_RELEASE = "versioned_release"
    BAD_RECORD = "bad_record"
    BAD_OCID = "bad_ocid"
    BAD_ID = "bad_id"
    NO_STAGE = "no_stage"
    NOT_CANONICALIZABLE = "not_canonicalizable"


@dataclass(frozen=True, slots=True)
class SkippedEntry:
    """An entry that is not a notice, where it is, and why."""

    source: str
    code: SkipCode
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    """The notices of one parsed JSON document, in document order, and what was skipped."""

    kind: DocumentKind
    notices: tuple[Notice, ...]
    skipped: tuple[SkippedEntry, ...]


@dataclass(frozen=True, slots=True)
class Republication:
    """One (ocid, release id) seen with more than one digest: OCDS says a release is immutable."""

    ocid: str
    release_id: str
    notices: tuple[Notice, ...]
    """Every notice with this key, in input order (exact copies included)."""

    @property
    def digests(self) -> tuple[bytes, ...]:
        """The distinct digests, in order of first appearance."""
        return tuple(dict.fromkeys(notice.digest for notice in self.notices))


# ---------------------------------------------------------------- reading documents


def parse_notices(document: Any, *, source: str) -> ParsedDocument:
    """The notices of a release, a release package, a record package or a single record.

    Raises :class:`NoticeFormatError` only when the document as a whole is none
    of these (not an object, or ``releases``/``records`` not an array). Bad
    entries never raise: they are returned in ``skipped``.
    """
    if not isinstance(document, dict):
        raise NoticeFormatError(
            f"{source}: {json_type(document)} is not an OCDS release, release package or record package",
            hint="pass a release object, a release package or a record package",
        )
    entries: list[Notice | SkippedEntry]
    kind: DocumentKind
    if "records" in document:
        kind = "record_package"
        records = _array(document, "records", source)
        entries = [
            entry
            for index, record in enumerate(records)
            for entry in _record_entries(record, f"{source}#/records/{index}", in_package=True)
        ]
    elif "releases" in document and any(key in document for key in _RECORD_KEYS):
        kind = "record"
        entries = list(_record_entries(document, source, in_package=False))
    elif "releases" in document:
        kind = "release_package"
        releases = _array(document, "releases", source)
        entries = [_read_entry(entry, f"{source}#/releases/{index}") for index, entry in enumerate(releases)]
    elif any(key in document for key in _RELEASE_KEYS):
        kind = "release"
        entries = [_read_entry(document, source)]
    else:
        raise NoticeFormatError(
            f"{source}: an object with neither releases, records, ocid, id nor tag is not OCDS",
            hint="pass a release object, a release package or a record package",
        )
    return ParsedDocument(
        kind=kind,
        notices=tuple(entry for entry in entries if isinstance(entry, Notice)),
        skipped=tuple(entry for entry in entries if isinstance(entry, SkippedEntry)),
    )


def notice_from_release(release: Any, *, source: str) -> Notice:
    """The notice of one release; :class:`NoticeFormatError` with the reason when it cannot be one."""
    entry = _read_entry(release, source)
    if isinstance(entry, SkippedEntry):
        raise NoticeFormatError(f"{source}: {entry.reason}", hint="see docs/messy-data.md")
    return entry


def _record_entries(record: object, base: str, *, in_package: bool) -> Iterator[Notice | SkippedEntry]:
    """A record's embedded releases become notices; linked, compiled and versioned ones are skipped."""
    if not isinstance(record, dict):
        yield SkippedEntry(base, SkipCode.BAD_RECORD, f"record is {json_type(record)}, not an object")
        return
    # In a package, base is already a pointer ("file#/records/0"); a lone record starts one.
    prefix = f"{base}/" if in_package else f"{base}#/"
    record_ocid = record.get("ocid") if isinstance(record.get("ocid"), str) else None
    releases = record.get("releases")
    if isinstance(releases, list):
        for index, entry in enumerate(releases):
            yield _read_entry(entry, f"{prefix}releases/{index}", record_ocid=record_ocid)
    elif in_package:
        yield SkippedEntry(base, SkipCode.BAD_RECORD, "record has no releases array")
    else:
        raise NoticeFormatError(f"{base}: record 'releases' is not an array", hint="see docs/messy-data.md")
    if "compiledRelease" in record:
        yield SkippedEntry(
            prefix + "compiledRelease",
            SkipCode.COMPILED_RELEASE,
            "a compiled release merges the process's releases; it was never published as a notice",
        )
    if "versionedRelease" in record:
        yield SkippedEntry(
            prefix + "versionedRelease",
            SkipCode.VERSIONED_RELEASE,
            "a versioned release is the history of every field, not a notice",
        )


def _read_entry(entry: object, source: str, *, record_ocid: str | None = None) -> Notice | SkippedEntry:
    """One release-like entry: a notice, or the reason it is not one. Never raises."""
    if not isinstance(entry, dict):
        return SkippedEntry(source, SkipCode.NOT_AN_OBJECT, f"entry is {json_type(entry)}, not an object")
    if "url" in entry and "id" not in entry:
        return SkippedEntry(
            source,
            SkipCode.LINKED_RELEASE,
            f"linked release (only a URL: {_short(entry.get('url'))}); anchor the release file itself",
        )
    reading = read_stage(entry)
    if reading.compiled:
        return SkippedEntry(
            source, SkipCode.COMPILED_RELEASE, "release tagged 'compiled' is a merged snapshot, not a notice"
        )
    ocid = _identifier(entry, "ocid")
    if ocid.value is None:
        return SkippedEntry(source, SkipCode.BAD_OCID, str(ocid.problem))
    release_id = _identifier(entry, "id")
    if release_id.value is None:
        return SkippedEntry(source, SkipCode.BAD_ID, str(release_id.problem))
    if reading.stage is None:
        return SkippedEntry(
            source,
            SkipCode.NO_STAGE,
            "no lifecycle tag and no planning, tender, awards or contracts section to infer a stage from",
        )
    try:
        digest = release_digest(entry)
    except (TenderledgerError, ValueError, TypeError, RecursionError) as error:
        return SkippedEntry(source, SkipCode.NOT_CANONICALIZABLE, f"cannot be canonicalized: {error}")

    warnings = [w for w in (ocid.warning, release_id.warning) if w]
    warnings += reading.warnings
    date = entry.get("date")
    published = parse_ocds_datetime(date, field="date")
    if date is None:
        warnings.append("release has no date")
    deadline = parse_ocds_datetime(tender_deadline(entry), field="tender.tenderPeriod.endDate")
    link = amended_release_id(entry, release_id=release_id.value)
    warnings += [w for w in (published.warning, deadline.warning) if w]
    warnings += link.warnings
    if record_ocid is not None and record_ocid != ocid.value:
        warnings.append(f"release ocid {ocid.value!r} differs from its record's ocid {record_ocid!r}")
    return Notice(
        ocid=ocid.value,
        release_id=release_id.value,
        stage=reading.stage,
        tags=reading.tags,
        date=date if isinstance(date, str) else None,
        published_at=published.timestamp,
        deadline=deadline.timestamp,
        amends_release_id=link.release_id,
        buyer=buyer_name(entry),
        release=entry,
        digest=digest,
        source=source,
        warnings=tuple(warnings),
    )


def _identifier(entry: Mapping[str, Any], key: str) -> IdentifierReading:
    if key not in entry:
        return IdentifierReading(None, problem=f"release has no {key}")
    return read_identifier(entry[key], field=key)


def _array(document: Mapping[str, Any], key: str, source: str) -> list[Any]:
    value = document[key]
    if not isinstance(value, list):
        raise NoticeFormatError(
            f"{source}: {key!r} is {json_type(value)}, not an array",
            hint="a package holds its entries in an array",
        )
    return value


# ---------------------------------------------------------------- documents


def document_notice(data: bytes, *, ocid: str, name: str, source: str) -> Notice:
    """The notice of an evidence document (PDF, scan, minutes) linked to the process ``ocid``.

    Its digest is the SHA-256 of the raw bytes and its release id is
    ``"sha256:" + hex digest`` (see :data:`DOCUMENT_ID_PREFIX`).
    """
    if not isinstance(ocid, str) or not ocid.strip():
        raise NoticeFormatError(f"{source}: a document needs the ocid of its process", hint="pass --ocid")
    digest = document_digest(bytes(data))
    return Notice(
        ocid=ocid,
        release_id=DOCUMENT_ID_PREFIX + digest.hex(),
        stage=Stage.DOCUMENT,
        tags=(),
        date=None,
        published_at=None,
        deadline=None,
        amends_release_id=None,
        buyer=None,
        release=MappingProxyType({"name": name, "size": len(data)}),
        digest=digest,
        source=source,
        warnings=("document is empty (0 bytes)",) if not data else (),
    )


# ---------------------------------------------------------------- sets of notices


def publication_order(notices: Iterable[Notice]) -> list[Notice]:
    """The order to anchor in: by release date, then stage, then source; stable.

    So a process's tender is anchored before its award even when both come from
    one file. Undated notices (and documents) come after all dated ones. Sources
    compare with their numbers as numbers (``/releases/2`` before ``/releases/10``).
    """
    return sorted(
        notices,
        key=lambda n: (n.published_at is None, n.published_at or 0, n.stage, _natural_key(n.source)),
    )


def find_conflicting_republications(notices: Iterable[Notice]) -> list[Republication]:
    """Every (ocid, release id) that occurs with two or more different digests, by first appearance.

    The ledger anchors the first and refuses the others; exact copies (same
    digest) are not conflicts, as re-anchoring them is a no-op.
    """
    by_key: dict[tuple[str, str], list[Notice]] = {}
    for notice in notices:
        by_key.setdefault(notice.key, []).append(notice)
    return [
        Republication(ocid, release_id, tuple(group))
        for (ocid, release_id), group in by_key.items()
        if len({notice.digest for notice in group}) > 1
    ]


_DIGITS = re.compile(r"([0-9]+)")


def _natural_key(text: str) -> tuple[str | int, ...]:
    # re.split with a group alternates text, digits, text...: same types at same positions.
    parts = _DIGITS.split(text)
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts))


def _short(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:120] + "..."
