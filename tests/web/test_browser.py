"""The review page in headless Chromium: sign in, upload, live progress, review, evidence."""

from __future__ import annotations

import base64
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

from tests.support.pdfs import pair_documents
from tests.web.conftest import (
    SAMPLE,
    XSS_NAME,
    LiveServer,
    add_schools,
    bearer,
    run_in_thread,
    xss_pdf,
)

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
    # CI installs Chromium (.ci/run): missing is a failure unless the tests are turned off.
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail(
            f"no {CHROMIUM} or {CHROMEDRIVER}: apt-get install chromium chromium-driver, "
            "or set SCHOOLX_TEST_BROWSER=0 to leave the browser tests out",
            pytrace=False,
        )
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


PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


def phone(driver: WebDriver) -> None:
    """A phone's viewport (390 x 844 CSS pixels, its meta viewport honoured)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)


def scrolls_sideways(driver: WebDriver) -> bool:
    return bool(
        driver.execute_script(
            "const e = document.documentElement; return e.scrollWidth > e.clientWidth;"
        )
    )


def shown_actions(driver: WebDriver) -> list[tuple[str, list[str]]]:
    """(status, buttons) of every task row as the page shows it."""
    rows = driver.execute_script(
        "return [...document.querySelectorAll('#task-rows tr')].map(r => ["
        " r.querySelector('.task-status').textContent,"
        " [...r.querySelectorAll('.task-actions button')].map(b => b.textContent)]);"
    )
    return [(str(status), [str(b) for b in buttons]) for status, buttons in rows]


RULE = {
    "pending": ["Cancel"],
    "processing": ["Cancel"],
    "failed": ["Retry"],
    "cancelled": ["Retry"],
}


def test_pages_and_needs_review(live_server: LiveServer, browser: WebDriver) -> None:
    run_in_thread(lambda: add_schools(live_server.db_url, 120))
    sign_in(browser, live_server, live_server.token("alice"))
    count = (By.CSS_SELECTOR, ".pager-count")
    assert browser.find_element(*count).text == "Showing 1–50 of 120"
    browser.find_element(By.CSS_SELECTOR, "a.pager-next").click()
    wait(browser).until(ec.text_to_be_present_in_element(count, "Showing 51–100 of 120"))
    browser.find_element(By.CSS_SELECTOR, "a.pager-previous").click()
    wait(browser).until(ec.text_to_be_present_in_element(count, "Showing 1–50 of 120"))

    browser.find_element(By.ID, "review-link").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "review-queue")))
    assert browser.find_element(*count).text == "Showing 1–50 of 120"
    rows = browser.find_elements(By.CSS_SELECTOR, "#review-queue tbody tr")
    filled = [int(r.get_attribute("data-filled") or -1) for r in rows]
    assert filled == sorted(filled) and filled[0] < filled[-1]
    first = rows[0].get_attribute("data-school-id")
    rows[0].find_element(By.CSS_SELECTOR, "button.approve").click()
    wait(browser).until(ec.text_to_be_present_in_element(count, "of 119"))
    ids = [
        r.get_attribute("data-school-id")
        for r in browser.find_elements(By.CSS_SELECTOR, "#review-queue tbody tr")
    ]
    assert first not in ids
    assert severe_console_errors(browser) == []


def test_task_buttons_per_status(
    live_server: LiveServer, browser: WebDriver, tmp_path: Path
) -> None:
    sign_in(browser, live_server, live_server.token("alice"))
    row = upload(browser, SAMPLE)
    assert browser.find_elements(By.CSS_SELECTOR, f"#{row} .task-actions button") == []
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n" + b"not really a pdf\n" * 50)
    browser.find_element(By.ID, "upload-file").send_keys(str(broken))
    browser.find_element(By.ID, "upload-submit").click()
    failed = (By.XPATH, "//tr[td[contains(@class,'task-status') and text()='failed']]")
    wait(browser).until(ec.presence_of_element_located(failed))
    retry = browser.find_element(*failed).find_element(By.CSS_SELECTOR, "button.task-retry")
    for status, buttons in shown_actions(browser):
        assert buttons == RULE.get(status, []), (status, buttons)
    retry.click()
    wait(browser).until(ec.staleness_of(retry))  # the retried task's buttons were redrawn
    wait(browser).until(ec.presence_of_element_located(failed))  # fails again: same bytes
    for status, buttons in shown_actions(browser):
        assert buttons == RULE.get(status, []), (status, buttons)
    browser.get(live_server.url + "/")  # the server's rendering follows the same rule
    for status, buttons in shown_actions(browser):
        assert buttons == RULE.get(status, []), (status, buttons)


# The upload's reply held back until a task row has turned "failed" by its events, as a slow
# network can deliver them: the reply's snapshot ("pending") is then older than the row.
HOLD_UPLOAD_REPLY = """
const original = window.fetch;
const failed = () => [...document.querySelectorAll("#task-rows .task-status")]
  .filter((td) => td.textContent === "failed").length;
