"""Nobody without a registered seal key changes the ledger, and nothing is anchored twice.

Three layers are attacked:

* the API's write route, with no agency credential, a malformed, an unknown, a
  revoked or an expired one (401), and with a valid credential whose agency has no seal key
  on the ledger, or a revoked one (the ledger refuses);
* the ledger itself, through the chain layer on eth-tester: a seal replayed on the same
  ledger, made for another chain id, or made for another ledger contract on the same
  chain (where the same key is registered too), or submitted by an outsider;
* the API's sealing: whatever seal, signer or agency a body claims, the API seals with
  the calling agency's own key.

After every refusal: no new NoticeAnchored event, the relayer's nonce unchanged, and no
new outbox or notice row (the ledger's own refusals leave one row marked refused).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from sqlalchemy import update
from web3 import Web3

from backend.chain import devnet
from backend.chain.devnet import dev_account
from backend.chain.ledger import Ledger, deploy_ledger
from backend.chain.sender import TransactionSender
from backend.core.digest import release_digest
from backend.core.seal import SealedFields, notice_key, seal_notice
from backend.core.stages import Stage
from backend.errors import LedgerRevertError
from backend.keys import create_agency_keystore
from backend.service.tokens import issue_token, token_sha256
from backend.store.tokens import ApiTokenRow
from tests.api.conftest import AGENCY, ApiEnv, release
from tests.hostile.conftest import api_state, problem_of

OCID = "ocds-213czf-replay-0001"
ANVIL_CHAIN_ID = 31337


# ---------------------------------------------------------------- credentials (API)


def _revoked(api: ApiEnv) -> str:
    with api.store.session() as session:
        session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.token_sha256 == token_sha256(api.token))
            .values(revoked=True)
        )
    return f"Bearer {api.token}"


def _expired(api: ApiEnv) -> str:
    with api.store.session() as session:
        session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.token_sha256 == token_sha256(api.token))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    return f"Bearer {api.token}"


# name -> (the Authorization header, made from the running API; the status it must get)
CREDENTIALS: dict[str, tuple[Callable[[ApiEnv], str | None], int]] = {
    "none": (lambda api: None, 401),
    "empty_bearer": (lambda api: "Bearer ", 401),
    "basic_auth": (lambda api: "Basic dXNlcjpwYXNzd29yZA==", 401),
    "not_a_token": (lambda api: "Bearer not-a-token", 401),
    "other_scheme": (lambda api: f"Token {api.token}", 401),
    "token_with_trailing_junk": (lambda api: f"Bearer {api.token}x", 401),
    "token_with_a_changed_character": (
        lambda api: f"Bearer {api.token[:-1]}{'B' if api.token[-1] == 'A' else 'A'}",
        401,
    ),
    # What the store keeps: a copy of the database hands out no working credential.
    "stored_hash_as_token": (lambda api: f"Bearer {token_sha256(api.token)}", 401),
    "unknown_token": (lambda api: "Bearer tl_" + "A" * 43, 401),
    "revoked_token": (_revoked, 401),
    "expired_token": (_expired, 401),
}

# A well-formed token the server does not accept (unknown, revoked, expired): told apart from no token.
INVALID_TOKENS = {"token_with_a_changed_character", "unknown_token", "revoked_token", "expired_token"}


@pytest.mark.parametrize("name", sorted(CREDENTIALS))
def test_the_write_route_refuses_a_missing_or_wrong_credential(api: ApiEnv, name: str) -> None:
    make, status = CREDENTIALS[name]
    authorization = make(api)
    headers = {} if authorization is None else {"Authorization": authorization}
    body = release(OCID, "tender-1")
    before = api_state(api)

    response = api.client.post("/notices", json=body, headers=headers)

    problem = problem_of(response, status)
    assert response.headers["www-authenticate"].startswith("Bearer")
    if name in INVALID_TOKENS:
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
        assert problem["detail"] == "this credential is unknown, revoked or expired"
    else:
        assert "agency credential" in problem["detail"]
    assert api_state(api) == before
    if name not in ("revoked_token", "expired_token"):
        # The same body with the agency's credential anchors: only the credential was refused.
        assert api.post_notice(body).status_code == 201


def test_a_credential_anywhere_but_the_authorization_header_is_ignored(api: ApiEnv) -> None:
    before = api_state(api)

    in_query = api.client.post("/notices", json=release(OCID, "tender-1"), params={"token": api.token})
    in_cookie = api.client.post(
        "/notices", json=release(OCID, "tender-1"), headers={"Cookie": f"token={api.token}"}
    )

    problem_of(in_query, 401)
    problem_of(in_cookie, 401)
    assert api_state(api) == before


def test_a_credential_without_a_registered_seal_key_changes_no_ledger(api: ApiEnv) -> None:
    """A valid token of an agency whose key the ledger never registered: the ledger refuses."""
    rogue = "Agency Nobody Registered"
    create_agency_keystore(api.settings, rogue)
    token = issue_token(api.store, rogue)
    before = api_state(api)

    response = api.client.post(
        "/notices", json=release(OCID, "tender-1"), headers={"Authorization": f"Bearer {token}"}
    )

    problem = problem_of(response, 422)
    assert problem["contract_error"]["name"] == "UnknownSealKey"
    assert api_state(api).chain_unchanged_since(before)
    assert api.anchored_events() == 0


def test_a_revoked_seal_key_changes_no_ledger(api: ApiEnv) -> None:
    assert api.post_notice(release(OCID, "tender-1")).status_code == 201
    key = api.backend.agency_key(AGENCY)
    api.ledger.revoke_seal_key(api.governance, key.address)
    before = api_state(api)

    response = api.post_notice(release(OCID, "tender-2", tag="tenderAmendment"))

    problem = problem_of(response, 422)
    assert problem["contract_error"]["name"] == "RevokedSealKey"
    assert api_state(api).chain_unchanged_since(before)
    # What the key sealed before its revocation stays valid.
    verified = api.client.post("/verify", json=release(OCID, "tender-1"))
    assert verified.json()["verdicts"][0]["status"] == "anchored"


# ---------------------------------------------------------------- seal replay (chain layer)


@dataclass
class TwoLedgers:
    """Two ledgers on one eth-tester chain, with the same agency and the same seal key on both."""

    w3: Web3
    first: Ledger
    second: Ledger
    relayer: TransactionSender
    key: LocalAccount

    def fields(self, release_id: str) -> SealedFields:
        digest = hashlib.sha256(f"{OCID}/{release_id}".encode()).digest()
        return SealedFields(OCID, release_id, int(Stage.TENDER), digest, bytes(32), 0)

    def seal(self, fields: SealedFields, *, ledger: Ledger, chain_id: int | None = None) -> bytes:
        return seal_notice(
            self.key.key, fields, chain_id=chain_id or ledger.deployment.chain_id, contract=ledger.address
        )

    def state(self, ledger: Ledger) -> tuple[int, int]:
        """NoticeAnchored events on ``ledger`` and the relayer's nonce."""
        return len(list(ledger.notice_events())), int(self.w3.eth.get_transaction_count(self.relayer.address))


