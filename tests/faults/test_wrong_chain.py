"""Wrong chain or contract: refused at start-up, before anything is sent, and nothing queued is lost.

The command line is pointed at another chain (an Anvil with chain id 1), then at the
right chain whose ledger address holds other code (``anvil_setCode``). Each time it
stops with exit status 3 and one line naming the mismatch; work already in the outbox
(from an earlier run that crashed) stays there, untouched, and no transaction is sent.
Pointed back at the deployed ledger, the same command finishes the work.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backend.chain.devnet import (
    DEV_MNEMONIC,
    HOST,
    Engine,
    find_binary,
    free_port,
    rpc_request,
    wait_until_ready,
)
from backend.service.failpoints import EXIT_STATUS
from tests.faults.conftest import (
    AGENCY,
    ALL_STATUSES,
    Expected,
    FaultChain,
    assert_promises,
    counts,
    outcomes,
    run_cli,
)

pytestmark = [pytest.mark.anvil, pytest.mark.timeout(120)]

NOTICES = 20


@pytest.fixture
def other_chain(tmp_path: Path) -> Iterator[str]:
    """A second Anvil with chain id 1 (and the same development accounts)."""
    port = free_port()
    command = [*find_binary(Engine.ANVIL), "--host", HOST, "--port", str(port), "--chain-id", "1"]
    command += ["--mnemonic", DEV_MNEMONIC, "--silent"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://{HOST}:{port}"
    try:
        wait_until_ready(url, process=process, log_path=None)
        yield url
    finally:
        process.kill()
        process.wait(timeout=10)


def _queued(chain: FaultChain, folder: Path) -> None:
    """Work an earlier run acknowledged and then crashed on: sealed, committed, not sent."""
    crashed = run_cli(
        chain.home,
        "anchor",
        "--agency",
        AGENCY,
        str(folder),
        env={"TENDERLEDGER_FAILPOINT": "before-write-ahead"},
    )
    assert crashed.returncode == EXIT_STATUS, crashed.stderr


def _outbox(chain: FaultChain) -> dict[str, int]:
    backend = chain.backend()
    try:
        return counts([e.status for e in backend.store.outbox(statuses=ALL_STATUSES)])
    finally:
        backend.close()


def test_a_chain_whose_id_does_not_match_is_refused_at_start_up(
    chain: FaultChain, releases: Callable[..., Path], other_chain: str
) -> None:
    folder = releases(NOTICES)
    _queued(chain, folder)
    nonce = chain.relayer_nonce()

    for command in (("anchor", "--agency", AGENCY, str(folder)), ("verify", str(folder))):
        refused = run_cli(chain.home, "--rpc-url", other_chain, *command)
        assert refused.returncode == 3, refused.stderr
        assert (
            refused.stderr.splitlines()[0] == "error: chain id 1 does not match the deployment file (31337)"
        )
    assert int(rpc_request(other_chain, "eth_blockNumber"), 16) == 0, "nothing sent to the other chain"
    assert _outbox(chain) == {"pending": NOTICES}, "the queued work is kept"
    assert chain.relayer_nonce() == nonce

    finished = run_cli(chain.home, "anchor", "--agency", AGENCY, "--json", str(folder))
    assert finished.returncode == 0, finished.stderr
    assert outcomes(finished) == {"anchored": NOTICES}
    assert_promises(chain, Expected.of(folder))


def test_a_ledger_address_holding_other_code_is_refused_at_start_up(
    chain: FaultChain, releases: Callable[..., Path]
) -> None:
    folder = releases(NOTICES)
    _queued(chain, folder)
    nonce = chain.relayer_nonce()
    code = chain.rpc("eth_getCode", chain.deployment.ledger, "latest")
    # The same contract with its last byte changed (in the metadata: it still runs the same).
    other = code[:-2] + ("00" if code[-2:] != "00" else "01")
    chain.rpc("anvil_setCode", chain.deployment.ledger, other)

    for command in (("anchor", "--agency", AGENCY, str(folder)), ("verify", str(folder))):
        refused = run_cli(chain.home, *command)
        assert refused.returncode == 3, refused.stderr
        assert "differs from the deployment file" in refused.stderr.splitlines()[0]
    assert _outbox(chain) == {"pending": NOTICES}
    assert chain.relayer_nonce() == nonce, "no transaction sent to a contract that is not the ledger"

    chain.rpc("anvil_setCode", chain.deployment.ledger, code)
    finished = run_cli(chain.home, "anchor", "--agency", AGENCY, "--json", str(folder))
    assert finished.returncode == 0, finished.stderr
    assert_promises(chain, Expected.of(folder))
