"""Real-shaped OCDS releases for benchmarks: deterministic, about 5 KB each, valid OCDS 1.1.

Each process has four notices (planning, tender, award, contract), as a back-filled
archive would, with its tender deadline in the past so that the ledger accepts the
award and contract. Sizes and field shapes follow the UK Contracts Finder releases in
the real corpus (about 5 KB), without depending on that folder being present.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

STAGES = ("planning", "tender", "award", "contract")
START = 1_420_070_400  # 2015-01-01
DAY = 86_400


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _buyer(rng: random.Random) -> dict[str, Any]:
    number = rng.randrange(10_000, 99_999)
    return {"id": f"GB-COH-{number:08d}", "name": f"Borough Council {number}"}


def _items(rng: random.Random, count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": str(i + 1),
            "description": f"Maintenance of public buildings, lot {i + 1}: inspection, repair and "
            f"replacement of fixtures across {rng.randrange(5, 60)} sites",
            "classification": {
                "scheme": "CPV",
                "id": f"{rng.randrange(45000000, 50999999)}",
                "description": "Building repair and maintenance services",
            },
            "quantity": rng.randrange(1, 20),
            "unit": {"name": "service", "value": {"amount": rng.randrange(1_000, 90_000), "currency": "GBP"}},
        }
        for i in range(count)
    ]


def process_releases(index: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """The four releases of process ``index``."""
    rng = random.Random(seed * 1_000_003 + index)  # noqa: S311 - workload shapes, not secrets
    ocid = f"ocds-tlbn{seed % 100:02d}-{index:07d}"  # the seed in the prefix keeps workloads apart
    buyer = _buyer(rng)
    published = START + index * 3_600
    deadline = published + 30 * DAY
    awarded = deadline + 7 * DAY
    amount = rng.randrange(50_000, 5_000_000)
    parties = [
        {
            **buyer,
            "roles": ["buyer", "procuringEntity"],
            "address": {
                "streetAddress": f"{rng.randrange(1, 200)} High Street",
                "locality": "Leeds",
                "postalCode": "LS1 1UR",
                "countryName": "United Kingdom",
            },
            "contactPoint": {
                "name": "Procurement Team",
                "email": "procurement@example.org",
                "telephone": "0113 000 0000",
            },
        }
    ]
    supplier = {"id": f"GB-COH-{rng.randrange(10_000_000, 99_999_999)}", "name": f"Contractor {index} Ltd"}
    tender = {
        "id": f"TENDER-{index:07d}",
        "title": f"Planned and reactive maintenance framework {index}",
        "description": "The council seeks contractors for planned and reactive maintenance of its estate, "
        "including schools, libraries and leisure centres, over four years with an option to extend.",
        "status": "active",
        "procurementMethod": "open",
        "mainProcurementCategory": "works",
        "value": {"amount": amount, "currency": "GBP"},
        "tenderPeriod": {"startDate": _iso(published), "endDate": _iso(deadline)},
        "items": _items(rng, 7),
        "documents": [
            {
                "id": f"DOC-{index}-{d}",
                "documentType": "tenderNotice",
                "title": f"Notice part {d}",
                "url": f"https://example.org/notices/{index}/{d}.pdf",
                "format": "application/pdf",
            }
            for d in range(3)
        ],
    }
    common = {"ocid": ocid, "language": "en", "initiationType": "tender", "buyer": buyer}
    planning = {
        **common,
        "id": f"{ocid}-planning",
        "date": _iso(published - 30 * DAY),
        "tag": ["planning"],
        "parties": parties,
        "planning": {
            "rationale": "Statutory maintenance duties of the council.",
            "budget": {"amount": {"amount": amount, "currency": "GBP"}, "description": "Capital programme"},
        },
        "tender": {**tender, "status": "planned"},
    }
    tender_release = {
        **common,
        "id": f"{ocid}-tender",
        "date": _iso(published),
        "tag": ["tender"],
        "parties": parties,
        "tender": tender,
    }
    award_parties = [*parties, {**supplier, "roles": ["supplier"]}]
    award = {
        **common,
        "id": f"{ocid}-award",
        "date": _iso(awarded),
        "tag": ["award"],
        "parties": award_parties,
        "tender": {**tender, "status": "complete"},
        "awards": [
            {
                "id": "1",
                "status": "active",
                "date": _iso(awarded),
                "suppliers": [supplier],
                "value": {"amount": amount - rng.randrange(1_000, 40_000), "currency": "GBP"},
            }
        ],
    }
    contract = {
        **common,
        "id": f"{ocid}-contract",
        "date": _iso(awarded + 5 * DAY),
        "tag": ["contract"],
        "parties": award_parties,
        "tender": {**tender, "status": "complete"},
        "contracts": [
            {
                "id": "1",
                "awardID": "1",
                "status": "active",
                "dateSigned": _iso(awarded + 5 * DAY),
                "value": {"amount": amount - 20_000, "currency": "GBP"},
                "period": {"startDate": _iso(awarded + 30 * DAY), "endDate": _iso(awarded + 4 * 365 * DAY)},
            }
        ],
    }
    return [planning, tender_release, award, contract]


def releases(count: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` releases, whole processes first (four notices each)."""
    found: list[dict[str, Any]] = []
    index = 0
    while len(found) < count:
        found.extend(process_releases(index, seed=seed))
        index += 1
    return found[:count]


def write_releases(folder: Path, count: int, *, seed: int = 7) -> list[Path]:
    """Write ``count`` releases as one file each; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for release in releases(count, seed=seed):
        path = folder / f"{release['id']}.json"
        path.write_text(json.dumps(release, indent=1, ensure_ascii=False), encoding="utf-8")
        paths.append(path)
    return paths