@pytest.fixture
def chain() -> TwoLedgers:
    w3 = devnet.tester_web3()  # imported by module: pytest would collect a bare test* name
    governance = TransactionSender(w3, dev_account(0))
    relayer = TransactionSender(w3, dev_account(1))
    key: LocalAccount = Account.create()
    ledgers = []
    for _ in range(2):
        deployment = deploy_ledger(w3, governance, relayers=[relayer.address], admin_delay=3600)
        ledger = Ledger(w3, deployment)
        ledger.add_seal_key(governance, ledger.register_agency(governance, AGENCY), key.address)
        ledgers.append(ledger)
    first, second = ledgers
    assert first.address != second.address
    assert first.deployment.chain_id == second.deployment.chain_id
    return TwoLedgers(w3=w3, first=first, second=second, relayer=relayer, key=key)


def refused(reason: str) -> pytest.RaisesExc[LedgerRevertError]:
    return pytest.raises(LedgerRevertError, match=rf"ledger refused: {reason}\(")


def test_a_seal_replayed_on_the_same_ledger_is_refused_as_already_anchored(chain: TwoLedgers) -> None:
    fields = chain.fields("tender-1")
    seal = chain.seal(fields, ledger=chain.first)
    chain.first.anchor_notice(chain.relayer, fields, seal)
    before = chain.state(chain.first)

    with refused("NoticeAlreadyAnchored"):
        chain.first.anchor_notice(chain.relayer, fields, seal)

    assert chain.state(chain.first) == before
    assert chain.first.record_by_key(notice_key(OCID, "tender-1")) is not None


