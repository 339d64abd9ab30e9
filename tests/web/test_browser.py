"""The review page in headless Chromium: sign in, upload, live progress, review, evidence."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.web.conftest import SAMPLE, XSS_NAME, LiveServer, bearer, xss_pdf

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    # CI installs Chromium (apt-get install chromium chromium-driver): missing is a failure.
    assert shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER), "install chromium"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={tmp_path / 'chrome'}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def wait(driver: WebDriver, seconds: float = 30) -> WebDriverWait[WebDriver]:
    # A page that redraws a region replaces its elements: one found a moment before is
    # stale, which means "not yet", not failure.
    return WebDriverWait(
        driver, seconds, poll_frequency=0.1, ignored_exceptions=[StaleElementReferenceException]
    )


def sign_in(driver: WebDriver, server: LiveServer, token: str) -> None:
    driver.get(server.url + "/")
    assert driver.current_url.endswith("/login")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "login-submit").click()
    wait(driver).until(ec.presence_of_element_located((By.ID, "upload-form")))


def upload(driver: WebDriver, path: Path) -> str:
    """Upload through the page; returns the new task's row id once its bar is at 100 %."""
    driver.find_element(By.ID, "upload-file").send_keys(str(path))
    driver.find_element(By.ID, "upload-submit").click()
    status = driver.find_element(By.ID, "upload-status")
    wait(driver).until(lambda d: "task" in status.text)
    task_id = re.search(r"task (\d+)", status.text)
    assert task_id, status.text
    row = f"task-{task_id.group(1)}"
    bar = (By.CSS_SELECTOR, f"#{row} .task-progress")
    wait(driver).until(lambda d: d.find_element(*bar).get_property("value") == 100)
    assert driver.find_element(By.CSS_SELECTOR, f"#{row} .task-percent").text == "100%"
    assert driver.find_element(By.CSS_SELECTOR, f"#{row} .task-status").text == "completed"
    return row


def severe_console_errors(driver: WebDriver) -> list[str]:
    """Console errors, e.g. a script or style blocked by our own CSP."""
    logs = driver.get_log("browser")  # type: ignore[no-untyped-call]
    return [str(e["message"]) for e in logs if e["level"] == "SEVERE"]


def assert_no_alert(driver: WebDriver) -> None:
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.accept()


def test_upload_review_and_evidence(live_server: LiveServer, browser: WebDriver) -> None:
    token = live_server.token("alice")
    sign_in(browser, live_server, token)
    upload(browser, SAMPLE)

    browser.find_element(By.ID, "q").send_keys("Las Colinas")
    browser.find_element(By.ID, "search-submit").click()
    link = wait(browser).until(ec.element_to_be_clickable((By.LINK_TEXT, "Las Colinas Middle")))
    link.click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "school-status"), "pending"))
    assert browser.find_element(By.CSS_SELECTOR, "pre.snippet mark").text == "Las Colinas Middle"

    browser.find_element(By.ID, "approve").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "school-status"), "approved"))
    assert "approve by alice" in browser.find_element(By.ID, "history").text

    href = browser.find_element(By.CSS_SELECTOR, "a.evidence-link").get_attribute("href")
    assert href and re.fullmatch(re.escape(live_server.url) + r"/documents/\d+/pdf#page=\d+", href)
    # With the page's cookie (what following the link does) and with the bearer token.
    fetched = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.arrayBuffer()).then(b =>"
        " done(String.fromCharCode(...new Uint8Array(b.slice(0, 5)))));",
        href,
    )
    assert fetched == "%PDF-"
    with httpx.Client(timeout=10) as client:
        pdf = client.get(href.split("#")[0], headers=bearer(token))
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content == SAMPLE.read_bytes()
    browser.get(href)  # the browser's PDF viewer opens it: no error page
    assert severe_console_errors(browser) == []


def test_school_name_from_pdf_is_text(
    live_server: LiveServer, browser: WebDriver, tmp_path: Path
) -> None:
    sign_in(browser, live_server, live_server.token("mallory"))
    pdf = tmp_path / "xss.pdf"
    pdf.write_bytes(xss_pdf())
    upload(browser, pdf)
    browser.get(live_server.url + "/?q=alert")
    assert_no_alert(browser)
    link = browser.find_elements(By.CSS_SELECTOR, "a.school-link")
    if not link:
        pytest.fail("the rules extractor did not find the school named like a script tag")
    assert link[0].text == XSS_NAME
    link[0].click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "school-name")))
    assert_no_alert(browser)
    assert browser.find_element(By.ID, "school-name").text == XSS_NAME
    assert "&lt;script&gt;" in browser.page_source
    assert severe_console_errors(browser) == []
