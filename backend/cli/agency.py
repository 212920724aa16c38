"""``tenderledger agency``: seal keystores, their registration, and ocid prefixes, through governance.

``agency add NAME [--ocid-prefix P]...`` makes (or reuses) the agency's keystore,
registers agency and key, then reserves each prefix for it; ``agency reserve-prefix
NAME P...`` reserves more later. Both are idempotent: what is already so is said, not
done again. Every prefix is checked before any transaction, and a refusal by the ledger
is decoded into one line and a hint (exit 2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

import typer

from backend.chain.connect import open_ledger
from backend.chain.ledger import Ledger
from backend.chain.revert import ADVICE
from backend.chain.sender import TransactionSender
from backend.cli.app import app, console, prompt_password, settings_of
from backend.core.ocid import OcidPrefixError, normalize_ocid_prefix
from backend.errors import GovernanceRefusedError, LedgerRevertError, UsageError
from backend.keys import create_agency_keystore, governance_account, keystore_path, load_agency_key

T = TypeVar("T")

agency_app = typer.Typer(help="Register agencies, their seal keys and ocid prefixes.", no_args_is_help=True)
app.add_typer(agency_app, name="agency")

PrefixOption = Annotated[
    list[str] | None,
    typer.Option(
        "--ocid-prefix",
        help="OCDS ocid prefix (scheme-publisher, e.g. ocds-213czf) to reserve for the agency; repeatable",
    ),
]


@agency_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Agency name, unique on the ledger")],
    ocid_prefix: PrefixOption = None,
) -> None:
    """Create an encrypted seal keystore for NAME, register agency and key through governance,
    and reserve its ocid prefixes."""
    settings = settings_of(ctx)
    prefixes = _normalized(ocid_prefix or [])
    ledger = open_ledger(settings)
    governance = TransactionSender(ledger.w3, governance_account(settings, ledger.deployment.chain_id))
    agency_id = ledger.agency_id(name)
    _check_prefixes_free(ledger, prefixes, name, agency_id)
    path = keystore_path(settings, name)
    if agency_id and path.exists():
        key = load_agency_key(settings, name, prompt=prompt_password)
        window = ledger.seal_key(key.address)
        if window.agency == agency_id and window.revoked_block == 0:
            console.print(
                f"agency {name!r} is already registered (id {agency_id}) with seal key {key.address}"
            )
            _reserve(ledger, governance, name, agency_id, prefixes)
            return
    if agency_id and not path.exists():
        raise UsageError(
            f"agency {name!r} is registered (id {agency_id}) but its keystore is not in {path.parent}",
            hint="copy its keystore there, or register the agency under another name",
        )
    key = (
        load_agency_key(settings, name, prompt=prompt_password)
        if path.exists()
        else create_agency_keystore(
            settings, name, prompt=prompt_password, chain_id=ledger.deployment.chain_id
        )
    )
    if not agency_id:
        agency_id = _governed(lambda: ledger.register_agency(governance, name), f"register {name!r}")
    _governed(
        lambda: ledger.add_seal_key(governance, agency_id, key.address), f"add the seal key of {name!r}"
    )
    console.print(f"agency {name!r} registered as id {agency_id}; seal key {key.address}")
    console.print(f"keystore: {path}")
    _reserve(ledger, governance, name, agency_id, prefixes)


@agency_app.command("reserve-prefix")
def reserve_prefix(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Agency name, exactly as registered")],
    prefixes: Annotated[list[str], typer.Argument(help="OCDS ocid prefixes (scheme-publisher) to reserve")],
) -> None:
    """Reserve ocid prefixes for the registered agency NAME: nobody else may open a process under them."""
    settings = settings_of(ctx)
    wanted = _normalized(prefixes)
    ledger = open_ledger(settings)
    agency_id = ledger.agency_id(name)
    if not agency_id:
        raise UsageError(
            f"no agency is registered on the ledger as {name!r}",
            hint=f"names must match exactly; register it with: tenderledger agency add {name!r}",
        )
    _check_prefixes_free(ledger, wanted, name, agency_id)
    governance = TransactionSender(ledger.w3, governance_account(settings, ledger.deployment.chain_id))
    _reserve(ledger, governance, name, agency_id, wanted)


# ---------------------------------------------------------------- prefixes


def _normalized(prefixes: Sequence[str]) -> list[str]:
    """Each prefix as the ledger stores it (lowercase ``scheme-publisher``), once; bad ones refused."""
    found: list[str] = []
    for prefix in prefixes:
        try:
            found.append(normalize_ocid_prefix(prefix))
        except OcidPrefixError as error:
            raise UsageError(str(error), hint=ADVICE["BadOcidPrefix"]) from None
    return list(dict.fromkeys(found))


def _check_prefixes_free(ledger: Ledger, prefixes: Sequence[str], name: str, agency_id: int) -> None:
    """Refuse, before any transaction, a prefix already reserved for another agency."""
    for prefix in prefixes:
        owner = ledger.prefix_owner(prefix)
        if owner and owner != agency_id:
            raise GovernanceRefusedError(
                f"ocid prefix {prefix!r} is reserved for {_agency_label(ledger, owner)}, not {name!r}",
                reason="OcidPrefixAlreadyReserved",
                hint="a prefix belongs to one agency; ask governance if that reservation is wrong",
            )


def _reserve(
    ledger: Ledger, governance: TransactionSender, name: str, agency_id: int, prefixes: Sequence[str]
) -> None:
    for prefix in prefixes:
        if ledger.prefix_owner(prefix) == agency_id:
            console.print(f"ocid prefix {prefix!r} is already reserved for {name!r}")
            continue
        _governed(_reservation(ledger, governance, agency_id, prefix), f"reserve {prefix!r} for {name!r}")
        console.print(f"ocid prefix {prefix!r} reserved for {name!r}")


def _reservation(
    ledger: Ledger, governance: TransactionSender, agency_id: int, prefix: str
) -> Callable[[], object]:
    return lambda: ledger.reserve_ocid_prefix(governance, agency_id, prefix)


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


def _agency_label(ledger: Ledger, agency_id: int) -> str:
    name = ledger.agency_name(agency_id)
    return f"agency {agency_id} ({name!r})" if name else f"agency {agency_id}"