def test_a_seal_made_for_another_chain_id_is_rejected(chain: TwoLedgers) -> None:
    """Sealed for this very contract address, on Anvil's chain id: a different EIP-712 domain."""
    fields = chain.fields("tender-1")
    foreign = chain.seal(fields, ledger=chain.first, chain_id=ANVIL_CHAIN_ID)
    assert chain.first.deployment.chain_id != ANVIL_CHAIN_ID
    before = chain.state(chain.first)

    with refused("UnknownSealKey"):
        chain.first.anchor_notice(chain.relayer, fields, foreign)

    assert chain.state(chain.first) == before
    # The same key, the same fields, sealed for this chain: accepted. Only the domain was wrong.
    chain.first.anchor_notice(chain.relayer, fields, chain.seal(fields, ledger=chain.first))


def test_a_seal_made_for_another_contract_is_rejected(chain: TwoLedgers) -> None:
    """The same key is registered on both ledgers; a seal for the first does not anchor on the second."""
    fields = chain.fields("tender-1")
    for_first = chain.seal(fields, ledger=chain.first)
    chain.first.anchor_notice(chain.relayer, fields, for_first)
    before = chain.state(chain.second)

    with refused("UnknownSealKey"):
        chain.second.anchor_notice(chain.relayer, fields, for_first)

    assert chain.state(chain.second) == before
    assert chain.second.record_by_key(notice_key(OCID, "tender-1")) is None
    # The key's own seal for the second ledger is accepted there.
    chain.second.anchor_notice(chain.relayer, fields, chain.seal(fields, ledger=chain.second))


def test_a_captured_seal_cannot_be_submitted_by_an_outsider(chain: TwoLedgers) -> None:
    """A valid seal seen before it lands (a pending transaction) is of no use to anyone else."""
    fields = chain.fields("tender-1")
    seal = chain.seal(fields, ledger=chain.first)
    outsider = TransactionSender(chain.w3, dev_account(5))
    before = chain.state(chain.first)

    with refused("UnauthorizedSubmitter"):
        chain.first.anchor_notice(outsider, fields, seal)

    assert chain.state(chain.first) == before
    assert chain.w3.eth.get_transaction_count(outsider.address) == 0


# ---------------------------------------------------------------- replay and smuggled seals (API)


def test_a_notice_sent_again_is_not_anchored_again(api: ApiEnv) -> None:
    body = release(OCID, "tender-1")
    first = api.post_notice(body)
    assert first.status_code == 201, first.text
    before = api_state(api)

    again = api.post_notice(body)

    assert again.status_code == 200, again.text
    assert again.json()["receipt"] == first.json()["receipt"]
    assert api_state(api) == before


def test_a_body_carrying_a_seal_changes_nothing_about_who_signs(api: ApiEnv) -> None:
    """Seal, signer and agency in the body (or the query) are content: the API seals with its own key."""
    foreign: LocalAccount = Account.create()
    plain = release(OCID, "tender-1")
    fields = SealedFields(OCID, "tender-1", int(Stage.TENDER), release_digest(plain), bytes(32), 0)
    foreign_seal = seal_notice(
        foreign.key, fields, chain_id=api.ledger.deployment.chain_id, contract=api.ledger.address
    )
    body = {
        **plain,
        "seal": "0x" + foreign_seal.hex(),
        "signature": "0x" + foreign_seal.hex(),
        "signer": foreign.address,
        "agency": "Some Other Agency",
        "agency_id": 2,
    }

    response = api.client.post(
        "/notices",
        json=body,
        headers=api.auth,
        params={"agency": "Some Other Agency", "signer": foreign.address, "seal": "0x" + foreign_seal.hex()},
    )

    assert response.status_code == 201, response.text
    receipt = response.json()["receipt"]
    own_key = api.backend.agency_key(AGENCY).address
    assert receipt["seal"]["signer"] == own_key != foreign.address
    assert receipt["seal"]["signature"] != "0x" + foreign_seal.hex()
    assert receipt["seal"]["agency_name"] == AGENCY
    # The claimed fields are part of what was sealed, so the digest is of the whole body.
    assert receipt["notice"]["digest"] == "0x" + release_digest(body).hex()
    (event,) = api.ledger.notice_events()
    assert event.signer == own_key
    assert event.seal != foreign_seal
