"""The agency demo, end to end, on a fresh devnet under ``$TENDERLEDGER_HOME/demo``.

The demo is a caller of the service layer like the command line: devnets from
:mod:`backend.service.devnet`, deployment and agencies from :mod:`backend.service.governance`.

1. start a devnet, deploy the ledger, register two agencies, and reserve the city's
   ocid prefix for it;
2. a city anchors a tender and an amendment that moves its deadline; an award sent
   before the deadline is refused by the ledger; the devnet clock moves past the
   deadline and the award and contract are accepted;
3. a national agency, given the real publishers' ocid prefixes, anchors their real
   OCDS releases;
4. an auditor verifies the notices and catches a tampered copy, a notice that was
   never anchored, and the award the ledger refused;
5. the REST API serves the result until interrupted.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from rich.console import Console

from backend.core.verdict import Status, Verdict
from backend.demo import scenario
from backend.service.anchoring import AnchorResult, AnchorService, Outcome
from backend.service.context import Backend
from backend.service.devnet import (
    EngineName,
    advance_clock,
    chain_time,
    checkout_root,
    start_devnet,
    stop_devnet,
)
from backend.service.governance import deploy_for
from backend.service.history import process_history
from backend.service.intake import read_paths
from backend.service.verification import VerifyService, subjects_of
from backend.service.versions import anchor_by_version
from backend.settings import Settings

CITY = "Municipality of Valparaiso"
NATIONAL = "National Procurement Directorate"
DEMO_PASSWORD = "demo-only-password"  # noqa: S105 - throwaway keystores of the demo devnet, never a real key
DEMO_SCRYPT_N = 2**12
"""A cheap keystore cost, for speed: the demo's keys live on a throwaway devnet and guard nothing."""
CITY_PREFIX = "ocds-tldemo"
REAL_PUBLISHER_PREFIXES = {
    "paraguay": "ocds-03ad3f",  # DNCP Paraguay
    "mexico-jalisco": "ocds-xs1qbl",  # SEPAF Jalisco
    "uk-contracts-finder": "ocds-b5fd17",  # UK Contracts Finder
}
"""The ocid prefix of each publisher of ../shared/ocds-real (by folder), as their files use it."""
SKIP_WORDS = {
    "linked_release": "linked releases (a URL only)",
    "compiled_release": "compiled releases",
    "versioned_release": "versioned releases",
    "unreadable": "unreadable files",
}


@dataclass
class DemoResult:
    rpc_url: str
    settings: Settings
    verdicts: dict[str, Verdict]
    refused_award: AnchorResult
    real_outcomes: Counter[str]


def default_corpus() -> Path | None:
    """``../shared/ocds-real`` beside the checkout this package runs from, when it is there."""
    root = checkout_root()
    corpus = root.parent / "shared" / "ocds-real" if root else None
    return corpus if corpus is not None and corpus.is_dir() else None


