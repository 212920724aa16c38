"""``tenderledger agency token`` and ``tenderledger serve``."""

from __future__ import annotations

import sys

import pytest
from sqlalchemy import select

from backend.cli import main
from backend.cli.serve import is_loopback
from backend.service.tokens import agency_of_token, is_well_formed, token_sha256
from backend.store.models import ApiTokenRow
from tests.api.conftest import AGENCY, ApiEnv, release


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["tenderledger", *args])
    try:
        main()
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def test_agency_token_prints_a_working_token_once_and_stores_only_its_hash(
    api: ApiEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_cli(monkeypatch, "--home", str(api.settings.home), "agency", "token", AGENCY)

    assert status == 0
    token = capsys.readouterr().out.strip()
    assert is_well_formed(token)
    assert agency_of_token(api.store, token) == AGENCY
    with api.store.session() as session:
        stored = list(session.scalars(select(ApiTokenRow.token_sha256)))
    assert token_sha256(token) in stored
    assert token not in stored
    response = api.client.post(
        "/notices",
        json=release("ocds-213czf-000-00009", "tender-1"),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text


def test_agency_token_needs_the_agency_keystore(
    api: ApiEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_cli(monkeypatch, "--home", str(api.settings.home), "agency", "token", "Unknown Agency")

    assert status == 2
    assert "agency add" in capsys.readouterr().err


def test_serve_refuses_a_public_interface_without_public(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_cli(monkeypatch, "serve", "--host", "0.0.0.0")

    assert status == 2
    assert "--public" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.53", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("api.example.org", False),
    ],
)
def test_only_loopback_hosts_count_as_local(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
