"""The Backend: settings, evidence store, chain, ledger and keys, each opened on first use.

web3 and the key libraries take a second to import: they are imported by the properties
that need them, so that reading the ledger (``views``) over HTTP never loads them.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from backend.chain.connect import connect, resolve_rpc_url
from backend.chain.deployment import Deployment
from backend.settings import Settings
from backend.store import EvidenceStore

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from web3 import Web3

    from backend.chain.ledger import Ledger
    from backend.chain.sender import TransactionSender
    from backend.chain.views import LedgerViews
    from backend.core.schema import ReleaseValidator
    from backend.keys import PasswordPrompt


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
        from backend.chain.ledger import Ledger

        return Ledger(self.w3, Deployment.load(self.settings.deployment_path))

    @cached_property
    def views(self) -> LedgerViews:
        """The deployed ledger's read side, after the same checks as ``ledger``.

        Over the ``Web3`` this backend was handed or has opened (the in-process chain, the
        API's shared connection); else straight to the chain's URL, without web3.
        """
        from backend.chain.rpc import RpcClient
        from backend.chain.views import LedgerViews

        w3 = self._w3 or self.__dict__.get("w3")
        rpc = RpcClient(w3) if w3 is not None else RpcClient.for_url(resolve_rpc_url(self.settings))
        return LedgerViews(rpc, Deployment.load(self.settings.deployment_path))

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
        from backend.chain.sender import TransactionSender
        from backend.keys import relayer_account

        return TransactionSender(self.w3, relayer_account(self.settings, self.ledger.deployment.chain_id))

    @cached_property
    def validator(self) -> ReleaseValidator:
        from backend.ocds_schema import release_validator

        return release_validator()

    def agency_key(self, agency: str) -> LocalAccount:
        """The unlocked seal key of ``agency`` (unlocked once per process)."""
        from backend.keys import load_agency_key

        if agency not in self._agency_keys:
            self._agency_keys[agency] = load_agency_key(self.settings, agency, prompt=self.password_prompt)
        return self._agency_keys[agency]

    def share_between_threads(self) -> None:
        """Make the chain connection safe for many threads: one JSON-RPC request at a time.

        Raises like ``w3`` when no chain is configured yet. Calling it again does nothing.
        """
        from backend.chain.lock import serialize_chain_access

        serialize_chain_access(self.w3)

    def close(self) -> None:
        if self._store is not None or "store" in self.__dict__:
            self.store.close()
