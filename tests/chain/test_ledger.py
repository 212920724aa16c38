"""The ledger suite: every on-chain rule, through the real stack, on each chain."""

from __future__ import annotations

import dataclasses
import hashlib
import re

import pytest
from eth_account import Account

from backend.chain.deployment import Deployment
from backend.chain.ledger import GOVERNANCE_ROLE, RELAYER_ROLE, Ledger
from backend.chain.sender import TransactionSender
from backend.core.ocid import ocid_prefix_hash
from backend.core.seal import (
    SealedFields,
    batch_signer,
    domain_separator,
    notice_key,
    notice_signer,
    notice_struct_hash,
    ocid_hash,
    seal_batch,
    typed_data_hash,
)
from backend.core.stages import Stage
from backend.errors import DeploymentMismatchError, LedgerRevertError
from tests.chain.conftest import LedgerEnv


def refused(reason: str) -> pytest.RaisesContext[LedgerRevertError]:
    return pytest.raises(LedgerRevertError, match=rf"ledger refused: {re.escape(reason)}\(")


# ---------------------------------------------------------------- deployment


def test_deployment_matches_artifact_and_roles(env: LedgerEnv) -> None:
    deployment = env.ledger.deployment
    assert deployment.code_hash == env.ledger.artifact.code_hash
    assert env.ledger.has_role(GOVERNANCE_ROLE, env.governance.address)
    assert env.ledger.has_role(RELAYER_ROLE, env.relayer.address)
    assert (
        not env.ledger.has_role(RELAYER_ROLE, env.governance.address)
        or env.governance.address == env.relayer.address
    )
    assert env.ledger.counts() == (1, 0)


def test_wrong_chain_id_is_refused(env: LedgerEnv) -> None:
    other = dataclasses.replace(env.ledger.deployment, chain_id=env.chain_id + 1)
    with pytest.raises(DeploymentMismatchError, match=r"chain id \d+ does not match the deployment file"):
        Ledger(env.w3, other)


def test_code_that_differs_from_the_deployment_is_refused(env: LedgerEnv) -> None:
    tampered = dataclasses.replace(env.ledger.deployment, code_hash="0x" + "00" * 32)
    with pytest.raises(DeploymentMismatchError, match="differs from the deployment file"):
        Ledger(env.w3, tampered)
    # An address holding no contract at all (an EOA) is refused too.
    empty = dataclasses.replace(env.ledger.deployment, ledger=env.relayer.address)
    with pytest.raises(DeploymentMismatchError, match="no contract at"):
        Ledger(env.w3, empty)


