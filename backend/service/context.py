"""The Backend: settings, evidence store, chain, ledger and keys, each opened on first use."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from backend.chain.connect import connect
from backend.chain.deployment import Deployment
from backend.chain.ledger import Ledger
from backend.chain.sender import TransactionSender
from backend.core.schema import ReleaseValidator
from backend.keys import PasswordPrompt, load_agency_key, relayer_account
from backend.settings import Settings
from backend.store import EvidenceStore


class Backend:
    """What commands and API routes share. Nothing is opened before it is needed."""

    def __init__(
        self,
        settings: Settings,
        *,
        w3: Web3 | None = None,
        store: EvidenceStore | None = None,
        password_prompt: PasswordPrompt | None = None,
    ) -> None:
        self.settings = settings
        self._w3 = w3
        self._store = store
        self.password_prompt = password_prompt
        self._agency_keys: dict[str, LocalAccount] = {}

    @cached_property
    def w3(self) -> Web3:
        return self._w3 or connect(self.settings)

    @cached_property
    def ledger(self) -> Ledger:
        """The deployed ledger, after checking chain id and deployed code."""
        return Ledger(self.w3, Deployment.load(self.settings.deployment_path))

    @cached_property
    def store(self) -> EvidenceStore:
        return self._store or EvidenceStore(self.settings.store_url)

    def existing_store(self) -> EvidenceStore | None:
        """The evidence store if there is one; verification works without it and must not create it."""
        if self._store is not None:
            return self._store
        if self.settings.database_url is None:
            path = Path(self.settings.store_url.removeprefix("sqlite:///"))
            if not path.exists():
                return None
        return self.store

    @cached_property
    def relayer(self) -> TransactionSender:
        return TransactionSender(self.w3, relayer_account(self.settings, self.ledger.deployment.chain_id))

    @cached_property
    def validator(self) -> ReleaseValidator:
        from backend.ocds_schema import release_validator

        return release_validator()

    def agency_key(self, agency: str) -> LocalAccount:
        """The unlocked seal key of ``agency`` (unlocked once per process)."""
        if agency not in self._agency_keys:
            self._agency_keys[agency] = load_agency_key(self.settings, agency, prompt=self.password_prompt)
        return self._agency_keys[agency]

    def close(self) -> None:
        if self._store is not None or "store" in self.__dict__:
            self.store.close()
