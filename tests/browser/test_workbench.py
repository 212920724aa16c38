"""The workbench end to end in Chromium: the auditor's verdicts computed in the browser, against the
chain, equal the command line's; tampering is shown field by field; bad input and a dead chain get
one clear message; the agency console; accessibility; /docs with the network cut off."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from web3 import Web3

from backend.chain.artifacts import load_artifact
from tests.browser.conftest import AGENCY, Ledger, axe_violations, free_port, start_server
from tests.chain.test_devnet import run_cli

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"
RESULT_TIMEOUT_MS = 60_000


def drop(page: Any, files: Iterable[tuple[str, bytes]]) -> None:
    """Hand files to the page's file chooser and wait for every verdict."""
    payload = [{"name": name, "mimeType": "application/octet-stream", "buffer": data} for name, data in files]
    page.set_input_files("#files", files=payload)
    page.wait_for_selector("#results[data-done=true]", timeout=RESULT_TIMEOUT_MS)


def verdicts(page: Any) -> list[dict[str, str]]:
    found: list[dict[str, str]] = page.eval_on_selector_all(
        "#verdicts > li",
        """items => items.map(li => ({
            status: li.dataset.status, file: li.dataset.file, release_id: li.dataset.releaseId,
            agency: li.querySelector('[data-field=agency]')?.textContent ?? null,
            block: li.querySelector('[data-field=block]')?.textContent ?? null,
            superseded_by: li.querySelector('[data-field=superseded-by]')?.textContent ?? null,
        }))""",
    )
    return found


def first_with(ledger: Ledger, status: str, stage: str | None = None) -> dict[str, Any]:
    """A CLI verdict of a whole release file (not a package entry) with ``status``."""
    return next(
        v
        for v in ledger.cli_verdicts
        if v["status"] == status and "#" not in v["file"] and (stage is None or v["stage"] == stage)
    )


def open_verify(page: Any, ledger: Ledger) -> None:
    page.goto(ledger.server.url + "/#/verify")
    page.wait_for_selector("#endpoints-asked:has-text('asks')")


def test_a_real_release_verifies_anchored_with_its_agency_and_block(page: Any, ledger: Ledger) -> None:
    expected = first_with(ledger, "anchored")
    path = Path(expected["file"])
    open_verify(page, ledger)
    drop(page, [(path.name, path.read_bytes())])
    (verdict,) = verdicts(page)
    assert verdict["status"] == "anchored"
    assert verdict["agency"] == AGENCY
    assert verdict["block"] == str(expected["block_number"])
    assert page.locator("#progress").get_attribute("value") == page.locator("#progress").get_attribute("max")
    # Beside the verdict, the evidence package that proves it offline: served by the API, a zip.
    link = page.locator("#verdicts [data-field=evidence]")
    href = link.get_attribute("href")
    assert href == f"/notices/0x{release_digest_of(path)}/evidence"
    package = page.request.get(ledger.server.url + href)
    assert package.status == 200 and package.body()[:2] == b"PK"


def release_digest_of(path: Path) -> str:
    """The notice digest of a release file (hex), as the Python core computes it."""
    from backend.core.digest import release_digest

    return release_digest(json.loads(path.read_bytes())).hex()


def tampered_copy(path: Path) -> bytes:
    """The release with one character of tender/title changed."""
    text = path.read_text(encoding="utf-8")
    title = json.loads(text)["tender"]["title"]
    escaped = json.dumps(title)[1:-1]
    changed = escaped[:-1] + ("X" if escaped[-1] != "X" else "Y")
    return text.replace(escaped, changed, 1).encode("utf-8")


def titled(ledger: Ledger) -> Path:
    """An anchored real release file with a tender title."""
    return next(
        Path(v["file"])
        for v in ledger.cli_verdicts
        if v["status"] == "anchored"
        and "#" not in v["file"]
        and isinstance(json.loads(Path(v["file"]).read_text()).get("tender", {}).get("title"), str)
    )


