"""Seal keystores (encrypted, one per agency) and the governance and relayer accounts.

Agency keys live in Web3 Secret Storage (keystore v3) files under
``$TENDERLEDGER_HOME/keystores``; the password comes from TENDERLEDGER_KEY_PASSWORD
or a prompt. On a devnet, governance and relayer are the development accounts 0 and
1; anywhere else they must come from keystores: the development keys are public and
are refused outside a devnet chain.
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
from backend.settings import Settings

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


def _password(settings: Settings, prompt: PasswordPrompt | None, *, confirm: bool, what: str) -> str:
    if settings.key_password is not None:
        return settings.key_password.get_secret_value()
    if prompt is None:
        raise KeystoreError(
            f"no password for {what}", hint="set TENDERLEDGER_KEY_PASSWORD or run interactively"
        )
    return prompt(f"Password for {what}", confirm)


def create_agency_keystore(
    settings: Settings, agency: str, *, prompt: PasswordPrompt | None = None
) -> LocalAccount:
    """Make a new seal key for ``agency`` and store it encrypted. Refuses to overwrite one."""
    path = keystore_path(settings, agency)
    if path.exists():
        raise KeystoreError(
            f"a keystore for {agency!r} already exists at {path}",
            hint="use it, or move it away to make a new key (the old key stays registered)",
        )
    password = _password(settings, prompt, confirm=True, what=f"the {agency} seal keystore")
    if len(password) < 8:
        raise KeystoreError("keystore passwords must have at least 8 characters")
    account: LocalAccount = Account.create()
    keystore: dict[str, Any] = Account.encrypt(
        account.key, password, kdf="scrypt", iterations=settings.keystore_scrypt_n
    )
    keystore[KEYSTORE_META] = {"agency": agency}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(keystore, handle, indent=2)
    return account


def unlock_keystore(path: Path, password: str) -> LocalAccount:
    """Decrypt a keystore file; a wrong password is a KeystoreError, not a traceback."""
    try:
        keystore = json.loads(path.read_text())
    except FileNotFoundError:
        raise KeystoreError(f"no keystore at {path}") from None
    except ValueError as exc:
        raise KeystoreError(f"keystore {path} is not valid JSON: {exc}") from exc
    try:
        key = Account.decrypt(keystore, password)
    except ValueError as exc:
        raise KeystoreError(
            f"cannot unlock keystore {path}: wrong password", hint="check TENDERLEDGER_KEY_PASSWORD"
        ) from exc
    account: LocalAccount = Account.from_key(key)
    return account


def load_agency_key(settings: Settings, agency: str, *, prompt: PasswordPrompt | None = None) -> LocalAccount:
    """The unlocked seal key of ``agency``."""
    path = keystore_path(settings, agency)
    if not path.exists():
        raise KeystoreError(
            f"no seal keystore for agency {agency!r} at {path}",
            hint=f"run 'tenderledger agency add {agency!r}' first",
        )
    return unlock_keystore(
        path, _password(settings, prompt, confirm=False, what=f"the {agency} seal keystore")
    )


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
