"""Fault tests on a managed Anvil: a fresh chain, ledger and agency per test, and the promise checks.

Every test here ends with :func:`assert_promises`, which asks the chain, not the store:

1. nothing acknowledged is lost: every notice of the run has a ``NoticeAnchored`` event
   and verifies (``VerifyService``, the code behind ``tenderledger verify``);
2. nothing is anchored twice: exactly one ``NoticeAnchored`` event per notice key, and
   no event the run did not ask for;
3. the store agrees with the chain: ``audit-store --complete`` (``StoreAudit``) finds no
   discrepancy and no work in flight, and every outbox row is settled.

The third promise (nobody without a registered seal key changes the ledger) is checked
where a fault could break it: a revoked key (``test_revoked_key.py``) and a chain or
contract that is not the deployed one (``test_wrong_chain.py``).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr
from web3 import Web3

from backend.chain.connect import web3_for
from backend.chain.deployment import Deployment
from backend.chain.devnet import Engine, ManagedDevnet, dev_account, rpc_request
from backend.chain.ledger import Ledger
from backend.chain.logs import TOPIC_NOTICE_ANCHORED, decode_notice_anchored
from backend.chain.sender import TransactionSender
from backend.core.records import AnchoredEvent
from backend.core.seal import notice_key
from backend.errors import ChainError
from backend.service.anchoring import AnchorResult, AnchorService
from backend.service.audit import StoreAudit
from backend.service.context import Backend
from backend.service.governance import deploy_for
from backend.service.intake import Intake, read_paths
from backend.service.outbox import OutboxRunner
from backend.service.settlement import RunReport
from backend.service.verification import VerifyService, subjects_of
from backend.settings import Settings
from backend.store import EvidenceStore, OutboxEntry
from benchmarks.workload import write_releases

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AGENCY = "Borough Procurement Office"
PASSWORD = "devnet-password"  # what tests.chain.test_devnet.run_cli gives the command line
CLI_TIMEOUT_S = 120
ALL_STATUSES = ("pending", "sent", "anchored", "final", "refused")
VERIFIED = ("anchored", "superseded")  # both mean: the chain holds this exact notice


# ---------------------------------------------------------------- the chain under test


@dataclass
class FaultChain:
    """A managed Anvil (state on disk) with a ledger, one agency and its keystore in ``home``."""

    home: Path
    devnet: ManagedDevnet
    rpc_url: str
    w3: Web3
    deployment: Deployment
    governance: TransactionSender
    agency_id: int
    agency_key: LocalAccount

    # ------------------------------------------------------------ settings and services

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "home": self.home,
            "key_password": SecretStr(PASSWORD),
            "keystore_scrypt_n": 1024,
            "rpc_url": self.rpc_url,
            **overrides,
        }
        return Settings(**values)

    def backend(self, *, via: str | None = None, **overrides: Any) -> Backend:
        """A backend over this chain (or the proxy at ``via``) and the evidence store in ``home``."""
        url = via or self.rpc_url
        return Backend(self.settings(rpc_url=url, **overrides), w3=web3_for(url))

    @property
    def ledger(self) -> Ledger:
        return Ledger(web3_for(self.rpc_url), self.deployment)

    # ------------------------------------------------------------ raw node access

    def rpc(self, method: str, *params: Any) -> Any:
        return rpc_request(self.rpc_url, method, list(params), timeout=30.0)

    def block_number(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)

    def relayer_nonce(self, block: str = "latest") -> int:
        return int(self.rpc("eth_getTransactionCount", dev_account(1).address, block), 16)

    def automine(self, on: bool) -> None:
        self.rpc("evm_setAutomine", on)

    def mine(self, blocks: int = 1) -> None:
        self.rpc("anvil_mine", hex(blocks))

    # ------------------------------------------------------------ node lifecycle

    def stop_node(self) -> None:
        """SIGTERM: Anvil writes its state to disk and exits."""
        self.devnet.stop()

    def start_node(self) -> None:
        """Start again from the state on disk: on the same port when it is free, else on another one.

        (A port can stay taken for a while by connections the killed node left half-closed;
        the command line finds the node by its devnet file, and in-process runs that must
        survive a restart reach it through a :class:`RpcTap`, which follows it.)
        """
        info = self.devnet.start()
        self.rpc_url = info.rpc_url
        self.w3 = web3_for(info.rpc_url)

    def quiet(self) -> None:
        """Wait until the node has mined everything in its pool (Anvil mines just after it answers)."""
        wait_until(lambda: self.relayer_nonce() == self.relayer_nonce("pending"), what="the pool to be mined")

    @property
    def state_file(self) -> Path:
        return self.devnet.state_path / "state.json"

    def snapshot(self) -> bytes:
        """The node's whole state now, as its state file holds it (``anvil_dumpState``)."""
        return gzip.decompress(bytes.fromhex(self.rpc("anvil_dumpState").removeprefix("0x")))

    def restore(self, snapshot: bytes) -> None:
        """Crash the node and start it from an older state: the blocks since ``snapshot`` are gone."""
        self.devnet.kill()
        self.state_file.write_bytes(snapshot)
        self.start_node()

    # ------------------------------------------------------------ what the chain holds

    def anchored_events(self) -> list[AnchoredEvent]:
        """Every NoticeAnchored event of the ledger, in chain order (raw logs, no web3 decoding)."""
        logs = self.rpc(
            "eth_getLogs",
            {
                "address": self.deployment.ledger,
                "fromBlock": hex(self.deployment.block_number),
                "toBlock": "latest",
                "topics": ["0x" + TOPIC_NOTICE_ANCHORED.hex()],
            },
        )
        return [decode_notice_anchored(log) for log in logs if not log.get("removed")]

    def relayer_transactions(self) -> list[dict[str, Any]]:
        """Receipts of every transaction the relayer got mined, in chain order."""
        relayer = dev_account(1).address.lower()
        found = []
        for number in range(self.deployment.block_number, self.block_number() + 1):
            block = self.rpc("eth_getBlockByNumber", hex(number), True)
            for tx in block["transactions"]:
                if tx["from"].lower() == relayer:
                    found.append({**tx, **self.rpc("eth_getTransactionReceipt", tx["hash"])})
        return found


