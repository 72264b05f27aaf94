"""/audit in a real browser: Debian's chromium, headless, driven through chromium-driver.

One `omc-dev kernel serve` on a loopback port and one browser for the module, over a SQLite
database where a simulated day was traded (`omc-dev kernel run`). Trip and reset go through the
CLI with reasons that are markup. Each page's screenshot lands in $OMC_ARTIFACTS (else the
module's temporary folder).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.fixtures.cli import cli_env, omc, omc_argv
from tests.fixtures.tiers import CHROMEDRIVER, CHROMIUM

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror="document.title=\'pwned\'">'
WAIT = 30  # seconds: the machine may be busy; every wait ends as soon as its condition holds


@dataclass
class Dashboard:
    url: str
    db: str
    artifacts: Path
    browser: WebDriver

    def open(self, path: str) -> None:
        self.browser.get(self.url + path)

    def shot(self, name: str) -> Path:
        path = self.artifacts / f"{name}.png"
        self.browser.save_screenshot(str(path))
        return path

    def rows(self) -> list[int]:
        """The table's sequences, read in one go (the live script adds and trims rows)."""
        found = self.browser.execute_script(
            "return Array.from(document.querySelectorAll('#audit-rows tr[data-sequence]'))"
            ".map(function (tr) { return Number(tr.getAttribute('data-sequence')); });"
        )
        return [int(n) for n in found]

    def cli(self, *args: str) -> None:
        proc = omc(*args, "--db", self.db, env={"OMC_IN_CONTAINER": "0"})
        assert proc.returncode == 0, proc.stderr


def _artifacts(tmp: Path) -> Path:
    folder = Path(os.environ["OMC_ARTIFACTS"]) if os.environ.get("OMC_ARTIFACTS") else tmp
    folder = folder / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    tmp = tmp_path_factory.mktemp("dashboard")
    db = f"sqlite:///{tmp / 'kernel.db'}"
    env = {"OMC_IN_CONTAINER": "0"}
    for argv in (("kernel", "migrate"), ("kernel", "run", "--seed", "7", "--duration", "24h")):
        proc = omc(*argv, "--db", db, env=env, cwd=tmp)
        assert proc.returncode == 0, proc.stderr
    log = (tmp / "serve.log").open("w+")
    server = subprocess.Popen(
        omc_argv("kernel", "serve", "--db", db, "--port", "0"),
        cwd=tmp,
        env=cli_env(env),
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
    )
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(flag)
    browser: WebDriver | None = None
    try:
        url = _announced(server, tmp / "serve.log")
        browser = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
        yield Dashboard(url, db, _artifacts(tmp), browser)
    finally:
        if browser is not None:
            browser.quit()
        server.send_signal(signal.SIGTERM)
        try:
            code = server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            code = server.wait()
        log.seek(0)
        said = log.read()
        log.close()
        assert code == 0, said
        assert "Traceback" not in said, said


def _announced(server: subprocess.Popen[str], log: Path) -> str:
    """The address `serve` announces on its first line (it binds before it says so)."""
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(r"http://127\.0\.0\.1:\d+", log.read_text())
        if match:
            return match.group(0)
        if server.poll() is not None:
            raise AssertionError(f"serve exited {server.returncode}: {log.read_text()}")
        time.sleep(0.1)
    raise AssertionError(f"serve did not announce its address: {log.read_text()}")


def test_the_audit_filters_and_opens_a_record(dashboard: Dashboard) -> None:
    d = dashboard
    d.open("/audit")
    rows = d.rows()
    assert len(rows) == 50 and rows == sorted(rows, reverse=True)
    assert "chain verified up to record" in d.browser.find_element(By.ID, "chain-status").text
    d.shot("audit")

    Select(d.browser.find_element(By.NAME, "action")).select_by_value("ORDER_FILLED")
    d.browser.find_element(By.NAME, "symbol").send_keys("btc")
    d.browser.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
    WebDriverWait(d.browser, WAIT).until(lambda b: "action=ORDER_FILLED" in b.current_url)
    assert "symbol=btc" in d.browser.current_url  # the filter is in the URL: a shareable view
    cells = d.browser.find_elements(By.CSS_SELECTOR, "#audit-rows td.action")
    assert cells and {c.text for c in cells} == {"ORDER_FILLED"}
    symbols = d.browser.find_elements(By.CSS_SELECTOR, "#audit-rows tr td:nth-child(6)")
    assert {s.text for s in symbols} == {"btc"}
    d.shot("audit-filtered")

    first = d.rows()[0]
    d.browser.find_element(By.LINK_TEXT, str(first)).click()
    WebDriverWait(d.browser, WAIT).until(lambda b: b.current_url.endswith(f"/audit/{first}"))
    assert d.browser.find_element(By.ID, "action").text == "ORDER_FILLED"
    assert re.fullmatch(r"[0-9a-f]{64}", d.browser.find_element(By.ID, "hash").text)
    assert d.browser.find_element(By.ID, "verified").text.startswith("✓ yes") or (
        d.browser.find_element(By.ID, "verified").text.startswith("yes")
    )
    d.shot("audit-record")


