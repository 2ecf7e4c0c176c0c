"""The dashboard in a real headless Chromium: sign in, open a consultation, switch the
breakdown, download a CSV; every page on a 390 px phone, on a desktop and at 200 % zoom,
readable and free of WCAG 2.1 A/AA violations by axe-core (bundled with
axe-selenium-python: nothing is loaded from the web). Screenshots go to
$CIVICLINE_TEST_ARTIFACTS, by default tests/artifacts/ (ignored by git)."""

from __future__ import annotations

import base64
import csv
import io
import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import insert

from gateway.central.officials.mount import register_officials
from gateway.central.store.accounts import Accounts
from gateway.central.store.schema import gateways, metadata
from gateway.database import make_engine
from gateway.settings import Settings
from tests.central.officials.population import generate, insert_events, publish, survey
from tests.conftest import REQUIRE_SERVICES
from tests.live import LiveServer

WebDriverWait = pytest.importorskip("selenium.webdriver.support.wait").WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(
    os.environ.get("CIVICLINE_TEST_ARTIFACTS")
    or Path(__file__).resolve().parents[3] / "tests" / "artifacts"
)
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
    with engine.begin() as conn:
        conn.execute(insert(gateways).values(
            name="nairobi-office", token_hash="0" * 64, created_at=datetime.now(UTC),
            last_contact_at=datetime.now(UTC), newest_event_at=datetime.now(UTC), backlog=3))
    app = Flask("central-browser-test")
    settings = Settings(central_database_url=url, database_url=f"sqlite:///{tmp_path / 'g.db'}",
                        data_dir=tmp_path / "data", small_cell_k=5)
    register_officials(app, engine, settings)
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
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
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
    figures = driver.find_elements(By.CSS_SELECTOR, "figure .chart")
    assert len(figures) == 7
    caption = driver.find_element(By.CSS_SELECTOR, "figure figcaption").text
    assert caption.startswith("Answers to “What should the county fix first?”")
    bar = driver.find_element(By.CSS_SELECTOR, ".chart .bar-answer rect")
    assert bar.size["width"] > 0
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