def test_deployment_file_round_trips(env: LedgerEnv, tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "deployment.json"  # type: ignore[operator]
    env.ledger.deployment.save(path)
    assert Deployment.load(path) == env.ledger.deployment


# ---------------------------------------------------------------- seals


def test_typed_data_hash_matches_the_contract(env: LedgerEnv) -> None:
    fields = env.fields("ocds-213czf-000-00001", deadline=1_900_000_000)
    ours = typed_data_hash(domain_separator(env.chain_id, env.ledger.address), notice_struct_hash(fields))
    theirs = env.ledger.contract.functions.noticeTypedDataHash(fields.as_tuple()).call()
    assert ours == bytes(theirs)


def test_sealed_notice_is_anchored_and_read_back(env: LedgerEnv) -> None:
    fields = env.fields("ocds-213czf-000-00001", deadline=env.now() + 3600)
    env.anchor(fields)
    by_key = env.ledger.record_by_key(notice_key(fields.ocid, fields.release_id))
    by_digest = env.ledger.record_by_digest(fields.digest)
    assert by_key is not None and by_key == by_digest
    assert by_key.digest == fields.digest
    assert by_key.signer == env.key.address
    assert by_key.agency == env.agency
    assert by_key.stage is Stage.TENDER
    block = env.w3.eth.get_block(by_key.block_number)
    assert by_key.timestamp == block["timestamp"]
    process = env.ledger.process(ocid_hash(fields.ocid))
    assert (process.agency, process.deadline, process.has_tender, process.notices) == (
        env.agency,
        fields.deadline,
        True,
        1,
    )


def test_unknown_notice_reads_as_none(env: LedgerEnv) -> None:
    assert env.ledger.record_by_key(notice_key("ocds-x", "nothing")) is None
    assert env.ledger.record_by_digest(b"\x42" * 32) is None


def test_relayer_cannot_alter_a_sealed_field(env: LedgerEnv) -> None:
    fields = env.fields("ocds-213czf-000-00002")
    seal = env.seal(fields)
    altered = dataclasses.replace(fields, digest=b"\x01" * 32)
    with refused("UnknownSealKey"):
        env.ledger.anchor_notice(env.relayer, altered, seal)


def test_seal_for_another_chain_or_contract_is_rejected(env: LedgerEnv) -> None:
    fields = env.fields("ocds-213czf-000-00003")
    with refused("UnknownSealKey"):
        env.ledger.anchor_notice(env.relayer, fields, env.seal(fields, chain_id=env.chain_id + 1))
    with refused("UnknownSealKey"):
        env.ledger.anchor_notice(env.relayer, fields, env.seal(fields, contract=env.relayer.address))
    # The same seal replayed on the right chain and contract after it landed is refused as a duplicate.
    seal = env.seal(fields)
    env.ledger.anchor_notice(env.relayer, fields, seal)
    with refused("NoticeAlreadyAnchored"):
        env.ledger.anchor_notice(env.relayer, fields, seal)


def test_high_s_seal_is_rejected(env: LedgerEnv) -> None:
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    fields = env.fields("ocds-213czf-000-00004")
    seal = env.seal(fields)
    s = int.from_bytes(seal[32:64], "big")
    malleable = seal[:32] + (n - s).to_bytes(32, "big") + bytes([55 - seal[64]])
    with refused("InvalidSeal"):
        env.ledger.anchor_notice(env.relayer, fields, malleable)


def test_sealing_key_may_submit_itself_but_outsiders_may_not(env: LedgerEnv) -> None:
    fields = env.fields("ocds-213czf-000-00005")
    outsider = TransactionSender(env.w3, env.governance.account)  # governance is no relayer
    with refused("UnauthorizedSubmitter"):
        env.ledger.anchor_notice(outsider, fields, env.seal(fields))
    # Funded from the devnet, the seal key itself can submit its own notice.
    _fund(env, env.key.address)
    env.anchor(fields, sender=TransactionSender(env.w3, env.key))
    assert env.ledger.record_by_digest(fields.digest) is not None


def _fund(env: LedgerEnv, address: str) -> None:
    tx = {
        "to": address,
        "value": 10**18,
        "gas": 21000,
        "gasPrice": env.w3.eth.gas_price,
        "nonce": env.w3.eth.get_transaction_count(env.governance.address, "pending"),
        "chainId": env.chain_id,
    }
    signed = env.governance.account.sign_transaction(tx)
    env.w3.eth.wait_for_transaction_receipt(env.w3.eth.send_raw_transaction(signed.raw_transaction))


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"digest": bytes(32)}, "ZeroDigest"),
        ({"ocid": ""}, "EmptyField"),
        ({"release_id": ""}, "EmptyField"),
        ({"stage": 0}, "UnknownStage"),
        ({"stage": 17}, "UnknownStage"),
        ({"ocid": "o" * 257}, "FieldTooLong"),
    ],
)
def test_bad_notice_fields_revert_with_their_own_error(
    env: LedgerEnv, change: dict[str, object], error: str
) -> None:
    fields = dataclasses.replace(env.fields("ocds-213czf-000-00006"), **change)  # type: ignore[arg-type]
    with refused(error):
        env.anchor(fields)


def test_wrong_signer_is_refused(env: LedgerEnv) -> None:
    fields = env.fields("ocds-213czf-000-00007")
    with refused("UnknownSealKey"):
        env.anchor(fields, key=Account.create())


def test_revoked_key_is_refused_but_its_earlier_seals_stay_valid(env: LedgerEnv) -> None:
    before = env.fields("ocds-213czf-000-00008")
    env.anchor(before)
    record = env.ledger.record_by_digest(before.digest)
    assert record is not None
    env.ledger.revoke_seal_key(env.governance, env.key.address)
    window = env.ledger.seal_key(env.key.address)
    assert window.revoked_block > record.block_number
    (event,) = env.ledger.notice_events(digest=before.digest)
    tenure = env.ledger.seal_key_tenures()[env.key.address]
    assert tenure.revoked is not None and tenure.revoked[0] == window.revoked_block
    assert tenure.valid_at((record.block_number, event.log_index))
    assert env.ledger.record_by_digest(before.digest) == record
    with refused("RevokedSealKey"):
        env.anchor(env.fields("ocds-213czf-000-00008"))
    # Rotation: a new key of the same agency continues the process.
    new_key = Account.create()
    env.ledger.add_seal_key(env.governance, env.agency, new_key.address)
    env.anchor(env.fields("ocds-213czf-000-00008"), key=new_key)


def test_outsiders_cannot_govern(env: LedgerEnv) -> None:
    outsider = TransactionSender(env.w3, env.relayer.account)
    with refused("AccessControlUnauthorizedAccount"):
        env.ledger.register_agency(outsider, "Shadow Agency")
    with refused("AccessControlUnauthorizedAccount"):
        env.ledger.add_seal_key(outsider, env.agency, Account.create().address)
    with refused("AccessControlUnauthorizedAccount"):
        env.ledger.revoke_seal_key(outsider, env.key.address)
    assert env.ledger.counts() == (1, 0)


