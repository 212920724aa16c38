"""The store audit: records rebuilt from chain events alone, and hand edits of the store caught."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import backend.service.audit as audit_module
import backend.service.rebuild as rebuild_module
import backend.store.scan as scan_module
from backend.chain.devnet import dev_account
from backend.chain.ledger import Ledger
from backend.chain.sender import TransactionSender
from backend.cli import main
from backend.core.records import AnchoredEvent
from backend.demo import scenario
from backend.service.anchoring import AnchorService, Outcome
from backend.service.audit import StoreAudit
from backend.service.context import Backend
from backend.service.findings import AuditCode, Discrepancy
from backend.service.intake import read_paths
from backend.service.rebuild import key_registry, rebuild_records
from backend.settings import Settings
from tests.service.conftest import CITY, NATIONAL


@dataclass
class Anchored:
    """What the fixture anchored: digests by name, and the digest the ledger refused."""

    digests: dict[str, str]  # name -> hex digest (no 0x)
    refused: str


def write(folder: Path, name: str, value: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps(value, indent=1))
    return path


@pytest.fixture
def anchored(backend: Backend, tmp_path: Path) -> Anchored:
    """A package of two releases, a document and another agency's award anchored; one award refused."""
    now = int(backend.w3.eth.get_block("latest")["timestamp"])
    steps = scenario.procurement(now)
    files = tmp_path / "files"
    files.mkdir()
    package = write(
        files,
        "package.json",
        {
            "uri": "https://example.org/packages/1.json",
            "publishedDate": scenario.iso(now),
            "publisher": {"name": CITY},
            "version": "1.1",
            "releases": [steps["tender"], steps["amendment"]],
        },
    )
    pdf = files / "bid-opening-minutes.pdf"
    pdf.write_bytes(b"%PDF-1.7\n% minutes of the bid opening\n%%EOF\n")
    service = AnchorService(backend)
    results = service.anchor(read_paths([package]), agency=CITY)
    results += service.anchor(read_paths([pdf], ocid=scenario.OCID), agency=CITY)
    results += service.anchor(
        read_paths([write(files, "direct.json", scenario.never_anchored(now))]), agency=NATIONAL
    )
    assert [r.outcome for r in results] == [Outcome.ANCHORED] * 4
    (early,) = service.anchor(read_paths([write(files, "award.json", steps["award"])]), agency=CITY)
    assert early.outcome is Outcome.REFUSED, "the award comes before the deadline"
    names = ["tender", "amendment", "document", "direct_award"]
    return Anchored(
        digests={name: r.digest.removeprefix("0x") for name, r in zip(names, results, strict=True)},
        refused=early.digest.removeprefix("0x"),
    )


def run_audit(backend: Backend, *, complete: bool = False) -> tuple[list[Discrepancy], StoreAudit]:
    audit = StoreAudit(backend.ledger, backend.store, complete=complete)
    return list(audit.run()), audit


def sql(backend: Backend, statement: str, **params: Any) -> None:
    """An edit by hand, straight into the database."""
    with backend.store.engine.begin() as connection:
        result = connection.execute(text(statement), params)
        assert result.rowcount == 1, "the edit must hit exactly one row"


def found(discrepancies: list[Discrepancy]) -> set[tuple[str, str, str]]:
    return {(str(d.code), d.row, d.field) for d in discrepancies}


def receipt_body(backend: Backend, digest: str) -> dict[str, Any]:
    receipt = backend.store.receipt(bytes.fromhex(digest))
    assert receipt is not None
    return receipt.to_json()


# ---------------------------------------------------------------- rebuilding from events


def test_records_rebuilt_from_events_equal_the_contracts_and_the_stored_receipts(
    backend: Backend, anchored: Anchored
) -> None:
    ledger = backend.ledger
    rebuilt = list(rebuild_records(ledger))
    assert {r.digest.hex() for r in rebuilt} == set(anchored.digests.values())
    assert [r.problems for r in rebuilt] == [()] * len(rebuilt)
    for record in rebuilt:
        assert ledger.record_by_key(record.event.key) == record.ledger_record()
        receipt = record.receipt(chain_id=ledger.deployment.chain_id, ledger=ledger.address).to_json()
        assert receipt == receipt_body(backend, record.digest.hex()), "the stored receipt is the rebuilt one"
    assert {r.agency_name for r in rebuilt} == {CITY, NATIONAL}