def test_new_records_appear_without_a_reload_and_markup_stays_text(dashboard: Dashboard) -> None:
    d = dashboard
    d.open("/audit")
    top = d.rows()[0]
    # A mark on this page's window: a reload would wipe it.
    d.browser.execute_script("window.__same_page = true;")

    d.cli("kernel", "killswitch", "trip", "--by", IMG, "--reason", SCRIPT)
    WebDriverWait(d.browser, WAIT).until(lambda _b: d.rows() and d.rows()[0] == top + 1)
    WebDriverWait(d.browser, WAIT).until(
        lambda b: b.find_element(By.ID, "trading-state").text == "trading HALTED"
    )
    d.cli("kernel", "killswitch", "reset", "--by", "ops", "--reason", IMG)
    WebDriverWait(d.browser, WAIT).until(lambda _b: d.rows()[0] == top + 2)
    assert d.browser.execute_script("return window.__same_page === true;")
    assert d.rows() == sorted(d.rows(), reverse=True) and len(d.rows()) == 50
    d.shot("audit-live")

    # The markup arrived through the live rows, and renders as text there and on a reload.
    for reload in (False, True):
        if reload:
            d.open("/audit")
        tripped = d.browser.find_element(By.CSS_SELECTOR, f'tr[data-sequence="{top + 1}"]')
        assert tripped.find_element(By.CSS_SELECTOR, "td.reason").text == SCRIPT
        assert tripped.find_element(By.CSS_SELECTOR, "td:nth-child(4)").text == IMG
        reset = d.browser.find_element(By.CSS_SELECTOR, f'tr[data-sequence="{top + 2}"]')
        assert reset.find_element(By.CSS_SELECTOR, "td.reason").text == IMG
        _nothing_injected(d)

    d.open(f"/audit/{top + 1}")
    assert d.browser.find_element(By.ID, "reason").text == SCRIPT
    assert d.browser.find_element(By.ID, "actor").text == IMG
    _nothing_injected(d)
    d.shot("audit-escaped-record")


def _nothing_injected(d: Dashboard) -> None:
    browser = d.browser
    assert browser.find_elements(By.CSS_SELECTOR, "main script, main img, body > img") == []
    scripts = [s.get_attribute("src") for s in browser.find_elements(By.TAG_NAME, "script")]
    assert scripts == [d.url + "/static/live.js"]
    assert browser.title != "pwned"
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018


def test_records_appear_while_the_loop_trades(dashboard: Dashboard) -> None:
    """The loop writes while the page is open: its rows arrive before the loop has ended."""
    d = dashboard
    d.open("/audit")
    top = d.rows()[0]
    d.browser.execute_script("window.__same_page = true;")
    # A month of one-minute bars: far longer than the page needs to show the first new rows;
    # it is then stopped as an operator would (Ctrl-C: every finished tick is committed).
    loop = subprocess.Popen(
        omc_argv("kernel", "run", "--seed", "11", "--duration", "30d", "--db", d.db),
        env=cli_env({"OMC_IN_CONTAINER": "0"}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        WebDriverWait(d.browser, WAIT).until(lambda _b: d.rows()[0] > top)
        assert loop.poll() is None, f"the loop ended before a row showed: {loop.stderr}"
        assert d.browser.execute_script("return window.__same_page === true;")
        d.shot("audit-while-trading")
    finally:
        loop.send_signal(signal.SIGINT)
        _, said = loop.communicate(timeout=60)
    assert loop.returncode == 130, said
    assert "Traceback" not in said
