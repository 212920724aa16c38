"""Governance: deploying the ledger, registering agencies and their seal keys, reserving ocid
prefixes, and issuing agencies' API tokens.

Only the governance account may change who seals for whom (rule 1 of the ledger), so
every path that does (the command line, the demo, the benchmarks and the test fixtures)
goes through here: one way to deploy, one way to enroll an agency.

- :func:`deploy_for` deploys with the accounts the settings name (the development
  accounts 0 and 1 on a devnet) and writes the deployment file;
- :class:`Governance` registers an agency with a seal key (:meth:`Governance.register`),
  makes its encrypted keystore too (:meth:`Governance.enroll`), and reserves ocid
  prefixes (:meth:`Governance.reserve`), each refusal by the ledger decoded into one line
  and a hint;
- :func:`add_agency` and :func:`reserve_prefixes` are ``tenderledger agency add`` and
  ``agency reserve-prefix``: idempotent, every prefix checked before any transaction;
- API tokens are issued by :mod:`backend.service.tokens`, re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from eth_account.signers.local import LocalAccount
from web3 import Web3

from backend.chain.connect import chain_id_of, connect, open_ledger, resolve_rpc_url
from backend.chain.deployment import Deployment
from backend.chain.ledger import DEFAULT_ADMIN_DELAY_S, Ledger, deploy_ledger
from backend.chain.sender import TransactionSender
from backend.core.ocid import OcidPrefixError, normalize_ocid_prefix
from backend.errors import GovernanceRefusedError, LedgerRevertError, TenderledgerError, UsageError
from backend.keys import (
    PasswordPrompt,
    create_agency_keystore,
    governance_account,
    keystore_path,
    load_agency_key,
    relayer_account,
)
from backend.service.messages import ADVICE
from backend.service.tokens import IssuedToken, issue_agency_token, revoke_agency_tokens
from backend.settings import Settings

T = TypeVar("T")

__all__ = [
    "DEFAULT_ADMIN_DELAY_S",
    "AgencyAdded",
    "Governance",
    "IssuedToken",
    "Redeployment",
    "add_agency",
    "deploy",
    "deploy_for",
    "issue_agency_token",
    "normalized_prefixes",
    "reserve_prefixes",
    "revoke_agency_tokens",
]


@dataclass(frozen=True)
class Governance:
    """The deployed ledger as its governance account acts on it."""

    ledger: Ledger
    sender: TransactionSender

    @classmethod
    def of(cls, settings: Settings, ledger: Ledger | None = None) -> Governance:
        """Governance over the ledger of ``settings`` (checked: chain id and code), with its account."""
        ledger = ledger or open_ledger(settings)
        account = governance_account(settings, ledger.deployment.chain_id)
        return cls(ledger, TransactionSender(ledger.w3, account))

    @property
    def w3(self) -> Web3:
        """The chain the ledger is on."""
        return self.ledger.w3

    @property
    def deployment(self) -> Deployment:
        """What the deployment file says of the ledger."""
        return self.ledger.deployment

    def register(self, name: str, key_address: str) -> int:
        """Register the agency ``name`` (unless it is) and add ``key_address`` as its seal key; its id."""
        agency_id = self.ledger.agency_id(name) or self._governed(
            lambda: self.ledger.register_agency(self.sender, name), f"register {name!r}"
        )
        self._governed(
            lambda: self.ledger.add_seal_key(self.sender, agency_id, key_address),
            f"add the seal key of {name!r}",
        )
        return agency_id

    def enroll(
        self,
        settings: Settings,
        name: str,
        *,
        prefixes: Sequence[str] = (),
        prompt: PasswordPrompt | None = None,
    ) -> tuple[int, LocalAccount]:
        """A new encrypted seal keystore for ``name``, the agency and key registered, its prefixes
        reserved: (agency id, seal key)."""
        key = create_agency_keystore(settings, name, prompt=prompt, chain_id=self.deployment.chain_id)
        agency_id = self.register(name, key.address)
        self.reserve(name, agency_id, prefixes)
        return agency_id, key

    def reserve(self, name: str, agency_id: int, prefixes: Sequence[str]) -> list[tuple[str, bool]]:
        """Reserve each prefix for the agency ``name`` (``agency_id``): (prefix, newly reserved) each."""
        return list(self.reserving(name, agency_id, prefixes))

    def reserving(self, name: str, agency_id: int, prefixes: Sequence[str]) -> Iterator[tuple[str, bool]]:
        """Reserve each prefix, one transaction each, yielding (prefix, newly reserved) as it is done."""
        for prefix in prefixes:
            if self.ledger.prefix_owner(prefix) == agency_id:
                yield prefix, False
                continue
            self._governed(
                _reservation(self.ledger, self.sender, agency_id, prefix),
                f"reserve {prefix!r} for {name!r}",
            )
            yield prefix, True

    def check_prefixes_free(self, prefixes: Sequence[str], name: str, agency_id: int) -> None:
        """Refuse, before any transaction, a prefix already reserved for another agency."""
        for prefix in prefixes:
            owner = self.ledger.prefix_owner(prefix)
            if owner and owner != agency_id:
                raise GovernanceRefusedError(
                    f"ocid prefix {prefix!r} is reserved for {self._agency_label(owner)}, not {name!r}",
                    reason="OcidPrefixAlreadyReserved",
                    hint="a prefix belongs to one agency; ask governance if that reservation is wrong",
                )

    @staticmethod
    def _governed(call: Callable[[], T], what: str) -> T:
        """Run a governance transaction; the ledger's refusal becomes one line and a hint (exit 2)."""
        try:
            return call()
        except LedgerRevertError as refusal:
            advice = refusal.hint or ADVICE.get(refusal.reason, "")
            raise GovernanceRefusedError(
                f"the ledger refused to {what}: {refusal.reason}",
                reason=refusal.reason,
                hint=advice or None,
            ) from None

    def _agency_label(self, agency_id: int) -> str:
        name = self.ledger.agency_name(agency_id)
        return f"agency {agency_id} ({name!r})" if name else f"agency {agency_id}"