def test_one_character_changed_in_the_title_is_tampered_with_the_field_shown(
    page: Any, ledger: Ledger
) -> None:
    path = titled(ledger)
    open_verify(page, ledger)
    drop(page, [("copy-from-a-bidder.json", tampered_copy(path))])
    (verdict,) = verdicts(page)
    assert verdict["status"] == "tampered"
    page.wait_for_selector(".diff .side-by-side")
    assert page.locator("ul.changed li").all_inner_texts() == ["/tender/title"]
    # The original is shown only after its digest was checked against the chain.
    assert page.locator(".diff .checked").is_visible()
    original = page.locator("pre[data-side=original] [data-pointer='/tender/title'] mark")
    copy = page.locator("pre[data-side=copy] [data-pointer='/tender/title'] mark")
    assert json.loads(path.read_text())["tender"]["title"][:20] in original.inner_text()
    assert copy.is_visible() and original.inner_text() != copy.inner_text()
    page.locator("li.verdict").screenshot(path=str(SCREENSHOTS / "workbench-verify.png"))


def test_a_release_never_anchored_is_not_anchored(page: Any, ledger: Ledger) -> None:
    path = Path(first_with(ledger, "anchored")["file"])
    release = json.loads(path.read_text())
    release["id"] = release["id"] + "-never-published"
    open_verify(page, ledger)
    drop(page, [("never-published.json", json.dumps(release).encode())])
    (verdict,) = verdicts(page)
    assert verdict["status"] == "not_anchored"


def test_bad_input_gets_one_message_each_and_the_other_files_their_verdicts(
    page: Any, ledger: Ledger
) -> None:
    good = Path(first_with(ledger, "anchored")["file"])
    open_verify(page, ledger)
    drop(
        page,
        [
            ("broken.json", b'{"ocid": "ocds-1", "id": '),
            ("not-ocds.json", b'{"hello": "world"}'),
            ("huge.json", b" " * (8 * 1024 * 1024 + 1)),
            (good.name, good.read_bytes()),
        ],
    )
    problems = page.locator("#problems li").all_inner_texts()
    assert len(problems) == 3
    assert any(p.startswith("broken.json: not JSON") for p in problems)
    assert any(p.startswith("not-ocds.json: JSON, but not an OCDS") for p in problems)
    assert any(p.startswith("huge.json: larger than the 8 MiB limit") for p in problems)
    assert [v["status"] for v in verdicts(page)] == ["anchored"]


def test_a_dead_rpc_endpoint_is_one_clear_message_never_a_pass(page: Any, ledger: Ledger) -> None:
    good = Path(first_with(ledger, "anchored")["file"])
    dead = f"http://127.0.0.1:{free_port()}"
    open_verify(page, ledger)
    page.fill("#endpoints", dead)
    page.get_by_role("button", name="Use these endpoints").click()
    page.wait_for_selector(f"#endpoints-asked:has-text('{dead}')")
    drop(page, [(good.name, good.read_bytes())])
    alert = page.locator("#chain-alert")
    assert alert.is_visible()
    assert alert.inner_text() == (
        f"The RPC endpoint {dead} does not answer. Check the address, or point the page at another node."
    )
    assert [v["status"] for v in verdicts(page)] == ["unknown"]
    # Two endpoints, one of them dead: still no pass.
    page.fill(
        "#endpoints",
        f"{dead}\n{json.loads(page.evaluate('localStorage.getItem(`tenderledger.deployment`)'))['rpc_url']}",
    )
    page.get_by_role("button", name="Use these endpoints").click()
    drop(page, [(good.name, good.read_bytes())])
    assert [v["status"] for v in verdicts(page)] == ["unknown"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chain_id": 5}, "is chain 31337, but the ledger is deployed on chain 5."),
        ({"code_hash": "0x" + "ab" * 32}, "is not the NoticeLedger of this deployment: its code differs."),
        ({"ledger": "0x" + "12" * 20}, "There is no contract at 0x" + "12" * 20),
    ],
    ids=["another-chain", "other-code", "no-contract"],
)
def test_a_deployment_the_chain_does_not_match_is_refused_with_one_message(
    page: Any, ledger: Ledger, change: dict[str, Any], message: str
) -> None:
    """Whatever the server says the deployment is, the page checks it against the chain itself."""
    with urllib_open(f"{ledger.server.url}/deployment") as deployment:
        lying = {**deployment, **change}
    page.route(
        "**/deployment",
        lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(lying)),
    )
    good = Path(first_with(ledger, "anchored")["file"])
    open_verify(page, ledger)
    drop(page, [(good.name, good.read_bytes())])
    assert message in page.locator("#chain-alert").inner_text()
    assert [v["status"] for v in verdicts(page)] == ["unknown"]