# ---------------------------------------------------------------- OCDS immutability and process binding


def test_same_release_id_with_other_content_is_refused(env: LedgerEnv) -> None:
    original = env.fields("ocds-213czf-000-00009", "release-1")
    env.anchor(original)
    altered = dataclasses.replace(original, digest=b"\x07" * 32)
    with refused("DigestConflict") as info:
        env.anchor(altered)
    assert info.value.revert_args["anchoredDigest"] == "0x" + original.digest.hex()
    assert env.ledger.record_by_key(notice_key(original.ocid, original.release_id)).digest == original.digest  # type: ignore[union-attr]


def test_process_is_bound_to_its_first_agency(env: LedgerEnv) -> None:
    env.anchor(env.fields("ocds-213czf-000-00010"))
    _, other_key = env.new_agency("Ministry of Health")
    with refused("ProcessOfOtherAgency"):
        env.anchor(env.fields("ocds-213czf-000-00010"), key=other_key)


# ---------------------------------------------------------------- lifecycle


def test_award_waits_for_the_deadline(env: LedgerEnv) -> None:
    ocid = "ocds-213czf-000-00011"
    env.anchor(env.fields(ocid, stage=Stage.TENDER, deadline=env.now() + 7 * 86400))
    award = env.fields(ocid, stage=Stage.AWARD)
    with refused("DeadlineNotPassed"):
        env.anchor(award)
    env.advance(7 * 86400 + 60)
    env.anchor(award)
    env.anchor(env.fields(ocid, stage=Stage.CONTRACT))


def test_amendment_moves_the_deadline_only_before_it_passes(env: LedgerEnv) -> None:
    ocid = "ocds-213czf-000-00012"
    first = env.now() + 3 * 86400
    env.anchor(env.fields(ocid, stage=Stage.TENDER, deadline=first))
    env.anchor(env.fields(ocid, stage=Stage.TENDER_AMENDMENT, deadline=first + 86400))
    assert env.ledger.process(ocid_hash(ocid)).deadline == first + 86400
    env.advance(5 * 86400)
    with refused("DeadlinePassed"):
        env.anchor(env.fields(ocid, stage=Stage.TENDER_AMENDMENT, deadline=first + 10 * 86400))


def test_cancelled_tender_takes_no_award(env: LedgerEnv) -> None:
    ocid = "ocds-213czf-000-00013"
    env.anchor(env.fields(ocid, stage=Stage.TENDER, deadline=env.now() + 60))
    env.anchor(env.fields(ocid, stage=Stage.TENDER_CANCELLATION))
    env.advance(120)
    with refused("ProcessCancelled"):
        env.anchor(env.fields(ocid, stage=Stage.AWARD))


def test_process_may_open_at_a_later_stage(env: LedgerEnv) -> None:
    ocid = "ocds-213czf-000-00014"
    env.anchor(env.fields(ocid, stage=Stage.CONTRACT))
    process = env.ledger.process(ocid_hash(ocid))
    assert process.agency == env.agency and not process.has_tender and process.notices == 1


# ---------------------------------------------------------------- several notices, batches, events


def test_anchor_notices_is_idempotent_for_exact_duplicates(env: LedgerEnv) -> None:
    items = [env.fields(f"ocds-213czf-001-{i:05d}") for i in range(5)]
    sealed = [(f, env.seal(f)) for f in items]
    env.ledger.anchor_notices(env.relayer, sealed[:3])
    receipt = env.ledger.anchor_notices(env.relayer, sealed)
    events = env.ledger.contract.events.NoticeAnchored().process_receipt(receipt)
    assert len(events) == 2
    assert all(env.ledger.record_by_digest(f.digest) for f in items)


def test_batch_root_is_anchored_once(env: LedgerEnv) -> None:
    leaves = [env.fields(f"ocds-213czf-002-{i:05d}").digest for i in range(7)]
    root = hashlib.sha256(b"".join(leaves)).digest()  # the ledger stores any 32-byte root
    seal = seal_batch(
        env.key.key, root, len(leaves), "archive 2017", chain_id=env.chain_id, contract=env.ledger.address
    )
    assert (
        batch_signer(
            root, len(leaves), "archive 2017", seal, chain_id=env.chain_id, contract=env.ledger.address
        )
        == env.key.address
    )
    env.ledger.anchor_batch(env.relayer, root, len(leaves), "archive 2017", seal)
    batch = env.ledger.batch_record(root)
    assert batch is not None and batch.signer == env.key.address and batch.agency == env.agency
    with refused("BatchAlreadyAnchored"):
        env.ledger.anchor_batch(env.relayer, root, len(leaves), "archive 2017", seal)
    assert env.ledger.counts() == (1, 1)