def test_the_key_registry_rebuilt_from_events_equals_the_contracts(
    backend: Backend, anchored: Anchored
) -> None:
    ledger = backend.ledger
    registry = key_registry(ledger)
    assert len(registry) == 2
    for key, tenure in registry.items():
        window = ledger.seal_key(key)
        assert (tenure.agency, tenure.added[0], tenure.revoked) == (window.agency, window.added_block, None)


def test_a_clean_store_matches_the_chain(backend: Backend, anchored: Anchored) -> None:
    discrepancies, audit = run_audit(backend, complete=True)
    assert discrepancies == []
    summary = audit.summary
    assert (summary.events, summary.receipts, summary.notices, summary.outbox) == (4, 4, 5, 4)
    assert summary.documents == 4, "the package, the document, the direct award and the refused award"
    assert summary.discrepancies == 0 and summary.elsewhere == 0


def test_notices_sealed_before_their_key_was_revoked_still_audit_clean(
    backend: Backend, anchored: Anchored
) -> None:
    city_key = backend.agency_key(CITY).address
    backend.ledger.revoke_seal_key(TransactionSender(backend.w3, dev_account(0)), city_key)
    assert key_registry(backend.ledger)[city_key].revoked is not None
    discrepancies, _ = run_audit(backend)
    assert discrepancies == []


def test_small_windows_and_pages_give_the_same_audit(
    backend: Backend, anchored: Anchored, monkeypatch: pytest.MonkeyPatch
) -> None:
    tender = anchored.digests["tender"]
    # A receipt moved to a block of another window is reported once, by the window of its event.
    sql(backend, "UPDATE receipts SET block_number = block_number + 3 WHERE digest = :d", d=tender)
    expected = {(AuditCode.RECEIPT_MISMATCH.value, tender, "block_number")}
    assert found(run_audit(backend)[0]) == expected
    monkeypatch.setattr(rebuild_module, "WINDOW_BLOCKS", 1)
    monkeypatch.setattr(audit_module, "CHUNK", 1)
    monkeypatch.setattr(scan_module, "PAGE_ROWS", 1)
    discrepancies, audit = run_audit(backend)
    assert found(discrepancies) == expected
    assert audit.summary.events == 4 and audit.summary.receipts == 4


# ---------------------------------------------------------------- hand edits


def test_a_receipt_body_edited_by_hand_is_flagged_field_by_field(
    backend: Backend, anchored: Anchored
) -> None:
    digest = anchored.digests["amendment"]
    body = receipt_body(backend, digest)
    true_block = body["anchor"]["block_number"]
    body["anchor"]["block_number"] = true_block + 7
    body["seal"]["agency_name"] = "Somebody Else"
    sql(backend, "UPDATE receipts SET body = :b WHERE digest = :d", b=json.dumps(body), d=digest)
    discrepancies, _ = run_audit(backend)
    assert found(discrepancies) == {
        ("receipt_mismatch", digest, "body.anchor.block_number"),
        ("receipt_mismatch", digest, "body.seal.agency_name"),
    }
    by_field = {d.field: d for d in discrepancies}
    assert (by_field["body.anchor.block_number"].store, by_field["body.anchor.block_number"].chain) == (
        true_block + 7,
        true_block,
    )
    assert by_field["body.seal.agency_name"].chain == CITY


def test_a_receipt_naming_another_signer_or_transaction_is_flagged(
    backend: Backend, anchored: Anchored
) -> None:
    digest = anchored.digests["direct_award"]
    body = receipt_body(backend, digest)
    body["seal"]["signer"] = backend.agency_key(CITY).address
    sql(backend, "UPDATE receipts SET body = :b WHERE digest = :d", b=json.dumps(body), d=digest)
    sql(backend, "UPDATE receipts SET tx_hash = :t WHERE digest = :d", t="0x" + "ab" * 32, d=digest)
    discrepancies = run_audit(backend)[0]
    assert found(discrepancies) == {
        ("receipt_mismatch", digest, "body.seal.signer"),
        ("receipt_mismatch", digest, "tx_hash"),
    }
    signer = next(d for d in discrepancies if d.field == "body.seal.signer")
    assert signer.chain == backend.agency_key(NATIONAL).address


