"""Agency credentials for the REST API's write routes.

A token is shown once, when it is issued; the evidence store keeps only its SHA-256,
so a copy of the database does not hand out working credentials. Looking a token up
hashes what the caller presents and asks for a live row with that hash: not revoked,
not expired.

A token acts for an agency as the chain knows it. It is issued (``issue_agency_token``)
only when, in this order:

1. the ledger has an agency registered under exactly that name (``agencyOf``);
2. the agency's keystore here names exactly that agency in its metadata (keystore file
   names are slugs, which other spellings share);
3. the keystore unlocks, and the chain assigns its key to that agency, unrevoked
   (``sealKey(address).agency == agencyOf(name)``).

So a token's agency is always the on-chain name, and whoever holds it seals with that
agency's registered key and no other.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from backend.errors import UsageError

if TYPE_CHECKING:  # imported when used: the command line reads this module's limits at start-up
    from backend.keys import PasswordPrompt
    from backend.service.context import Backend
    from backend.store import EvidenceStore

TOKEN_PREFIX: Final = "tl_"  # noqa: S105 - a public prefix, not a secret
"""Marks a string as a tenderledger API token (it helps secret scanners and people)."""

TOKEN_BYTES: Final = 32
"""Random bytes in a token: 256 bits, far beyond guessing."""

DEFAULT_TOKEN_DAYS: Final = 90
"""How long a token lives unless ``--days`` says otherwise."""

MAX_TOKEN_DAYS: Final = 3650

_TOKEN_SHAPE: Final = re.compile(r"tl_[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class IssuedToken:
    """A token just issued: show ``secret`` once, it is stored only as a hash."""

    agency: str
    agency_id: int
    secret: str
    expires_at: datetime


def issue_token(
    store: EvidenceStore, agency: str, *, days: int = DEFAULT_TOKEN_DAYS, now: datetime | None = None
) -> str:
    """A fresh random token for ``agency``, live for ``days``; only its SHA-256 is stored. Show it once.

    This only stores the token: ``issue_agency_token`` first checks the agency on chain.
    """
    _check_days(days)
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    store.add_token(agency, token_sha256(token), expires_at=(now or datetime.now(UTC)) + timedelta(days=days))
    return token


def issue_agency_token(
    backend: Backend, name: str, *, days: int = DEFAULT_TOKEN_DAYS, prompt: PasswordPrompt | None = None
) -> IssuedToken:
    """A token for the agency registered on chain as exactly ``name``, after the checks above."""
    _check_days(days)
    agency_id = _registered_agency(backend, name)
    _check_seal_key(backend, name, agency_id, prompt)
    issued_at = datetime.now(UTC)
    secret = issue_token(backend.store, name, days=days, now=issued_at)
    return IssuedToken(name, agency_id, secret, issued_at + timedelta(days=days))


def revoke_agency_tokens(store: EvidenceStore, name: str) -> int:
    """Revoke every live token of the agency ``name``; how many were live."""
    revoked, issued = store.revoke_tokens(name)
    if not issued:
        raise UsageError(
            f"no token was ever issued for {name!r}",
            hint="give the agency's name exactly as registered on the ledger",
        )
    return revoked


def token_sha256(token: str) -> str:
    """The hex SHA-256 under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def is_well_formed(token: str) -> bool:
    """Whether ``token`` has the shape of a token this module issues."""
    return _TOKEN_SHAPE.fullmatch(token) is not None


def agency_of_token(store: EvidenceStore, token: str, *, now: datetime | None = None) -> str | None:
    """The agency a live token belongs to; None for an unknown, revoked or expired token."""
    return store.agency_of_token(token_sha256(token), now=now)


# ---------------------------------------------------------------- the checks


def _check_days(days: int) -> None:
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise UsageError(f"a token lives from 1 to {MAX_TOKEN_DAYS} days, not {days}")


def _registered_agency(backend: Backend, name: str) -> int:
    """Check 1: the agency id registered under exactly ``name``."""
    ledger = backend.ledger
    agency_id = ledger.agency_id(name)
    if agency_id:
        return agency_id
    near = [n for n in ledger.agency_names().values() if _loosely(n) == _loosely(name)]
    raise UsageError(
        f"no agency is registered on the ledger as {name!r}",
        hint=f"did you mean {near[0]!r}? names must match exactly"
        if near
        else f"register it first: tenderledger agency add {name!r}",
    )


def _check_seal_key(backend: Backend, name: str, agency_id: int, prompt: PasswordPrompt | None) -> None:
    """Checks 2 and 3: the keystore names the agency, and the chain gives its key to it."""
    from backend.keys import keystore_agency, keystore_path, load_agency_key, read_keystore

    settings = backend.settings
    path = keystore_path(settings, name)
    if not path.exists():
        raise UsageError(
            f"agency {name!r} has no seal keystore in {settings.keystore_dir}",
            hint=f"run 'tenderledger agency add {name!r}', or copy the agency's keystore there",
        )
    named = keystore_agency(read_keystore(path))
    if named != name:
        raise UsageError(
            f"the keystore {path.name} names {named!r}, not the agency {name!r}",
            hint="a token is issued only for the agency its keystore names, spelled exactly the same",
        )
    key = load_agency_key(settings, name, prompt=prompt)
    window = backend.ledger.seal_key(key.address)
    if window.agency != agency_id:
        raise UsageError(
            f"the key in {path.name} ({key.address}) is not a seal key of {name!r} on the ledger",
            hint=f"register it: tenderledger agency add {name!r}",
        )
    if window.revoked_block:
        raise UsageError(
            f"the seal key of {name!r} ({key.address}) was revoked in block {window.revoked_block}",
            hint="make the agency a new seal key before issuing it a token",
        )


def _loosely(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower())
