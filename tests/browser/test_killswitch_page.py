"""/killswitch and / in a real browser (Debian's chromium, headless, through chromium-driver):
a simulated day traded, `kernel serve` running, the kill switch tripped and reset from the CLI by
named operators while the page is open; a hostile reason renders as text. Each page's screenshot
is saved as an artifact."""

from __future__ import annotations

import os
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from kernel.desk import Desk
from kernel.exchange import OrderRequest
from kernel.loop import PaperLoop, plan_synthetic
from tests.fixtures.cli import omc
from tests.fixtures.kernel import ServedKernel, kernel_settings, migrated, served_kernel
from tests.fixtures.tiers import CHROMEDRIVER, CHROMIUM

pytestmark = pytest.mark.browser

HOST = {"OMC_IN_CONTAINER": "0"}  # this machine has a stray /.dockerenv: serve as on a host
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
WAIT = 30  # seconds at most: each wait ends as soon as the page shows it


@pytest.fixture(scope="module")
def chromium() -> Iterator[WebDriver]:
    """One headless chromium for the module (the browser tier skips without one)."""
    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.add_argument("--window-size=1280,1000")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $OMC_ARTIFACTS/dashboard (CI keeps it), else a temp dir."""
    chosen = os.environ.get("OMC_ARTIFACTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("artifacts")
    folder = folder / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ServedKernel]]:
    """A simulated day traded (six hours of minute bars, and a position left open), served."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'kernel.db'}"
    with migrated(url) as db:
        settings = kernel_settings()
        plan = plan_synthetic(
            db, settings, seed=7, symbols=None, ticks=360, duration=None, realtime=False
        )
        loop = PaperLoop(db, settings, plan.symbols, source=plan.source)
        loop.prepare()
        stats = loop.run(plan.ticks)
        assert stats.fills > 0 and stats.last_ts is not None
        held = Desk(db, settings).submit(
            OrderRequest("btc", "buy", D("0.01"), actor="alice"), stats.last_ts
        )
        assert held.accepted
        with served_kernel(url, env=HOST, cwd=tmp_path_factory.mktemp("cwd")) as api:
            yield url, api


def test_trip_and_reset_from_the_cli_show_on_the_timeline(
    chromium: WebDriver, day: tuple[str, ServedKernel], artifacts: Path
) -> None:
    driver = chromium
    url, api = day
    driver.get(api.base + "/killswitch")
    assert driver.find_element(By.ID, "trading-state").text == "trading ACTIVE"
    assert driver.find_elements(By.ID, "no-events")

    tripped = omc("kernel", "killswitch", "trip", "--db", url, "--by", "alice", "--reason", SCRIPT)
    assert tripped.returncode == 0, tripped.stderr
    # No reload: the page polls, and the new trip appears in the table, the picture, the header.
    wait = WebDriverWait(driver, WAIT)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#events tbody tr"))
    wait.until(lambda d: d.find_element(By.ID, "trading-state").text == "trading HALTED")
    row = driver.find_element(By.CSS_SELECTOR, "#events tbody tr")
    assert row.find_element(By.CSS_SELECTOR, "td.actor").text == "alice"
    assert row.find_element(By.CSS_SELECTOR, "td.reason").text == SCRIPT  # text, not markup
    # In the SVG too: the trip's marker carries the reason as its tooltip text.
    marker = driver.find_element(By.CSS_SELECTOR, "#timeline svg g.event-trip title")
    assert SCRIPT in (marker.get_attribute("textContent") or "")
    assert driver.find_elements(By.CSS_SELECTOR, "#timeline svg rect.period-halted")
    assert not driver.find_elements(By.CSS_SELECTOR, "img, svg script, #live-timeline script")
    scripts = driver.find_elements(By.TAG_NAME, "script")  # only the package's own files
    assert {s.get_attribute("src") for s in scripts} == {
        f"{api.base}/static/live.js",
        f"{api.base}/static/fragment.js",
    }
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 (the alert() never ran)

    reset = omc("kernel", "killswitch", "reset", "--db", url, "--by", "bob", "--reason", IMG)
    assert reset.returncode == 0, reset.stderr
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#events tbody tr")) == 2)
    wait.until(lambda d: d.find_element(By.ID, "trading-state").text == "trading ACTIVE")
    events = driver.find_elements(By.CSS_SELECTOR, "#events tbody tr")
    assert [e.find_element(By.CSS_SELECTOR, "td.actor").text for e in events] == ["bob", "alice"]
    assert events[0].find_element(By.CSS_SELECTOR, "td.reason").text == IMG
    spell = driver.find_element(By.CSS_SELECTOR, "#periods tbody tr.period-halted")
    cells = [c.text for c in spell.find_elements(By.TAG_NAME, "td")]
    assert cells[0] == "HALTED" and cells[4] == "alice" and cells[6] == "bob"
    assert cells[3].endswith("s")  # how long trading was halted
    driver.save_screenshot(str(artifacts / "killswitch.png"))


def test_the_overview_shows_positions_and_the_equity_curve(
    chromium: WebDriver, day: tuple[str, ServedKernel], artifacts: Path
) -> None:
    driver = chromium
    _, api = day
    driver.get(api.base + "/")
    symbols = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#positions td.symbol")]
    assert "btc" in symbols
    line = driver.find_element(By.CSS_SELECTOR, "#equity-chart svg path.equity-line")
    assert (line.get_attribute("d") or "").count("L") > 100  # a point per bar, thinned to the width
    box = line.rect
    assert box["width"] > 500 and box["height"] > 10  # drawn across the chart, not a dot
    assert driver.find_element(By.ID, "limits").text.count("max ") >= 4
    driver.save_screenshot(str(artifacts / "overview.png"))
