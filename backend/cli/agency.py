"""``tenderledger agency``: seal keystores, their registration, and ocid prefixes, through governance.

``agency add NAME [--ocid-prefix P]...`` makes (or reuses) the agency's keystore,
registers agency and key, then reserves each prefix for it; ``agency reserve-prefix
NAME P...`` reserves more later. Both are idempotent: what is already so is said, not
done again. Every prefix is checked before any transaction, and a refusal by the ledger
is decoded into one line and a hint (exit 2). The work is :mod:`backend.service.governance`'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import typer

from backend.cli.app import RpcUrlOption, app, console, prompt_password, settings_of

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
    rpc_url: RpcUrlOption = None,
) -> None:
    """Create an encrypted seal keystore for NAME, register agency and key through governance,
    and reserve its ocid prefixes."""
    from backend.service.governance import add_agency, normalized_prefixes

    prefixes = normalized_prefixes(ocid_prefix or [])
    added = add_agency(settings_of(ctx, rpc_url=rpc_url), name, prefixes, prompt=prompt_password)
    if added.newly_registered:
        console.print(f"agency {name!r} registered as id {added.agency_id}; seal key {added.key_address}")
        console.print(f"keystore: {added.keystore}")
    else:
        console.print(
            f"agency {name!r} is already registered (id {added.agency_id}) with seal key {added.key_address}"
        )
    _say_reserved(name, added.governance.reserving(name, added.agency_id, prefixes))


@agency_app.command("reserve-prefix")
def reserve_prefix(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Agency name, exactly as registered")],
    prefixes: Annotated[list[str], typer.Argument(help="OCDS ocid prefixes (scheme-publisher) to reserve")],
    rpc_url: RpcUrlOption = None,
) -> None:
    """Reserve ocid prefixes for the registered agency NAME: nobody else may open a process under them."""
    from backend.service.governance import normalized_prefixes, reserve_prefixes

    wanted = normalized_prefixes(prefixes)
    governance, agency_id = reserve_prefixes(settings_of(ctx, rpc_url=rpc_url), name, wanted)
    _say_reserved(name, governance.reserving(name, agency_id, wanted))


def _say_reserved(name: str, reservations: Iterator[tuple[str, bool]]) -> None:
    """One line per prefix, as each reservation is made (or found made)."""
    for prefix, newly in reservations:
        if newly:
            console.print(f"ocid prefix {prefix!r} reserved for {name!r}")
        else:
            console.print(f"ocid prefix {prefix!r} is already reserved for {name!r}")
