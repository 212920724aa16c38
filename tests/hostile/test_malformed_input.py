"""Malformed input, sent to the API and to the command line: a clear refusal, and nothing changes.

Each class of hostile input in :data:`HOSTILE` is a release with one defect spliced in
(the same release without it anchors, see the control tests), and goes to

* ``POST /notices`` with a valid agency token,
* ``POST /verify`` as a JSON body and as a multipart upload named ``notice.json``,
* ``tenderledger anchor`` and ``tenderledger verify``, on a file, in a subprocess,
  against a ledger on a managed Anvil.

Every refusal is a 4xx problem document, or exit status 2, whose one line names the
problem, with no traceback; and afterwards the ledger has no new NoticeAnchored event,
the relayer's nonce is unchanged and the evidence store has no new outbox or notice row.
Huge bodies and wrong content types have tests of their own below the table.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from backend.api.bodies import MAX_BODY_BYTES
from backend.chain.connect import web3_for
from backend.chain.deployment import Deployment
from backend.chain.devnet import Engine, ManagedDevnet
from backend.chain.ledger import Ledger
from backend.service.intake import MAX_FILE_BYTES
from backend.settings import Settings
from backend.store import EvidenceStore
from tests.api.conftest import ApiEnv, release, serving
from tests.chain.test_devnet import run_cli
from tests.hostile.conftest import LedgerState, api_state, names, problem_of

RELIABILITY_DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
OCID = "ocds-213czf-hostile-0001"
AGENCY = "Hostile Input Agency"
JSON_TYPE = {"Content-Type": "application/json"}


def spliced(member: bytes) -> bytes:
    """A valid release with one more member written as raw bytes: the defect under test."""
    text = json.dumps(release(OCID, "tender-1", deadline="2099-01-01T00:00:00Z")).encode()
    return text[:-1] + b", " + member + b"}"


def _zip_of_a_release() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("release.json", json.dumps(release(OCID, "tender-1")))
    return buffer.getvalue()


@dataclass(frozen=True)
class Hostile:
    """One class of hostile input and how it must be refused."""

    data: bytes
    says: str
    """Regex the one-line error must match: it names the problem."""
    status: int = 400
    problem: str = "malformed-json"


HOSTILE: dict[str, Hostile] = {
    "syntax_error": Hostile(spliced(b'"x": [1, 2'), r"expected ',' or '\]'"),
    "truncated": Hostile(spliced(b'"x": 1')[:-40], r"unexpected end of input|unterminated string"),
    "empty": Hostile(b"", r"empty input"),
    # The release object is level 1: 64 arrays in it make 65 levels, one past the limit.
    "deep_nesting": Hostile(spliced(b'"x": ' + b"[" * 64 + b"]" * 64), r"nesting deeper than 64 levels"),
    "pathological_nesting": Hostile(
        spliced(b'"x": ' + b"[" * 100_000 + b"]" * 100_000), r"nesting deeper than 64 levels"
    ),
    "not_utf8": Hostile(spliced('"x": "Pavimentación"'.encode("latin-1")), r"invalid UTF-8 byte 0xF3"),
    "utf8_bom": Hostile(b"\xef\xbb\xbf" + spliced(b'"x": 1'), r"byte order mark"),
    "lone_surrogate_escaped": Hostile(spliced(b'"x": "\\ud800"'), r"lone surrogate \\ud800"),
    "lone_surrogate_raw": Hostile(spliced(b'"x": "\xed\xa0\x80"'), r"invalid UTF-8 byte 0xED"),
    "duplicate_keys": Hostile(spliced(b'"id": "tender-2"'), r'duplicate key "id"'),
    "nan": Hostile(spliced(b'"x": NaN'), r"NaN is not a JSON number"),
    "infinity": Hostile(spliced(b'"x": -Infinity'), r"Infinity is not a JSON number"),
    "beyond_ieee_1e400": Hostile(spliced(b'"x": 1e400'), r"number 1e400 overflows an IEEE 754 double"),
    "beyond_ieee_integer": Hostile(spliced(b'"x": 1' + b"0" * 400), r"overflows an IEEE 754 double"),
    # Strict JSON, but RFC 8785 (and so the digest) cannot hold it exactly: not a usable notice.
    "integer_beyond_2_53": Hostile(
        spliced(b'"x": 9007199254740993'),
        r"integer 9007199254740993 is beyond \+-\(2\*\*53 - 1\)",
        status=422,
        problem="not-ocds",
    ),
    "zip_archive": Hostile(_zip_of_a_release(), r"a ZIP archive, not JSON"),
    "xml": Hostile(
        b'<?xml version="1.0"?><release><ocid>' + OCID.encode() + b"</ocid></release>",
        r"XML or HTML, not JSON",
    ),
}


# ---------------------------------------------------------------- the API


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiEnv]:
    """One API for the module (each test compares the state before and after its own request)."""
    with serving(tmp_path_factory.mktemp("malformed-api") / "home") as env:
        yield env


def _refused_by_api(api: ApiEnv, response_of: Callable[[], httpx.Response], hostile: Hostile) -> None:
    before = api_state(api)
    response = response_of()
    body = problem_of(response, hostile.status)
    assert body["type"].endswith("/" + hostile.problem), body
    assert names(hostile.says, body["detail"]), f"{body['detail']!r} does not name {hostile.says!r}"
    assert api_state(api) == before


def test_the_control_release_anchors_through_the_api(api: ApiEnv) -> None:
    """Without its defect the same release anchors: the refusals below are about the defect."""
    response = api.client.post("/notices", content=spliced(b'"x": 1'), headers={**api.auth, **JSON_TYPE})

    assert response.status_code == 201, response.text
    assert api.anchored_events(OCID) == 1


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_anchoring_refuses(api: ApiEnv, name: str) -> None:
    hostile = HOSTILE[name]
    _refused_by_api(
        api,
        lambda: api.client.post("/notices", content=hostile.data, headers={**api.auth, **JSON_TYPE}),
        hostile,
    )


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_verify_refuses_a_json_body(api: ApiEnv, name: str) -> None:
    hostile = HOSTILE[name]
    _refused_by_api(api, lambda: api.client.post("/verify", content=hostile.data, headers=JSON_TYPE), hostile)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_verify_refuses_an_upload_named_json(api: ApiEnv, name: str) -> None:
    hostile = HOSTILE[name]
    upload = {"file": ("notice.json", hostile.data, "application/octet-stream")}
    _refused_by_api(api, lambda: api.client.post("/verify", files=upload), hostile)


def test_a_zip_uploaded_under_its_own_name_is_a_document_never_a_release(api: ApiEnv) -> None:
    """Any file that is not .json is an evidence document: looked up by its SHA-256, not parsed."""
    before = api_state(api)

    response = api.client.post(
        "/verify", files={"file": ("notices.zip", _zip_of_a_release(), "application/zip")}
    )

    assert response.status_code == 200, response.text
    (verdict,) = response.json()["verdicts"]
    assert (verdict["stage"], verdict["status"]) == ("document", "not_anchored")
    assert response.json()["passed"] is False
    assert api_state(api) == before


def test_a_skipped_release_in_a_package_does_not_stop_the_others(api: ApiEnv) -> None:
    """Beyond 2**53 in one release of a package: that one is skipped and says why, the other anchors."""
    good = release("ocds-213czf-hostile-0002", "tender-1")
    bad = {**release("ocds-213czf-hostile-0002", "tender-2"), "value": 2**53 + 1}
    package = {
        "uri": "https://example.org/p.json",
        "publishedDate": "2024-03-01T00:00:00Z",
        "releases": [good, bad],
    }

    response = api.client.post(
        "/notices", content=json.dumps(package).encode(), headers={**api.auth, **JSON_TYPE}
    )

    assert response.status_code == 201, response.text
    report = response.json()
    assert [n["release_id"] for n in report["notices"]] == ["tender-1"]
    (skipped,) = report["skipped"]
    assert skipped["location"] == "/releases/1"
    assert names(r"9007199254740993 is beyond", skipped["message"])


# ---------------------------------------------------------------- huge bodies (API)


def _over_the_limit() -> Iterator[bytes]:
    """A body streamed without Content-Length, one byte past the limit."""
    chunk = b" " * (1024 * 1024)
    for _ in range(MAX_BODY_BYTES // len(chunk)):
        yield chunk
    yield b"1"


HUGE = {
    "declared_length": lambda: {"content": b" " * (MAX_BODY_BYTES + 1), "headers": JSON_TYPE},
    "streamed": lambda: {"content": _over_the_limit(), "headers": JSON_TYPE},
    "multipart": lambda: {
        "files": {"file": ("notice.json", b" " * (MAX_BODY_BYTES + 1), "application/json")}
    },
}


@pytest.mark.parametrize("route", ["/notices", "/verify"])
@pytest.mark.parametrize("how", sorted(HUGE))
def test_a_body_over_the_limit_is_413(api: ApiEnv, route: str, how: str) -> None:
    before = api_state(api)
    request = HUGE[how]()
    if route == "/notices":
        request["headers"] = {**request.get("headers", {}), **api.auth}

    response = api.client.post(route, **request)

    body = problem_of(response, 413)
    assert names(rf"larger than the {MAX_BODY_BYTES} bytes accepted", body["detail"])
    assert api_state(api) == before


# ---------------------------------------------------------------- wrong content types (API)

CONTENT_TYPES: dict[str, tuple[str | None, str]] = {
    "text_plain": ("text/plain", r"content type 'text/plain'"),
    "xml": ("application/xml", r"content type 'application/xml'"),
    "form_urlencoded": (
        "application/x-www-form-urlencoded",
        r"content type 'application/x-www-form-urlencoded'",
    ),
    "json_in_latin1": ("application/json; charset=latin-1", r"JSON in charset 'latin-1' \(JSON is UTF-8\)"),
    "none": (None, r"a body without a content type"),
}


@pytest.mark.parametrize("route", ["/notices", "/verify"])
@pytest.mark.parametrize("name", sorted(CONTENT_TYPES))
def test_a_wrong_content_type_is_415(api: ApiEnv, route: str, name: str) -> None:
    content_type, says = CONTENT_TYPES[name]
    headers = {} if content_type is None else {"Content-Type": content_type}
    if route == "/notices":
        headers.update(api.auth)
    before = api_state(api)

    # A valid release: only the content type is wrong.
    response = api.client.post(route, content=spliced(b'"x": 1'), headers=headers)

    body = problem_of(response, 415)
    assert names(rf"^{says} is not accepted here; send application/json", body["detail"]), body["detail"]
    assert "application/json" in response.headers["accept-post"]
    assert api_state(api) == before


def test_a_multipart_upload_to_notices_is_415(api: ApiEnv) -> None:
    before = api_state(api)

    response = api.client.post(
        "/notices", files={"file": ("notice.json", spliced(b'"x": 1'), "application/json")}, headers=api.auth
    )

    assert names(r"'multipart/form-data' is not accepted", problem_of(response, 415)["detail"])
    assert api_state(api) == before


# ---------------------------------------------------------------- the command line


@dataclass
class CliEnv:
    """A home with a managed Anvil, a deployed ledger and one agency, driven by the real CLI."""

    home: Path

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(self.home, *args)

    def state(self) -> LedgerState:
        deployment = Deployment.load(self.home / "deployment.json")
        info = ManagedDevnet(self.home, Engine.ANVIL).status()
        assert info is not None, "the devnet stopped"
        w3 = web3_for(info.rpc_url)
        events = len(list(Ledger(w3, deployment).notice_events()))
        nonce = int(w3.eth.get_transaction_count(deployment.relayers[0]))
        store_path = self.home / "evidence.sqlite3"
        if not store_path.exists():
            return LedgerState.of(events=events, nonce=nonce, store=None)
        store = EvidenceStore(Settings(home=self.home).store_url)
        try:
            return LedgerState.of(events=events, nonce=nonce, store=store)
        finally:
            store.close()


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliEnv]:
    home = tmp_path_factory.mktemp("malformed-cli")
    try:
        for command in (("devnet", "start"), ("deploy",), ("agency", "add", AGENCY)):
            result = run_cli(home, *command)
            assert result.returncode == 0, result.stderr
        yield CliEnv(home)
    finally:
        ManagedDevnet(home, Engine.ANVIL).stop()


def _refused_by_cli(result: subprocess.CompletedProcess[str], *, file: Path, says: str, command: str) -> None:
    """Exit 2; the one line about ``file`` names the problem; a closing line; no traceback, no output."""
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    about_the_file = [line for line in lines if f": {file}: " in line]
    assert len(about_the_file) == 1, lines
    assert names(says, about_the_file[0]), f"{about_the_file[0]!r} does not name {says!r}"
    assert lines[-1] == f"error: no notice to {command}", lines


@pytest.mark.anvil
def test_the_control_release_anchors_through_the_cli(cli: CliEnv, tmp_path: Path) -> None:
    notice = tmp_path / "notice.json"
    notice.write_bytes(spliced(b'"x": 1'))
    before = cli.state()

    anchored = cli.run("anchor", "--agency", AGENCY, str(notice))
    verified = cli.run("verify", str(notice))

    assert anchored.returncode == 0, anchored.stderr
    assert verified.returncode == 0, verified.stderr
    after = cli.state()
    assert (after.anchored_events, after.relayer_nonce) == (
        before.anchored_events + 1,
        before.relayer_nonce + 1,
    )


@pytest.mark.anvil
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_anchor_and_verify_refuse(cli: CliEnv, tmp_path: Path, name: str) -> None:
    hostile = HOSTILE[name]
    notice = tmp_path / "notice.json"
    notice.write_bytes(hostile.data)
    before = cli.state()

    anchored = cli.run("anchor", "--agency", AGENCY, str(notice))
    verified = cli.run("verify", str(notice))

    _refused_by_cli(anchored, file=notice, says=hostile.says, command="anchor")
    _refused_by_cli(verified, file=notice, says=hostile.says, command="verify")
    assert cli.state() == before


@pytest.mark.anvil
def test_a_file_over_the_intake_limit_is_refused_by_its_size(cli: CliEnv, tmp_path: Path) -> None:
    """A sparse terabyte: refused from its size alone. Reading it into memory could not succeed."""
    huge = tmp_path / "huge.json"
    with huge.open("wb") as file:
        file.truncate(2**40)
    assert huge.stat().st_size > MAX_FILE_BYTES
    before = cli.state()

    anchored = cli.run("anchor", "--agency", AGENCY, str(huge))
    verified = cli.run("verify", str(huge))

    says = rf"file is {2**40} bytes, more than the {MAX_FILE_BYTES} accepted"
    _refused_by_cli(anchored, file=huge, says=says, command="anchor")
    _refused_by_cli(verified, file=huge, says=says, command="verify")
    assert cli.state() == before


@pytest.mark.anvil
def test_markup_in_a_notice_is_printed_as_written(cli: CliEnv, tmp_path: Path) -> None:
    """Rich markup in keys and identifiers: shown verbatim, never interpreted, never a crash."""
    duplicated = tmp_path / "duplicated.json"
    duplicated.write_bytes(spliced(b'"[/]": 1, "[/]": 2'))
    before = cli.state()

    refused = cli.run("verify", str(duplicated))

    _refused_by_cli(refused, file=duplicated, says=r'duplicate key "\[/\]"', command="verify")
    assert cli.state() == before

    marked = tmp_path / "marked.json"
    release_id = "[/]tender-[bold]1"
    marked.write_text(json.dumps(release("ocds-213czf-hostile-[red]0003", release_id)), encoding="utf-8")
    anchored = cli.run("anchor", "--agency", AGENCY, str(marked))
    verified = cli.run("verify", str(marked))

    for result in (anchored, verified):
        assert result.returncode == 0, result.stderr
        assert f"ocds-213czf-hostile-[red]0003 / {release_id}" in result.stdout, result.stdout


# ---------------------------------------------------------------- the documented table


def test_the_reliability_table_names_every_input_class_and_only_tests_that_exist() -> None:
    text = RELIABILITY_DOC.read_text(encoding="utf-8")
    start = text.index("## Hostile input")
    end = text.find("\n## ", start)
    section = text[start : end if end != -1 else len(text)]
    assert [name for name in HOSTILE if f"`{name}`" not in section] == []
    defined = {
        name
        for path in Path(__file__).parent.glob("test_*.py")
        for name in re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.MULTILINE)
    }
    named = set(re.findall(r"`(?:[\w./]+::)?(test_\w+)`", section))
    assert named
    assert sorted(named - defined) == []
