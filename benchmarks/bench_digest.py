"""Releases per second for a release digest (RFC 8785 canonical bytes, then SHA-256).

Compares, on the same ~5 KB releases:

* the ``rfc8785`` package (the reference implementation) + SHA-256;
* ours, ``backend.core.digest.release_digest``;
* a plain ``json.loads`` of the same release bytes: the practical floor, since every
  notice is parsed before it is digested.

It also times the whole path from bytes (strict parse + digest) both ways.

The releases are the real ones of ../shared/ocds-real (from the project root) whose
compact JSON is 2.5-10 KB, and synthetic releases shaped like them (about 5 KB,
always available). Each figure is the best of several rounds, to damp the noise of a
shared machine. Run: ``.venv/bin/python benchmarks/bench_digest.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import rfc8785

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from backend.core.digest import release_digest  # noqa: E402  # after the path set-up
from backend.core.jsontext import parse_json  # noqa: E402

CORPUS = PROJECT_ROOT.parent / "shared" / "ocds-real"
MIN_BYTES, MAX_BYTES = 2_500, 10_000
SYNTHETIC_COUNT = 200


def corpus_releases() -> list[dict[str, Any]]:
    """Every release object in the corpus: single releases, release and record packages."""
    found: list[dict[str, Any]] = []
    for path in sorted(CORPUS.rglob("*.json")):
        raw = path.read_bytes()
        if not raw.strip():
            continue
        document = json.loads(raw)
        if "records" in document:
            for record in document["records"]:
                found += [r for r in record.get("releases", []) if isinstance(r, dict) and "ocid" in r]
                if isinstance(record.get("compiledRelease"), dict):
                    found.append(record["compiledRelease"])
        elif "releases" in document:
            found += [r for r in document["releases"] if isinstance(r, dict)]
        else:
            found.append(document)
    return found


def synthetic_releases(count: int, seed: int = 8785) -> list[dict[str, Any]]:
    """Releases shaped like the corpus ones: nested parties, items and documents,
    Spanish text with accents, amounts and quantities as floats (about 2 per KB, as in the corpus),
    about 5 KB of compact JSON each."""
    rng = random.Random(seed)  # noqa: S311  # reproducible test data, not a secret
    words = ["adquisición", "de", "equipos", "informáticos", "para", "la", "dirección", "general", "servicio"]

    def text(n: int) -> str:
        return " ".join(rng.choice(words) for _ in range(n)).capitalize()

    def amount() -> float:
        return (
            float(rng.randrange(1_000, 50_000_000)) if rng.random() < 0.8 else rng.randrange(100, 10**7) / 100
        )

    def party(i: int) -> dict[str, Any]:
        return {
            "id": f"PY-RUC-{rng.randrange(10**6, 10**7)}-{i}",
            "name": text(4),
            "identifier": {"scheme": "PY-RUC", "id": str(rng.randrange(10**6, 10**7)), "legalName": text(3)},
            "address": {"streetAddress": text(3), "locality": "Asunción", "countryName": "Paraguay"},
            "contactPoint": {
                "name": text(2),
                "email": "compras@example.gov.py",
                "telephone": "+595 21 000 000",
            },
            "roles": rng.sample(["buyer", "procuringEntity", "supplier", "tenderer", "payer"], 2),
        }

    def item(i: int) -> dict[str, Any]:
        return {
            "id": str(i),
            "description": text(8),
            "classification": {
                "scheme": "UNSPSC",
                "id": str(rng.randrange(10**7, 10**8)),
                "description": text(3),
            },
            "quantity": float(rng.randrange(1, 500)),
            "unit": {"name": "Unidad", "value": {"amount": amount(), "currency": "PYG"}},
        }

    releases = []
    for n in range(count):
        ocid = f"ocds-03ad3f-{270000 + n}"
        releases.append(
            {
                "ocid": ocid,
                "id": f"{ocid}-tender-{n}",
                "date": f"2017-0{1 + n % 9}-1{n % 10}T10:00:00Z",
                "tag": ["tender"],
                "initiationType": "tender",
                "language": "es",
                "parties": [party(i) for i in range(3)],
                "buyer": {"id": "PY-DNCP-1", "name": text(4)},
                "planning": {
                    "budget": {"amount": {"amount": amount(), "currency": "PYG"}, "project": text(6)}
                },
                "tender": {
                    "id": str(rng.randrange(10**5, 10**6)),
                    "title": text(7),
                    "description": text(100),
                    "status": "active",
                    "procurementMethod": "open",
                    "value": {"amount": amount(), "currency": "PYG"},
                    "tenderPeriod": {"startDate": "2017-03-01T09:00:00Z", "endDate": "2017-04-01T09:00:00Z"},
                    "items": [item(i) for i in range(4)],
                    "documents": [
                        {
                            "id": str(i),
                            "title": text(5),
                            "url": f"https://example.gov.py/doc/{n}/{i}",
                            "format": "pdf",
                        }
                        for i in range(5)
                    ],
                },
            }
        )
    return releases


def best_rates(tasks: dict[str, Callable[[], object]], count: int, rounds: int) -> dict[str, float]:
    """Releases per second of each task (each handles ``count`` releases): its best pass.

    Time is this process's CPU time, not wall time, so that other processes on a
    shared machine cost no one. Each task runs its passes back to back (steady state,
    as in a batch run, where each release is digested right after it is parsed), and
    the whole sequence runs twice, so that slow phases of the machine hit every task.
    """
    best = dict.fromkeys(tasks, float("inf"))
    for _ in range(2):
        for name, task in tasks.items():
            for _ in range(rounds):
                start = time.process_time()
                task()
                best[name] = min(best[name], time.process_time() - start)
    return {name: count / seconds for name, seconds in best.items()}


def measure(name: str, releases: list[dict[str, Any]], rounds: int) -> Iterator[str]:
    texts = [json.dumps(release, ensure_ascii=False).encode("utf-8") for release in releases]
    count = len(releases)
    mean_kb = sum(map(len, texts)) / count / 1000
    sha256 = hashlib.sha256
    rates = best_rates(
        {
            "reference": lambda: [sha256(rfc8785.dumps(r)).digest() for r in releases],
            "ours": lambda: [release_digest(r) for r in releases],
            "floor": lambda: [json.loads(t) for t in texts],
            "reference from bytes": lambda: [sha256(rfc8785.dumps(json.loads(t))).digest() for t in texts],
            "ours from bytes": lambda: [release_digest(parse_json(t)) for t in texts],
        },
        count,
        rounds,
    )
    reference, ours, floor = rates["reference"], rates["ours"], rates["floor"]
    yield f"{name}: {count} releases, {mean_kb:.1f} KB each on average"
    yield row("rfc8785 + SHA-256", reference)
    yield row("ours: release_digest", ours, f"{ours / reference:.1f}x rfc8785")
    yield row("floor: json.loads of the same bytes", floor, f"ours takes {floor / ours:.2f}x its time")
    yield row("from bytes: json.loads + rfc8785 + SHA-256", rates["reference from bytes"])
    ratio = rates["ours from bytes"] / rates["reference from bytes"]
    yield row("from bytes: parse_json + release_digest", rates["ours from bytes"], f"{ratio:.1f}x")


def rates_of(releases: list[dict[str, Any]], rounds: int) -> dict[str, float]:
    """Releases per second of each variant, on ``releases``."""
    texts = [json.dumps(release, ensure_ascii=False).encode("utf-8") for release in releases]
    sha256 = hashlib.sha256
    return best_rates(
        {
            "reference": lambda: [sha256(rfc8785.dumps(r)).digest() for r in releases],
            "ours": lambda: [release_digest(r) for r in releases],
            "floor": lambda: [json.loads(t) for t in texts],
            "reference_from_bytes": lambda: [sha256(rfc8785.dumps(json.loads(t))).digest() for t in texts],
            "ours_from_bytes": lambda: [release_digest(parse_json(t)) for t in texts],
        },
        len(releases),
        rounds,
    )


def figures(rounds: int) -> dict[str, Any]:
    """The digest figures for ``make bench``: synthetic real-shaped releases, and the corpus if present."""
    result: dict[str, Any] = {
        "synthetic": rates_of(synthetic_releases(SYNTHETIC_COUNT), rounds),
        "corpus": None,
    }
    if CORPUS.is_dir():
        real = [
            r
            for r in corpus_releases()
            if MIN_BYTES <= len(json.dumps(r, ensure_ascii=False).encode()) <= MAX_BYTES
        ]
        result["corpus"] = rates_of(real, rounds)
    return result


def row(label: str, releases_per_second: float, note: str = "") -> str:
    return f"  {label:<44}{releases_per_second:>10,.0f} releases/s   {note}".rstrip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="timed passes per variant and sweep")
    rounds = parser.parse_args().rounds
    if CORPUS.is_dir():
        real = [
            r
            for r in corpus_releases()
            if MIN_BYTES <= len(json.dumps(r, ensure_ascii=False).encode()) <= MAX_BYTES
        ]
        for line in measure(
            f"real corpus releases of {MIN_BYTES / 1000:g}-{MAX_BYTES / 1000:g} KB", real, rounds
        ):
            print(line)
    else:
        print(f"(no corpus at {CORPUS}: synthetic releases only)")
    for line in measure("synthetic real-shaped releases", synthetic_releases(SYNTHETIC_COUNT), rounds):
        print(line)


if __name__ == "__main__":
    main()