def test_verification_needs_only_the_chain_once_the_page_is_loaded(page: Any, ledger: Ledger) -> None:
    good = Path(first_with(ledger, "anchored")["file"])
    own = start_server(ledger.home)
    try:
        page.goto(own.url + "/#/verify")
        page.wait_for_selector("#endpoints-asked:has-text('asks')")
    finally:
        own.stop()
    drop(page, [(good.name, good.read_bytes())])
    (verdict,) = verdicts(page)
    assert verdict["status"] == "anchored"
    assert verdict["agency"] == AGENCY


def test_browser_verdicts_equal_the_command_lines_on_every_real_release(page: Any, ledger: Ledger) -> None:
    files = sorted(ledger.corpus.rglob("*.json"))
    open_verify(page, ledger)
    page.set_input_files("#files", files=[str(f) for f in files])
    page.wait_for_selector("#results[data-done=true]", timeout=RESULT_TIMEOUT_MS)
    found: list[dict[str, Any]] = page.eval_on_selector_all(
        "#verdicts > li",
        """items => items.map(li => ({
            status: li.dataset.status, release_id: li.dataset.releaseId,
            notice: li.querySelector('dd')?.textContent ?? '',
            block: li.querySelector('[data-field=block]')?.textContent ?? null,
            agency: li.querySelector('[data-field=agency]')?.textContent ?? null,
            superseded_by: li.querySelector('[data-field=superseded-by]')?.textContent ?? '',
        }))""",
    )
    browser = sorted((v["notice"], v["status"], v["block"], v["agency"], v["superseded_by"]) for v in found)
    # The command line's verdicts now, on the same chain (other tests anchor more notices).
    verified = run_cli(ledger.home, "verify", "--json", str(ledger.corpus))
    now = [json.loads(line) for line in verified.stdout.splitlines()]
    cli = sorted(
        (
            f"{v['ocid']} / {v['release_id']}",
            v["status"],
            str(v["block_number"]) if v["block_number"] is not None else None,
            v["agency"] if v["agency_id"] is not None else None,
            ", ".join(v.get("superseded_by", [])),
        )
        for v in now
    )
    assert len(browser) == len(cli) >= 100
    assert browser == cli
    assert {v[1] for v in cli} >= {"anchored", "tampered"}


def test_process_timeline_shows_a_red_flag_linked_to_its_notice(page: Any, ledger: Ledger) -> None:
    with_flags = []
    for ocid in sorted({v["ocid"] for v in ledger.cli_verdicts}):
        with urllib_open(f"{ledger.server.url}/processes/{ocid}") as body:
            if body["red_flags"]:
                with_flags.append((ocid, body["red_flags"]))
    # Prefer a process whose tender declared a deadline: the time axis then shows it.
    ocid, flags = next(
        ((o, f) for o, f in with_flags if any(flag["code"] == "short_tender_period" for flag in f)),
        with_flags[0],
    )
    page.goto(f"{ledger.server.url}/#/process/{ocid}")
    page.wait_for_selector("#red-flags li.flag")
    codes = page.eval_on_selector_all("#red-flags li.flag", "items => items.map(li => li.dataset.code)")
    assert codes == [f["code"] for f in flags]
    assert page.locator("#red-flags .why").first.inner_text()  # its explanation, from docs/red-flags.md
    assert page.locator("svg.timeline").is_visible()
    page.evaluate("document.getElementById('process-title').scrollIntoView(); window.scrollBy(0, -16)")
    page.screenshot(path=str(SCREENSHOTS / "workbench-process.png"))
    link = page.locator("#red-flags li.flag a").first
    if link.count():
        link.click()
        assert page.evaluate("document.activeElement.dataset.releaseId") is not None