def test_events_alone_rebuild_every_record(env: LedgerEnv) -> None:
    ocid = "ocds-213czf-000-00015"
    anchored = [
        env.fields(ocid, stage=Stage.PLANNING),
        env.fields(ocid, stage=Stage.TENDER, deadline=env.now() + 5),
    ]
    for fields in anchored:
        env.anchor(fields)
    env.ledger.anchor_notices(env.relayer, [(f, env.seal(f)) for f in [env.fields("ocds-213czf-000-00016")]])
    events = list(env.ledger.notice_events())
    assert [e.fields.release_id for e in events][:2] == [f.release_id for f in anchored]
    for event in events:
        record = env.ledger.record_by_key(event.key)
        assert record is not None
        assert (record.digest, record.signer, record.agency, record.block_number, int(record.stage)) == (
            event.digest,
            event.signer,
            event.agency,
            event.block_number,
            event.fields.stage,
        )
        # The seal in the event re-verifies without trusting the contract.
        assert (
            notice_signer(event.fields, event.seal, chain_id=env.chain_id, contract=env.ledger.address)
            == event.signer
        )
        assert event.key == notice_key(event.fields.ocid, event.fields.release_id)


def test_sealed_field_types_are_checked_before_sending() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SealedFields("o", "r", 3, b"short", bytes(32), 0)
    with pytest.raises(ValueError, match="uint64"):
        SealedFields("o", "r", 3, bytes(32), bytes(32), 2**64)


def test_no_deadline_may_fall_after_an_anchored_award(env: LedgerEnv) -> None:
    # A tender without a deadline, an award, then an amendment declaring a later deadline:
    # the award would predate its own tender's deadline, so the amendment is refused.
    ocid = "ocds-213czf-000-00017"
    env.anchor(env.fields(ocid, stage=Stage.TENDER))
    env.anchor(env.fields(ocid, stage=Stage.AWARD))
    with refused("DeadlineAfterAward"):
        env.anchor(env.fields(ocid, stage=Stage.TENDER_AMENDMENT, deadline=env.now() + 30 * 86400))
    # A direct award, then a tender with a deadline still ahead: refused. An archived tender
    # whose deadline came before the award is accepted (the process opened at a later stage).
    direct = "ocds-213czf-000-00018"
    env.anchor(env.fields(direct, stage=Stage.AWARD))
    first_award_at = env.ledger.process(ocid_hash(direct)).first_award_at
    assert first_award_at > 0
    with refused("DeadlineAfterAward"):
        env.anchor(env.fields(direct, stage=Stage.TENDER, deadline=env.now() + 86400))
    env.anchor(env.fields(direct, stage=Stage.TENDER, deadline=first_award_at - 86400))
    assert env.ledger.process(ocid_hash(direct)).deadline == first_award_at - 86400


def test_raw_reader_matches_the_contract_views_and_web3_events(env: LedgerEnv) -> None:
    from backend.chain.rpc import RpcClient
    from backend.chain.views import LedgerViews

    ocid = "ocds-213czf-000-00019"
    anchored = [env.fields(ocid, stage=Stage.PLANNING), env.fields(ocid, stage=Stage.TENDER, deadline=12345)]
    for fields in anchored:
        env.anchor(fields)
    reader = LedgerViews(RpcClient(env.ledger.w3), env.ledger.deployment)
    keys = [notice_key(f.ocid, f.release_id) for f in anchored] + [b"\x09" * 32]
    assert reader.records_by_key(keys) == [env.ledger.record_by_key(k) for k in keys]
    assert reader.records_by_digest([f.digest for f in anchored]) == [
        env.ledger.record_by_digest(f.digest) for f in anchored
    ]
    expected = sorted(env.ledger.notice_events(ocid_hash=ocid_hash(ocid)), key=lambda e: e.log_index)
    by_process = reader.notice_events_for_processes([ocid_hash(ocid)])
    by_key = reader.notice_events_for_keys(keys)
    assert sorted(by_process, key=lambda e: (e.block_number, e.log_index)) == sorted(
        expected, key=lambda e: (e.block_number, e.log_index)
    )
    assert {e.key for e in by_key} == set(keys[:2])


@pytest.mark.parametrize(
    "ocid",
    [
        "ocds-213czf-000-00001",
        "OCDS-87SD3T-AD-SF",
        "ocid-6as3t2-x",
        "a-b",
        "nohyphen",
        "--x",
        "-a-b",
        "Ünï-CODE-x",
    ],
)
def test_the_python_prefix_hash_is_the_contracts(env: LedgerEnv, ocid: str) -> None:
    assert bytes(env.ledger.contract.functions.ocidPrefixHash(ocid).call()) == ocid_prefix_hash(ocid)
