"""Seal keystores (encrypted, one per agency) and the governance and relayer accounts.

Agency keys live in Web3 Secret Storage (keystore v3) files under
``$TENDERLEDGER_HOME/keystores``, each naming its agency in its metadata, exactly as
registered on chain. Each agency has its own password: from
``TENDERLEDGER_KEY_PASSWORD_<AGENCY>`` (``settings.key_password_env``), else the shared
``TENDERLEDGER_KEY_PASSWORD``, else a prompt. A keystore made for a chain that is not a
devnet costs scrypt N >= ``SCRYPT_N_MIN`` (2^17) whatever ``keystore_scrypt_n`` says; a
devnet keeps the configured N (the demo and tests use a cheap one, for speed).

On a devnet, governance and relayer are the development accounts 0 and 1; anywhere
else they must come from keystores: the development keys are public and are refused
outside a devnet chain.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from backend.chain.devnet import DEVNET_CHAIN_IDS, dev_account
from backend.errors import ConfigurationError, KeystoreError
from backend.settings import KEY_PASSWORD_ENV, SCRYPT_N_MIN, Settings, key_password_env

KEYSTORE_META = "tenderledger"
PasswordPrompt = Callable[[str, bool], str]


def agency_slug(name: str) -> str:
    """File-name form of an agency name."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise KeystoreError(f"agency name {name!r} has no letters or digits to name its keystore by")
    return slug[:80]


def keystore_path(settings: Settings, agency: str) -> Path:
    return settings.keystore_dir / f"{agency_slug(agency)}.json"


def _password_hint(agency: str) -> str:
    return f"set {key_password_env(agency)} (or the shared {KEY_PASSWORD_ENV})"


def agency_password(
    settings: Settings, agency: str, prompt: PasswordPrompt | None = None, *, confirm: bool = False
) -> str:
    """The password of ``agency``'s keystore: its own variable, the shared one, or a prompt."""
    given = settings.agency_key_password(agency)
    if given is not None:
        return given.get_secret_value()
    what = f"the {agency} seal keystore"
    if prompt is None:
        raise KeystoreError(f"no password for {what}", hint=_password_hint(agency) + " or run interactively")
    return prompt(f"Password for {what}", confirm)


def scrypt_cost(settings: Settings, chain_id: int | None) -> int:
    """The scrypt N of a new keystore: the configured one on a devnet, at least SCRYPT_N_MIN elsewhere.

    ``chain_id`` None (a keystore made without a chain at hand, as tests do) keeps the configured N.
    """
    if chain_id is None or (chain_id in DEVNET_CHAIN_IDS and settings.environment != "production"):
        return settings.keystore_scrypt_n
    return max(settings.keystore_scrypt_n, SCRYPT_N_MIN)


def create_agency_keystore(
    settings: Settings, agency: str, *, prompt: PasswordPrompt | None = None, chain_id: int | None = None
) -> LocalAccount:
    """Make a new seal key for ``agency`` (for the chain ``chain_id``) and store it encrypted,
    naming the agency in its metadata. Refuses to overwrite one."""
    path = keystore_path(settings, agency)
    if path.exists():
        raise KeystoreError(
            f"a keystore for {agency!r} already exists at {path}",
            hint="use it, or move it away to make a new key (the old key stays registered)",
        )
    password = agency_password(settings, agency, prompt, confirm=True)
    if len(password) < 8:
        raise KeystoreError("keystore passwords must have at least 8 characters")
    account: LocalAccount = Account.create()
    keystore: dict[str, Any] = Account.encrypt(
        account.key, password, kdf="scrypt", iterations=scrypt_cost(settings, chain_id)
    )
    keystore[KEYSTORE_META] = {"agency": agency}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(keystore, handle, indent=2)
    return account


