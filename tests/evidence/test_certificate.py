"""The certificate: its text in three languages, and a clear error rather than a page of empty boxes."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from backend.evidence import certificate
from backend.evidence.certificate import CertificateFontError, NoticeFacts, notice_certificate, workbench_link

FACTS = NoticeFacts(
    ocid="ocds-03ad3f-273637",
    release_id="273637-infocenter-s-a-1-contract",
    stage="contract",
    digest="0x" + "ab" * 32,
    digest_scheme="sha256-jcs/1",
    agency="Dirección Nacional de Contrataciones Públicas",
    agency_id=1,
    signer="0xEAc9F4dFE967a6a03393a7306859e2632cE1Fa1D",
    block_timestamp=1_796_322_431,
    chain_id=31337,
    ledger="0x5FbDB2315678afecb367f032d93F642f64180aa3",
    block_number=6,
    block_hash="0x" + "cd" * 32,
    tx_hash="0x" + "ef" * 32,
    log_index=3,
    batch=(4, 10, "0x" + "12" * 32),
)


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize(
    ("lang", "title"),
    [("en", "Evidence certificate"), ("es", "Certificado de evidencia"), ("zh", "存证证书")],
)
def test_each_language_states_the_facts(lang: str, title: str, tmp_path: Path) -> None:
    pdf = notice_certificate(FACTS, package_name="p.zip", lang=lang, workbench_url="https://audit.example")
    text = text_of(pdf, tmp_path)
    flat = text.replace("\n", "")
    assert title in text
    assert FACTS.digest in flat and FACTS.block_hash in flat and FACTS.agency in text
    assert "https://audit.example/#/verify?digest=" + FACTS.digest in flat
    pages = subprocess.run(["pdfinfo", str(tmp_path / "c.pdf")], capture_output=True, text=True, check=True)
    assert re.search(r"^Pages: +1$", pages.stdout, re.MULTILINE), pages.stdout


def test_the_qr_link_names_the_notice_or_the_process() -> None:
    assert (
        workbench_link("http://127.0.0.1:8000/", digest="0xab")
        == "http://127.0.0.1:8000/#/verify?digest=0xab"
    )
    assert workbench_link("http://h", ocid="ocds-a b/c") == "http://h/#/process?ocid=ocds-a%20b%2Fc"


def test_a_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(certificate.FONT_ENV, str(tmp_path / "no-such-font.ttf"))
    with pytest.raises(CertificateFontError, match="no font for the 'zh' certificate") as caught:
        notice_certificate(FACTS, package_name="p.zip", lang="zh", workbench_url="http://h")
    assert caught.value.exit_code == 2
    assert certificate.FONT_ENV in caught.value.hint


def test_a_font_without_the_characters_is_refused_not_drawn_as_boxes(monkeypatch: pytest.MonkeyPatch) -> None:
    latin_only = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    if not Path(latin_only).is_file():
        pytest.skip("Debian's fonts-dejavu-core is not installed")
    monkeypatch.setenv(certificate.FONT_ENV, latin_only)
    with pytest.raises(CertificateFontError, match="cannot draw"):
        notice_certificate(FACTS, package_name="p.zip", lang="zh", workbench_url="http://h")
