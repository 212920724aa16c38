"""First anchor wins, on the command line, with real published releases (threat model 1 and 2).

Agency A anchors a real UK Contracts Finder release inside a Merkle batch; agency B, which
shares the ledger, then anchors the same (ocid, release id) with one field changed as a
single notice (the chain cannot see inside A's batch, so it takes it). And one agency
anchors two versions of one release in two batches. ``verify`` must call the genuine
copy anchored and the later one tampered, naming the first anchor.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.chain.devnet import Engine, ManagedDevnet
from tests.chain.test_devnet import run_cli

A = "Met Office Procurement"
B = "Rogue Procurement Unit"
RELEASES = "uk-contracts-finder/sample/releases"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("conflict-home")
    assert run_cli(home, "devnet", "start").returncode == 0
    assert run_cli(home, "deploy").returncode == 0
    for name in (A, B):
        added = run_cli(home, "agency", "add", name)
        assert added.returncode == 0, added.stderr
    yield home
    ManagedDevnet(home, Engine.ANVIL).stop()


def real_release(ocds_real: Path, folder: Path, index: int) -> Path:
    source = sorted((ocds_real / RELEASES).glob("*.json"))[index]
    target = folder / source.name
    shutil.copy(source, target)
    return target


def altered_copy(path: Path, folder: Path) -> Path:
    release = json.loads(path.read_bytes())
    release["tender"]["title"] = str(release["tender"]["title"]) + " (revised)"
    target = folder / ("altered-" + path.name)
    target.write_text(json.dumps(release, ensure_ascii=False), encoding="utf-8")
    return target


def anchor(home: Path, agency: str, path: Path, *extra: str) -> dict[str, object]:
    result = run_cli(home, "anchor", "--agency", agency, "--json", *extra, str(path))
    (line,) = [json.loads(text) for text in result.stdout.splitlines()]
    return dict(line)


def verify(home: Path, path: Path) -> tuple[int, dict[str, object]]:
    result = run_cli(home, "verify", "--json", str(path))
    (line,) = [json.loads(text) for text in result.stdout.splitlines()]
    return result.returncode, dict(line)


def test_a_later_altered_single_notice_of_another_agency_never_beats_a_batch_anchor(
    home: Path, ocds_real: Path, tmp_path: Path
) -> None:
    genuine = real_release(ocds_real, tmp_path, 0)
    assert anchor(home, A, genuine, "--batch")["outcome"] == "anchored"
    fake = altered_copy(genuine, tmp_path)
    assert anchor(home, B, fake)["outcome"] == "anchored"

    status, line = verify(home, genuine)
    assert (status, line["status"], line["agency"]) == (0, "anchored", A)
    assert line["batch_root"]
    status, line = verify(home, fake)
    assert (status, line["status"], line["agency"]) == (1, "tampered", A)
    assert line["changed"] == ["/tender/title"]
    notes = " ".join(map(str, line["notes"]))  # type: ignore[call-overload]
    assert A in notes and B in notes and "first anchor" in notes


def test_two_versions_of_one_release_in_two_batches_do_not_both_verify(
    home: Path, ocds_real: Path, tmp_path: Path
) -> None:
    first = real_release(ocds_real, tmp_path, 2)
    second = altered_copy(first, tmp_path)
    assert anchor(home, A, first, "--batch")["outcome"] == "anchored"
    assert anchor(home, A, second, "--batch")["outcome"] == "anchored"
    assert verify(home, first)[1]["status"] == "anchored"
    status, line = verify(home, second)
    assert (status, line["status"]) == (1, "tampered")
    audit = run_cli(home, "audit-store")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    # Without the evidence store's manifests, batch members cannot be seen, and verify says so.
    blind = run_cli(home, "verify", "--no-store", str(first))
    assert blind.returncode == 1
    assert "not_anchored" in blind.stdout and "have no manifest in this evidence store" in blind.stderr