def urllib_open(url: str) -> Any:
    import contextlib
    import urllib.request

    @contextlib.contextmanager
    def opened() -> Any:
        with urllib.request.urlopen(url, timeout=30) as answer:
            yield json.loads(answer.read())

    return opened()


def test_search_finds_a_process_by_buyer(page: Any, ledger: Ledger) -> None:
    with urllib_open(f"{ledger.server.url}/search?q=") as everything:
        hit = next(p for p in everything["processes"] if p["buyer"])
    buyer = hit["buyer"]
    page.goto(f"{ledger.server.url}/#/process")
    page.wait_for_selector("ul.hits li")
    page.fill("#search", buyer)
    page.get_by_role("button", name="Search").click()
    # Wait for the new list: non-empty (an empty list while it is redrawn would pass "every").
    page.wait_for_function(
        """buyer => {
            const items = [...document.querySelectorAll('ul.hits li')];
            return items.length > 0 && items.every(li => li.textContent.includes(buyer));
        }""",
        arg=buyer,
    )
    assert hit["ocid"] in page.locator("ul.hits li a").all_inner_texts()


def test_ledger_page_lists_agencies_and_recent_anchors(page: Any, ledger: Ledger) -> None:
    page.goto(f"{ledger.server.url}/#/ledger")
    page.wait_for_selector("#recent-table tbody tr")
    assert AGENCY in page.locator("#agencies").inner_text()
    assert page.locator("#per-day svg.bars rect").count() >= 1
    # Every notice on the ledger is counted once: single anchors, and each member of each batch.
    with urllib_open(f"{ledger.server.url}/deployment") as deployment:
        w3 = Web3(Web3.HTTPProvider(deployment["rpc_url"]))
        contract = w3.eth.contract(address=deployment["ledger"], abi=load_artifact().abi)
    singles = len(contract.events.NoticeAnchored().get_logs(from_block=0))
    members = sum(log["args"]["size"] for log in contract.events.BatchAnchored().get_logs(from_block=0))
    assert page.locator("#per-day-table").get_attribute("data-total") == str(singles + members)
    page.screenshot(path=str(SCREENSHOTS / "workbench-ledger.png"), full_page=True)


def test_agency_console_submits_a_notice_and_follows_it_to_anchored(page: Any, ledger: Ledger) -> None:
    planning = next(
        Path(v["file"])
        for v in ledger.cli_verdicts
        if v["stage"] == "planning" and v["status"] == "anchored" and "#" not in v["file"]
    )
    release = json.loads(planning.read_text())
    release["id"] = release["id"] + "-console"
    page.goto(f"{ledger.server.url}/#/agency")
    page.fill("#token", ledger.token)
    page.get_by_role("button", name="Use this token").click()
    page.wait_for_selector(f".signed-in:has-text('{AGENCY}')")
    page.set_input_files(
        "#submit-files",
        files=[
            {"name": "planning.json", "mimeType": "application/json", "buffer": json.dumps(release).encode()}
        ],
    )
    row = page.locator(f"#outbox-table tr[data-release-id='{release['id']}']")
    row.wait_for()
    seen = {row.get_attribute("data-status")}
    page.wait_for_selector(f"#outbox-table tr[data-release-id='{release['id']}'][data-status=anchored]")
    seen.add("anchored")
    assert "pending" in seen or page.locator("#submitted").inner_text().count("pending")
    assert row.get_by_role("button", name=re.compile("Download")).is_visible()


