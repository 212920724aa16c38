"""Reading files: the bytes as they are when read, never more than the limit."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from backend.service import intake as intake_module
from backend.service.intake import Intake, load_file


def _stat_says(monkeypatch: pytest.MonkeyPatch, path: Path, size: int) -> None:
    """``path.stat()`` reports ``size``, as it did before the file grew."""
    real_stat = Path.stat

    def stat(self: Path, *args: Any, **kwargs: Any) -> os.stat_result:
        result = real_stat(self, *args, **kwargs)
        if self == path:
            fields = list(result)
            fields[6] = size  # st_size
            return os.stat_result(fields)
        return result

    monkeypatch.setattr(Path, "stat", stat)


def test_a_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "release.json"
    path.write_bytes(b'{"ocid": "ocds-1"}')
    found = Intake()
    assert load_file(path, found) == b'{"ocid": "ocds-1"}'
    assert found.problems == []


def test_a_file_that_grew_after_its_size_was_read_is_read_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "growing.json"
    content = b'{"ocid": "ocds-1", "note": "' + b"x" * 10_000 + b'"}'
    path.write_bytes(content)
    _stat_says(monkeypatch, path, 10)
    found = Intake()
    assert load_file(path, found) == content
    assert found.problems == []


def test_a_file_that_grew_past_the_limit_is_refused_after_reading_one_byte_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intake_module, "MAX_FILE_BYTES", 100)
    path = tmp_path / "growing.json"
    path.write_bytes(b"[" + b"1," * 500 + b"1]")
    _stat_says(monkeypatch, path, 50)
    found = Intake()
    assert load_file(path, found) is None
    (problem,) = found.problems
    assert problem.fatal
    assert problem.message == "file is 101 bytes, more than the 100 accepted"
