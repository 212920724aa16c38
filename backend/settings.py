"""One Settings object, read from the environment (prefix TENDERLEDGER_)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SCRYPT_N_DEFAULT = 2**18


class Settings(BaseSettings):
    """Where tenderledger keeps its files and which chain it talks to."""

    model_config = SettingsConfigDict(env_prefix="TENDERLEDGER_", extra="ignore")

    home: Path = Field(
        default=Path(".tenderledger"), description="deployment file, keystores, store, devnet state"
    )
    rpc_url: str | None = Field(default=None, description="JSON-RPC endpoint; default: the running devnet")
    environment: Literal["development", "production"] = "development"
    key_password: SecretStr | None = Field(default=None, description="password of the agency seal keystores")
    governance_keystore: Path | None = None
    relayer_keystore: Path | None = None
    governance_password: SecretStr | None = None
    relayer_password: SecretStr | None = None
    keystore_scrypt_n: int = Field(
        default=SCRYPT_N_DEFAULT, ge=2**10, description="scrypt cost of new keystores"
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
