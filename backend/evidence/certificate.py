"""The human-readable side of an evidence package: a one-page certificate (PDF with a QR code).

The certificate states what was anchored, by which agency and seal key, when, its
digest, and where on the chain (chain id, contract, block number and hash,
transaction), with a QR code that opens the workbench's verification of the notice.
For a process dossier it is a short report: the notices, the timeline and the red flags.

It is a rendering: what proves the facts is ``proof.json``, which ``verify_evidence.py``
checks. Fonts come from the system (Debian's ``fonts-dejavu-core`` for English and
Spanish, ``fonts-wqy-microhei`` for Chinese) or from ``TENDERLEDGER_CERTIFICATE_FONT``;
a font that lacks a character of the page is an error, never a page of empty boxes.
"""

# ruff: noqa: RUF001 - the Chinese labels use Chinese punctuation
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import segno
from fontTools.ttLib import TTCollection, TTFont  # type: ignore[import-untyped]
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from backend.errors import ConfigurationError

LANGUAGES = ("en", "es", "zh")
DEFAULT_WORKBENCH_URL = "http://127.0.0.1:8000"
FONT_ENV = "TENDERLEDGER_CERTIFICATE_FONT"
# Debian's packages: fonts-dejavu-core, fonts-wqy-microhei (or fonts-wqy-zenhei).
_LATIN_FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",)
_CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
_FONT_PACKAGES = {"en": "fonts-dejavu-core", "es": "fonts-dejavu-core", "zh": "fonts-wqy-microhei"}

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Evidence certificate",
        "dossier": "Process dossier",
        "intro": "This notice was sealed by the agency and anchored on the ledger, as follows.",
        "what": "What was anchored",
        "ocid": "Process (ocid)",
        "release": "Release id",
        "stage": "Stage",
        "digest": "Digest",
        "agency": "Agency",
        "seal_key": "Seal key",
        "time": "Block time (UTC)",
        "chain": "Chain id",
        "contract": "Ledger contract",
        "block": "Block number",
        "block_hash": "Block hash",
        "tx": "Transaction",
        "batch": "Merkle batch",
        "batch_text": "leaf {index} of {size} under root {root}",
        "check": "How to check it",
        "check_text": "No need to unpack anything: run  python3 -I verify_evidence.py {name}  (only Python "
        "is needed). It "
        "proves every statement above from the block hash alone, then prints that hash and its height "
        "for you to compare with any node or witness of the chain.",
        "qr": "Scan to verify this notice in the workbench:",
        "qr_process": "Scan to open this process in the workbench:",
        "notices": "Notices",
        "timeline": "Timeline",
        "flags": "Red flags",
        "no_flags": "none",
        "footer": "This page is a rendering. The evidence is proof.json; verify_evidence.py checks it.",
    },
    "es": {
        "title": "Certificado de evidencia",
        "dossier": "Expediente del proceso",
        "intro": "Este aviso fue sellado por el organismo y anclado en el registro, como sigue.",
        "what": "Qué se ancló",
        "ocid": "Proceso (ocid)",
        "release": "Id de la entrega",
        "stage": "Etapa",
        "digest": "Huella",
        "agency": "Organismo",
        "seal_key": "Clave de sello",
        "time": "Hora del bloque (UTC)",
        "chain": "Id de la cadena",
        "contract": "Contrato del registro",
        "block": "Número de bloque",
        "block_hash": "Hash del bloque",
        "tx": "Transacción",
        "batch": "Lote Merkle",
        "batch_text": "hoja {index} de {size} bajo la raíz {root}",
        "check": "Cómo comprobarlo",
        "check_text": "Sin descomprimir nada: ejecute  python3 -I verify_evidence.py {name}  (basta con "
        "Python). Prueba cada dato anterior a partir del hash del bloque y luego imprime ese hash y su "
        "altura para compararlos con cualquier nodo o testigo de la cadena.",
        "qr": "Escanee para verificar este aviso en el banco de trabajo:",
        "qr_process": "Escanee para abrir este proceso en el banco de trabajo:",
        "notices": "Avisos",
        "timeline": "Cronología",
        "flags": "Alertas",
        "no_flags": "ninguna",
        "footer": "Esta página es una representación. La evidencia es proof.json; "
        "verify_evidence.py la comprueba.",
    },
    "zh": {
        "title": "存证证书",
        "dossier": "采购流程证据包",
        "intro": "本公告已由机构电子签章并锚定在账本上，详情如下。",
        "what": "存证内容",
        "ocid": "流程编号 (ocid)",
        "release": "发布编号",
        "stage": "阶段",
        "digest": "摘要",
        "agency": "机构",
        "seal_key": "签章密钥",
        "time": "区块时间 (UTC)",
        "chain": "链编号",
        "contract": "账本合约",
        "block": "区块高度",
        "block_hash": "区块哈希",
        "tx": "交易",
        "batch": "默克尔批次",
        "batch_text": "根 {root} 下 {size} 个叶子中的第 {index} 个",
        "check": "如何核验",
        "check_text": "无需解压：运行  python3 -I verify_evidence.py {name}  （只需 Python）。它仅凭区块哈希"
        "证明以上每一项，最后打印该哈希及其高度，供您与任一节点或见证方比对。",
        "qr": "扫码在工作台核验本公告：",
        "qr_process": "扫码在工作台打开本流程：",
        "notices": "公告",
        "timeline": "时间线",
        "flags": "风险提示",
        "no_flags": "无",
        "footer": "本页仅为展示。证据为 proof.json，由 verify_evidence.py 核验。",
    },
}


