"""``tenderledger agency token``, ``agency add --ocid-prefix``, ``agency reserve-prefix`` and ``serve``.

The commands run in this process against the API fixture's in-process chain: the chain
they would connect to is that one.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend.chain.ledger import Ledger
from backend.cli import main
from backend.cli.serve import is_loopback
from backend.service.tokens import agency_of_token, is_well_formed, token_sha256
from backend.store.tokens import ApiTokenRow
from tests.api.conftest import AGENCY, PASSWORD, ApiEnv, is_problem, release


def run_cli(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["tenderledger", *args])
    try:
        main()
    except SystemExit as done:
        return int(done.code or 0)
    return 0


@pytest.fixture
def cli(api: ApiEnv, monkeypatch: pytest.MonkeyPatch) -> ApiEnv:
    """Commands reach the API fixture's chain, and read the shared keystore password from the environment."""
    monkeypatch.setattr("backend.service.context.connect", lambda _settings: api.w3)
    monkeypatch.setattr(
        "backend.service.governance.open_ledger", lambda _settings: Ledger(api.w3, api.ledger.deployment)
    )
    monkeypatch.setenv("TENDERLEDGER_KEY_PASSWORD", PASSWORD)
    monkeypatch.setenv("TENDERLEDGER_KEYSTORE_SCRYPT_N", "1024")
    return api


