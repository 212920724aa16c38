"""Verdicts that hold against a misbehaving agency sharing the ledger (threat model, properties 1-7).

Two agencies share one ledger and one evidence store; one of them tries to bend what the
ledger says about the other's notices. Real releases come from ../shared/ocds-real.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from backend.chain.devnet import dev_account
from backend.chain.sender import TransactionSender
from backend.core.ocid import ocid_prefix
from backend.core.verdict import Status
from backend.demo import scenario
from backend.service.anchoring import AnchorService, Outcome
from backend.service.audit import StoreAudit
from backend.service.batches import batch_manifest
from backend.service.context import Backend
from backend.service.findings import AuditCode
from backend.service.intake import read_paths
from backend.service.verification import VerifyService, document_subject, subjects_of
from backend.store.manifests import MEMBERS
from backend.store.outbox import OUTBOX
from tests.service.conftest import CITY, NATIONAL

UK_RELEASE = (
    "uk-contracts-finder/sample/releases/"
    "ocds-b5fd17-2c330cf9-adc8-11e6-9901-0019b9f3037b-59429-metofc-9mgh-ghl8ty.json"
)


def write(folder: Path, name: str, value: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps(value, indent=1))
    return path


def verdicts_of(backend: Backend, paths: list[Path]) -> list[Any]:
    service = VerifyService(backend, store=backend.existing_store())
    return list(service.verify(subjects_of(read_paths(paths, keep_bytes=False, ordered=False))))


def audit_codes(backend: Backend) -> set[str]:
    store = backend.existing_store()
    assert store is not None
    return {str(d.code) for d in StoreAudit(backend.ledger, store).run()}


def city_tender_anchored(backend: Backend, tmp_path: Path) -> tuple[dict[str, Any], Path, AnchorService]:
    """The demo procurement's steps (dated from the chain's clock), and its tender's file, anchored
    by the city."""
    now = int(backend.w3.eth.get_block("latest")["timestamp"])
    steps = scenario.procurement(now)
    tender = write(tmp_path, "tender.json", steps["tender"])
    service = AnchorService(backend)
    assert service.anchor(read_paths([tender]), agency=CITY)[0].outcome is Outcome.ANCHORED
    return steps, tender, service


def altered(release: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(release)
    changed["tender"]["title"] = str(changed["tender"].get("title")) + " (amended by someone else)"
    return changed


def test_batch_anchor_of_agency_a_wins_over_a_later_altered_single_of_agency_b(
    backend: Backend, tmp_path: Path, ocds_real: Path
) -> None:
    genuine_path = ocds_real / UK_RELEASE
    genuine = json.loads(genuine_path.read_bytes())
    service = AnchorService(backend)
    (a,) = service.anchor(read_paths([genuine_path]), agency=CITY, batch=True)
    assert a.outcome is Outcome.ANCHORED
    # Agency B sends the same (ocid, release id) with one field changed, as a single notice:
    # the chain cannot see inside A's batch, so it accepts it.
    fake_path = write(tmp_path, "fake.json", altered(genuine))
    (b,) = service.anchor(read_paths([fake_path]), agency=NATIONAL)
    assert b.outcome is Outcome.ANCHORED

    real, fake = verdicts_of(backend, [genuine_path, fake_path])
    assert real.status is Status.ANCHORED
    assert real.agency_name == CITY and real.batch_root is not None
    assert fake.status is Status.TAMPERED
    assert fake.agency_name == CITY, "the verdict names the first anchor, not the later copy"
    assert fake.changed == ["/tender/title"]
    assert any("first anchor" in note and CITY in note for note in fake.notes)
    assert any("anchored later" in note and NATIONAL in note for note in fake.notes)
    assert audit_codes(backend) == set()


def test_two_versions_of_one_release_in_two_batches_the_second_is_tampered(
    backend: Backend, tmp_path: Path, ocds_real: Path
) -> None:
    genuine_path = ocds_real / UK_RELEASE
    second_path = write(tmp_path, "second.json", altered(json.loads(genuine_path.read_bytes())))
    service = AnchorService(backend)
    assert service.anchor(read_paths([genuine_path]), agency=CITY, batch=True)[0].outcome is Outcome.ANCHORED
    assert service.anchor(read_paths([second_path]), agency=CITY, batch=True)[0].outcome is Outcome.ANCHORED
    first, second = verdicts_of(backend, [genuine_path, second_path])
    assert first.status is Status.ANCHORED
    assert second.status is Status.TAMPERED and second.changed == ["/tender/title"]
    # In the other order of verification too: the order files are read in changes nothing.
    second_again, first_again = verdicts_of(backend, [second_path, genuine_path])
    assert (first_again.status, second_again.status) == (Status.ANCHORED, Status.TAMPERED)


def test_a_batch_member_in_a_process_of_another_agency_is_a_conflict(
    backend: Backend, tmp_path: Path
) -> None:
    steps, tender, service = city_tender_anchored(backend, tmp_path)
    # Agency B slips an award into A's process inside a batch (the chain enforces no
    # ownership for batch content): it must never verify anchored.
    award = write(tmp_path, "award.json", steps["award"])
    assert service.anchor(read_paths([award]), agency=NATIONAL, batch=True)[0].outcome is Outcome.ANCHORED
    tender_verdict, award_verdict = verdicts_of(backend, [tender, award])
    assert tender_verdict.status is Status.ANCHORED
    assert award_verdict.status is Status.CONFLICT
    assert award_verdict.agency_name == NATIONAL
    assert any(f"belongs to agency 1 ({CITY!r})" in note for note in award_verdict.notes)


def test_a_reserved_prefix_keeps_squatters_out_by_single_notice_and_by_batch(
    backend: Backend, tmp_path: Path
) -> None:
    ledger = backend.ledger
    governance = TransactionSender(backend.w3, dev_account(0))
    ledger.reserve_ocid_prefix(governance, ledger.agency_id(CITY), ocid_prefix(scenario.OCID) or "")
    now = int(backend.w3.eth.get_block("latest")["timestamp"])
    tender = write(tmp_path, "tender.json", scenario.procurement(now)["tender"])
    service = AnchorService(backend)
    (single,) = service.anchor(read_paths([tender]), agency=NATIONAL)
    assert single.outcome is Outcome.REFUSED and single.error_name == "OcidPrefixOfOtherAgency"
    (batched,) = service.anchor(read_paths([tender]), agency=NATIONAL, batch=True)
    assert batched.outcome is Outcome.ANCHORED, "a batch root carries no ocid: the chain cannot refuse it"
    (squatted,) = verdicts_of(backend, [tender])
    assert squatted.status is Status.CONFLICT
    assert any("reserved" in note for note in squatted.notes)
    # The publisher anchors its own notice afterwards: the squatter's earlier batch does not count.
    (own,) = service.anchor(read_paths([tender]), agency=CITY)
    assert own.outcome is Outcome.ANCHORED
    (verdict,) = verdicts_of(backend, [tender])
    assert verdict.status is Status.ANCHORED and verdict.agency_name == CITY
    assert any("ignored an anchor" in note and NATIONAL in note for note in verdict.notes)


def test_the_same_document_is_anchored_for_two_processes_and_cannot_be_squatted(
    backend: Backend, tmp_path: Path
) -> None:
    pdf = tmp_path / "standard-terms.pdf"
    pdf.write_bytes(b"%PDF-1.4\nstandard terms and conditions of purchase\n%%EOF\n")
    service = AnchorService(backend)
    # NATIONAL anchors the public document first, for its own process...
    (first,) = service.anchor(read_paths([pdf], ocid="ocds-nat001-0001"), agency=NATIONAL)
    assert first.outcome is Outcome.ANCHORED
    # ...and CITY can still anchor the very same file for its process.
    (second,) = service.anchor(read_paths([pdf], ocid="ocds-city01-0001"), agency=CITY)
    assert second.outcome is Outcome.ANCHORED
    records = backend.ledger.records_by_key(
        [
            bytes.fromhex(first.receipt.to_json()["notice"]["key"][2:]),  # type: ignore[union-attr]
            bytes.fromhex(second.receipt.to_json()["notice"]["key"][2:]),  # type: ignore[union-attr]
        ]
    )
    assert [r.agency if r else None for r in records] == [2, 1]
    (by_digest,) = VerifyService(backend, store=backend.existing_store()).verify(
        [document_subject(pdf.read_bytes(), name=str(pdf))]
    )
    assert by_digest.status is Status.ANCHORED and by_digest.ocid == "ocds-nat001-0001"
    assert any("ocds-city01-0001" in note for note in by_digest.notes)


def test_manifests_are_served_checked_and_audited(backend: Backend, tmp_path: Path) -> None:
    now = int(backend.w3.eth.get_block("latest")["timestamp"])
    paths = [write(tmp_path, f"{step}.json", r) for step, r in scenario.procurement(now).items()]
    results = AnchorService(backend).anchor(read_paths(paths), agency=CITY, batch=True)
    assert {r.outcome for r in results} == {Outcome.ANCHORED}
    root = bytes.fromhex(results[0].receipt.to_json()["batch"]["root"][2:])  # type: ignore[union-attr]
    manifest = batch_manifest(backend, root)
    assert manifest is not None and manifest.hashes_to_root and manifest.on_chain is not None
    assert [m.release_id for m in manifest.members] == [r.release_id for r in results]
    assert audit_codes(backend) == set()
    # Someone edits the manifest in the store: the audit says so, and verification stops
    # believing the edited manifest (its members verify not_anchored, never anchored).
    store = backend.existing_store()
    assert store is not None
    with store.session() as session:
        session.execute(
            MEMBERS.update().where(MEMBERS.c.leaf_index == 0).values(release_id="forged-release-id")
        )
    assert AuditCode.MANIFEST_MISMATCH in audit_codes(backend)
    verdicts = verdicts_of(backend, paths)
    assert {v.status for v in verdicts} == {Status.NOT_ANCHORED}
    assert all(any("does not hash to the root" in n for n in v.notes) for v in verdicts[1:])


def test_amendment_chain_is_enforced_on_chain(backend: Backend, tmp_path: Path) -> None:
    now = int(backend.w3.eth.get_block("latest")["timestamp"])
    steps = scenario.procurement(now)
    service = AnchorService(backend)
    # An amendment naming a release that is not on the ledger is refused.
    orphan = copy.deepcopy(steps["amendment"])
    orphan["id"] = "orphan-amendment"
    orphan["tender"]["amendments"] = [
        {"id": "x", "amendsReleaseID": "never-published", "date": orphan["date"]}
    ]
    (refused,) = service.anchor(read_paths([write(tmp_path, "orphan.json", orphan)]), agency=CITY)
    assert refused.outcome is Outcome.REFUSED and refused.error_name == "PreviousNotAnchored"
    # A relayer reorders: the amendment (later deadline) before the tender (earlier one).
    amendment = write(tmp_path, "amendment.json", steps["amendment"])
    tender = write(tmp_path, "tender.json", steps["tender"])
    unlinked = copy.deepcopy(steps["amendment"])
    unlinked["id"] = "amendment-naming-nothing"
    for change in unlinked.get("tender", {}).get("amendments", []):
        change.pop("amendsReleaseID", None)
    (first,) = service.anchor(read_paths([write(tmp_path, "unlinked.json", unlinked)]), agency=CITY)
    assert first.outcome is Outcome.ANCHORED, "an amendment that names nothing stays accepted"
    (late_tender,) = service.anchor(read_paths([tender]), agency=CITY)
    assert late_tender.outcome is Outcome.REFUSED and late_tender.error_name == "TenderAfterAmendment"
    (linked,) = service.anchor(read_paths([amendment]), agency=CITY)
    assert linked.outcome is Outcome.REFUSED and linked.error_name == "PreviousNotAnchored"


def test_a_settled_manifest_without_its_root_on_chain_is_flagged(backend: Backend, tmp_path: Path) -> None:
    now = int(backend.w3.eth.get_block("latest")["timestamp"])
    paths = [write(tmp_path, f"{step}.json", r) for step, r in scenario.procurement(now).items()]
    results = AnchorService(backend).anchor(read_paths(paths), agency=CITY, batch=True)
    root = str(results[0].receipt.to_json()["batch"]["root"])[2:]  # type: ignore[union-attr]
    store = backend.existing_store()
    assert store is not None
    # The store claims another root for the batch, in its manifest and its settled outbox row.
    forged = "ab" * 32
    with store.session() as session:
        session.execute(MEMBERS.update().where(MEMBERS.c.root == root).values(root=forged))
        session.execute(OUTBOX.update().where(OUTBOX.c.subject == root).values(subject=forged))
    codes = audit_codes(backend)
    assert AuditCode.MANIFEST_NOT_ON_CHAIN in codes and AuditCode.MANIFEST_MISMATCH in codes


def test_a_deleted_manifest_is_flagged_and_verification_says_what_it_cannot_see(
    backend: Backend, tmp_path: Path
) -> None:
    now = int(backend.w3.eth.get_block("latest")["timestamp"])
    paths = [write(tmp_path, f"{step}.json", r) for step, r in scenario.procurement(now).items()]
    results = AnchorService(backend).anchor(read_paths(paths), agency=CITY, batch=True)
    root = str(results[0].receipt.to_json()["batch"]["root"])[2:]  # type: ignore[union-attr]
    service = VerifyService(backend, store=backend.existing_store())
    assert service.unseen_batch_roots() == []
    store = backend.existing_store()
    assert store is not None
    # Deleting a manifest hides a batch's anchors from verification: the audit names the
    # batch, and verification says how many roots on chain it cannot look into.
    with store.session() as session:
        session.execute(MEMBERS.delete().where(MEMBERS.c.root == root))
    assert AuditCode.MANIFEST_MISSING in audit_codes(backend)
    blind = VerifyService(backend, store=backend.existing_store())
    assert blind.unseen_batch_roots() == [bytes.fromhex(root)]
    assert VerifyService(backend, store=None).unseen_batch_roots() == [bytes.fromhex(root)]


def test_another_agencys_cancellation_in_a_batch_neither_supersedes_nor_counts(
    backend: Backend, tmp_path: Path
) -> None:
    steps, tender, service = city_tender_anchored(backend, tmp_path)
    cancellation = copy.deepcopy(steps["tender"])
    cancellation.update(id="VLP-2026-0042-cancellation", tag=["tenderCancellation"])
    cancellation["tender"]["status"] = "cancelled"
    fake = write(tmp_path, "cancellation.json", cancellation)
    assert service.anchor(read_paths([fake]), agency=NATIONAL, batch=True)[0].outcome is Outcome.ANCHORED
    genuine, foreign = verdicts_of(backend, [tender, fake])
    assert genuine.status is Status.ANCHORED and genuine.superseded_by == []
    assert foreign.status is Status.CONFLICT
