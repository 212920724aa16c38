"""Several versions of one release in one input: the first in publication order is anchored,
whatever the order of the files and however transactions overlap (the demo's figures rest on it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from backend.service.anchoring import AnchorService, Outcome
from backend.service.context import Backend
from backend.service.intake import read_paths
from backend.service.versions import anchor_by_version, version_rounds
from tests.api.conftest import release
from tests.service.conftest import CITY

OCID = "ocds-vers01-2024-7"


def write(folder: Path, name: str, data: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(data), encoding="utf-8")


def versions(folder: Path) -> Path:
    """Version 2 of a tender in the first file by name, version 1 (and an exact copy) after it."""
    first = release(OCID, "tender-1", date="2024-03-01T10:00:00Z")
    second = release(OCID, "tender-1", date="2024-03-02T10:00:00Z", description="re-published")
    write(folder, "a-version-2.json", second)
    write(folder, "b-version-1.json", first)
    write(folder, "c-version-1-copy.json", first)
    write(folder, "d-other.json", release(OCID, "tender-2", date="2024-03-03T10:00:00Z"))
    return folder


def test_each_round_holds_one_version_of_a_release(tmp_path: Path) -> None:
    intake = read_paths([versions(tmp_path / "in")])

    rounds = version_rounds(intake)

    assert [[Path(item.file).name for item in part.notices] for part in rounds] == [
        ["b-version-1.json", "c-version-1-copy.json", "d-other.json"],
        ["a-version-2.json"],
    ]


def test_the_first_version_in_publication_order_is_anchored_and_the_later_refused(
    backend: Backend, tmp_path: Path
) -> None:
    intake = read_paths([versions(tmp_path / "in")])

    results = anchor_by_version(AnchorService(backend), intake, agency=CITY)

    by_file = {Path(item.file).name: result for item, result in zip(intake.notices, results, strict=True)}
    assert by_file["b-version-1.json"].outcome is Outcome.ANCHORED
    assert by_file["c-version-1-copy.json"].outcome is Outcome.ANCHORED
    assert by_file["d-other.json"].outcome is Outcome.ANCHORED
    assert by_file["a-version-2.json"].outcome is Outcome.REFUSED
    assert by_file["a-version-2.json"].error_name == "DigestConflict"