class CertificateFontError(ConfigurationError):
    """No font that can draw every character of the certificate."""


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    """What a notice certificate states (every value comes from the proven receipt)."""

    ocid: str
    release_id: str
    stage: str
    digest: str
    digest_scheme: str
    agency: str
    agency_id: int
    signer: str
    block_timestamp: int
    chain_id: int
    ledger: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    batch: tuple[int, int, str] | None  # a batch member's (leaf index, batch size, root)


@dataclass(frozen=True, slots=True)
class DossierFacts:
    """What a process dossier report states."""

    ocid: str
    chain_id: int
    ledger: str
    notices: Sequence[NoticeFacts]
    timeline: Sequence[str]
    red_flags: Sequence[str]


def workbench_link(base: str, *, digest: str | None = None, ocid: str | None = None) -> str:
    """The workbench URL that verifies a notice (by digest) or opens a process (by ocid)."""
    root = base.rstrip("/")
    if digest is not None:
        return f"{root}/#/verify?digest={digest}"
    return f"{root}/#/process?ocid={quote(ocid or '', safe='')}"


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")


class _Font:
    """The font file for a language, checked to hold every character it must draw."""

    def __init__(self, lang: str) -> None:
        override = os.environ.get(FONT_ENV)
        candidates = (override,) if override else (_CJK_FONTS if lang == "zh" else _LATIN_FONTS)
        path = next((p for p in candidates if p and Path(p).is_file()), None)
        if path is None:
            raise CertificateFontError(
                f"no font for the {lang!r} certificate: looked for {', '.join(c for c in candidates if c)}",
                hint=f"install Debian's {_FONT_PACKAGES[lang]} (apt-get install {_FONT_PACKAGES[lang]}), "
                f"or point {FONT_ENV} at a TrueType font that has the language's characters",
            )
        self.path = path
        font = TTCollection(path).fonts[0] if path.lower().endswith(".ttc") else TTFont(path)
        self.characters = set(font.getBestCmap() or {})

    def check(self, text: str) -> None:
        missing = sorted({c for c in text if not c.isspace() and ord(c) not in self.characters})
        if missing:
            raise CertificateFontError(
                f"the font {self.path} cannot draw {''.join(missing[:12])!r}: the certificate would show "
                "empty boxes",
                hint=f"set {FONT_ENV} to a font that has these characters",
            )


