"""Local chains with no Hardhat: a managed Anvil or Ganache, or the in-process eth-tester.

A managed node runs in the background on 127.0.0.1, keeps its state under
``$TENDERLEDGER_HOME/devnet/<engine>/`` (so a restarted devnet keeps its records)
and is described by ``$TENDERLEDGER_HOME/devnet/<engine>.json`` (pid, port, RPC URL).
All engines derive the same ten accounts from the well-known development mnemonic,
so a devnet is deterministic whichever engine runs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backend.errors import ChainError, NetworkError, NodeBinaryMissingError, UsageError

if TYPE_CHECKING:  # the key and chain libraries cost a second to import: only the functions needing them do
    from eth_account.signers.local import LocalAccount
    from web3 import Web3

# The development mnemonic every Foundry and Hardhat user knows. Its keys are public:
# they are refused for anything but a devnet chain id (see DEVNET_CHAIN_IDS).
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNTS = 10
DEV_BALANCE_ETH = 10_000
ANVIL_CHAIN_ID = 31337
GANACHE_CHAIN_ID = 1337
TESTER_CHAIN_ID = 131277322940537
DEVNET_CHAIN_IDS = frozenset({ANVIL_CHAIN_ID, GANACHE_CHAIN_ID, TESTER_CHAIN_ID})
# The hardfork all three engines run (Ganache 7.9 stops at shanghai); contracts target it too.
HARDFORK = "shanghai"
HOST = "127.0.0.1"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
ANVIL_STATE_INTERVAL_S = 1


class Engine(StrEnum):
    ANVIL = "anvil"
    GANACHE = "ganache"


@dataclass(frozen=True)
class DevnetInfo:
    """What ``devnet start`` leaves behind for other commands to find the node."""

    engine: str
    pid: int
    port: int
    rpc_url: str
    chain_id: int
    state_path: str
    log_path: str
    started_at: float


@cache
def dev_account(index: int) -> LocalAccount:
    """Account ``index`` of the development mnemonic (0: governance, 1: relayer)."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return account


def project_root() -> Path | None:
    """The checkout this package runs from, when it runs from one (editable install)."""
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for candidate in (start, *start.parents):
            if (candidate / "node_modules").is_dir() and (candidate / "package.json").is_file():
                return candidate
    return None


def find_binary(engine: Engine) -> list[str]:
    """The command that runs ``engine``: $TENDERLEDGER_<ENGINE>, node_modules, then PATH."""
    override = os.environ.get(f"TENDERLEDGER_{engine.upper()}")
    if override:
        if not Path(override).is_file():
            raise NodeBinaryMissingError(
                f"{engine} not found at {override} (from TENDERLEDGER_{engine.upper()})"
            )
        return [override]
    root = project_root()
    if root is not None:
        if engine is Engine.ANVIL:
            found = sorted(root.glob("node_modules/@foundry-rs/anvil-*/bin/anvil"))
            if found:
                return [str(found[0])]
        else:
            cli = root / "node_modules" / "ganache" / "dist" / "node" / "cli.js"
            node = shutil.which("node")
            if cli.is_file() and node:
                return [node, str(cli)]
    on_path = shutil.which(engine.value)
    if on_path:
        return [on_path]
    package = "@foundry-rs/anvil" if engine is Engine.ANVIL else "ganache"
    raise NodeBinaryMissingError(
        f"{engine} is not installed",
        hint=f"run 'make setup' (installs npm {package}), or set TENDERLEDGER_{engine.upper()} to its path",
    )


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def rpc_request(url: str, method: str, params: list[Any] | None = None, *, timeout: float = 5.0) -> Any:
    """One raw JSON-RPC call, without web3 (used for readiness checks)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    if not url.startswith(("http://", "https://")):
        raise ChainError(f"not an HTTP JSON-RPC URL: {url}")
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) checked above
        reply = json.loads(response.read())
    if "error" in reply:
        raise ChainError(f"{method} failed: {reply['error'].get('message', reply['error'])}")
    return reply["result"]


def wait_until_ready(
    url: str,
    *,
    process: subprocess.Popen[bytes] | None,
    log_path: Path | None,
    timeout: float = READY_TIMEOUT_S,
) -> int:
    """Poll ``eth_chainId`` until the node answers; returns the chain id."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise ChainError(
                f"node exited with status {process.returncode} before it answered" + _log_tail(log_path)
            )
        try:
            return int(rpc_request(url, "eth_chainId", timeout=2.0), 16)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            if time.monotonic() > deadline:
                raise NetworkError(
                    f"node at {url} did not answer within {timeout:.0f} s" + _log_tail(log_path)
                ) from None
            time.sleep(0.1)


def _log_tail(log_path: Path | None, lines: int = 5) -> str:
    if log_path is None or not log_path.exists():
        return ""
    tail = log_path.read_text(errors="replace").strip().splitlines()[-lines:]
    return ("; log: " + " | ".join(tail)) if tail else ""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is dead for our purposes.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


