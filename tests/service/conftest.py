"""A deployed ledger on the in-process chain, with two agencies and an evidence store.

The national agency anchors the real files of Paraguay and Jalisco: their publishers' ocid
prefixes are reserved for it. UK Contracts Finder's stays open: both agencies anchor its
files in the tests of conflicting anchors.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from backend.chain.devnet import tester_web3
from backend.demo.runner import REAL_PUBLISHER_PREFIXES
from backend.service.context import Backend
from backend.service.governance import deploy_for
from backend.settings import Settings

CITY = "Municipality of Valparaiso"
NATIONAL = "National Procurement Directorate"
PASSWORD = "service-test-password"
NATIONAL_PUBLISHERS = ("paraguay", "mexico-jalisco")


@pytest.fixture
def backend(tmp_path: Path) -> Backend:
    settings = Settings(home=tmp_path / "home", key_password=SecretStr(PASSWORD), keystore_scrypt_n=1024)
    w3 = tester_web3()
    governance = deploy_for(settings, w3, admin_delay=0)
    governance.enroll(settings, CITY)
    governance.enroll(
        settings, NATIONAL, prefixes=[REAL_PUBLISHER_PREFIXES[publisher] for publisher in NATIONAL_PUBLISHERS]
    )
    return Backend(settings, w3=w3)


def auditor_view(backend: Backend) -> Backend:
    """An auditor's own folder holding only a copy of the deployment file: no store, no keys."""
    home = backend.settings.home.parent / "auditor"
    home.mkdir(exist_ok=True)
    (home / "deployment.json").write_bytes(backend.settings.deployment_path.read_bytes())
    return Backend(Settings(home=home), w3=backend.w3)
