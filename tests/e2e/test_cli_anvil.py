"""The command line end to end on a managed Anvil, with real published releases."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.chain.devnet import Engine, ManagedDevnet
from tests.chain.test_devnet import run_cli
from tests.test_command_line import heavy_in, modules_in

REQUIRED_FIELDS = {
    "file",
    "ocid",
    "release_id",
    "digest",
    "status",
    "agency",
    "block_number",
    "block_timestamp",
    "tx_hash",
}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("e2e-home")
    assert run_cli(home, "devnet", "start").returncode == 0
    assert run_cli(home, "deploy").returncode == 0
    added = run_cli(home, "agency", "add", "UK Contracts Finder", "--ocid-prefix", "ocds-b5fd17")
    assert added.returncode == 0, added.stderr
    yield home
    ManagedDevnet(home, Engine.ANVIL).stop()


@pytest.fixture(scope="module")
def releases(home: Path, ocds_real: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("uk-releases")
    for path in sorted((ocds_real / "uk-contracts-finder" / "sample" / "releases").glob("*.json")):
        shutil.copy(path, folder / path.name)
    anchored = run_cli(home, "anchor", "--agency", "UK Contracts Finder", "--json", str(folder))
    lines = [json.loads(line) for line in anchored.stdout.splitlines()]
    outcomes = {line["outcome"] for line in lines}
    assert outcomes <= {"anchored", "refused"}, anchored.stderr
    # UK Contracts Finder re-published some release ids with other content: those are refused.
    assert all(line["error_name"] == "DigestConflict" for line in lines if line["outcome"] == "refused")
    assert anchored.returncode == (1 if "refused" in outcomes else 0)
    return folder


def verify_json(home: Path, *paths: Path) -> tuple[int, list[dict[str, object]]]:
    result = run_cli(home, "verify", "--json", *map(str, paths))
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()]


def test_verify_json_contract_on_real_releases(home: Path, releases: Path) -> None:
    status, lines = verify_json(home, releases)
    assert lines and all(set(line) >= REQUIRED_FIELDS for line in lines)
    statuses = {line["status"] for line in lines}
    assert "anchored" in statuses
    # The republished copies the ledger refused are caught as tampered: the folder does not pass.
    assert statuses <= {"anchored", "superseded", "tampered"}
    assert status == (0 if statuses <= {"anchored", "superseded"} else 1)
    good = next(line for line in lines if line["status"] == "anchored")
    single_status, (single,) = verify_json(home, Path(str(good["file"]).partition("#")[0]))
    assert single_status == 0
    assert single["agency"] == "UK Contracts Finder"
    assert isinstance(single["block_number"], int) and str(single["tx_hash"]).startswith("0x")


def test_verify_reaches_the_devnet_without_the_chain_or_key_libraries(home: Path, releases: Path) -> None:
    _status, lines = verify_json(home, releases)
    good = next(Path(str(line["file"]).partition("#")[0]) for line in lines if line["status"] == "anchored")

    done = run_cli(home, "verify", "--json", str(good), env={"PYTHONPROFILEIMPORTTIME": "1"})

    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["status"] == "anchored"
    modules = modules_in(done.stderr)
    assert "backend.chain.views" in modules, "the report lists what was imported"
    heavy = heavy_in(modules)
    assert not heavy, f"a one-notice verify imported {heavy[:5]}"


def test_one_character_changed_in_a_real_release_is_caught(
    home: Path, releases: Path, tmp_path: Path
) -> None:
    status, lines = verify_json(home, releases)
    good = next(Path(str(line["file"]).partition("#")[0]) for line in lines if line["status"] == "anchored")
    text = good.read_text(encoding="utf-8")
    original = json.loads(text)
    title = original["tender"]["title"]
    altered = tmp_path / good.name
    altered.write_text(
        text.replace(json.dumps(title)[1:-1], json.dumps(title)[1:-2] + "X", 1), encoding="utf-8"
    )
    status, (line,) = verify_json(home, altered)
    assert status == 1
    assert line["status"] == "tampered"
    assert line["changed"] == ["/tender/title"]


def test_unreadable_input_exits_2(home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"ocid": "ocds-1", "id": ')
    result = run_cli(home, "verify", str(broken))
    assert result.returncode == 2
    assert "broken.json" in result.stderr
    missing = run_cli(home, "verify", str(tmp_path / "nowhere.json"))
    assert missing.returncode == 2
    assert "no such file" in missing.stderr


def test_history_shows_the_timeline(home: Path, releases: Path) -> None:
    _status, lines = verify_json(home, releases)
    ocid = next(str(line["ocid"]) for line in lines if line["status"] == "anchored")
    result = run_cli(home, "history", "--json", ocid)
    assert result.returncode == 0, result.stderr
    timeline = json.loads(result.stdout)["timeline"]
    assert timeline and all(entry["status"] in ("anchored", "refused") for entry in timeline)
