"""A realistic procurement for the demo, dated from the chain's clock.

A city tenders an electronic-seal and evidence-storage platform for its records:
tender, an amendment that extends the submission deadline, the award, the contract.
Dates are computed from the chain time, so the deadline is always ahead when the
demo starts (static files would age past it). Every release is valid OCDS 1.1.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

DAY = 86_400
OCID = "ocds-tldemo-VLP-2026-0042"
OTHER_OCID = "ocds-tldemo-VLP-2026-0057"
BUYER = {"id": "CL-MUN-VLP", "name": "Municipality of Valparaiso"}
SUPPLIER = {"id": "CL-RUT-76543210-K", "name": "SelloSeguro SpA"}
TENDER_PERIOD_DAYS = 30
EXTENSION_DAYS = 7
AWARD_AFTER_DEADLINE_S = DAY
CONTRACT_AFTER_AWARD_S = 2 * DAY


def iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parties(*, with_supplier: bool) -> list[dict[str, Any]]:
    parties: list[dict[str, Any]] = [
        {
            **BUYER,
            "roles": ["buyer", "procuringEntity"],
            "address": {"streetAddress": "Condell 1490", "locality": "Valparaiso", "countryName": "Chile"},
            "contactPoint": {"name": "Procurement Office", "email": "compras@example.org"},
        }
    ]
    if with_supplier:
        parties.append(
            {
                **SUPPLIER,
                "roles": ["supplier", "tenderer"],
                "address": {"locality": "Santiago", "countryName": "Chile"},
            }
        )
    return parties


def _tender(
    *, published: int, deadline: int, amendments: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    tender: dict[str, Any] = {
        "id": "VLP-2026-0042",
        "title": "Electronic seal and evidence-storage platform for municipal records",
        "description": "Supply, hosting and five years of support of a platform that seals municipal "
        "notices and certificates and keeps tamper-evident evidence of them.",
        "status": "active",
        "procurementMethod": "open",
        "procurementMethodDetails": "Open tender, two envelopes",
        "mainProcurementCategory": "services",
        "value": {"amount": 480000, "currency": "USD"},
        "tenderPeriod": {"startDate": iso(published), "endDate": iso(deadline)},
        "items": [
            {
                "id": "1",
                "description": "Sealing service, 2 million seals per year",
                "quantity": 1,
                "unit": {"name": "service"},
            },
            {
                "id": "2",
                "description": "Evidence storage, 10 years retention",
                "quantity": 1,
                "unit": {"name": "service"},
            },
        ],
        "documents": [
            {
                "id": "TDR-1",
                "documentType": "tenderNotice",
                "title": "Terms of reference",
                "url": "https://example.org/tenders/VLP-2026-0042/terms.pdf",
                "format": "application/pdf",
            }
        ],
    }
    if amendments:
        tender["amendments"] = amendments
    return tender


def procurement(now: int) -> dict[str, dict[str, Any]]:
    """The four releases of the demo process, keyed by step name."""
    published = now - 3600
    deadline = now + TENDER_PERIOD_DAYS * DAY
    new_deadline = deadline + EXTENSION_DAYS * DAY
    award_date = new_deadline + AWARD_AFTER_DEADLINE_S
    common = {"ocid": OCID, "language": "en", "initiationType": "tender", "buyer": BUYER}
    tender = {
        **common,
        "id": "VLP-2026-0042-tender",
        "date": iso(published),
        "tag": ["tender"],
        "parties": _parties(with_supplier=False),
        "tender": _tender(published=published, deadline=deadline),
    }
    amendment_id = "VLP-2026-0042-amendment-1"
    amendment = {
        **common,
        "id": amendment_id,
        "date": iso(now),
        "tag": ["tenderAmendment"],
        "parties": _parties(with_supplier=False),
        "tender": _tender(
            published=published,
            deadline=new_deadline,
            amendments=[
                {
                    "id": "1",
                    "date": iso(now),
                    "amendsReleaseID": tender["id"],
                    "releaseID": amendment_id,
                    "rationale": f"Submission deadline extended by {EXTENSION_DAYS} days "
                    "after clarification questions.",
                }
            ],
        ),
    }
    award = {
        **common,
        "id": "VLP-2026-0042-award-1",
        "date": iso(award_date),
        "tag": ["award"],
        "parties": _parties(with_supplier=True),
        "awards": [
            {
                "id": "1",
                "title": "Electronic seal platform",
                "status": "active",
                "date": iso(award_date),
                "value": {"amount": 455000, "currency": "USD"},
                "suppliers": [SUPPLIER],
            }
        ],
    }
    contract = {
        **common,
        "id": "VLP-2026-0042-contract-1",
        "date": iso(award_date + CONTRACT_AFTER_AWARD_S),
        "tag": ["contract"],
        "parties": _parties(with_supplier=True),
        "contracts": [
            {
                "id": "1",
                "awardID": "1",
                "title": "Electronic seal platform",
                "status": "active",
                "dateSigned": iso(award_date + CONTRACT_AFTER_AWARD_S),
                "period": {"startDate": iso(award_date + 10 * DAY), "endDate": iso(award_date + 1836 * DAY)},
                "value": {"amount": 455000, "currency": "USD"},
            }
        ],
    }
    return {"tender": tender, "amendment": amendment, "award": award, "contract": contract}


def tampered_award(award: dict[str, Any]) -> dict[str, Any]:
    """A copy of the award with the amount raised: what a forger would hand an auditor."""
    copy: dict[str, Any] = {
        **award,
        "awards": [{**award["awards"][0], "value": {"amount": 545000, "currency": "USD"}}],
    }
    return copy


def never_anchored(now: int) -> dict[str, Any]:
    """A notice that circulates but was never published through the ledger."""
    return {
        "ocid": OTHER_OCID,
        "id": "VLP-2026-0057-award-1",
        "date": iso(now),
        "tag": ["award"],
        "language": "en",
        "initiationType": "tender",
        "buyer": BUYER,
        "parties": _parties(with_supplier=True),
        "awards": [
            {
                "id": "1",
                "title": "Direct award: records scanning",
                "status": "active",
                "date": iso(now),
                "value": {"amount": 98000, "currency": "USD"},
                "suppliers": [SUPPLIER],
            }
        ],
    }
