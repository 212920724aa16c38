"""One Settings object, read from the environment (prefix TENDERLEDGER_)."""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SCRYPT_N_DEFAULT = 2**18
SCRYPT_N_MIN = 2**17
"""The least scrypt cost of a seal keystore made for a chain that is not a devnet. A devnet
(whose keys guard nothing) may use ``keystore_scrypt_n`` below it, for speed."""

KEY_PASSWORD_ENV = "TENDERLEDGER_KEY_PASSWORD"  # noqa: S105 - the name of a variable, not a secret


def key_password_env(agency: str) -> str:
    """The environment variable holding ``agency``'s own keystore password:
    ``TENDERLEDGER_KEY_PASSWORD_`` and the name upper-cased, each run of other characters
    than A-Z and 0-9 turned into one ``_`` ('Ministry of Public Works' ->
    ``TENDERLEDGER_KEY_PASSWORD_MINISTRY_OF_PUBLIC_WORKS``)."""
    return f"{KEY_PASSWORD_ENV}_{re.sub(r'[^A-Z0-9]+', '_', agency.upper())}"


class Settings(BaseSettings):
    """Where tenderledger keeps its files and which chain it talks to."""

    model_config = SettingsConfigDict(env_prefix="TENDERLEDGER_", extra="ignore")

    home: Path = Field(
        default=Path(".tenderledger"), description="deployment file, keystores, store, devnet state"
    )
    rpc_url: str | None = Field(default=None, description="JSON-RPC endpoint; default: the running devnet")
    environment: Literal["development", "production"] = "development"
    key_password: SecretStr | None = Field(
        default=None,
        description="shared password of the agency seal keystores, for agencies without their own "
        "TENDERLEDGER_KEY_PASSWORD_<AGENCY>",
    )
    governance_keystore: Path | None = None
    relayer_keystore: Path | None = None
    governance_password: SecretStr | None = None
    relayer_password: SecretStr | None = None
    keystore_scrypt_n: int = Field(
        default=SCRYPT_N_DEFAULT,
        ge=2**10,
        description=f"scrypt cost of new keystores (at least {SCRYPT_N_MIN} on a chain that is not a devnet)",
    )
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite in home")
    confirmations: int = Field(default=1, ge=1, description="blocks on top before a receipt is final")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_anchor_wait_s: float = Field(
        default=10.0, ge=0, description="seconds POST /notices waits for the chain before answering 202"
    )

    @cached_property
    def deployment_path(self) -> Path:
        return self.home / "deployment.json"

    @cached_property
    def keystore_dir(self) -> Path:
        return self.home / "keystores"

    @property
    def store_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'evidence.sqlite3').resolve()}"

    @property
    def public_store_url(self) -> str:
        """``store_url`` fit for messages and logs: a database password masked."""
        from backend.redaction import database_url_for_people

        return database_url_for_people(self.store_url)

    def agency_key_password(self, agency: str) -> SecretStr | None:
        """The password of ``agency``'s seal keystore from the environment: its own variable
        (:func:`key_password_env`) first, then the shared ``key_password``; None when neither is set."""
        own = os.environ.get(key_password_env(agency))
        if own:
            return SecretStr(own)
        return self.key_password
