"""The dashboard in a real browser: Debian's headless chromium driven by Selenium through
Debian's chromedriver (given explicitly, so Selenium Manager never downloads anything),
against ``promptloop serve`` running as a real process on a free loopback port.

The story: log in with a read key, see a decision posted through the API appear on the
overview without a reload (the HTMX poll), follow the agent to its prompt diff, be refused
a promote with the read key, log in with an admin key and promote. Screenshots at 1280 px
and 390 px go to the test's tmp folder (PROMPTLOOP_SCREENSHOTS names another folder).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from serve_process import PROMPTLOOP, free_port, wait_until_up

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
WAIT = 30  # seconds a condition may take on a loaded machine (a bound, not a measurement)


def _skip_without_browser() -> None:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("chromium and chromium-driver (Debian packages) are needed: not installed")
    pytest.importorskip("selenium", reason="selenium is not installed (the [test] extra)")


def _cli(workspace: Path, *args: str) -> str:
    done = subprocess.run([PROMPTLOOP, *args], cwd=workspace, env=_env(), text=True,
                          capture_output=True, check=True)
    return done.stdout


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PROMPTLOOP_", "OPENAI_"))}


@pytest.fixture
def served(workspace: Path) -> Iterator[dict[str, Any]]:
    """A workspace with two MarketAnalyst versions, a read and an admin key, served."""
    _skip_without_browser()
    from prompt_repo import PromptRepo
    from prompt_repo.config import load_workspace

    with PromptRepo(load_workspace(workspace)) as repo:
        repo.apply("MarketAnalyst", "Only trade with the trend.\n", "edit(MarketAnalyst): v2")
    keys = {scope: json.loads(_cli(workspace, "keys", "create", "--name", f"k-{scope}",
                                   "--scope", scope, "--json"))["secret"]
            for scope in ("read", "admin")}
    port = free_port()
    server = subprocess.Popen([PROMPTLOOP, "serve", "--port", str(port)], cwd=workspace,
                              env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server)
        yield {"base": base, "keys": keys}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=WAIT)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    _skip_without_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: never the network
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                              options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_dashboard_in_a_browser(served: dict[str, Any], browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, keys = served["base"], served["keys"]
    shots = Path(os.environ.get("PROMPTLOOP_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    wait = WebDriverWait(browser, WAIT)

    _post_history(base, keys["admin"])
    browser.get(base + "/")
    assert "/login" in browser.current_url  # keys exist: the dashboard needs one
    _login(browser, keys["read"])
    assert browser.find_element(By.ID, "agents").is_displayed()
    browser.execute_script("window.notReloaded = true;")

    stored = _post_decision(base, keys["admin"])
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, f'tr[data-decision="{stored}"]'))
    assert browser.execute_script("return window.notReloaded === true;")  # live, no reload
    _screenshots(browser, shots, "overview")

    browser.find_element(By.CSS_SELECTOR, 'a[href="/agents/MarketAnalyst"]').click()
    wait.until(lambda b: b.find_elements(By.ID, "prompt-link"))
    _screenshots(browser, shots, "agent")
    browser.find_element(By.ID, "prompt-link").click()
    diff = wait.until(lambda b: b.find_element(By.ID, "diff"))
    assert "+Only trade with the trend." in diff.text
    assert not browser.find_elements(By.ID, "promote")  # a read key gets no buttons

    _submit_promote_by_hand(browser)  # the read key forges the form: refused
    assert "needs the admin scope" in browser.find_element(By.ID, "error").text
    assert _production_version(base, keys["read"]) == "v2"

    browser.find_element(By.CSS_SELECTOR, "form.logout button").click()
    _login(browser, keys["admin"], "/agents/MarketAnalyst/prompt")
    form = browser.find_element(By.ID, "promote-form")
    source = form.find_element(By.NAME, "source")
    source.clear()
    source.send_keys("v1")
    form.find_element(By.ID, "force").click()
    form.find_element(By.ID, "promote").click()
    notice = wait.until(lambda b: b.find_element(By.ID, "notice"))
    assert "production now names" in notice.text
    _screenshots(browser, shots, "prompt")
    assert _production_version(base, keys["read"]) == "v1"


def _login(browser: Any, secret: str, then: str | None = None) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    if then is not None:
        browser.get(browser.current_url.split("/login")[0].rstrip("/") + then)
    browser.find_element(By.ID, "key").send_keys(secret)
    browser.find_element(By.ID, "login").click()
    WebDriverWait(browser, WAIT).until(lambda b: "/login" not in b.current_url)


def _submit_promote_by_hand(browser: Any) -> None:
    """What a read key could try without the buttons: post the promote form itself."""
    browser.execute_script("""
        const token = document.querySelector('input[name=csrf]').value;
        const form = document.createElement('form');
        form.method = 'post'; form.action = '/agents/MarketAnalyst/promote';
        for (const [k, v] of [['csrf', token], ['source', 'v1'], ['force', 'on']]) {
          const input = document.createElement('input');
          input.name = k; input.value = v; form.appendChild(input);
        }
        document.body.appendChild(form); form.submit();""")
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, WAIT).until(lambda b: b.current_url.endswith("/promote"))


def _post_decision(base: str, secret: str) -> int:
    item = {"external_id": "browser-1", "session_id": "bot", "symbol": "BTCUSDT",
            "timestamp": datetime.now(UTC).isoformat(), "action": "SELL", "confidence": 0.6,
            "agent_outputs": [{"agent": "MarketAnalyst", "action": "SELL", "confidence": 0.6}]}
    answer = httpx.post(f"{base}/v1/decisions", json={"decisions": [item]},
                        headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["items"][0]["id"])


def _post_history(base: str, secret: str) -> None:
    """A week of resolved calls, so that the charts and tables have something to draw."""
    now, auth = datetime.now(UTC), {"Authorization": f"Bearer {secret}"}
    items, outcomes = [], []
    for n in range(28):
        action, confidence = ("BUY", 0.55 + (n % 5) * 0.1) if n % 3 else ("SELL", 0.7)
        items.append({
            "external_id": f"hist-{n}", "session_id": "bot", "symbol": "BTCUSDT",
            "timestamp": (now - timedelta(hours=6 * n + 1)).isoformat(), "action": action,
            "confidence": confidence, "market_condition": ("trending", "volatile")[n % 2],
            "agent_outputs": [{"agent": "MarketAnalyst", "action": action,
                               "confidence": confidence,
                               "reasoning": f"<b>call {n}</b>: momentum"}]})
        outcomes.append({"external_id": f"hist-{n}", "outcome_type": "return_24h",
                         "outcome_value": 0.02 if n % 4 else -0.02})
    for path, body in (("decisions", {"decisions": items}), ("outcomes", {"outcomes": outcomes})):
        answer = httpx.post(f"{base}/v1/{path}", json=body, headers=auth)
        assert answer.status_code == 200, answer.text


def _production_version(base: str, secret: str) -> str:
    answer = httpx.get(f"{base}/v1/prompts/MarketAnalyst",
                       headers={"Authorization": f"Bearer {secret}"})
    return str(answer.json()["version"])


def _screenshots(browser: Any, folder: Path, name: str) -> None:
    for width in (1280, 390):
        browser.set_window_size(width, 900)
        browser.save_screenshot(str(folder / f"{name}-{width}.png"))
    browser.set_window_size(1280, 900)
