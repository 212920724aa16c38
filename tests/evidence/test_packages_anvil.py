"""Evidence packages end to end on a managed Anvil, with real published releases.

One devnet for the module: real Paraguay releases anchored one by one, real Jalisco
releases anchored as a Merkle batch, an evidence document; the state proofs taken by anchoring;
the devnet stopped and started again from its saved state; then packages exported for
a single notice, a batch member and a whole process. Both checkers (``evidence check``
and the standalone ``verify_evidence.py`` under a bare interpreter) must prove every
package, and must fail, naming the part, on every kind of tampering.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from backend.chain.devnet import Engine, ManagedDevnet
from backend.evidence import check as project_check
from backend.evidence import verify_evidence as standalone
from tests.chain.test_devnet import run_cli

pytestmark = pytest.mark.anvil

AGENCY = "DNCP Paraguay"
PROCESS = "ocds-03ad3f-273637"
BATCH_AGENCY = "Jalisco State Government"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
PICTURE = PROJECT_ROOT / "docs" / "img" / "evidence-certificate.png"
# A bare interpreter: the base one of this virtualenv (no third-party packages), run with -I.
BARE_PYTHON = str(Path(sys.base_prefix) / "bin" / "python3")


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, ocds_real: Path) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("evidence-home")
    ok(run_cli(home, "devnet", "start"))
    ok(run_cli(home, "deploy"))
    ok(run_cli(home, "agency", "add", AGENCY, "--ocid-prefix", "ocds-03ad3f"))
    ok(run_cli(home, "agency", "add", BATCH_AGENCY, "--ocid-prefix", "ocds-xs1qbl"))
    releases = tmp_path_factory.mktemp("releases")
    for path in sorted((ocds_real / "paraguay" / "sample" / "releases").glob("273637-*.json")):
        shutil.copy(path, releases / path.name)
    ok(run_cli(home, "anchor", "--agency", AGENCY, str(releases)))
    minutes = releases.parent / "bid-opening-minutes.pdf"
    minutes.write_bytes(b"%PDF-1.4\n% bid opening minutes of 273637, signed by the committee\n")
    ok(run_cli(home, "anchor", "--agency", AGENCY, "--ocid", PROCESS, str(minutes)))
    # The Jalisco sample also holds files that are no notices (exit 2 says so); its releases go in one batch.
    batch = run_cli(home, "anchor", "--agency", BATCH_AGENCY, "--batch", str(ocds_real / "mexico-jalisco"))
    assert batch.returncode in (0, 2) and "anchored" in batch.stdout, batch.stdout + batch.stderr
    # Anchoring took the proof material while the blocks were fresh: nothing is left to capture.
    assert "took 0 state proofs" in ok(run_cli(home, "evidence", "capture")).stdout
    # The devnet restarts from its saved state: its past states are gone, the packages must not be.
    ok(run_cli(home, "devnet", "stop"))
    ok(run_cli(home, "devnet", "start"))
    yield home
    ManagedDevnet(home, Engine.ANVIL).stop()


@pytest.fixture(scope="module")
def packages(home: Path, ocds_real: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("packages")
    contract = ocds_real / "paraguay" / "sample" / "releases" / "273637-infocenter-s-a-1-contract.json"
    verdicts = run_cli(home, "verify", "--json", str(ocds_real / "mexico-jalisco")).stdout.splitlines()
    member = next(line for line in map(json.loads, verdicts) if line.get("batch_root"))
    exported = ok(
        run_cli(home, "evidence", "export", "--out", str(out), str(contract), member["digest"], PROCESS)
    )
    ok(run_cli(home, "evidence", "export", "--out", str(out / "zh"), "--lang", "zh", str(contract)))
    assert exported.stdout.count("exported") == 3
    single = "evidence-ocds-03ad3f-273637-273637-infocenter-s-a-1-contract.zip"
    return {
        "single": out / single,
        "batch": next(out.glob("evidence-ocds-xs1qbl-*.zip")),
        "dossier": out / "dossier-ocds-03ad3f-273637.zip",
        "zh": out / "zh" / single,
    }


def check_command(*args: str) -> Result:
    """``tenderledger evidence check ARGS``, in process (the same command, without a new interpreter)."""
    from backend.cli import app

    return CliRunner().invoke(app, ["evidence", "check", *args])


def standalone_run(
    package: Path, python: str = BARE_PYTHON, *, shipped_in: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python3 -I verify_evidence.py PACKAGE``, with the verifier shipped inside the package
    (or inside ``shipped_in``, for a package too broken to hold one)."""
    with zipfile.ZipFile(shipped_in or package) as archive:
        verifier = package.parent / f"{package.stem}-verify_evidence.py"
        verifier.write_bytes(archive.read("verify_evidence.py"))
    return subprocess.run(
        [python, "-I", str(verifier), str(package)], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize("kind", ["single", "batch", "dossier", "zh"])
def test_both_checkers_prove_every_exported_package(
    home: Path, packages: dict[str, Path], kind: str, tmp_path: Path
) -> None:
    package = packages[kind]
    verified = standalone_run(package)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    lines = verified.stdout.strip().splitlines()
    assert lines[-1].startswith("trusted: block ") and " has hash 0x" in lines[-1]
    assert all(not line.startswith("FAILED") for line in lines)
    # The same verdicts from the standalone module in process and from the project's own checker.
    results, _trust = standalone.check_package(str(package))
    report = project_check.check_package(package)
    assert [(label, finding) for label, finding, _ in results] == report.results
    assert report.proven and all(finding is None for _, finding in report.results)
    checked = ok(run_cli(home, "evidence", "check", str(package)))
    assert "FAILED" not in checked.stdout
    # The unpacked folder proves itself too.
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(folder)
    assert standalone_run_folder(folder).returncode == 0


def standalone_run_folder(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BARE_PYTHON, "-I", str(folder / "verify_evidence.py"), str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_packages_hold_what_the_issue_lists(packages: dict[str, Path]) -> None:
    with zipfile.ZipFile(packages["dossier"]) as archive:
        names = set(archive.namelist())
        proof = json.loads(archive.read("proof.json"))
    assert {"proof.json", "certificate.pdf", "verify_evidence.py", "timeline.json", "README.txt"} <= names
    assert proof["kind"] == "dossier" and len(proof["items"]) == 5  # four releases and the minutes
    schemes = {item["notice"]["digest_scheme"] for item in proof["items"]}
    assert schemes == {"sha256-jcs/1", "sha256-raw/1"}
    document = next(i for i in proof["items"] if i["notice"]["digest_scheme"] == "sha256-raw/1")
    with zipfile.ZipFile(packages["dossier"]) as archive:
        assert archive.read(document["notice"]["file"]).startswith(b"%PDF-1.4\n% bid opening minutes")
    timeline = json.loads(zipfile.ZipFile(packages["dossier"]).read("timeline.json"))
    assert timeline["ocid"] == PROCESS and timeline["timeline"]


def test_check_with_rpc_url_confirms_the_block_hash(home: Path, packages: dict[str, Path]) -> None:
    status = ok(run_cli(home, "devnet", "status", "--json"))
    rpc_url = json.loads(status.stdout)["rpc_url"]
    checked = ok(run_cli(home, "evidence", "check", "--rpc-url", rpc_url, str(packages["single"])))
    assert "the chain at --rpc-url holds it" in checked.stdout


def test_the_verifier_runs_under_the_oldest_python_claimed(packages: dict[str, Path]) -> None:
    oldest = os.environ.get("TENDERLEDGER_OLDEST_PYTHON") or shutil.which("python3.9")
    if not oldest or subprocess.run([oldest, "-c", "pass"], capture_output=True, check=False).returncode:
        pytest.skip(
            "no Python 3.9 here (set TENDERLEDGER_OLDEST_PYTHON); the source is parsed as 3.9 elsewhere"
        )
    version = subprocess.run(
        [oldest, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    )
    assert version.stdout.strip() == "(3, 9)"
    for kind in ("single", "batch", "dossier"):
        verified = standalone_run(packages[kind], python=oldest)
        assert verified.returncode == 0, verified.stdout + verified.stderr


# ---------------------------------------------------------------- tampering


def read_members(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_members(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def flip_hex(text: str, at: float = 0.5) -> str:
    """``text`` (0x hex) with one hex digit changed, about ``at`` of the way along."""
    i = 2 + int((len(text) - 3) * at)
    return text[:i] + ("0" if text[i] != "0" else "1") + text[i + 1 :]


def tamper_proof(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, bytes]], None]:
    def apply(members: dict[str, bytes]) -> None:
        proof = json.loads(members["proof.json"])
        change(proof)
        members["proof.json"] = json.dumps(proof, indent=1, sort_keys=True).encode()

    return apply


def tamper_member(name: str, change: Callable[[bytes], bytes]) -> Callable[[dict[str, bytes]], None]:
    """Change a member and list its new hash, as a forger would."""

    def apply(members: dict[str, bytes]) -> None:
        members[name] = change(members[name])
        proof = json.loads(members["proof.json"])
        proof["files"][name] = "0x" + hashlib.sha256(members[name]).hexdigest()
        members["proof.json"] = json.dumps(proof, indent=1, sort_keys=True).encode()

    return apply


def first_item(key: str, field: str, at: float = 0.5) -> Callable[[dict[str, Any]], None]:
    def change(proof: dict[str, Any]) -> None:
        holder = proof["items"][0][key]
        if isinstance(holder[field], list):
            holder[field][-1] = flip_hex(holder[field][-1], at)
        else:
            holder[field] = flip_hex(holder[field], at)

    return change


def header_byte(proof: dict[str, Any]) -> None:
    block = next(iter(proof["blocks"].values()))
    block["header"] = flip_hex(block["header"], 0.3)


def receipt_timestamp(data: bytes) -> bytes:
    receipt = json.loads(data)
    receipt["anchor"]["block_timestamp"] += 1
    return (json.dumps(receipt, indent=2, sort_keys=True) + "\n").encode()


def receipt_agency_name(data: bytes) -> bytes:
    receipt = json.loads(data)
    receipt["seal"]["agency_name"] = receipt["seal"]["agency_name"].replace("DNCP", "DNCQ")
    return (json.dumps(receipt, indent=2, sort_keys=True) + "\n").encode()


def notice_byte(data: bytes) -> bytes:
    return data.replace(b'"ocid"', b'"ocjd"', 1)


TAMPERS: dict[str, tuple[str, Callable[[dict[str, bytes]], None], str]] = {
    "notice bytes": ("single", tamper_member("notice.json", notice_byte), "notice"),
    "receipt field": ("single", tamper_member("receipt.json", receipt_timestamp), "receipt"),
    "receipt agency name": ("single", tamper_member("receipt.json", receipt_agency_name), "receipt"),
    "receipts proof node": (
        "single",
        tamper_proof(first_item("transaction", "receipts_proof")),
        "receipts proof",
    ),
    "transaction proof node": (
        "single",
        tamper_proof(first_item("transaction", "transaction_proof")),
        "transaction proof",
    ),
    "state proof node": ("single", tamper_proof(first_item("state", "nodes")), "state proof"),
    "header": ("single", tamper_proof(header_byte), "header"),
    "seal": ("single", tamper_proof(first_item("seal", "signature", 0.2)), "seal"),
    "batch inclusion proof": (
        "batch",
        tamper_proof(lambda proof: proof["items"][0]["batch"]["proof"]["path"].__setitem__(0, "00" * 32)),
        "batch proof",
    ),
    "a document in a dossier": (
        "dossier",
        lambda members: members.update(
            {
                name: data + b"\n"
                for name, data in members.items()
                if name.startswith("notices/") and name.endswith("document.pdf")
            }
        ),
        "notice",
    ),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_tampering_fails_both_checkers_naming_the_part(
    home: Path, packages: dict[str, Path], tmp_path: Path, name: str
) -> None:
    kind, apply, part = TAMPERS[name]
    members = read_members(packages[kind])
    apply(members)
    forged = write_members(tmp_path / packages[kind].name, members)
    verified = standalone_run(forged)
    assert verified.returncode == 1, verified.stdout + verified.stderr
    failed = [line for line in verified.stdout.splitlines() if line.startswith("FAILED")]
    assert any(f": {part}: " in line for line in failed), verified.stdout
    checked = check_command(str(forged))
    assert checked.exit_code == 1, checked.output
    assert any(f": {part}: " in line for line in checked.output.splitlines() if line.startswith("FAILED"))


# ---------------------------------------------------------------- bad input


def zip64_member_declaring(size: int) -> bytes:
    """A small zip whose one member's central-directory entry declares ``size`` bytes (zip64)."""
    name, data = b"notice.json", b"{}"
    crc = zlib.crc32(data)
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 45, 0, 0, 0, 0, crc, len(data), len(data), len(name), 0)
    extra = struct.pack("<2H2Q", 1, 16, size, len(data))
    central = struct.pack(
        "<4s6H3L5H2L", b"PK\x01\x02", 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra),
        0, 0, 0, 0, 0,
    )  # fmt: skip
    body = local + name + data
    directory = central + name + extra
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(directory), len(body), 0)
    return body + directory + end


BAD_INPUTS: dict[str, Callable[[bytes], bytes]] = {
    "truncated zip": lambda data: data[: len(data) - 200],
    "extra member": lambda data: _with_members(data, add={"extra.txt": b"not listed"}),
    "missing member": lambda data: _with_members(data, drop="certificate.pdf"),
    "path climbing out": lambda data: _with_members(data, add={"../escaped.txt": b"outside"}),
    "10 GB member declared": lambda _data: zip64_member_declaring(10 * 2**30),
    "not a zip": lambda _data: b"just some bytes",
}


def _with_members(data: bytes, *, add: dict[str, bytes] | None = None, drop: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            if info.filename != drop:
                target.writestr(info, source.read(info))
        for name, content in (add or {}).items():
            target.writestr(zipfile.ZipInfo(name), content)
    return buffer.getvalue()


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_packages_are_refused_with_exit_2_and_nothing_extracted(
    home: Path, packages: dict[str, Path], tmp_path: Path, name: str
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    bad = folder / "package.zip"
    bad.write_bytes(BAD_INPUTS[name](packages["single"].read_bytes()))
    verified = standalone_run(bad, shipped_in=packages["single"])
    assert verified.returncode == 2, verified.stdout + verified.stderr
    assert verified.stderr.startswith("error: ") and len(verified.stderr.splitlines()) == 1
    checked = check_command(str(bad))
    assert checked.exit_code == 2, checked.output
    assert "error:" in checked.output and "Traceback" not in checked.output
    assert not (tmp_path / "escaped.txt").exists()
    assert sorted(p.name for p in folder.iterdir()) == ["package-verify_evidence.py", "package.zip"]


# ---------------------------------------------------------------- the certificate


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_certificate_states_digest_block_and_agency(packages: dict[str, Path], tmp_path: Path) -> None:
    members = read_members(packages["single"])
    receipt = json.loads(members["receipt.json"])
    text = pdf_text(members["certificate.pdf"], tmp_path)
    assert receipt["notice"]["digest"] in text.replace("\n", "")
    assert str(receipt["anchor"]["block_number"]) in text
    assert receipt["anchor"]["block_hash"] in text.replace("\n", "")
    assert AGENCY in text
    assert "Evidence certificate" in text
    zh = pdf_text(read_members(packages["zh"])["certificate.pdf"], tmp_path)
    assert "存证证书" in zh and receipt["notice"]["digest"] in zh.replace("\n", "")
    dossier = pdf_text(read_members(packages["dossier"])["certificate.pdf"], tmp_path)
    assert PROCESS in dossier and "Red flags" in dossier and "Timeline" in dossier


def test_certificate_page_renders_to_the_readme_picture(packages: dict[str, Path], tmp_path: Path) -> None:
    pdf = tmp_path / "certificate.pdf"
    pdf.write_bytes(read_members(packages["single"])["certificate.pdf"])
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
    )
    (png,) = tmp_path.glob("page*.png")
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000
    width, height = struct.unpack(">2L", data[16:24])
    assert (width, height) == (579, 819)  # A4 at 70 dpi
    if os.environ.get("TENDERLEDGER_UPDATE_PICTURES"):
        PICTURE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(png, PICTURE)


def test_the_api_serves_packages_that_prove_themselves(
    home: Path, packages: dict[str, Path], tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from backend.api import create_app
    from backend.settings import Settings

    digest = json.loads(read_members(packages["single"])["receipt.json"])["notice"]["digest"]
    with TestClient(create_app(Settings(home=home))) as client:
        answer = client.get(f"/notices/{digest}/evidence")
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/zip"
        notice_zip = tmp_path / "notice.zip"
        notice_zip.write_bytes(answer.content)
        dossier = client.get(f"/processes/{PROCESS}/dossier", params={"lang": "es"})
        assert dossier.status_code == 200, dossier.text
        (tmp_path / "dossier.zip").write_bytes(dossier.content)
        assert client.get("/notices/0x" + "ab" * 32 + "/evidence").status_code == 404
        assert client.get("/notices/nonsense/evidence").status_code == 400
        assert client.get("/processes/ocds-unknown-1/dossier").status_code == 404
    assert project_check.check_package(notice_zip).proven
    assert project_check.check_package(tmp_path / "dossier.zip").proven
    assert standalone_run(notice_zip).returncode == 0


def test_the_project_checker_proves_the_original_file_holds_the_release(
    packages: dict[str, Path], tmp_path: Path
) -> None:
    members = read_members(packages["single"])
    proof = json.loads(members["proof.json"])
    original = proof["items"][0]["original"]
    assert original == "original/273637-infocenter-s-a-1-contract.json"
    assert json.loads(members[original]) == json.loads(members["notice.json"])
    # The standalone verifier lists the original by hash only (it has no RFC 8785 canonicalizer);
    # the project's checker proves one of its releases canonicalizes to the anchored bytes.
    tamper_member(original, lambda data: data.replace(b'"ocid"', b'"ocid" ', 1).replace(b"2", b"3", 1))(
        members
    )
    report = project_check.check_package(write_members(tmp_path / "forged.zip", members))
    assert any(finding and finding.startswith("original: ") for _, finding in report.results), report.results
