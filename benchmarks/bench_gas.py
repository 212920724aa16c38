#!/usr/bin/env python3
"""Measure the gas of each way to anchor, on a managed Anvil: receipts' gasUsed, not estimates.

python benchmarks/bench_gas.py            # a Markdown table
python benchmarks/bench_gas.py --json     # the same figures as JSON
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_account import Account

from backend.chain.connect import web3_for
from backend.chain.devnet import Engine, ManagedDevnet, advance_time, dev_account
from backend.chain.sender import TransactionSender
from backend.core.merkle import member_leaf, merkle_root
from backend.core.seal import SealedFields, previous_link, seal_batch, seal_notice
from backend.core.stages import Stage
from backend.service.governance import deploy

BATCH_SIZE = 1024
MULTI_SIZES = (10, 64)
# Real-shaped identifiers: ocid and release ids as long as the ones UK Contracts Finder publishes.
OCID = "ocds-b5fd17-2c330cf9-adc8-11e6-9901-0019b9f3037b"


def release_id(i: int) -> str:
    return f"{OCID}-{59429 + i}-metofc-9mgh-ghl8ty"


def digest(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def measure(engine: Engine = Engine.ANVIL) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as home:
        devnet = ManagedDevnet(Path(home), engine, state_interval=None)
        info = devnet.start()
        try:
            return _measure(web3_for(info.rpc_url), engine)
        finally:
            devnet.stop()


def _measure(w3: Any, engine: Engine) -> dict[str, Any]:
    relayer = TransactionSender(w3, dev_account(1))
    governance = deploy(w3, dev_account(0), relayers=[relayer.address])
    ledger, deployment = governance.ledger, governance.deployment
    key = Account.create()
    governance.register("Gas Measurement Agency", key.address)
    chain_id, contract = deployment.chain_id, deployment.ledger

    def sealed(fields: SealedFields) -> tuple[SealedFields, bytes]:
        return fields, seal_notice(key.key, fields, chain_id=chain_id, contract=contract)

    def single(fields: SealedFields) -> int:
        return int(ledger.anchor_notice(relayer, *sealed(fields))["gasUsed"])

    now = int(w3.eth.get_block("latest")["timestamp"])
    figures: dict[str, Any] = {"engine": str(engine), "deployment": None}
    deploy_receipt = w3.eth.get_transaction_receipt(deployment.tx_hash)
    figures["deployment"] = int(deploy_receipt["gasUsed"])
    figures["single_opens_process"] = single(
        SealedFields(OCID, release_id(0), Stage.TENDER, digest("tender"), bytes(32), now + 3600)
    )
    figures["single_existing_process"] = single(
        SealedFields(OCID, release_id(1), Stage.TENDER_AMENDMENT, digest("amendment"), bytes(32), now + 3600)
    )
    figures["single_amendment_naming_its_tender"] = single(
        SealedFields(
            OCID,
            release_id(3),
            Stage.TENDER_AMENDMENT,
            digest("amendment naming the tender"),
            previous_link(release_id(0)),
            now + 3600,
        )
    )
    advance_time(w3, 7200)
    figures["single_award"] = single(
        SealedFields(OCID, release_id(2), Stage.AWARD, digest("award"), bytes(32), 0)
    )
    for size in MULTI_SIZES:
        items = [
            sealed(
                SealedFields(
                    f"{OCID}-{size}-{i}", release_id(i), Stage.TENDER, digest(f"m{size}-{i}"), bytes(32), 0
                )
            )
            for i in range(size)
        ]
        gas = int(ledger.anchor_notices(relayer, items)["gasUsed"])
        figures[f"multi_{size}_new_processes_per_notice"] = round(gas / size)
        items = [
            sealed(
                SealedFields(
                    f"{OCID}-{size}-{i}",
                    release_id(i) + "-amendment",
                    Stage.TENDER_AMENDMENT,
                    digest(f"a{size}-{i}"),
                    bytes(32),
                    0,
                )
            )
            for i in range(size)
        ]
        gas = int(ledger.anchor_notices(relayer, items)["gasUsed"])
        figures[f"multi_{size}_existing_processes_per_notice"] = round(gas / size)
    leaves = [member_leaf(OCID, release_id(1000 + i), digest(f"leaf-{i}")) for i in range(BATCH_SIZE)]
    root = merkle_root(leaves)
    seal = seal_batch(key.key, root, BATCH_SIZE, "archive 2017", chain_id=chain_id, contract=contract)
    batch_gas = int(ledger.anchor_batch(relayer, root, BATCH_SIZE, "archive 2017", seal)["gasUsed"])
    figures["batch_root"] = batch_gas
    figures[f"batch_{BATCH_SIZE}_per_notice"] = round(batch_gas / BATCH_SIZE, 1)
    return figures


ROWS = [
    ("deployment", "Deploy NoticeLedger (once)"),
    ("single_opens_process", "Sealed single notice that opens a process (`anchorNotice`, tender)"),
    ("single_existing_process", "Sealed single notice of a known process (`anchorNotice`, amendment)"),
    (
        "single_amendment_naming_its_tender",
        "Sealed amendment naming its tender (`previous` checked on chain)",
    ),
    ("single_award", "Sealed award after the deadline (`anchorNotice`)"),
    ("multi_10_new_processes_per_notice", "Per notice, 10 per transaction, new processes (`anchorNotices`)"),
    ("multi_10_existing_processes_per_notice", "Per notice, 10 per transaction, known processes"),
    ("multi_64_new_processes_per_notice", "Per notice, 64 per transaction, new processes"),
    ("multi_64_existing_processes_per_notice", "Per notice, 64 per transaction, known processes"),
    ("batch_root", f"Merkle batch root (`anchorBatch`, {BATCH_SIZE} notices)"),
    (f"batch_{BATCH_SIZE}_per_notice", f"Per notice in a batch of {BATCH_SIZE}"),
]


def markdown(figures: dict[str, Any]) -> str:
    lines = ["| what | gas |", "|---|---:|"]
    lines += [f"| {label} | {figures[key]:,} |" for key, label in ROWS]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--engine", choices=[e.value for e in Engine], default="anvil")
    args = parser.parse_args()
    figures = measure(Engine(args.engine))
    print(json.dumps(figures, indent=2) if args.json else markdown(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
