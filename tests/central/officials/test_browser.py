"""The dashboard in a real headless Chromium: sign in, open a consultation, switch the
breakdown, download a CSV. Saves screenshots to tests/artifacts/."""

from __future__ import annotations

import base64
import csv
import io
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from gateway.central.officials.mount import register_officials
from gateway.central.store.accounts import Accounts
from gateway.central.store.schema import metadata
from gateway.database import make_engine
from gateway.settings import Settings
from tests.central.officials.population import generate, insert_events, publish, survey
from tests.conftest import REQUIRE_SERVICES
from tests.live import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "tests" / "artifacts"
PASSWORD = "browser test password"

pytestmark = pytest.mark.browser


def _chromedriver() -> str:
    found = shutil.which("chromedriver")
    missing = []
    if not CHROMIUM.exists():
        missing.append(str(CHROMIUM))
    if found is None:
        missing.append("chromedriver")
    if missing:
        reason = (
            f"{' and '.join(missing)} not installed (apt-get install -y chromium chromium-driver)"
        )
        if REQUIRE_SERVICES:
            pytest.fail(f"{reason}, and CIVICLINE_REQUIRE_SERVICES=1")
        pytest.skip(reason)
    assert found is not None
    return found


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'central.db'}"
    engine = make_engine(url)
    metadata.create_all(engine)
    consultation, definition = survey()
    publish(engine, definition, consultation.id)
    insert_events(engine, generate(consultation, 150, seed=5))
    Accounts(engine).add("ada", PASSWORD, admin=False, now=datetime.now(UTC))
    app = Flask("central-browser-test")
    register_officials(app, engine, Settings(central_database_url=url, small_cell_k=5))
    with LiveServer(app) as server:
        yield server.url
    engine.dispose()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    driver_path = _chromedriver()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1600",
    ):  # fmt: skip
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.downloads = downloads  # type: ignore[attr-defined]
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver, name: str) -> Path:  # type: ignore[no-untyped-def]
    """The whole page, not only the window."""
    ARTIFACTS.mkdir(exist_ok=True)
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
    )
    path = ARTIFACTS / name
    path.write_bytes(base64.b64decode(shot["data"]))
    print(f"screenshot: {path}")
    return path


def arrive(driver, url: str, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    """Wait until a click's navigation has loaded `url` (a form submission returns
    before the next page has come)."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.wait import WebDriverWait

    WebDriverWait(driver, timeout).until(expected_conditions.url_to_be(url))
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def wait_for_download(folder: Path, timeout: float = 20) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.1)
    raise AssertionError(f"no download in {folder} after {timeout} s")


def test_sign_in_browse_break_down_and_download(served: str, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    driver = browser
    driver.get(served + "/officials/")
    assert driver.current_url.startswith(served + "/officials/sign-in")
    driver.find_element(By.ID, "username").send_keys("ada")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.sign-in button[type=submit]").click()
    arrive(driver, served + "/officials/")
    assert "Signed in as ada" in driver.find_element(By.CSS_SELECTOR, "header").text

    driver.find_element(By.LINK_TEXT, "County services survey").click()
    arrive(driver, served + "/officials/consultations/survey-test")
    figures = driver.find_elements(By.CSS_SELECTOR, "figure svg.chart")
    assert len(figures) == 7
    caption = driver.find_element(By.CSS_SELECTOR, "figure figcaption").text
    assert caption.startswith("Answers to “What should the county fix first?”")
    bar = driver.find_element(By.CSS_SELECTOR, "svg.chart .bar-answer rect")
    assert float(bar.get_attribute("width")) > 0
    screenshot(driver, "officials-consultation.png")

    Select(driver.find_element(By.ID, "by")).select_by_visible_text("Your age?")
    driver.find_element(By.CSS_SELECTOR, "form.breakdown button[type=submit]").click()
    arrive(driver, served + "/officials/consultations/survey-test?by=age_band")
    tables = driver.find_elements(By.CSS_SELECTOR, "table.breakdown")
    assert len(tables) == 7
    headers = [th.text for th in tables[0].find_elements(By.CSS_SELECTOR, "thead th")]
    assert headers == ["Answer", "Under 18", "18 to 34", "35 to 59", "60 or older", "Not stated"]
    assert "<5" in tables[0].text
    path = screenshot(driver, "officials-breakdown.png")
    assert path.stat().st_size > 10_000

    # At 200% zoom (a 640 CSS px wide window), the page reflows instead of overflowing;
    # only wide tables scroll, inside their own boxes.
    driver.set_window_size(640, 1200)
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    screenshot(driver, "officials-breakdown-narrow.png")
    driver.set_window_size(1280, 1600)

    driver.find_element(By.PARTIAL_LINK_TEXT, "CSV").click()
    downloaded = wait_for_download(driver.downloads)
    assert downloaded.name == "survey-test-tallies-by-age_band.csv"
    rows = list(csv.DictReader(io.StringIO(downloaded.read_text(encoding="utf-8"))))
    assert {r["breakdown"] for r in rows} == {"age_band"}
    assert {r["group_label"] for r in rows} == {
        "Under 18",
        "18 to 34",
        "35 to 59",
        "60 or older",
        "Not stated",
    }
    assert any(r["count"] == "<5" for r in rows)
    assert sum(int(r["count"]) for r in rows if r["count"].isdigit()) > 0