class ManagedDevnet:
    """A background Anvil or Ganache whose state lives under ``home/devnet``."""

    def __init__(
        self,
        home: Path,
        engine: Engine | str = Engine.ANVIL,
        *,
        state_interval: int | None = ANVIL_STATE_INTERVAL_S,
    ) -> None:
        self.home = Path(home)
        self.engine = Engine(engine)
        self.state_interval = state_interval
        self.dir = self.home / "devnet"
        self.info_path = self.dir / f"{self.engine}.json"
        self.state_path = self.dir / str(self.engine)
        self.log_path = self.dir / f"{self.engine}.log"

    # ---------------------------------------------------------------- queries

    def info(self) -> DevnetInfo | None:
        """The recorded node, whether or not it still runs."""
        if not self.info_path.exists():
            return None
        try:
            return DevnetInfo(**json.loads(self.info_path.read_text()))
        except (ValueError, TypeError):
            return None

    def status(self) -> DevnetInfo | None:
        """The running node, or None. A node that no longer answers counts as stopped."""
        info = self.info()
        if info is None or not _pid_alive(info.pid):
            return None
        try:
            rpc_request(info.rpc_url, "eth_chainId", timeout=2.0)
        except (urllib.error.URLError, OSError, ChainError):
            return None
        return info

    @property
    def chain_id(self) -> int:
        return ANVIL_CHAIN_ID if self.engine is Engine.ANVIL else GANACHE_CHAIN_ID

    # ---------------------------------------------------------------- control

    def command(self, port: int) -> list[str]:
        binary = find_binary(self.engine)
        if self.engine is Engine.ANVIL:
            return [
                *binary,
                "--host",
                HOST,
                "--port",
                str(port),
                "--chain-id",
                str(self.chain_id),
                "--hardfork",
                HARDFORK,
                "--mnemonic",
                DEV_MNEMONIC,
                "--accounts",
                str(DEV_ACCOUNTS),
                "--balance",
                str(DEV_BALANCE_ETH),
                *(
                    [
                        "--state",
                        str(self.state_path / "state.json"),
                        "--state-interval",
                        str(self.state_interval),
                    ]
                    if self.state_interval is not None
                    else []
                ),
                "--silent",
            ]
        return [
            *binary,
            "--server.host",
            HOST,
            "--server.port",
            str(port),
            "--chain.chainId",
            str(self.chain_id),
            "--chain.hardfork",
            HARDFORK,
            "--wallet.mnemonic",
            DEV_MNEMONIC,
            "--wallet.totalAccounts",
            str(DEV_ACCOUNTS),
            "--wallet.defaultBalance",
            str(DEV_BALANCE_ETH),
            "--database.dbPath",
            str(self.state_path),
            "--logging.quiet",
        ]

    def start(self, port: int | None = None, *, timeout: float = READY_TIMEOUT_S) -> DevnetInfo:
        """Start the node (or return the running one) and wait until it answers."""
        running = self.status()
        if running is not None:
            if port is not None and port != running.port:
                raise UsageError(
                    f"{self.engine} devnet already runs on port {running.port}",
                    hint=f"run 'tenderledger devnet stop --engine {self.engine}' first",
                )
            return running
        if port is None:
            previous = self.info()
            # Reuse the last port when free, so RPC URLs written down earlier stay valid.
            port = previous.port if previous and port_is_free(previous.port) else free_port()
        elif not port_is_free(port):
            raise UsageError(
                f"port {port} on {HOST} is in use", hint="choose another with --port, or stop what uses it"
            )
        command = self.command(port)
        self.state_path.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                close_fds=True,
            )
        url = f"http://{HOST}:{port}"
        try:
            chain_id = wait_until_ready(url, process=process, log_path=self.log_path, timeout=timeout)
        except Exception:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise
        info = DevnetInfo(
            engine=str(self.engine),
            pid=process.pid,
            port=port,
            rpc_url=url,
            chain_id=chain_id,
            state_path=str(self.state_path),
            log_path=str(self.log_path),
            started_at=time.time(),
        )
        self.info_path.write_text(json.dumps(asdict(info), indent=2) + "\n")
        return info

    def stop(self, *, timeout: float = STOP_TIMEOUT_S) -> bool:
        """Stop the node gracefully (Anvil writes its state on SIGTERM). True if one was running."""
        info = self.info()
        if info is None or not _pid_alive(info.pid):
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(info.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _pid_alive(info.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(info.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(info.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(info.pid, os.WNOHANG)
        return True

    def kill(self) -> None:
        """SIGKILL the node, as a crash would (fault tests)."""
        info = self.info()
        if info is not None and _pid_alive(info.pid):
            os.kill(info.pid, signal.SIGKILL)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while _pid_alive(info.pid) and time.monotonic() < deadline:
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(info.pid, os.WNOHANG)
                time.sleep(0.02)

    def reset(self) -> None:
        """Stop the node and delete its state: the next start is a fresh chain."""
        self.stop()
        shutil.rmtree(self.state_path, ignore_errors=True)
        self.info_path.unlink(missing_ok=True)


def tester_web3() -> Web3:
    """An in-process py-evm chain with the development accounts funded. State is lost at exit."""
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import EthereumTesterProvider, Web3

    backend = PyEVMBackend.from_mnemonic(DEV_MNEMONIC, num_accounts=DEV_ACCOUNTS, hd_path="m/44'/60'/0'/0")
    return Web3(EthereumTesterProvider(EthereumTester(backend)))


def advance_time(w3: Web3, seconds: int) -> int:
    """Move the chain clock forward by ``seconds`` and mine a block; returns its timestamp."""
    from web3 import EthereumTesterProvider

    if seconds < 0:
        raise UsageError("the chain clock only moves forward")
    provider = w3.provider
    if isinstance(provider, EthereumTesterProvider):
        latest = w3.eth.get_block("latest")["timestamp"]
        tester = provider.ethereum_tester
        assert tester is not None
        tester.time_travel(int(latest) + seconds)
    else:
        w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    return int(w3.eth.get_block("latest")["timestamp"])