class _Page(FPDF):
    def __init__(self, font: _Font, footer_text: str) -> None:
        super().__init__(format="A4")
        font.check(footer_text)
        self._font_file = font
        self._footer_text = footer_text
        self.set_margins(16, 14, 16)
        self.set_auto_page_break(auto=True, margin=16)
        self.add_font("cert", "", font.path)
        self.set_font("cert", size=10)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font("cert", size=7)
        self.set_text_color(90, 90, 90)
        self.cell(0, 5, self._footer_text, align="C")

    def say(self, text: str, *, size: float = 10, height: float = 5.2, gray: int = 0) -> None:
        self._font_file.check(text)
        self.set_font("cert", size=size)
        self.set_text_color(gray, gray, gray)
        self.multi_cell(0, height, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def field(self, label: str, value: str) -> None:
        self._font_file.check(label + value)
        self.set_font("cert", size=8.5)
        self.set_text_color(80, 80, 80)
        self.cell(42, 5.2, label)
        self.set_text_color(0, 0, 0)
        self.set_font("cert", size=9)
        self.multi_cell(0, 5.2, value, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def qr(self, link: str, caption: str) -> None:
        """The QR code drawn as vector squares (no raster image), with its URL printed beneath."""
        code = segno.make(link, error="m")
        width, height = code.symbol_size(scale=1, border=0)
        module = 38 / width
        x0, y0 = self.w - self.r_margin - 38, self.get_y() + 2
        self.set_fill_color(0, 0, 0)
        for row, bits in enumerate(code.matrix):
            for col, bit in enumerate(bits):
                if bit:
                    self.rect(x0 + col * module, y0 + row * module, module, module, style="F")
        self.set_xy(self.l_margin, y0)
        self.set_right_margin(self.r_margin + 42)
        self.say(caption, size=9)
        self.say(link, size=8, gray=60)
        self.set_right_margin(16)
        self.set_y(max(self.get_y(), y0 + height * module) + 4)


def notice_certificate(facts: NoticeFacts, *, package_name: str, lang: str, workbench_url: str) -> bytes:
    """The one-page certificate of one anchored notice, as PDF bytes."""
    labels = LABELS[lang]
    page = _Page(_Font(lang), labels["footer"])
    page.add_page()
    page.say(labels["title"], size=18, height=9)
    page.say(labels["intro"], size=9.5, gray=40)
    page.ln(3)
    rows = [
        (labels["what"], f"{facts.stage}" + (f" ({facts.digest_scheme})" if facts.digest_scheme else "")),
        (labels["ocid"], facts.ocid),
        (labels["release"], facts.release_id),
        (labels["digest"], facts.digest),
        (labels["agency"], f"{facts.agency} (#{facts.agency_id})"),
        (labels["seal_key"], facts.signer),
        (labels["time"], _utc(facts.block_timestamp)),
        (labels["chain"], str(facts.chain_id)),
        (labels["contract"], facts.ledger),
        (labels["block"], str(facts.block_number)),
        (labels["block_hash"], facts.block_hash),
        (labels["tx"], f"{facts.tx_hash} (log {facts.log_index})"),
    ]
    if facts.batch:
        index, size, root = facts.batch
        rows.append((labels["batch"], labels["batch_text"].format(index=index, size=size, root=root)))
    for label, value in rows:
        page.field(label, value)
    page.ln(4)
    page.qr(workbench_link(workbench_url, digest=facts.digest), labels["qr"])
    page.say(labels["check"], size=12, height=7)
    page.say(labels["check_text"].format(name=package_name), size=9)
    return bytes(page.output())


def dossier_report(facts: DossierFacts, *, package_name: str, lang: str, workbench_url: str) -> bytes:
    """The short report of a process dossier: its notices, timeline and red flags, as PDF bytes."""
    labels = LABELS[lang]
    page = _Page(_Font(lang), labels["footer"])
    page.add_page()
    page.say(labels["dossier"], size=18, height=9)
    page.field(labels["ocid"], facts.ocid)
    page.field(labels["chain"], str(facts.chain_id))
    page.field(labels["contract"], facts.ledger)
    page.ln(2)
    page.qr(workbench_link(workbench_url, ocid=facts.ocid), labels["qr_process"])
    page.say(f"{labels['notices']} ({len(facts.notices)})", size=12, height=7)
    for notice in facts.notices:
        page.say(
            f"{notice.stage}  {notice.release_id}  ·  {labels['block']} {notice.block_number}, "
            f"{_utc(notice.block_timestamp)}  ·  {notice.agency}  ·  {notice.digest}",
            size=7.5,
            height=4,
        )
    page.ln(2)
    page.say(labels["timeline"], size=12, height=7)
    for line in facts.timeline:
        page.say(line, size=8, height=4.2)
    page.ln(2)
    page.say(labels["flags"], size=12, height=7)
    for line in facts.red_flags or [labels["no_flags"]]:
        page.say(line, size=8, height=4.2)
    page.ln(2)
    page.say(labels["check"], size=12, height=7)
    page.say(labels["check_text"].format(name=package_name), size=9)
    return bytes(page.output())
