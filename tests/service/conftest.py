"""A deployed ledger on the in-process chain, with two agencies and an evidence store.

The national agency anchors the real files of Paraguay and Jalisco: their publishers' ocid
prefixes are reserved for it. UK Contracts Finder's stays open: both agencies anchor its
files in the tests of conflicting anchors.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from backend.chain.devnet import dev_account, tester_web3
from backend.chain.ledger import Ledger, deploy_ledger
from backend.chain.sender import TransactionSender
from backend.demo.runner import REAL_PUBLISHER_PREFIXES
from backend.keys import create_agency_keystore
from backend.service.context import Backend
from backend.settings import Settings

CITY = "Municipality of Valparaiso"
NATIONAL = "National Procurement Directorate"
PASSWORD = "service-test-password"
NATIONAL_PUBLISHERS = ("paraguay", "mexico-jalisco")


@pytest.fixture
def backend(tmp_path: Path) -> Backend:
    settings = Settings(home=tmp_path / "home", key_password=SecretStr(PASSWORD), keystore_scrypt_n=1024)
    w3 = tester_web3()
    governance = TransactionSender(w3, dev_account(0))
    deployment = deploy_ledger(w3, governance, relayers=[dev_account(1).address], admin_delay=0)
    deployment.save(settings.deployment_path)
    ledger = Ledger(w3, deployment)
    for name in (CITY, NATIONAL):
        key = create_agency_keystore(settings, name)
        ledger.add_seal_key(governance, ledger.register_agency(governance, name), key.address)
    for publisher in NATIONAL_PUBLISHERS:
        ledger.reserve_ocid_prefix(governance, ledger.agency_id(NATIONAL), REAL_PUBLISHER_PREFIXES[publisher])
    return Backend(settings, w3=w3)


def auditor_view(backend: Backend) -> Backend:
    """An auditor's own folder holding only a copy of the deployment file: no store, no keys."""
    home = backend.settings.home.parent / "auditor"
    home.mkdir(exist_ok=True)
    (home / "deployment.json").write_bytes(backend.settings.deployment_path.read_bytes())
    return Backend(Settings(home=home), w3=backend.w3)