def _write(folder: Path, name: str, release: dict[str, Any]) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(release, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def demo_home_of(home: Path) -> Path:
    """Where the demo keeps its devnet, deployment, keystores and store: apart from real work."""
    return home / "demo"


def run_demo(
    home: Path, *, corpus: Path | None, console: Console, engine: EngineName = "anvil"
) -> DemoResult:
    """Run the demo in ``home/demo`` (wiped first) and say what happens, briefly and truly."""
    demo_home = demo_home_of(home)
    stop_devnet(demo_home, engine)
    shutil.rmtree(demo_home, ignore_errors=True)
    password = os.environ.get("TENDERLEDGER_KEY_PASSWORD") or DEMO_PASSWORD
    settings = Settings(home=demo_home, key_password=SecretStr(password), keystore_scrypt_n=DEMO_SCRYPT_N)
    say = console.print

    say("[bold]1. A local chain and the ledger[/]")
    info, _ = start_devnet(demo_home, engine)
    settings = settings.model_copy(update={"rpc_url": info.rpc_url})
    backend = Backend(settings)
    governance = deploy_for(settings, backend.w3, rpc_url=info.rpc_url)
    say(
        f"   {engine} devnet at {info.rpc_url} (chain {info.chain_id}); "
        f"NoticeLedger at {governance.deployment.ledger}"
    )
    agency_ids: dict[str, int] = {}
    for name in (CITY, NATIONAL):
        agency_ids[name], key = governance.enroll(settings, name)
        say(f"   agency {agency_ids[name]}: {name}, seal key {key.address}")
    governance.reserve(CITY, agency_ids[CITY], [CITY_PREFIX])
    say(f"   ocid prefix {CITY_PREFIX} reserved for {CITY}")

    service = AnchorService(backend)
    notices_dir = demo_home / "notices"
    notices_dir.mkdir(parents=True)
    now = chain_time(backend)
    releases = scenario.procurement(now)
    files = {step: _write(notices_dir, step, release) for step, release in releases.items()}

    def anchor(step: str, agency: str = CITY) -> AnchorResult:
        (result,) = service.anchor(read_paths([files[step]]), agency=agency)
        return result

    say(f"\n[bold]2. {CITY} publishes tender {scenario.OCID}[/]")
    tender, amendment = anchor("tender"), anchor("amendment")
    deadline = releases["tender"]["tender"]["tenderPeriod"]["endDate"]
    new_deadline = releases["amendment"]["tender"]["tenderPeriod"]["endDate"]
    say(f"   tender anchored in block {_block(tender)}, submission deadline {deadline}")
    say(f"   amendment anchored in block {_block(amendment)}: deadline moved to {new_deadline}")
    refused = anchor("award")
    say(f"   award sent before the deadline: [red]{refused.outcome}[/] by the ledger ({refused.error_name})")

    say("\n[bold]3. An auditor checks the notices so far[/]")
    early = _verify(backend, [files["tender"], files["amendment"], files["award"]])
    for verdict in early:
        say("   " + _verdict_line(verdict))

    # Past the contract's signature date, so that nothing is anchored before the date it bears.
    contract_date = releases["contract"]["date"]
    seconds = int(_timestamp(contract_date)) - now + 3600
    advance_clock(backend, seconds)
    say(f"\n[bold]4. The devnet clock moves forward {seconds // scenario.DAY} days, past the deadline[/]")
    award, contract = anchor("award"), anchor("contract")
    say(f"   award anchored in block {_block(award)}; contract anchored in block {_block(contract)}")

    real_outcomes: Counter[str] = Counter()
    say(f"\n[bold]5. {NATIONAL} anchors real OCDS releases[/]")
    if corpus is None:
        say("   (no real OCDS corpus found next to the project: skipped)")
    else:
        reserved = [
            prefix for folder, prefix in REAL_PUBLISHER_PREFIXES.items() if (corpus / folder).is_dir()
        ]
        governance.reserve(NATIONAL, agency_ids[NATIONAL], reserved)
        if reserved:
            say(f"   the publishers' ocid prefixes reserved for {NATIONAL}: {', '.join(reserved)}")
        intake = read_paths(sorted(corpus.rglob("*.json")))
        # The first version of a re-published release in publication order wins, run after run.
        results = anchor_by_version(service, intake, agency=NATIONAL)
        real_outcomes = Counter(
            str(r.outcome) if r.outcome is not Outcome.REFUSED else f"refused ({r.error_name})"
            for r in results
        )
        say(
            f"   {len(results)} notices from {corpus.name}/: "
            + ", ".join(f"{n} {what}" for what, n in real_outcomes.most_common())
        )
        if any(r.error_name == "DigestConflict" for r in results):
            say(
                "   the DigestConflict refusals are the publishers' own: they re-published those release ids "
                "with other content, which OCDS forbids"
            )
        if intake.problems:
            reasons = Counter(SKIP_WORDS.get(p.code, p.code) for p in intake.problems)
            say("   not notices: " + ", ".join(f"{n} {what}" for what, n in reasons.most_common()))

    say("\n[bold]6. The auditor verifies what is in their hands[/]")
    auditor_dir = demo_home / "auditor"
    auditor_dir.mkdir()
    tampered = _write(auditor_dir, "award-copy-from-a-bidder", scenario.tampered_award(releases["award"]))
    unknown = _write(auditor_dir, "award-never-published", scenario.never_anchored(now))
    verdicts = _verify(
        backend, [files["tender"], files["amendment"], files["award"], files["contract"], tampered, unknown]
    )
    for verdict in verdicts:
        say("   " + _verdict_line(verdict))
    history = process_history(backend, scenario.OCID, store=backend.existing_store())
    say(
        f"   timeline of {scenario.OCID}: "
        + " -> ".join(
            f"{e.stage.tag}{'' if e.status == 'anchored' else ' (refused)'}" for e in history.entries
        )
    )
    for flag in history.flags:
        say(f"   red flag {flag.code}: {flag.message}")

    keyed = {Path(v.file).stem: v for v in verdicts}
    return DemoResult(
        rpc_url=info.rpc_url,
        settings=settings,
        verdicts=keyed,
        refused_award=refused,
        real_outcomes=real_outcomes,
    )


def _verify(backend: Backend, files: list[Path]) -> list[Verdict]:
    service = VerifyService(backend, store=backend.existing_store())
    return list(service.verify(subjects_of(read_paths(files, keep_bytes=False, ordered=False))))


def _block(result: AnchorResult) -> str:
    return str(result.receipt.anchor.block_number) if result.receipt else "?"


def _timestamp(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _verdict_line(verdict: Verdict) -> str:
    colour = {Status.ANCHORED: "green", Status.SUPERSEDED: "yellow"}.get(verdict.status, "red")
    line = f"{Path(verdict.file).name:<32} [{colour}]{verdict.status:<12}[/]"
    if verdict.status is Status.TAMPERED:
        line += " changed: " + ", ".join(verdict.changed or ["(original not in the evidence store)"])
    elif verdict.status is Status.SUPERSEDED:
        line += " by " + ", ".join(verdict.superseded_by)
    elif verdict.status is Status.NOT_ANCHORED:
        line += " nothing on the ledger for this notice"
    elif verdict.agency_name:
        line += f" sealed by {verdict.agency_name}"
    return line


ServeFunction = Callable[[Settings], None]