def _deploy(home: Path, *, state_interval: int | None) -> FaultChain:
    devnet = ManagedDevnet(home, Engine.ANVIL, state_interval=state_interval)
    info = devnet.start()
    w3 = web3_for(info.rpc_url)
    settings = Settings(home=home, key_password=SecretStr(PASSWORD), keystore_scrypt_n=1024)
    governance = deploy_for(settings, w3, admin_delay=0, rpc_url=info.rpc_url)
    agency_id, key = governance.enroll(settings, AGENCY)
    deployment = governance.deployment
    return FaultChain(
        home=home,
        devnet=devnet,
        rpc_url=info.rpc_url,
        w3=w3,
        deployment=deployment,
        governance=governance.sender,
        agency_id=agency_id,
        agency_key=key,
    )


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[FaultChain]:
    """A fresh Anvil that writes its state to disk every second (and on SIGTERM)."""
    home = tmp_path / "home"
    fault_chain = _deploy(home, state_interval=1)
    try:
        yield fault_chain
    finally:
        fault_chain.devnet.stop()


@pytest.fixture
def releases(tmp_path: Path) -> Callable[..., Path]:
    """``releases(count)``: a folder of ``count`` valid OCDS releases (four per process)."""

    def make(count: int, *, seed: int = 11, name: str = "releases") -> Path:
        folder = tmp_path / name
        write_releases(folder, count, seed=seed)
        return folder

    return make


# ---------------------------------------------------------------- the promises


@dataclass(frozen=True)
class Expected:
    """The notices a test asked to anchor: intake (for verification) and keys (for event counts)."""

    intake: Intake

    @classmethod
    def of(cls, *folders: Path) -> Expected:
        return cls(read_paths(list(folders)))

    @property
    def keys(self) -> dict[bytes, bytes]:
        """Notice key -> digest of every notice."""
        return {notice_key(n.notice.ocid, n.notice.release_id): n.notice.digest for n in self.intake.notices}


def assert_promises(
    chain: FaultChain, expected: Expected, *, store: EvidenceStore | None = None, refused: int = 0
) -> None:
    """Every expected notice anchored exactly once and verifying; the store agreeing with the chain.

    ``refused``: how many outbox rows the ledger refused on purpose (they are not expected on chain).
    """
    keys = expected.keys
    events = chain.anchored_events()
    per_key = Counter(e.key for e in events)
    missing = [k for k in keys if per_key[k] == 0]
    twice = {k.hex(): n for k, n in per_key.items() if n > 1}
    unasked = [e for e in events if e.key not in keys]
    assert not missing, f"{len(missing)} of {len(keys)} notices are not on chain (lost)"
    assert not twice, f"anchored more than once: {twice}"
    assert not unasked, f"{len(unasked)} events for notices nobody asked for"
    wrong = [e.key.hex() for e in events if e.digest != keys[e.key]]
    assert not wrong, f"anchored with another digest: {wrong}"

    backend = Backend(chain.settings(), w3=web3_for(chain.rpc_url))
    try:
        verdicts = list(VerifyService(backend).verify(subjects_of(expected.intake)))
        failed = Counter(str(v.status) for v in verdicts if v.status not in VERIFIED)
        assert len(verdicts) == len(keys)
        assert not failed, f"notices that do not verify: {dict(failed)}"

        own = store or backend.store
        audit = StoreAudit(backend.ledger, own, complete=True)
        discrepancies = list(audit.run())
        assert not discrepancies, "audit-store: " + "; ".join(
            f"{d.code} {d.table} {d.row} {d.field}: store {d.store} chain {d.chain}"
            for d in discrepancies[:5]
        )
        assert audit.summary.in_flight == 0
        statuses = Counter(e.status for e in own.outbox(statuses=ALL_STATUSES, kind="notice"))
        assert statuses["refused"] == refused, f"refused: {dict(statuses)}"
        assert set(statuses) - {"refused"} <= {"anchored", "final"}, f"outbox not settled: {dict(statuses)}"
        assert statuses["anchored"] + statuses["final"] == len(keys)
    finally:
        backend.close()


