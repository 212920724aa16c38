"""The ledger's read side over raw JSON-RPC gives Ledger's answers, on each chain."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from eth_account import Account
from web3.providers.rpc import HTTPProvider

from backend.chain.connect import web3_for
from backend.chain.deployment import Deployment
from backend.chain.ledger import Ledger
from backend.chain.rpc import RpcClient
from backend.chain.views import LedgerViews
from backend.core.seal import notice_key, ocid_hash, seal_batch
from backend.core.stages import Stage
from backend.errors import DeploymentMismatchError, NetworkError
from tests.chain.conftest import LedgerEnv

OCID = "ocds-213czf-000-00101"
OTHER_OCID = "ocds-213czf-000-00102"


def clients(env: LedgerEnv) -> list[RpcClient]:
    """The ways views reach a chain: through its Web3, and, over HTTP, from the URL alone."""
    found = [RpcClient(env.w3)]
    provider = env.w3.provider
    if isinstance(provider, HTTPProvider):
        found.append(RpcClient.for_url(str(provider.endpoint_uri)))
    return found


def populated(env: LedgerEnv) -> dict[str, list[bytes]]:
    """A ledger with every kind of event views read: agencies, keys added and revoked, a reserved
    prefix, notices single and several at once, and a batch root."""
    second, second_key = env.new_agency("Second Agency")
    env.ledger.reserve_ocid_prefix(env.governance, env.agency, "ocds-213czf")
    opening = env.fields(OCID, stage=Stage.PLANNING)
    tender = env.fields(OCID, stage=Stage.TENDER, deadline=env.now() + 86_400)
    env.anchor(opening)
    env.ledger.anchor_notices(env.relayer, [(f, env.seal(f)) for f in (tender, env.fields(OTHER_OCID))])
    other = env.fields("ocds-xyz999-1", stage=Stage.TENDER)
    env.anchor(other, key=second_key)
    leaves = [env.fields(f"ocds-213czf-003-{i:05d}").digest for i in range(3)]
    root = hashlib.sha256(b"".join(leaves)).digest()
    seal = seal_batch(env.key.key, root, 3, "archive", chain_id=env.chain_id, contract=env.ledger.address)
    env.ledger.anchor_batch(env.relayer, root, 3, "archive", seal)
    env.ledger.revoke_seal_key(env.governance, second_key.address)
    env.ledger.add_seal_key(env.governance, second, Account.create().address)
    anchored = [opening, tender, other]
    return {
        "keys": [notice_key(f.ocid, f.release_id) for f in anchored] + [b"\x07" * 32],
        "digests": [f.digest for f in anchored] + [b"\x08" * 32],
        "processes": [ocid_hash(OCID), ocid_hash(OTHER_OCID), ocid_hash("ocds-none-1")],
        "roots": [root, b"\x09" * 32],
    }


def test_views_answer_as_the_ledger_does(env: LedgerEnv) -> None:
    wanted = populated(env)
    ledger = env.ledger

    for rpc in clients(env):
        views = LedgerViews(rpc, ledger.deployment)
        assert views.address == ledger.address
        assert views.records_by_key(wanted["keys"]) == ledger.records_by_key(wanted["keys"])
        assert views.records_by_digest(wanted["digests"]) == ledger.records_by_digest(wanted["digests"])
        assert views.records_by_key([]) == []
        assert views.notice_events_for_keys(wanted["keys"]) == list(
            ledger.notice_events_for_keys(wanted["keys"])
        )
        assert views.notice_events_for_processes(wanted["processes"]) == list(
            ledger.notice_events_for_processes(wanted["processes"])
        )
        assert views.notice_events_for_digests(wanted["digests"]) == list(
            ledger.notice_events_for_digests(wanted["digests"])
        )
        assert views.notice_events(ocid_hash=ocid_hash(OCID)) == list(
            ledger.notice_events(ocid_hash=ocid_hash(OCID))
        )
        assert views.notice_events() == list(ledger.notice_events())
        assert len(views.notice_events()) == 4
        for root in wanted["roots"]:
            assert views.batch_record(root) == ledger.batch_record(root)
            assert views.batch_events(root) == ledger.batch_events(root)
        assert views.all_batch_events() == ledger.all_batch_events()
        assert (
            views.agency_names()
            == ledger.agency_names()
            == {1: "Ministry of Public Works", 2: "Second Agency"}
        )
        assert views.seal_key_events() == ledger.seal_key_events()
        assert views.seal_key_tenures() == ledger.seal_key_tenures()
        assert views.prefix_reservations() == ledger.prefix_reservations()
        assert [r.prefix for r in views.prefix_reservations()] == ["ocds-213czf"]
        for process in wanted["processes"]:
            assert views.process(process) == ledger.process(process)
        assert views.prefix_owner("ocds-213czf") == ledger.prefix_owner("ocds-213czf") == env.agency
        assert views.prefix_owner("ocds-abc123") == 0
        for key in (env.key.address, env.relayer.address):
            assert views.seal_key(key) == ledger.seal_key(key)
        head = ledger.head()
        assert views.head() == head
        assert views.block_header(head) == ledger.block_header(head)


def test_views_refuse_what_the_ledger_refuses_in_the_same_words(env: LedgerEnv) -> None:
    deployment = env.ledger.deployment
    mismatches = [
        dataclasses.replace(deployment, chain_id=env.chain_id + 1),
        dataclasses.replace(deployment, code_hash="0x" + "00" * 32),
        dataclasses.replace(deployment, ledger=env.relayer.address),
    ]
    for rpc in clients(env):
        for wrong in mismatches:
            with pytest.raises(DeploymentMismatchError) as by_ledger:
                Ledger(env.w3, wrong)
            with pytest.raises(DeploymentMismatchError) as by_views:
                LedgerViews(rpc, wrong)
            assert by_views.value.diagnostics() == by_ledger.value.diagnostics()


def test_an_unreachable_chain_is_reported_in_the_ledgers_words() -> None:
    url = "http://127.0.0.1:1"  # nothing answers JSON-RPC there
    deployment = Deployment(
        chain_id=31337,
        ledger="0x" + "11" * 20,
        code_hash="0x" + "00" * 32,
        block_number=1,
        block_hash="0x" + "00" * 32,
        tx_hash="0x" + "00" * 32,
        governance="0x" + "22" * 20,
        relayers=[],
        compiler="",
        source_hash="",
        deployed_at="",
    )
    with pytest.raises(NetworkError) as by_ledger:
        Ledger(web3_for(url), deployment)
    with pytest.raises(NetworkError) as by_views:
        LedgerViews(RpcClient.for_url(url), deployment)
    assert by_views.value.diagnostics() == by_ledger.value.diagnostics()
    assert "devnet status" in by_views.value.hint