def test_a_wrong_token_is_told_plainly(page: Any, ledger: Ledger) -> None:
    page.goto(f"{ledger.server.url}/#/agency")
    page.fill("#token", "tl_" + "x" * 43)
    page.get_by_role("button", name="Use this token").click()
    assert page.locator("#console .alert").inner_text().startswith("This token is unknown")


@pytest.mark.parametrize("route", ["verify", "process", "ledger", "agency"])
def test_no_serious_or_critical_accessibility_violation(page: Any, ledger: Ledger, route: str) -> None:
    page.goto(f"{ledger.server.url}/#/{route}")
    page.wait_for_selector("main h1")
    if route == "verify":
        path = titled(ledger)
        drop(page, [("copy.json", tampered_copy(path)), (path.name, path.read_bytes())])
        page.wait_for_selector(".diff .side-by-side")
    elif route == "ledger":
        page.wait_for_selector("#recent-table tbody tr")
    elif route == "process":
        page.wait_for_selector("ul.hits li")
    assert axe_violations(page) == []


def test_every_control_is_reachable_by_keyboard_with_visible_focus(page: Any, ledger: Ledger) -> None:
    open_verify(page, ledger)
    reached = []
    for _ in range(20):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate(
                """() => { const el = document.activeElement;
                  if (el === document.body) return ["BODY", "none"];
                  const name = el.id || el.textContent.trim().slice(0, 30);
                  return [name, getComputedStyle(el).outlineStyle]; }"""
            )
        )
    # Past the last control, focus leaves the page (the body): that stop is the browser's own.
    reached = [(name, style) for name, style in reached if name != "BODY"]
    names = [name for name, _ in reached]
    assert {"language", "endpoints", "Choose files", "Choose a folder", "paste"} <= set(names)
    assert "files" not in names  # the hidden file inputs are reached through their visible buttons
    assert all(style != "none" for _, style in reached), reached


def test_language_switch_changes_every_string(page: Any, ledger: Ledger) -> None:
    open_verify(page, ledger)
    page.select_option("#language", "es")
    assert page.locator("h1").inner_text() == "Verificar avisos"
    assert page.evaluate("document.documentElement.lang") == "es"
    page.select_option("#language", "zh-Hans")
    assert page.locator("h1").inner_text() == "核验公告"
    page.select_option("#language", "en")


def test_docs_lists_the_routes_with_the_network_cut_off(browser: Any, ledger: Ledger) -> None:
    context = browser.new_context()
    outside: list[str] = []

    def only_this_server(route: Any) -> None:
        host = urlsplit(route.request.url).hostname
        if host == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_server)
    try:
        docs = context.new_page()
        docs.goto(ledger.server.url + "/docs")
        docs.wait_for_selector(".opblock", timeout=30_000)
        paths = docs.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => e.dataset.path)")
        assert {"/verify", "/notices", "/processes/{ocid}", "/health"} <= set(paths)
        assert outside == []
    finally:
        context.close()


def test_a_newcomer_verifies_the_offered_tampered_copy_and_sees_why(page: Any, ledger: Ledger) -> None:
    """Files in $TENDERLEDGER_HOME/auditor/ (where the demo leaves its auditor's copies) are offered
    on the page: one click verifies them, and the tampered one shows its changed field."""
    offered = ledger.home / "auditor"
    offered.mkdir(exist_ok=True)
    path = titled(ledger)
    (offered / "copy-from-a-bidder.json").write_bytes(tampered_copy(path))
    never = json.loads(path.read_text())
    never["id"] += "-never-published"
    (offered / "never-published.json").write_text(json.dumps(never))
    try:
        page.goto(ledger.server.url + "/")
        page.get_by_role("button", name="Verify the offered files (2)").click()
        page.wait_for_selector("#results[data-done=true]", timeout=RESULT_TIMEOUT_MS)
        assert sorted(v["status"] for v in verdicts(page)) == ["not_anchored", "tampered"]
        page.wait_for_selector(".diff .side-by-side")
        assert page.locator("ul.changed li").all_inner_texts() == ["/tender/title"]
    finally:
        for file in offered.iterdir():
            file.unlink()