def read_keystore(path: Path) -> dict[str, Any]:
    """A keystore file's JSON; a missing or unreadable file is a KeystoreError."""
    try:
        keystore = json.loads(path.read_text())
    except FileNotFoundError:
        raise KeystoreError(f"no keystore at {path}") from None
    except ValueError as exc:
        raise KeystoreError(f"keystore {path} is not valid JSON: {exc}") from exc
    if not isinstance(keystore, dict):
        raise KeystoreError(f"keystore {path} is not a keystore (a JSON object)")
    return keystore


def keystore_agency(keystore: dict[str, Any]) -> str | None:
    """The agency a keystore's metadata names, exactly as written; None when it names none."""
    meta = keystore.get(KEYSTORE_META)
    agency = meta.get("agency") if isinstance(meta, dict) else None
    return agency if isinstance(agency, str) else None


def _decrypt(keystore: dict[str, Any], path: Path, password: str, *, hint: str) -> LocalAccount:
    try:
        key = Account.decrypt(keystore, password)
    except ValueError as exc:
        raise KeystoreError(f"cannot unlock keystore {path}: wrong password", hint=hint) from exc
    account: LocalAccount = Account.from_key(key)
    return account


def unlock_keystore(path: Path, password: str) -> LocalAccount:
    """Decrypt a keystore file; a wrong password is a KeystoreError, not a traceback."""
    return _decrypt(read_keystore(path), path, password, hint="check the password")


def load_agency_key(settings: Settings, agency: str, *, prompt: PasswordPrompt | None = None) -> LocalAccount:
    """The unlocked seal key of ``agency``, from the keystore whose metadata names exactly ``agency``.

    Keystore files are named by a slug of the name, which several spellings share
    ('MINISTRY OF PUBLIC WORKS!' and 'Ministry of Public Works'): the metadata decides.
    """
    path = keystore_path(settings, agency)
    if not path.exists():
        raise KeystoreError(
            f"no seal keystore for agency {agency!r} at {path}",
            hint=f"run 'tenderledger agency add {agency!r}' first",
        )
    keystore = read_keystore(path)
    named = keystore_agency(keystore)
    if named is not None and named != agency:
        raise KeystoreError(
            f"the keystore at {path} belongs to {named!r}, not {agency!r}",
            hint=f"agency names must be given exactly as registered: {named!r}",
        )
    password = agency_password(settings, agency, prompt)
    return _decrypt(keystore, path, password, hint=f"check the password: {_password_hint(agency)}")


def _role_account(
    settings: Settings, chain_id: int, *, role: str, index: int, keystore: Path | None, password: str | None
) -> LocalAccount:
    if keystore is not None:
        if password is None:
            raise KeystoreError(
                f"no password for the {role} keystore", hint=f"set TENDERLEDGER_{role.upper()}_PASSWORD"
            )
        return unlock_keystore(keystore, password)
    if settings.environment == "production":
        raise ConfigurationError(
            f"no {role} keystore configured, and development keys are refused in production",
            hint=f"set TENDERLEDGER_{role.upper()}_KEYSTORE",
        )
    if chain_id not in DEVNET_CHAIN_IDS:
        raise ConfigurationError(
            f"chain {chain_id} is not a devnet: its {role} account cannot be a public development key",
            hint=f"set TENDERLEDGER_{role.upper()}_KEYSTORE and TENDERLEDGER_{role.upper()}_PASSWORD",
        )
    return dev_account(index)


def governance_account(settings: Settings, chain_id: int) -> LocalAccount:
    """The account holding GOVERNANCE_ROLE (devnet account 0 on a devnet)."""
    password = settings.governance_password.get_secret_value() if settings.governance_password else None
    return _role_account(
        settings,
        chain_id,
        role="governance",
        index=0,
        keystore=settings.governance_keystore,
        password=password,
    )


def relayer_account(settings: Settings, chain_id: int) -> LocalAccount:
    """The account that submits sealed notices (devnet account 1 on a devnet)."""
    password = settings.relayer_password.get_secret_value() if settings.relayer_password else None
    return _role_account(
        settings, chain_id, role="relayer", index=1, keystore=settings.relayer_keystore, password=password
    )