def assert_in_publication_order(chain: FaultChain, store: EvidenceStore) -> None:
    """Notices landed on chain in the order they were committed to the outbox (publication order)."""
    position = {(e.ocid, e.release_id): e.id for e in store.outbox(statuses=ALL_STATUSES, kind="notice")}
    landed = [position[(e.fields.ocid, e.fields.release_id)] for e in chain.anchored_events()]
    assert landed == sorted(landed), "notices landed out of publication order"


# ---------------------------------------------------------------- anchoring in process


@dataclass
class Anchoring:
    """What :func:`anchor` did: one result per notice, and the runner's report."""

    results: list[AnchorResult]
    report: RunReport

    @property
    def outcomes(self) -> dict[str, int]:
        return counts([str(r.outcome) for r in self.results])


def enqueue(backend: Backend, folder: Path, *, agency: str = AGENCY) -> tuple[Intake, list[OutboxEntry]]:
    """Keep the bytes and commit sealed outbox rows, as ``AnchorService.anchor`` does before dispatching."""
    intake = read_paths([folder])
    service = AnchorService(backend)
    service.keep(intake, intake.notices)
    return intake, service.enqueue(intake.notices, agency=agency)


def dispatch(
    backend: Backend,
    intake: Intake,
    entries: Sequence[OutboxEntry],
    *,
    tap: Callable[[OutboxRunner], None] | None = None,
    **options: Any,
) -> Anchoring:
    """Run a OutboxRunner with ``options`` (group size, window, stall) over ``entries``.

    ``tap`` sees the runner before it runs (to wrap its JSON-RPC client, say).
    """
    runner = OutboxRunner(backend, **options)
    if tap is not None:
        tap(runner)
    report = runner.run(entries)
    results = AnchorService(backend).results(
        intake,
        intake.notices,
        {},
        anchored_now=report.anchored_subjects,
        known_receipts=report.receipts,
        refusals=report.refusals,
    )
    return Anchoring(results, report)


def anchor(
    backend: Backend,
    folder: Path,
    *,
    agency: str = AGENCY,
    tap: Callable[[OutboxRunner], None] | None = None,
    **options: Any,
) -> Anchoring:
    """``AnchorService.anchor`` with the OutboxRunner's knobs exposed (schema validation left out)."""
    intake, entries = enqueue(backend, folder, agency=agency)
    return dispatch(backend, intake, entries, tap=tap, **options)


def on_send(runner: OutboxRunner, hook: Callable[[str, Callable[[], str]], str]) -> None:
    """Route the runner's ``eth_sendRawTransaction`` calls through ``hook(raw_tx, send)``."""
    call = runner.rpc.call

    def intercepted(method: str, params: Sequence[Any]) -> Any:
        if method != "eth_sendRawTransaction":
            return call(method, params)
        return hook(params[0], lambda: call(method, params))

    runner.rpc.call = intercepted  # type: ignore[method-assign]


def relayer_transfer(chain: FaultChain, *, nonce: int, gas_price: int) -> str:
    """Another sender using the relayer's key: a transfer to itself with ``nonce``; returns its hash."""
    account = dev_account(1)
    signed = account.sign_transaction(
        {
            "nonce": nonce,
            "gasPrice": gas_price,
            "gas": 21_000,
            "to": account.address,
            "value": 0,
            "data": b"",
            "chainId": chain.deployment.chain_id,
        }
    )
    result: str = chain.rpc("eth_sendRawTransaction", "0x" + bytes(signed.raw_transaction).hex())
    return result


# ---------------------------------------------------------------- the command line


def cli_command(*args: str, tune: dict[str, float] | None = None) -> list[str]:
    """``python -m backend ARGS``, or with runner constants tuned (shorter stalls and backoff)."""
    if not tune:
        return [sys.executable, "-m", "backend", *args]
    code = (
        "import sys, json; import backend.service.outbox as o, backend.chain.relayer as r\n"
        f"for k, v in json.loads({json.dumps(json.dumps(tune))}).items():\n"
        "    setattr(r if hasattr(r, k) else o, k, v)\n"
        "from backend.cli import main; sys.argv[0] = 'tenderledger'; main()"
    )
    return [sys.executable, "-c", code, *args]