const before = failed();
window.fetch = async (url, options) => {
  const response = await original(url, options);
  if (url === "/documents") {
    await new Promise((resolve) => {
      const poll = () => (failed() > before ? resolve() : setTimeout(poll, 20));
      poll();
    });
  }
  return response;
};
"""


def test_an_upload_reply_overtaken_by_events_keeps_their_status(
    live_server: LiveServer, browser: WebDriver, tmp_path: Path
) -> None:
    sign_in(browser, live_server, live_server.token("alice"))
    browser.execute_script(HOLD_UPLOAD_REPLY)
    broken = tmp_path / "overtaken.pdf"
    broken.write_bytes(b"%PDF-1.4\n" + b"overtaken by its events\n" * 50)
    browser.find_element(By.ID, "upload-file").send_keys(str(broken))
    browser.find_element(By.ID, "upload-submit").click()
    status = browser.find_element(By.ID, "upload-status")
    wait(browser).until(lambda d: "task" in status.text)  # the reply has been shown
    task_id = re.search(r"task (\d+)", status.text)
    assert task_id, status.text
    row = browser.find_element(By.ID, f"task-{task_id.group(1)}")
    assert row.find_element(By.CSS_SELECTOR, ".task-status").text == "failed"
    assert row.find_element(By.CSS_SELECTOR, ".file").text == "overtaken.pdf"


def test_drop_a_file_to_upload(live_server: LiveServer, browser: WebDriver) -> None:
    sign_in(browser, live_server, live_server.token("alice"))
    data = base64.b64encode(SAMPLE.read_bytes()).decode()
    browser.execute_script(
        "const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));"
        "const dt = new DataTransfer();"
        "dt.items.add(new File([bytes], 'dropped.pdf', {type: 'application/pdf'}));"
        "const zone = document.getElementById('dropzone');"
        "zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true}));"
        "zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true}));",
        data,
    )
    status = browser.find_element(By.ID, "upload-status")
    wait(browser).until(lambda d: "task" in status.text)
    task_id = re.search(r"task (\d+)", status.text)
    assert task_id, status.text
    row = f"#task-{task_id.group(1)}"
    wait(browser).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, f"{row} .task-status"), "completed")
    )
    assert browser.find_element(By.CSS_SELECTOR, f"{row} .file").text == "dropped.pdf"


def test_phone_width_has_no_sideways_scroll(
    live_server: LiveServer, browser: WebDriver, tmp_path: Path
) -> None:
    run_in_thread(lambda: add_schools(live_server.db_url, 60))
    phone(browser)
    browser.get(live_server.url + "/login")
    assert not scrolls_sideways(browser)
    sign_in(browser, live_server, live_server.token("alice"))
    for n, pdf in enumerate(pair_documents()):  # a possible duplicate, shown side by side
        path = tmp_path / f"pair-{n}.pdf"
        path.write_bytes(pdf)
        upload(browser, path)
    upload(browser, SAMPLE)
    browser.get(live_server.url + "/ui/duplicates")
    assert browser.find_elements(By.CSS_SELECTOR, "section.pair")
    browser.get(live_server.url + "/?q=Las+Colinas")
    school = browser.find_element(By.CSS_SELECTOR, "a.school-link").get_attribute("href")
    assert school
    for url in ("/", "/ui/review", "/ui/duplicates", school):
        browser.get(url if url.startswith("http") else live_server.url + url)
        wait(browser).until(ec.presence_of_element_located((By.TAG_NAME, "main")))
        assert not scrolls_sideways(browser), url
    assert severe_console_errors(browser) == []


def test_api_docs_render_offline(live_server: LiveServer, browser: WebDriver) -> None:
    browser.get(live_server.url + "/docs")
    title = (By.CSS_SELECTOR, ".swagger-ui .info .title")
    heading = wait(browser).until(ec.presence_of_element_located(title))
    wait(browser).until(lambda d: "schoolx" in heading.text)
    origins = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin);"
    )
    assert set(origins) <= {live_server.url}, origins
    operations = browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
    assert "/schools" in {o.text for o in operations}
    assert severe_console_errors(browser) == []
