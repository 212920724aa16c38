"""Anchoring and verification through the service layer, on the in-process chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backend.chain.devnet import advance_time
from backend.core.receipt import check_receipt_offline, unhex
from backend.core.verdict import Status
from backend.demo import scenario
from backend.errors import KeystoreError
from backend.keys import load_agency_key
from backend.service.anchoring import AnchorService, Outcome
from backend.service.context import Backend
from backend.service.intake import read_paths
from backend.service.verification import VerifyService, document_subject, subjects_of
from backend.settings import Settings
from tests.service.conftest import CITY, NATIONAL, auditor_view


def write(folder: Path, name: str, value: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps(value, indent=1))
    return path


def verify(backend: Backend, paths: list[Path], *, store: bool = True) -> dict[str, Any]:
    service = VerifyService(backend, store=backend.existing_store() if store else None)
    subjects = subjects_of(read_paths(paths, keep_bytes=False, ordered=False))
    return {v.release_id: v for v in service.verify(subjects)}


@pytest.fixture
def demo_files(backend: Backend, tmp_path: Path) -> dict[str, Path]:
    now = int(backend.w3.eth.get_block("latest")["timestamp"])
    return {
        step: write(tmp_path, f"{step}.json", release) for step, release in scenario.procurement(now).items()
    }


def test_lifecycle_anchor_refusal_retry_and_verdicts(backend: Backend, demo_files: dict[str, Path]) -> None:
    service = AnchorService(backend)
    first = service.anchor(read_paths([demo_files["tender"], demo_files["amendment"]]), agency=CITY)
    assert [r.outcome for r in first] == [Outcome.ANCHORED, Outcome.ANCHORED]
    (early,) = service.anchor(read_paths([demo_files["award"]]), agency=CITY)
    assert early.outcome is Outcome.REFUSED and early.error_name == "DeadlineNotPassed"
    advance_time(backend.w3, 40 * scenario.DAY)
    (late,) = service.anchor(read_paths([demo_files["award"]]), agency=CITY)
    assert late.outcome is Outcome.ANCHORED, "a refusal for a deadline is retried once the deadline passed"
    verdicts = verify(backend, list(demo_files.values()))
    assert verdicts["VLP-2026-0042-tender"].status is Status.SUPERSEDED
    assert verdicts["VLP-2026-0042-tender"].superseded_by == ["VLP-2026-0042-amendment-1"]
    assert verdicts["VLP-2026-0042-amendment-1"].status is Status.ANCHORED
    assert verdicts["VLP-2026-0042-award-1"].status is Status.ANCHORED
    assert verdicts["VLP-2026-0042-award-1"].agency_name == CITY
    assert verdicts["VLP-2026-0042-contract-1"].status is Status.NOT_ANCHORED


def test_anchoring_again_returns_the_existing_receipt(backend: Backend, demo_files: dict[str, Path]) -> None:
    service = AnchorService(backend)
    (first,) = service.anchor(read_paths([demo_files["tender"]]), agency=CITY)
    (again,) = service.anchor(read_paths([demo_files["tender"]]), agency=CITY)
    assert first.outcome is Outcome.ANCHORED and again.outcome is Outcome.ALREADY_ANCHORED
    assert again.receipt == first.receipt
    assert first.receipt is not None
    assert check_receipt_offline(first.receipt, digest=unhex(first.digest)) == []
    events = list(backend.ledger.notice_events())
    assert len(events) == 1, "nothing is anchored twice"


def test_receipt_that_does_not_match_is_caught_offline(backend: Backend, demo_files: dict[str, Path]) -> None:
    (result,) = AnchorService(backend).anchor(read_paths([demo_files["tender"]]), agency=CITY)
    assert result.receipt is not None
    assert check_receipt_offline(result.receipt, digest=b"\x01" * 32) == ["the receipt is for another digest"]
    forged = json.loads(json.dumps(result.receipt.to_json()))
    forged["seal"]["signer"] = "0x" + "11" * 20
    assert any("recovers to" in p for p in check_receipt_offline(forged, digest=unhex(result.digest)))


def test_one_changed_character_is_tampered_with_the_field_named(
    backend: Backend, demo_files: dict[str, Path], tmp_path: Path
) -> None:
    AnchorService(backend).anchor(read_paths([demo_files["tender"]]), agency=CITY)
    text = demo_files["tender"].read_text().replace('"amount": 480000', '"amount": 480001')
    altered = tmp_path / "altered" / "tender.json"
    altered.parent.mkdir()
    altered.write_text(text)
    verdict = verify(backend, [altered])["VLP-2026-0042-tender"]
    assert verdict.status is Status.TAMPERED
    assert verdict.changed == ["/tender/value/amount"]
    # Without the evidence store the verdict is the same; only the field list is missing.
    blind = verify(auditor_view(backend), [altered], store=False)["VLP-2026-0042-tender"]
    assert blind.status is Status.TAMPERED and blind.changed is None


def test_auditor_with_only_file_chain_and_deployment_gets_the_same_verdicts(
    backend: Backend, demo_files: dict[str, Path]
) -> None:
    AnchorService(backend).anchor(read_paths([demo_files["tender"], demo_files["amendment"]]), agency=CITY)
    auditor = auditor_view(backend)
    assert auditor.existing_store() is None
    with_store = verify(backend, list(demo_files.values()))
    without = verify(auditor, list(demo_files.values()), store=False)
    assert {k: v.to_json() for k, v in with_store.items()} == {k: v.to_json() for k, v in without.items()}
    assert sorted(p.name for p in auditor.settings.home.iterdir()) == ["deployment.json"], (
        "verify creates no store"
    )


def test_real_releases_anchor_and_verify(backend: Backend, ocds_real: Path) -> None:
    files = sorted((ocds_real / "mexico-jalisco").rglob("*.json"))
    results = AnchorService(backend).anchor(read_paths(files), agency=NATIONAL)
    anchored = {r.digest for r in results if r.outcome in (Outcome.ANCHORED, Outcome.ALREADY_ANCHORED)}
    assert anchored, "real releases anchor"
    assert all(r.outcome is not Outcome.INVALID for r in results)
    verdicts = verify(auditor_view(backend), files, store=False)
    assert all(v.status.passes for v in verdicts.values())


def test_republished_release_is_refused_and_the_copy_is_tampered(backend: Backend, ocds_real: Path) -> None:
    files = sorted((ocds_real / "paraguay" / "sample" / "releases").glob("*277004-*"))
    results = AnchorService(backend).anchor(read_paths(files), agency=NATIONAL)
    refused = [r for r in results if r.outcome is Outcome.REFUSED]
    assert refused and {r.error_name for r in refused} == {"DigestConflict"}
    verdicts = list(
        VerifyService(backend, store=backend.store).verify(
            subjects_of(read_paths(files, keep_bytes=False, ordered=False))
        )
    )
    statuses = {v.digest: v.status for v in verdicts}
    assert {statuses[r.digest] for r in refused} == {Status.TAMPERED}


def test_evidence_document_is_anchored_and_verified_by_its_bytes(backend: Backend, tmp_path: Path) -> None:
    pdf = tmp_path / "bid-opening-minutes.pdf"
    pdf.write_bytes(b"%PDF-1.7\n% minutes of the bid opening, 2026-12-31\n%%EOF\n")
    (result,) = AnchorService(backend).anchor(read_paths([pdf], ocid=scenario.OCID), agency=CITY)
    assert result.outcome is Outcome.ANCHORED and result.stage == "document"
    service = VerifyService(auditor_view(backend), store=None)
    (verdict,) = service.verify([document_subject(pdf.read_bytes(), name=str(pdf))])
    assert verdict.status is Status.ANCHORED and verdict.ocid == scenario.OCID
    pdf.write_bytes(pdf.read_bytes().replace(b"31", b"30"))
    (changed,) = service.verify([document_subject(pdf.read_bytes(), name=str(pdf))])
    assert changed.status is Status.NOT_ANCHORED


def test_wrong_keystore_password_is_a_clear_error(backend: Backend) -> None:
    wrong = Settings(home=backend.settings.home, key_password="not-the-password")  # type: ignore[arg-type]
    with pytest.raises(KeystoreError, match="wrong password"):
        load_agency_key(wrong, CITY)


def test_schema_invalid_release_is_held_back_unless_allowed(
    backend: Backend, demo_files: dict[str, Path], tmp_path: Path
) -> None:
    release = json.loads(demo_files["tender"].read_text())
    release["tender"]["value"]["amount"] = "four hundred thousand"
    path = write(tmp_path, "invalid.json", release)
    service = AnchorService(backend)
    (held,) = service.anchor(read_paths([path]), agency=CITY)
    assert held.outcome is Outcome.INVALID
    assert any(issue.path == "/tender/value/amount" for issue in held.schema_issues)
    (allowed,) = service.anchor(read_paths([path]), agency=CITY, allow_invalid=True)
    assert allowed.outcome is Outcome.ANCHORED


def test_a_file_that_is_not_ocds_does_not_stop_the_others(
    backend: Backend, demo_files: dict[str, Path], tmp_path: Path
) -> None:
    not_ocds = write(tmp_path, "list.json", [1, 2, 3])
    broken = tmp_path / "broken.json"
    broken.write_bytes(b'{"ocid": ')
    intake = read_paths([not_ocds, broken, demo_files["tender"]])
    assert {Path(p.source).name for p in intake.unreadable} == {"list.json", "broken.json"}
    (result,) = AnchorService(backend).anchor(intake, agency=CITY)
    assert result.outcome is Outcome.ANCHORED


def test_merkle_batches_anchor_with_proofs_and_verify(backend: Backend, tmp_path: Path) -> None:
    from benchmarks.workload import write_releases

    files = write_releases(tmp_path / "archive", 11)
    service = AnchorService(backend)
    results = service.anchor(read_paths(files), agency=NATIONAL, batch=True, batch_size=4)
    assert {r.outcome for r in results} == {Outcome.ANCHORED}
    roots = {r.receipt.to_json()["batch"]["root"] for r in results if r.receipt}
    assert len(roots) == 3, "11 notices in batches of 4 make three roots"
    for result in results:
        assert result.receipt is not None
        assert check_receipt_offline(result.receipt, digest=unhex(result.digest)) == []
    again = service.anchor(read_paths(files), agency=NATIONAL, batch=True, batch_size=4)
    assert {r.outcome for r in again} == {Outcome.ALREADY_ANCHORED}
    assert backend.ledger.counts() == (2, 3), "no second root for notices already anchored"
    verdicts = verify(backend, files)
    assert {v.status for v in verdicts.values()} == {Status.ANCHORED}
    assert all(v.batch_root in roots for v in verdicts.values())
    # Without the store there is no proof to show: a batch member cannot be found by its file alone.
    blind = verify(auditor_view(backend), files, store=False)
    assert {v.status for v in blind.values()} == {Status.NOT_ANCHORED}
    # A receipt whose proof was altered does not verify.
    receipt = json.loads(json.dumps(results[0].receipt.to_json()))
    receipt["batch"]["proof"]["path"][0] = "00" * 32
    assert check_receipt_offline(receipt, digest=unhex(results[0].digest)) == [
        "the inclusion proof does not lead to the batch root"
    ]


def test_a_merkle_batch_with_one_bad_notice_reports_it_and_anchors_the_rest(
    backend: Backend, tmp_path: Path
) -> None:
    from benchmarks.workload import write_releases

    files = write_releases(tmp_path / "archive", 8)
    bad = json.loads(files[3].read_text())
    bad["tender"] = {"id": "t-1", "value": {"amount": "lots", "currency": "GBP"}}
    files[3].write_text(json.dumps(bad))
    (tmp_path / "archive" / "truncated.json").write_bytes(b'{"ocid": ')
    intake = read_paths([tmp_path / "archive"])
    assert [Path(p.source).name for p in intake.unreadable] == ["truncated.json"]
    results = AnchorService(backend).anchor(intake, agency=NATIONAL, batch=True)
    by_file = {Path(r.source).name: r for r in results}
    assert by_file[files[3].name].outcome is Outcome.INVALID
    assert by_file[files[3].name].receipt is None
    anchored = [r for r in results if r.outcome is Outcome.ANCHORED]
    assert len(anchored) == 7
    assert len({r.receipt.to_json()["batch"]["root"] for r in anchored if r.receipt}) == 1
    assert backend.ledger.counts()[1] == 1, "one root for the seven good notices"
    verdicts = verify(backend, files)
    assert verdicts[bad["id"]].status is Status.NOT_ANCHORED
    assert sum(v.status is Status.ANCHORED for v in verdicts.values()) == 7