def cli_env(home: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    environment = {
        **os.environ,
        "TENDERLEDGER_HOME": str(home),
        "TENDERLEDGER_KEY_PASSWORD": PASSWORD,
        "TENDERLEDGER_KEYSTORE_SCRYPT_N": "1024",
        **(env or {}),
    }
    environment.pop("TENDERLEDGER_RPC_URL", None)
    if not env or "TENDERLEDGER_FAILPOINT" not in env:
        environment.pop("TENDERLEDGER_FAILPOINT", None)
    return environment


def run_cli(
    home: Path,
    *args: str,
    env: dict[str, str] | None = None,
    tune: dict[str, float] | None = None,
    timeout: float = CLI_TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    """The real command line in a subprocess, with ``home`` as TENDERLEDGER_HOME."""
    return subprocess.run(
        cli_command(*args, tune=tune),
        capture_output=True,
        text=True,
        env=cli_env(home, env),
        cwd=PROJECT_ROOT,
        timeout=timeout,
        check=False,
    )


def start_cli(
    home: Path, *args: str, env: dict[str, str] | None = None, quiet: bool = False
) -> subprocess.Popen[str]:
    """The command line started in the background (to be killed); ``quiet`` discards its output
    (a process nobody reads from would block on a full pipe)."""
    output = subprocess.DEVNULL if quiet else subprocess.PIPE
    return subprocess.Popen(
        cli_command(*args),
        stdout=output,
        stderr=output,
        text=True,
        env=cli_env(home, env),
        cwd=PROJECT_ROOT,
    )


def outcomes(result: subprocess.CompletedProcess[str]) -> Counter[str]:
    """Outcome counts of ``anchor --json``."""
    return Counter(json.loads(line)["outcome"] for line in result.stdout.splitlines() if line.strip())


# ---------------------------------------------------------------- a miner for a chain without automine


class Miner:
    """Mines a block every ``interval`` seconds while running (Anvil with automine off)."""

    def __init__(self, chain: FaultChain, interval: float = 0.1) -> None:
        self.chain = chain
        self.interval = interval
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="miner", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock, contextlib.suppress(OSError, ChainError):
                self.chain.mine()  # the node may be down for a moment: the next tick mines

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No block is mined inside this block (so a test can act between two node calls)."""
        with self._lock:
            yield

    def __enter__(self) -> Miner:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


class RpcTap:
    """A JSON-RPC proxy in front of the node that records which methods its clients call.

    Lets a test act at the moment a subprocess reaches a step it cannot otherwise see:
    :meth:`before` runs an action (stop the node, say) just before the first request
    with a given method is passed on, and :meth:`called` tells what was asked so far.
    When the node is down, the proxy drops the connection, as the node itself would.
    """

    def __init__(self, upstream: str | Callable[[], str]) -> None:
        self.upstream = upstream if callable(upstream) else (lambda: upstream)
        self.methods: list[str] = []
        self._actions: dict[str, tuple[int, Callable[[], None]]] = {}
        self._lock = threading.Lock()
        tap = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                parsed = json.loads(body)
                tap._seen([c["method"] for c in (parsed if isinstance(parsed, list) else [parsed])])
                request = urllib.request.Request(
                    tap.upstream(), data=body, headers={"Content-Type": "application/json"}
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as answer:
                        reply = answer.read()
                except OSError:
                    self.close_connection = True
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="rpc-tap", daemon=True)

    def _seen(self, methods: list[str]) -> None:
        actions = []
        with self._lock:
            self.methods.extend(methods)
            for method in dict.fromkeys(methods):
                if method in self._actions and self.methods.count(method) >= self._actions[method][0]:
                    actions.append(self._actions.pop(method)[1])
        for action in actions:
            action()

    def before(self, method: str, action: Callable[[], None], *, nth: int = 1) -> None:
        """Run ``action`` once, before the ``nth`` request calling ``method`` is passed on."""
        with self._lock:
            self._actions[method] = (nth, action)

    def called(self, *methods: str) -> bool:
        with self._lock:
            return any(m in methods for m in self.methods)

    def __enter__(self) -> RpcTap:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def wait_until(
    condition: Any, *, timeout: float = 60.0, every: float = 0.02, what: str = "condition"
) -> None:
    """Poll ``condition()`` until it is true; fail after ``timeout`` (a hang guard, not a timed assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def counts(values: Sequence[str]) -> dict[str, int]:
    return dict(Counter(values))