def test_a_receipt_for_a_digest_the_chain_does_not_hold_is_flagged(
    backend: Backend, anchored: Anchored
) -> None:
    real = anchored.digests["document"]
    forged = "f0" * 32
    sql(backend, "UPDATE receipts SET digest = :f WHERE digest = :d", f=forged, d=real)
    assert found(run_audit(backend)[0]) == {
        ("receipt_not_on_chain", forged, "digest"),
        ("receipt_missing", real, ""),  # the notice the store kept has lost its receipt
    }


def test_an_unreadable_receipt_body_is_flagged(backend: Backend, anchored: Anchored) -> None:
    digest = anchored.digests["tender"]
    sql(backend, "UPDATE receipts SET body = :b WHERE digest = :d", b="{not json", d=digest)
    assert found(run_audit(backend)[0]) == {("receipt_unreadable", digest, "body")}


def test_a_deleted_receipt_is_missing(backend: Backend, anchored: Anchored) -> None:
    digest = anchored.digests["tender"]
    sql(backend, "DELETE FROM receipts WHERE digest = :d", d=digest)
    assert found(run_audit(backend)[0]) == {("receipt_missing", digest, "")}


def test_a_notice_digest_edited_by_hand_no_longer_matches_its_stored_bytes(
    backend: Backend, anchored: Anchored
) -> None:
    real = anchored.digests["amendment"]
    edited = "0e" * 32
    sql(backend, "UPDATE notices SET digest = :e WHERE digest = :d", e=edited, d=real)
    discrepancies = run_audit(backend)[0]
    assert found(discrepancies) == {("notice_bytes_altered", edited, "digest")}
    (altered,) = discrepancies
    assert (altered.store, altered.chain) == (edited, real)
    assert real in altered.detail, "the stored bytes still give the anchored digest"


def test_a_notice_row_naming_another_release_is_flagged(backend: Backend, anchored: Anchored) -> None:
    digest = anchored.digests["tender"]
    sql(backend, "UPDATE notices SET release_id = 'VLP-2026-0042-tender-v2' WHERE digest = :d", d=digest)
    assert found(run_audit(backend)[0]) == {("notice_mismatch", digest, "release_id")}


def test_stored_document_bytes_edited_by_hand_are_flagged(backend: Backend, anchored: Anchored) -> None:
    tender = anchored.digests["tender"]
    with backend.store.engine.connect() as connection:
        sha256, data = connection.execute(
            text(
                "SELECT d.sha256, d.data FROM documents d JOIN notices n ON n.document_sha256 = d.sha256 "
                "WHERE n.digest = :d"
            ),
            {"d": tender},
        ).one()
    altered = bytes(data).replace(b'"amount": 480000', b'"amount": 480001', 1)
    assert altered != bytes(data)
    sql(backend, "UPDATE documents SET data = :x WHERE sha256 = :s", x=altered, s=sha256)
    assert found(run_audit(backend)[0]) == {
        ("document_altered", sha256, "data"),
        ("notice_bytes_altered", tender, "digest"),  # the amendment in the same package is untouched
    }


def test_an_evidence_document_edited_by_hand_is_flagged(backend: Backend, anchored: Anchored) -> None:
    document = anchored.digests["document"]
    sql(backend, "UPDATE documents SET data = :x WHERE sha256 = :s", x=b"%PDF-1.7\n% forged\n", s=document)
    assert found(run_audit(backend)[0]) == {
        ("document_altered", document, "data"),
        ("notice_bytes_altered", document, "digest"),
    }


def test_an_outbox_row_marked_final_that_the_chain_refused_is_flagged(
    backend: Backend, anchored: Anchored
) -> None:
    sql(backend, "UPDATE outbox SET status = 'final' WHERE subject = :s", s=anchored.refused)
    discrepancies = run_audit(backend)[0]
    (flagged,) = discrepancies
    assert (flagged.code, flagged.table, flagged.field) == (AuditCode.OUTBOX_NOT_ON_CHAIN, "outbox", "status")
    assert flagged.chain is None and anchored.refused in str(flagged.store)


