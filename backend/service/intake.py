"""Reading what users hand in: files and folders of releases, packages, records and documents.

JSON files (``.json``) are parsed strictly and read as OCDS; any other file is an
evidence document, anchored by the SHA-256 of its bytes under the ocid it belongs to.
A file that cannot be read is reported and the others go on. A file over
:data:`MAX_FILE_BYTES` is refused by its size, before any of it is read.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from backend.core.jsontext import DEFAULT_MAX_BYTES, JsonValue, parse_json
from backend.core.notice import Notice, document_notice, parse_notices, publication_order
from backend.errors import InputError, MalformedJSONError, UsageError
from backend.service.bulk import paused_gc

JSON_SUFFIXES = frozenset({".json"})
MAX_FILE_BYTES = DEFAULT_MAX_BYTES  # the strict parser's own limit: one limit, one message

# Files people send by mistake where a release is expected, by their first bytes.
_FILE_SIGNATURES: Final = (
    (b"PK\x03\x04", "a ZIP archive"),
    (b"PK\x05\x06", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip file"),
    (b"%PDF-", "a PDF document"),
    (b"<", "XML or HTML"),
)


@dataclass(frozen=True)
class IntakeNotice:
    """A notice and the file it came from."""

    notice: Notice
    file: str
    document_sha256: str
    pointer: str


@dataclass(frozen=True)
class InputProblem:
    """A file, or an entry in one, that gives no notice; ``fatal`` when the file is unreadable."""

    source: str
    message: str
    fatal: bool
    code: str = "unreadable"


@dataclass
class Intake:
    notices: list[IntakeNotice] = field(default_factory=list)
    problems: list[InputProblem] = field(default_factory=list)
    documents: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # sha256 -> (name, bytes)

    @property
    def unreadable(self) -> list[InputProblem]:
        return [p for p in self.problems if p.fatal]


def expand_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Files named, and files under folders named (sorted, hidden ones skipped).

    Folders are walked depth first with each level sorted by name: the same order as
    sorting every path, without building and comparing a path object per file.
    """
    for path in paths:
        if path.is_dir():
            yield from (Path(name) for name in _walk(str(path)))
        elif path.is_file():
            yield path
        else:
            raise UsageError(f"no such file or folder: {path}")


def _walk(folder: str) -> Iterator[str]:
    with os.scandir(folder) as entries:
        visible = sorted((e for e in entries if not e.name.startswith(".")), key=lambda e: e.name)
    for entry in visible:
        if entry.is_dir():
            yield from _walk(entry.path)
        elif entry.is_file():
            yield entry.path


def parse_json_document(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> JsonValue:
    """Strict JSON from a file or request body (see ``parse_json``).

    When the bytes are not JSON but a kind of file people send by mistake (an archive,
    a PDF, XML), the MalformedJSONError says so first.
    """
    try:
        return parse_json(data, max_bytes=max_bytes)
    except MalformedJSONError as error:
        start = data[:8].lstrip(b" \t\r\n")
        kind = next((kind for magic, kind in _FILE_SIGNATURES if start.startswith(magic)), None)
        if kind is None:
            raise
        raise MalformedJSONError(
            f"{kind}, not JSON: {error.message}",
            hint="Send the OCDS release, release package or record package itself, as JSON.",
        ) from None


def read_bytes(
    data: bytes,
    *,
    name: str,
    ocid: str | None,
    intake: Intake,
    keep_bytes: bool = True,
    is_json: bool | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    strict: bool = False,
) -> None:
    """Turn one file's bytes into notices (or problems) on ``intake``: the one path from bytes
    to notices, for files on disk, request bodies and uploads alike.

    ``is_json`` says whether the bytes are an OCDS document (None: decide by the name's
    suffix); anything else is an evidence document of process ``ocid``. A document that is
    not JSON, or JSON that is no OCDS, is recorded as a problem of this file, or raised
    (InputError) when ``strict``.
    """
    # The file's own hash names its stored bytes; verification keeps no bytes and skips it.
    sha256 = hashlib.sha256(data).hexdigest() if keep_bytes else ""
    if is_json is None:
        is_json = Path(name).suffix.lower() in JSON_SUFFIXES
    if is_json:
        try:
            parsed = parse_notices(parse_json_document(data, max_bytes=max_bytes), source=name)
        except InputError as error:  # not JSON, or JSON that is no OCDS document: this file only
            if strict:
                raise
            intake.problems.append(InputProblem(name, error.message, fatal=True))
            return
        for skipped in parsed.skipped:
            intake.problems.append(
                InputProblem(skipped.source, skipped.reason, fatal=False, code=str(skipped.code))
            )
        for notice in parsed.notices:
            pointer = notice.source.partition("#")[2]
            intake.notices.append(IntakeNotice(notice, name, sha256, pointer))
        if parsed.notices and keep_bytes:
            intake.documents[sha256] = (name, data)
        elif not parsed.notices and not parsed.skipped:
            intake.problems.append(InputProblem(name, "no OCDS release in this file", fatal=True))
        return
    if ocid is None:
        intake.problems.append(
            InputProblem(name, "an evidence document needs the ocid of its process (--ocid)", fatal=True)
        )
        return
    notice = document_notice(data, ocid=ocid, name=Path(name).name, source=name)
    intake.notices.append(IntakeNotice(notice, name, sha256, ""))
    if keep_bytes:
        intake.documents[sha256] = (name, data)


def order_for_publication(intake: Intake) -> None:
    """Put ``intake``'s notices in publication order (see ``publication_order``), in place."""
    by_notice = {id(n.notice): n for n in intake.notices}
    intake.notices = [by_notice[id(n)] for n in publication_order(n.notice for n in intake.notices)]


def load_file(path: Path, intake: Intake) -> bytes | None:
    """The bytes of ``path``; None, with the reason recorded on ``intake``, when it cannot be used.

    A file over MAX_FILE_BYTES is refused by its size, and never more than that is read,
    even from a file that grows while it is read.
    """
    try:
        size = path.stat().st_size
        if size <= MAX_FILE_BYTES:
            with path.open("rb") as file:
                # Asking for the size read by stat (plus one byte, to see growth) spares
                # allocating a buffer of the whole limit for every file.
                data = file.read(size + 1)
                if len(data) > size:  # the file grew since stat: read on, up to the limit
                    data += file.read(MAX_FILE_BYTES + 1 - len(data))
            if len(data) <= MAX_FILE_BYTES:
                return data
            size = len(data)
    except OSError as exc:
        intake.problems.append(InputProblem(str(path), f"cannot read: {exc.strerror}", fatal=True))
        return None
    intake.problems.append(
        InputProblem(str(path), f"file is {size} bytes, more than the {MAX_FILE_BYTES} accepted", fatal=True)
    )
    return None


def read_paths(
    paths: Sequence[Path], *, ocid: str | None = None, keep_bytes: bool = True, ordered: bool = True
) -> Intake:
    """Read every file under ``paths``; notices come out in publication order (or file order)."""
    with paused_gc():
        return _read_paths(paths, ocid=ocid, keep_bytes=keep_bytes, ordered=ordered)


def _read_paths(paths: Sequence[Path], *, ocid: str | None, keep_bytes: bool, ordered: bool) -> Intake:
    intake = Intake()
    for path in expand_paths(paths):
        data = load_file(path, intake)
        if data is not None:
            read_bytes(data, name=str(path), ocid=ocid, intake=intake, keep_bytes=keep_bytes)
    if ordered:
        order_for_publication(intake)
    return intake
