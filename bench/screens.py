"""Screenshots of every page of the review site, at desktop and phone width.

``python -m bench.screens [--out DIR]`` starts ``schoolx serve`` on a fresh SQLite database,
uploads the sample PDFs (offline reader), adds schools enough for several pages, then
drives headless Chromium through each page at 1280 x 800 and 390 x 844 and writes one PNG
per page and width to DIR (default: a new temporary folder), printing where.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import tempfile
import time
from pathlib import Path

import httpx
from selenium import webdriver
from selenium.webdriver import Chrome
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from bench.api import ROOT, fill, free_port, start
from tests.support.pdfs import pair_documents

SAMPLES = (
    "directory_blocks.pdf",
    "table.pdf",
    "prose.pdf",
    "same_schools_a.pdf",
    "same_schools_b.pdf",
)
SIZES = {"desktop": (1280, 800, False), "phone": (390, 844, True)}
MAX_HEIGHT = 2400


def documents() -> list[tuple[str, bytes]]:
    """The samples, and two documents that make a possible duplicate to review."""
    found = [(name, (ROOT / "samples" / name).read_bytes()) for name in SAMPLES]
    return found + [(f"pair-{n}.pdf", pdf) for n, pdf in enumerate(pair_documents(), 1)]


def upload_samples(url: str, token: str) -> None:
    """One at a time: more at once than a user's task limit would be refused (429)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for name, data in documents():
            files = {"file": (name, data, "application/pdf")}
            task = client.post("/documents", files=files).json()
            deadline = time.monotonic() + 120
            while task["status"] not in ("completed", "failed", "cancelled"):
                assert time.monotonic() < deadline, f"{name} was not read in time"
                time.sleep(0.2)
                task = client.get(f"/tasks/{task['id']}").json()


def browser() -> Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))


def shoot(driver: Chrome, path: Path, width: int, height: int, mobile: bool) -> None:
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    driver.refresh()
    time.sleep(0.5)  # let Swagger UI and ReDoc draw: a picture, not a test
    full = int(driver.execute_script("return document.documentElement.scrollHeight"))
    clip = {"x": 0, "y": 0, "width": width, "height": min(full, MAX_HEIGHT), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))


PAGES = {
    "login": "/login",
    "schools": "/",
    "schools-page-2": "/?offset=50",
    "needs-review": "/ui/review",
    "duplicates": "/ui/duplicates",
    "api-docs": "/docs",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path)
    opts = parser.parse_args()
    out = opts.out or Path(tempfile.mkdtemp(prefix="schoolx-screens-"))
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, SCHOOLX_HOME=home, PYTHONPATH=str(ROOT))
        env.pop("SCHOOLX_DATABASE_URL", None)
        db = f"sqlite:///{Path(home) / 'screens.db'}"
        token = asyncio.run(fill(db, 150))
        port = free_port()
        server = start(["schoolx.cli", "--db", db, "serve", "--port", str(port)], env, port)
        url = f"http://127.0.0.1:{port}"
        driver = browser()
        try:
            upload_samples(url, token)
            driver.get(url + "/login")
            driver.find_element(By.ID, "token").send_keys(token)
            driver.find_element(By.ID, "login-submit").click()
            driver.get(url + "/?q=Las+Colinas")  # a school with sources from two documents
            school = driver.find_element(By.CSS_SELECTOR, "a.school-link").get_attribute("href")
            for name, path in (PAGES | {"school": str(school)}).items():
                driver.get(path if path.startswith("http") else url + path)
                for size, (width, height, mobile) in SIZES.items():
                    shoot(driver, out / f"{name}-{size}.png", width, height, mobile)
        finally:
            driver.quit()
            server.terminate()
            server.wait(timeout=30)
    print(f"screenshots in {out}")


if __name__ == "__main__":
    main()