# How each page is looked at: a phone held upright, a desktop window, and that window at
# 200 % zoom (half as many CSS pixels across, each drawn twice as large).
VIEWS = {
    "390px": {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    "desktop": {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
    "zoom200": {"width": 640, "height": 450, "deviceScaleFactor": 2, "mobile": False},
}
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# axe.run, with its failure reported (Axe.run waits for ever on a rejected promise).
# The bundled axe-core names only the tags it has rules for (3.1 has no `wcag21a`).
RUN_AXE = """
const [wanted, done] = arguments;
const known = new Set(axe.getRules().flatMap(rule => rule.tags));
const options = {runOnly: {type: 'tag', values: wanted.filter(tag => known.has(tag))}};
axe.run(document, options,
        (error, results) => done(error ? String(error.stack || error) : results));
"""
READABLE_PX = 14  # the smallest text a page may draw, in CSS pixels (the body's is 16)

SCROLL_BOXES = """
return [...document.querySelectorAll('.scroll')]
  .filter(box => box.scrollWidth > box.clientWidth + 1)
  .map(box => ({tabindex: box.getAttribute('tabindex'), role: box.getAttribute('role'),
                label: box.getAttribute('aria-label') || '',
                hint: getComputedStyle(box).backgroundImage}));
"""
SMALLEST_TEXT = """
const found = [];
const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const node = walker.currentNode;
  if (!node.textContent.trim()) continue;
  const range = document.createRange();
  range.selectNodeContents(node);
  const box = range.getBoundingClientRect();
  if (!box.height) continue;
  const element = node.parentElement;
  // The drawn size: text in an SVG scaled down to fit shrinks with it.
  const scale = element instanceof SVGGraphicsElement ? element.getScreenCTM().a : 1;
  found.push([parseFloat(getComputedStyle(element).fontSize) * scale, node.textContent.trim()]);
}
found.sort((a, b) => a[0] - b[0]);
return found.slice(0, 3);
"""


def look_at(driver, name: str, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    """The page now open, in every view: no sideways scrolling of the page, text at a
    readable size, wide tables in boxes that say they scroll and take the keyboard,
    no axe violation; screenshots on the phone and the desktop. What is wrong goes to
    `problems`, so that one run lists all of it."""
    from axe_selenium_python import Axe

    try:
        for view, metrics in VIEWS.items():
            where = f"{name} at {view}"
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            driver.execute_script("return document.body.offsetWidth")  # lay out again
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - "
                "document.documentElement.clientWidth")
            if overflow > 0:
                problems.append(f"{where}: the page scrolls sideways ({overflow} px)")
            smallest = driver.execute_script(SMALLEST_TEXT)
            if not smallest or smallest[0][0] < READABLE_PX:
                problems.append(f"{where}: text too small: {smallest}")
            for box in driver.execute_script(SCROLL_BOXES):
                if not (box["tabindex"] == "0" and box["role"] == "region"
                        and "scroll" in box["label"].lower() and "gradient" in box["hint"]):
                    problems.append(f"{where}: a table scrolls without saying so: {box}")
            axe = Axe(driver)
            axe.inject()
            results = driver.execute_async_script(RUN_AXE, WCAG_21_AA)
            if isinstance(results, str):
                problems.append(f"{where}: axe could not run: {results}")
            elif results["violations"]:
                problems.append(f"{where}: {axe.report(results['violations'])}")
            if view != "zoom200":
                screenshot(driver, f"officials-{name}-{view}.png")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_every_page_on_a_phone_a_desktop_and_at_200_percent(served: str, browser) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    driver = browser
    failures: list[str] = []
    driver.get(served + "/officials/sign-in")
    look_at(driver, "sign-in", failures)
    driver.find_element(By.ID, "username").send_keys("ada")
    driver.find_element(By.ID, "password").send_keys("not the password")
    driver.find_element(By.CSS_SELECTOR, "form.sign-in button[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "sign-in-error"))
    look_at(driver, "sign-in-refused", failures)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.sign-in button[type=submit]").click()
    arrive(driver, served + "/officials/")
    look_at(driver, "consultations", failures)

    page = served + "/officials/consultations/survey-test"
    for suffix, name in [("", "consultation"), ("?by=age_band", "breakdown-age"),
                         ("?by=region", "breakdown-region"), ("?by=channel", "breakdown-channel")]:
        driver.get(page + suffix)
        look_at(driver, name, failures)

    driver.get(page)
    driver.find_element(By.CSS_SELECTOR, "button[value='responses.csv']").click()
    WebDriverWait(driver, 60).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "a.download"))
    look_at(driver, "export", failures)

    driver.get(served + "/officials/outreach")
    look_at(driver, "outreach", failures)
    driver.execute_script(  # ends before it starts: refused, with the problems listed
        "document.getElementById('starts_at').value = '2030-07-02T10:00';"
        "document.getElementById('ends_at').value = '2030-07-01T10:00';")
    driver.find_element(By.CSS_SELECTOR, "form.outreach button[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "problems"))
    look_at(driver, "outreach-refused", failures)
    driver.execute_script(
        "document.getElementById('starts_at').value = '2030-07-01T10:00';"
        "document.getElementById('ends_at').value = '2030-07-02T10:00';"
        "for (const text of document.querySelectorAll('textarea')) text.value ="
        " 'The county survey is open: text SURVEY to take part. Reply STOP to opt out.';")
    driver.find_element(By.CSS_SELECTOR, "form.outreach button[type=submit]").click()
    WebDriverWait(driver, 20).until(
        lambda d: "/officials/outreach/" in d.current_url or d.find_elements(By.ID, "problems"))
    assert "/officials/outreach/" in driver.current_url, driver.find_element(By.ID, "problems").text
    look_at(driver, "outreach-draft", failures)

    driver.get(served + "/officials/consultations/nope")
    look_at(driver, "not-found", failures)
    assert not failures, "\n\n".join(failures)
    for name in ("consultation", "breakdown-age"):
        for view in ("390px", "desktop"):
            assert (ARTIFACTS / f"officials-{name}-{view}.png").stat().st_size > 10_000