def _reservation(
    ledger: Ledger, sender: TransactionSender, agency_id: int, prefix: str
) -> Callable[[], object]:
    return lambda: ledger.reserve_ocid_prefix(sender, agency_id, prefix)


# ---------------------------------------------------------------- deploying


def deploy(
    w3: Web3,
    account: LocalAccount,
    *,
    relayers: Sequence[str] = (),
    admin_delay: int = DEFAULT_ADMIN_DELAY_S,
    rpc_url: str | None = None,
    save_to: Path | None = None,
) -> Governance:
    """Deploy NoticeLedger with ``account`` as governance and ``relayers`` holding RELAYER_ROLE;
    the deployment file is written to ``save_to`` when given."""
    sender = TransactionSender(w3, account)
    deployment = deploy_ledger(w3, sender, relayers=relayers, admin_delay=admin_delay, rpc_url=rpc_url)
    if save_to is not None:
        deployment.save(save_to)
    return Governance(Ledger(w3, deployment), sender)


def deploy_for(
    settings: Settings, w3: Web3, *, admin_delay: int = DEFAULT_ADMIN_DELAY_S, rpc_url: str | None = None
) -> Governance:
    """Deploy with the governance and relayer accounts of ``settings`` and write its deployment file."""
    chain_id = chain_id_of(w3)
    return deploy(
        w3,
        governance_account(settings, chain_id),
        relayers=[relayer_account(settings, chain_id).address],
        admin_delay=admin_delay,
        rpc_url=rpc_url,
        save_to=settings.deployment_path,
    )


@dataclass(frozen=True)
class Redeployment:
    """What ``tenderledger deploy`` did: the new ledger, and why an older one was replaced."""

    governance: Governance
    relayer: str
    replaced_because: str | None


