"""Chains for the ledger suite: written once, run on eth-tester, Anvil and Ganache.

Anvil and Ganache are real node processes started once per test session from the
npm packages, in a temporary TENDERLEDGER_HOME; every test deploys its own ledger.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from backend.chain.connect import web3_for
from backend.chain.devnet import Engine, ManagedDevnet, advance_time, dev_account, tester_web3
from backend.chain.ledger import Ledger
from backend.chain.sender import TransactionSender
from backend.core.seal import SealedFields, seal_notice
from backend.core.stages import Stage
from backend.service.governance import Governance, deploy

CHAINS = ("tester", "anvil", "ganache")


@pytest.fixture(scope="session")
def devnet_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("devnet-home")


def _managed(home: Path, engine: Engine) -> Iterator[Web3]:
    devnet = ManagedDevnet(home, engine)
    info = devnet.start()
    try:
        yield web3_for(info.rpc_url)
    finally:
        devnet.stop()


@pytest.fixture(scope="session")
def anvil_w3(devnet_home: Path) -> Iterator[Web3]:
    yield from _managed(devnet_home, Engine.ANVIL)


@pytest.fixture(scope="session")
def ganache_w3(devnet_home: Path) -> Iterator[Web3]:
    yield from _managed(devnet_home, Engine.GANACHE)


@pytest.fixture(params=CHAINS)
def w3(request: pytest.FixtureRequest) -> Web3:
    """One chain per parameter: the same tests run on all three."""
    if request.param == "tester":
        return tester_web3()
    chain: Web3 = request.getfixturevalue(f"{request.param}_w3")
    return chain


@dataclass
class LedgerEnv:
    """A freshly deployed ledger with one registered agency and its seal key."""

    w3: Web3
    ledger: Ledger
    governance: TransactionSender
    relayer: TransactionSender
    agency: int
    key: LocalAccount
    counter: list[int] = field(default_factory=lambda: [0])

    @property
    def chain_id(self) -> int:
        return self.ledger.deployment.chain_id

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def advance(self, seconds: int) -> int:
        return advance_time(self.w3, seconds)

    def fields(
        self,
        ocid: str,
        release_id: str | None = None,
        stage: Stage = Stage.TENDER,
        *,
        deadline: int = 0,
        digest: bytes | None = None,
        previous: bytes = bytes(32),
    ) -> SealedFields:
        self.counter[0] += 1
        release_id = release_id or f"{ocid}-r{self.counter[0]}"
        digest = digest or hashlib.sha256(f"{ocid}/{release_id}/{self.counter[0]}".encode()).digest()
        return SealedFields(ocid, release_id, int(stage), digest, previous, deadline)

    def seal(
        self,
        fields: SealedFields,
        key: LocalAccount | None = None,
        *,
        chain_id: int | None = None,
        contract: str | None = None,
    ) -> bytes:
        return seal_notice(
            (key or self.key).key,
            fields,
            chain_id=chain_id or self.chain_id,
            contract=contract or self.ledger.address,
        )

    def anchor(
        self,
        fields: SealedFields,
        *,
        key: LocalAccount | None = None,
        sender: TransactionSender | None = None,
    ) -> int:
        receipt = self.ledger.anchor_notice(sender or self.relayer, fields, self.seal(fields, key))
        return int(receipt["gasUsed"])

    def new_agency(self, name: str) -> tuple[int, LocalAccount]:
        key: LocalAccount = Account.create()
        return Governance(self.ledger, self.governance).register(name, key.address), key


@pytest.fixture
def env(w3: Web3) -> LedgerEnv:
    relayer = TransactionSender(w3, dev_account(1))
    governance = deploy(w3, dev_account(0), relayers=[relayer.address], admin_delay=3600)
    key: LocalAccount = Account.create()
    agency = governance.register("Ministry of Public Works", key.address)
    return LedgerEnv(
        w3=w3,
        ledger=governance.ledger,
        governance=governance.sender,
        relayer=relayer,
        agency=agency,
        key=key,
    )