def test_batch_members_verify_through_their_manifest_rehashed_in_the_browser(
    page: Any, ledger: Ledger
) -> None:
    files = sorted(ledger.batch.glob("*.json"))
    open_verify(page, ledger)
    drop(page, [(f.name, f.read_bytes()) for f in files])
    found = page.eval_on_selector_all(
        "#verdicts > li",
        """items => items.map(li => [li.dataset.releaseId, li.dataset.status,
             li.querySelector('[data-field=batch-root]')?.title ?? null])""",
    )
    cli = [[v["release_id"], v["status"], v["batch_root"]] for v in ledger.batch_verdicts]
    assert sorted(found) == sorted(cli)
    assert {status for _, status, _ in found} <= {"anchored", "superseded"}


def test_without_the_batch_manifest_a_batch_member_is_not_verified_never_a_pass(
    page: Any, ledger: Ledger
) -> None:
    member = sorted(ledger.batch.glob("*.json"))[0]
    open_verify(page, ledger)
    page.route("**/batches/**", lambda route: route.fulfill(status=503, body="unavailable"))
    drop(page, [(member.name, member.read_bytes())])
    assert [v["status"] for v in verdicts(page)] == ["unknown"]
    assert "could not be checked against their manifests" in page.locator("#verdicts").inner_text()


def test_endpoints_that_disagree_are_a_failure_never_a_pass(page: Any, ledger: Ledger) -> None:
    """A second endpoint that alters one answer (a lying or broken node): nothing verifies."""
    with urllib_open(f"{ledger.server.url}/deployment") as deployment:
        honest = deployment["rpc_url"]
    liar = "http://127.0.0.1:9/liar"

    def lie(route: Any) -> None:
        answer = route.fetch(url=honest)
        body = answer.json()
        if json.loads(route.request.post_data)["method"] == "eth_call":
            result = body["result"]
            body["result"] = result[:-1] + ("0" if result[-1] != "0" else "1")
        route.fulfill(response=answer, body=json.dumps(body))

    page.route(liar, lie)
    good = Path(first_with(ledger, "anchored")["file"])
    open_verify(page, ledger)
    page.fill("#endpoints", f"{honest}\n{liar}")
    page.get_by_role("button", name="Use these endpoints").click()
    page.wait_for_selector(f"#endpoints-asked:has-text('{liar}')")
    drop(page, [(good.name, good.read_bytes())])
    assert "The RPC endpoints disagree (eth_call" in page.locator("#chain-alert").inner_text()
    assert [v["status"] for v in verdicts(page)] == ["unknown"]
    # The same honest node listed twice agrees with itself.
    page.fill("#endpoints", f"{honest}\n{honest}")
    page.get_by_role("button", name="Use these endpoints").click()
    drop(page, [(good.name, good.read_bytes())])
    assert [v["status"] for v in verdicts(page)] == ["anchored"]


def test_recent_anchors_update_live(page: Any, ledger: Ledger, tmp_path: Path) -> None:
    page.goto(f"{ledger.server.url}/#/ledger")
    page.wait_for_selector("#recent-table tbody tr")
    planning = next(
        Path(v["file"])
        for v in ledger.cli_verdicts
        if v["stage"] == "planning" and v["status"] == "anchored" and "#" not in v["file"]
    )
    release = json.loads(planning.read_text())
    release["id"] += "-live"
    (tmp_path / "live.json").write_text(json.dumps(release))
    anchored = run_cli(ledger.home, "anchor", "--agency", AGENCY, str(tmp_path / "live.json"))
    assert anchored.returncode == 0, anchored.stderr
    page.wait_for_selector(f"#recent-table tr.fresh:has-text('{release['id']}')", timeout=20_000)