def deploy_from_settings(
    settings: Settings, *, force: bool = False, admin_delay: int = DEFAULT_ADMIN_DELAY_S
) -> Redeployment:
    """``tenderledger deploy``: refuse to replace a live ledger (unless ``force``), then deploy."""
    w3 = connect(settings)
    chain_id = chain_id_of(w3)
    replaced_because = None
    if settings.deployment_path.exists() and not force:
        existing = Deployment.load(settings.deployment_path)
        if existing.chain_id != chain_id:
            raise UsageError(
                f"the deployment file is for chain {existing.chain_id}, this chain is {chain_id}",
                hint="point --rpc-url at that chain, or pass --force to replace the deployment file",
            )
        try:
            Ledger(w3, existing)
        except TenderledgerError as gone:
            replaced_because = gone.message
        else:
            raise UsageError(
                f"a ledger is already deployed at {existing.ledger} on chain {existing.chain_id}",
                hint="use it, or pass --force to deploy another",
            )
    governance = deploy_for(settings, w3, admin_delay=admin_delay, rpc_url=resolve_rpc_url(settings))
    return Redeployment(governance, relayer_account(settings, chain_id).address, replaced_because)


# ---------------------------------------------------------------- agencies, as the command line adds them


@dataclass(frozen=True)
class AgencyAdded:
    """What ``agency add`` found or did: the agency, its key and keystore, and whether it was new."""

    governance: Governance
    name: str
    agency_id: int
    key_address: str
    keystore: Path
    newly_registered: bool


def normalized_prefixes(prefixes: Sequence[str]) -> list[str]:
    """Each prefix as the ledger stores it (lowercase ``scheme-publisher``), once; bad ones refused."""
    found: list[str] = []
    for prefix in prefixes:
        try:
            found.append(normalize_ocid_prefix(prefix))
        except OcidPrefixError as error:
            raise UsageError(str(error), hint=ADVICE["BadOcidPrefix"]) from None
    return list(dict.fromkeys(found))


def add_agency(
    settings: Settings, name: str, prefixes: Sequence[str], *, prompt: PasswordPrompt | None = None
) -> AgencyAdded:
    """Make (or reuse) the keystore of ``name`` and register agency and key, unless they are.

    Every prefix is checked free before any transaction; reserve them after with
    :meth:`Governance.reserving`.
    """
    governance = Governance.of(settings)
    ledger = governance.ledger
    agency_id = ledger.agency_id(name)
    governance.check_prefixes_free(prefixes, name, agency_id)
    path = keystore_path(settings, name)
    if agency_id and path.exists():
        key = load_agency_key(settings, name, prompt=prompt)
        window = ledger.seal_key(key.address)
        if window.agency == agency_id and window.revoked_block == 0:
            return AgencyAdded(governance, name, agency_id, key.address, path, newly_registered=False)
    if agency_id and not path.exists():
        raise UsageError(
            f"agency {name!r} is registered (id {agency_id}) but its keystore is not in {path.parent}",
            hint="copy its keystore there, or register the agency under another name",
        )
    key = (
        load_agency_key(settings, name, prompt=prompt)
        if path.exists()
        else create_agency_keystore(settings, name, prompt=prompt, chain_id=ledger.deployment.chain_id)
    )
    agency_id = governance.register(name, key.address)
    return AgencyAdded(governance, name, agency_id, key.address, path, newly_registered=True)


def reserve_prefixes(settings: Settings, name: str, prefixes: Sequence[str]) -> tuple[Governance, int]:
    """Check that ``name`` is registered and ``prefixes`` are free for it: (governance, agency id).

    Reserve them after with :meth:`Governance.reserving`.
    """
    governance = Governance.of(settings)
    agency_id = governance.ledger.agency_id(name)
    if not agency_id:
        raise UsageError(
            f"no agency is registered on the ledger as {name!r}",
            hint=f"names must match exactly; register it with: tenderledger agency add {name!r}",
        )
    governance.check_prefixes_free(prefixes, name, agency_id)
    return governance, agency_id