def one_line_error(err: str) -> tuple[str, str]:
    """The error line and its hint, after checking that there is nothing else (no traceback)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 2, err
    assert lines[0].startswith("error: ") and lines[1].startswith("  ")
    return lines[0], lines[1].strip()


def test_agency_token_prints_a_working_token_once_and_stores_only_its_hash(
    cli: ApiEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    api = cli
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


def test_agency_token_needs_the_agency_registered_on_chain(
    cli: ApiEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_cli(monkeypatch, "--home", str(cli.settings.home), "agency", "token", "Unknown Agency")

    assert status == 2
    _line, hint = one_line_error(capsys.readouterr().err)
    assert "agency add" in hint


def test_agency_token_refuses_a_name_that_only_matches_after_lowercasing(
    cli: ApiEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_cli(
        monkeypatch, "--home", str(cli.settings.home), "agency", "token", "MINISTRY OF PUBLIC WORKS!"
    )

    assert status == 2
    captured = capsys.readouterr()
    line, hint = one_line_error(captured.err)
    assert "no agency is registered on the ledger as 'MINISTRY OF PUBLIC WORKS!'" in line
    assert "did you mean 'Ministry of Public Works'" in hint
    assert captured.out == ""
    with cli.store.session() as session:
        assert set(session.scalars(select(ApiTokenRow.agency))) == {AGENCY}


def test_agency_token_revoke_ends_every_live_token_of_the_agency(
    cli: ApiEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(cli.settings.home)
    assert run_cli(monkeypatch, "--home", home, "agency", "token", AGENCY) == 0
    second = capsys.readouterr().out.strip()

    assert run_cli(monkeypatch, "--home", home, "agency", "token", AGENCY, "--revoke") == 0

    assert "revoked 2 token(s)" in capsys.readouterr().err
    for token in (cli.token, second):
        assert agency_of_token(cli.store, token) is None
        is_problem(cli.post_notice(release("ocds-213czf-000-00010", "tender-1"), token), 401)
    assert run_cli(monkeypatch, "--home", home, "agency", "token", AGENCY, "--revoke") == 0
    assert "has no live token" in capsys.readouterr().err
    assert run_cli(monkeypatch, "--home", home, "agency", "token", "Nobody", "--revoke") == 2


def test_agency_token_lives_90_days_unless_told(
    cli: ApiEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(cli.settings.home)
    assert run_cli(monkeypatch, "--home", home, "agency", "token", AGENCY) == 0
    default = capsys.readouterr().out.strip()
    assert run_cli(monkeypatch, "--home", home, "agency", "token", AGENCY, "--days", "7") == 0
    week = capsys.readouterr().out.strip()

    now = datetime.now(UTC)
    assert agency_of_token(cli.store, default, now=now + timedelta(days=89)) == AGENCY
    assert agency_of_token(cli.store, default, now=now + timedelta(days=90, minutes=1)) is None
    assert agency_of_token(cli.store, week, now=now + timedelta(days=6)) == AGENCY
    assert agency_of_token(cli.store, week, now=now + timedelta(days=7, minutes=1)) is None
    assert run_cli(monkeypatch, "--home", home, "agency", "token", AGENCY, "--days", "0") == 2


def test_agency_token_uses_the_agencys_own_password_variable(
    cli: ApiEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(cli.settings.home)
    monkeypatch.setenv("TENDERLEDGER_KEY_PASSWORD", "not the ministry's password")
    monkeypatch.setenv("TENDERLEDGER_KEY_PASSWORD_MINISTRY_OF_PUBLIC_WORKS", PASSWORD)
    assert run_cli(monkeypatch, "--home", home, "agency", "token", AGENCY) == 0
    capsys.readouterr()

    monkeypatch.delenv("TENDERLEDGER_KEY_PASSWORD_MINISTRY_OF_PUBLIC_WORKS")
    assert run_cli(monkeypatch, "--home", home, "agency", "token", AGENCY) == 2
    line, hint = one_line_error(capsys.readouterr().err)
    assert "wrong password" in line
    assert "TENDERLEDGER_KEY_PASSWORD_MINISTRY_OF_PUBLIC_WORKS" in hint


# ---------------------------------------------------------------- ocid prefixes


def test_agency_add_reserves_its_ocid_prefixes_and_is_idempotent(
    cli: ApiEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home, name = str(cli.settings.home), "UK Contracts Finder"
    args = (
        "--home",
        home,
        "agency",
        "add",
        name,
        "--ocid-prefix",
        "ocds-b5fd17",
        "--ocid-prefix",
        "OCDS-87SD3T-",
    )

    assert run_cli(monkeypatch, *args) == 0
    first = capsys.readouterr().out
    assert run_cli(monkeypatch, *args) == 0
    again = capsys.readouterr().out

    agency_id = cli.ledger.agency_id(name)
    assert agency_id and cli.ledger.prefix_owner("ocds-b5fd17") == agency_id
    assert cli.ledger.prefix_owner("ocds-87sd3t") == agency_id
    assert "ocid prefix 'ocds-b5fd17' reserved for 'UK Contracts Finder'" in first
    assert "already registered" in again
    assert "ocid prefix 'ocds-87sd3t' is already reserved for 'UK Contracts Finder'" in again
    # The prefix is the agency's: the Ministry may not open a process under it.
    refused = cli.post_notice(release("ocds-b5fd17-000-0001", "tender-1"))
    assert is_problem(refused, 422)["contract_error"]["name"] == "OcidPrefixOfOtherAgency"


def test_reserve_prefix_adds_prefixes_later(
    cli: ApiEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status = run_cli(
        monkeypatch,
        "--home",
        str(cli.settings.home),
        "agency",
        "reserve-prefix",
        AGENCY,
        "ocds-213czf",
        "ocds-mop001",
    )

    assert status == 0, capsys.readouterr().err
    agency_id = cli.ledger.agency_id(AGENCY)
    assert cli.ledger.prefix_owner("ocds-213czf") == cli.ledger.prefix_owner("ocds-mop001") == agency_id
    assert cli.post_notice(release("ocds-mop001-2026-1", "tender-1")).status_code == 201


@pytest.mark.parametrize(
    ("args", "line", "hint"),
    [
        (
            ("agency", "reserve-prefix", AGENCY, "ocds"),
            "'ocds' is not an ocid prefix",
            "scheme-publisher, lowercase",
        ),
        (
            ("agency", "add", "Port of Valparaiso", "--ocid-prefix", "ocds-a-b"),
            "'ocds-a-b' is not an ocid prefix",
            "scheme-publisher",
        ),
        (
            ("agency", "reserve-prefix", "Ministry Of Public Works", "ocds-mop001"),
            "no agency is registered on the ledger as 'Ministry Of Public Works'",
            "names must match exactly",
        ),
    ],
    ids=["no_publisher", "three_parts", "inexact_name"],
)
def test_bad_prefix_commands_exit_2_with_one_line_and_a_hint(
    cli: ApiEnv,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    line: str,
    hint: str,
) -> None:
    agencies = cli.ledger.counts()[0]

    assert run_cli(monkeypatch, "--home", str(cli.settings.home), *args) == 2

    error, advice = one_line_error(capsys.readouterr().err)
    assert line in error and hint in advice
    assert cli.ledger.counts()[0] == agencies, "nothing was registered"


def test_a_prefix_reserved_for_another_agency_is_refused_before_any_transaction(
    cli: ApiEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(cli.settings.home)
    assert run_cli(monkeypatch, "--home", home, "agency", "reserve-prefix", AGENCY, "ocds-mop001") == 0
    capsys.readouterr()
    agencies = cli.ledger.counts()[0]

    status = run_cli(
        monkeypatch, "--home", home, "agency", "add", "Port of Valparaiso", "--ocid-prefix", "ocds-mop001"
    )

    assert status == 2
    line, hint = one_line_error(capsys.readouterr().err)
    assert (
        "'ocds-mop001' is reserved for agency 1 ('Ministry of Public Works'), not 'Port of Valparaiso'"
        in line
    )
    assert hint
    assert cli.ledger.counts()[0] == agencies, "the agency was not registered"


def test_a_ledger_refusal_of_a_reservation_is_decoded_into_one_line(
    cli: ApiEnv, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(cli.settings.home)
    assert run_cli(monkeypatch, "--home", home, "agency", "reserve-prefix", AGENCY, "ocds-mop001") == 0
    cli.add_agency("Port of Valparaiso")
    capsys.readouterr()
    # Two governance consoles at once: the check before sending saw the prefix free.
    monkeypatch.setattr(Ledger, "prefix_owner", lambda _self, _prefix: 0)

    status = run_cli(
        monkeypatch, "--home", home, "agency", "reserve-prefix", "Port of Valparaiso", "ocds-mop001"
    )

    assert status == 2
    line, hint = one_line_error(capsys.readouterr().err)
    assert line == (
        "error: the ledger refused to reserve 'ocds-mop001' for 'Port of Valparaiso': "
        "OcidPrefixAlreadyReserved"
    )
    assert hint == "this ocid prefix is already reserved"


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