def test_an_outbox_row_naming_another_release_is_flagged(backend: Backend, anchored: Anchored) -> None:
    digest = anchored.digests["direct_award"]
    sql(backend, "UPDATE outbox SET ocid = 'ocds-tldemo-elsewhere' WHERE subject = :s", s=digest)
    assert {(str(d.code), d.field) for d in run_audit(backend)[0]} == {
        ("outbox_mismatch", "ocid"),
        ("outbox_not_on_chain", "status"),  # under the edited (ocid, release id) the chain holds nothing
    }


def test_a_notice_whose_document_was_deleted_is_flagged(backend: Backend, anchored: Anchored) -> None:
    document = anchored.digests["document"]
    with backend.store.engine.begin() as connection:  # the store enforces the link: go around it
        connection.execute(text("PRAGMA foreign_keys=OFF"))
        connection.execute(text("DELETE FROM documents WHERE sha256 = :s"), {"s": document})
    assert found(run_audit(backend)[0]) == {("document_missing", document, "document_sha256")}


# ---------------------------------------------------------------- another store, and a lying node


def test_notices_of_another_store_are_counted_unless_the_store_claims_to_be_complete(
    backend: Backend, anchored: Anchored, tmp_path: Path
) -> None:
    other_home = tmp_path / "other"
    other_home.mkdir()
    (other_home / "deployment.json").write_bytes(backend.settings.deployment_path.read_bytes())
    other = Backend(Settings(home=other_home), w3=backend.w3)
    discrepancies, audit = run_audit(other)
    assert discrepancies == [] and audit.summary.elsewhere == 4
    discrepancies, _ = run_audit(other, complete=True)
    assert {str(d.code) for d in discrepancies} == {"not_in_store"} and len(discrepancies) == 4


def test_events_a_lying_node_altered_are_caught_by_the_chains_own_checks(
    backend: Backend, anchored: Anchored, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger: Ledger = backend.ledger
    honest = ledger.notice_events
    tender = bytes.fromhex(anchored.digests["tender"])

    document = bytes.fromhex(anchored.digests["document"])

    def lying(**kwargs: Any) -> Iterator[AnchoredEvent]:
        for event in honest(**kwargs):
            if event.digest == tender:  # the node swaps the signer the event names
                event = dataclasses.replace(event, signer=backend.agency_key(NATIONAL).address)
            elif event.digest == document:  # and files this event under another process
                event = dataclasses.replace(event, ocid_hash=bytes(32))
            yield event

    monkeypatch.setattr(ledger, "notice_events", lying)
    discrepancies = run_audit(backend)[0]
    codes = {(str(d.code), d.field) for d in discrepancies}
    assert ("event_seal_invalid", "signer") in codes, "the seal recovers to someone else"
    assert ("event_seal_invalid", "agency") in codes, "that key is not of the event's agency"
    assert ("record_mismatch", "signer") in codes, "the contract's record disagrees with the event"
    assert ("event_inconsistent", "ocidHash") in codes, "the event's topic is not its ocid's hash"


# ---------------------------------------------------------------- the command


def run_cli(monkeypatch: pytest.MonkeyPatch, backend: Backend, *args: str) -> int:
    monkeypatch.setattr("backend.service.context.Backend", lambda settings: Backend(settings, w3=backend.w3))
    monkeypatch.setattr(sys, "argv", ["tenderledger", "--home", str(backend.settings.home), *args])
    try:
        main()
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def test_audit_store_exits_0_on_a_clean_store_and_1_on_an_edited_one(
    backend: Backend, anchored: Anchored, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(monkeypatch, backend, "audit-store") == 0
    assert "matches the chain" in capsys.readouterr().err
    digest = anchored.digests["tender"]
    sql(backend, "UPDATE receipts SET block_hash = :h WHERE digest = :d", h="0x" + "00" * 32, d=digest)
    assert run_cli(monkeypatch, backend, "audit-store", "--json") == 1
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0]["code"] == "receipt_mismatch" and lines[0]["row"] == digest
    assert lines[0]["field"] == "block_hash" and lines[0]["store"] == "0x" + "00" * 32
    assert lines[-1]["summary"]["discrepancies"] == 1
    assert "1 discrepancies" in err


def test_audit_store_without_a_store_is_a_configuration_error(
    backend: Backend, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not (backend.settings.home / "evidence.sqlite3").exists()
    assert run_cli(monkeypatch, backend, "audit-store") == 2
    assert "no evidence store" in capsys.readouterr().err
