"""Possible duplicates, merges and unmerge over the API (in-process) and on the review page
(headless Chromium): documents uploaded for real, schools matched by the real save."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from selenium.webdriver import Chrome as WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from tests.support.pdfs import mention_document, pair_documents
from tests.web.conftest import Api, LiveServer, wait_task
from tests.web.test_browser import browser as browser  # the fixture
from tests.web.test_browser import severe_console_errors, sign_in, upload, wait


async def uploaded(api: Api, headers: dict[str, str], *documents: bytes) -> None:
    for n, data in enumerate(documents):
        files = {"file": (f"d{n}.pdf", data, "application/pdf")}
        task = (await api.client.post("/documents", headers=headers, files=files)).json()
        done = await wait_task(api.client, headers, task["id"])
        assert done["status"] == "completed", done


async def pending(api: Api, headers: dict[str, str]) -> list[dict[str, Any]]:
    found = await api.client.get("/duplicates", headers=headers)
    assert found.status_code == 200, found.text
    assert found.json()["total"] == len(found.json()["items"])
    result: list[dict[str, Any]] = found.json()["items"]
    return result


async def test_accept_then_unmerge_and_confirm_a_rejected_school(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    await uploaded(api, alice, *pair_documents())
    [pair] = await pending(api, bob)
    assert (pair["a"]["name"], pair["b"]["name"]) == (
        "Webster Elementary School",
        "Webster Elementary",
    )
    assert pair["a"]["phone"] == "+19375550100" and pair["b"]["phone"] is None
    assert any(r.startswith("name same") for r in pair["reasons"])
    assert pair["b"]["sources"][0]["document"] is None  # bob does not own the documents
    keep, other = pair["a"]["id"], pair["b"]["id"]

    merged = await api.client.post(f"/duplicates/{pair['id']}/accept", headers=bob, json={})
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["id"] == keep and len(body["sources"]) == 2
    assert body["aliases"] == ["Webster Elementary"]
    assert [(m["merged_id"], m["kind"]) for m in body["merges"]] == [(other, "review")]
    assert await pending(api, bob) == []
    again = await api.client.post(f"/duplicates/{pair['id']}/accept", headers=bob)
    assert again.status_code == 409

    restored = await api.client.post(f"/schools/{other}/unmerge", headers=alice)
    assert restored.status_code == 200, restored.text
    assert restored.json()["status"] == "pending" and len(restored.json()["sources"]) == 1
    kept = (await api.client.get(f"/schools/{keep}", headers=alice)).json()
    assert len(kept["sources"]) == 1 and kept["aliases"] == []
    assert await pending(api, bob) == []  # remembered as two schools
    not_merged = await api.client.post(f"/schools/{other}/unmerge", headers=alice)
    assert not_merged.status_code == 409

    await api.client.post(f"/schools/{other}/reject", headers=bob)
    merge = {"keep": keep, "other": other}
    refused = await api.client.post("/schools/merge", headers=bob, json=merge)
    assert refused.status_code == 409 and "confirm" in refused.json()["detail"]
    done = await api.client.post("/schools/merge", headers=bob, json=merge | {"confirm": True})
    assert done.status_code == 200 and len(done.json()["sources"]) == 2


async def test_a_dismissed_pair_is_never_proposed_again(api: Api) -> None:
    alice = await api.user("alice")
    await uploaded(api, alice, *pair_documents())
    [pair] = await pending(api, alice)
    dismissed = await api.client.post(f"/duplicates/{pair['id']}/dismiss", headers=alice)
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert await pending(api, alice) == []
    assert (
        await api.client.post(f"/duplicates/{pair['id']}/accept", headers=alice)
    ).status_code == 409
    await uploaded(api, alice, mention_document())
    ids = {frozenset((p["a"]["id"], p["b"]["id"])) for p in await pending(api, alice)}
    assert frozenset((pair["a"]["id"], pair["b"]["id"])) not in ids


def test_duplicates_side_by_side_merge_and_unmerge_in_the_browser(
    live_server: LiveServer, browser: WebDriver, tmp_path: Path
) -> None:
    sign_in(browser, live_server, live_server.token("rita"))
    for n, data in enumerate(pair_documents()):
        pdf = tmp_path / f"d{n}.pdf"
        pdf.write_bytes(data)
        upload(browser, pdf)
    browser.find_element(By.ID, "duplicates-link").click()
    pair = wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "section.pair")))
    assert pair.find_element(By.CSS_SELECTOR, ".pair-a-name").text == "Webster Elementary School"
    assert pair.find_element(By.CSS_SELECTOR, ".pair-b-name").text == "Webster Elementary"
    assert len(pair.find_elements(By.CSS_SELECTOR, "pre.snippet")) == 2  # both records' evidence
    keep = pair.find_element(By.CSS_SELECTOR, "button.accept").get_attribute("data-keep")
    pair.find_element(By.CSS_SELECTOR, "button.accept").click()
    wait(browser).until(ec.presence_of_element_located((By.ID, "no-duplicates")))

    browser.get(f"{live_server.url}/ui/schools/{keep}")
    unmerge = wait(browser).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "button.unmerge")))
    other = unmerge.get_attribute("data-school-id")
    assert browser.find_element(By.ID, "aliases").text == "Webster Elementary"
    # the two sources name it differently: show the other name
    browser.find_element(By.CSS_SELECTOR, '#alternatives tr[data-field="name"] .use-value').click()
    wait(browser).until(lambda d: d.find_element(By.ID, "school-name").text == "Webster Elementary")

    # the name change redraws the page: click the unmerge button of the new page
    def click_unmerge(driver: WebDriver) -> bool:
        driver.find_element(By.CSS_SELECTOR, "button.unmerge").click()
        return True

    wait(browser).until(click_unmerge)
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "school-status"), "pending"))
    assert browser.current_url.endswith(f"/ui/schools/{other}")

    # Rejected, then merged by id: the page asks before merging.
    browser.find_element(By.ID, "reject").click()
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, "school-status"), "rejected"))
    browser.get(f"{live_server.url}/ui/schools/{keep}")
    browser.find_element(By.ID, "merge-other").send_keys(str(other))
    browser.find_element(By.ID, "merge-submit").click()
    message = wait(browser).until(ec.presence_of_element_located((By.ID, "confirm-message")))
    assert "rejected" in message.text
    browser.find_element(By.ID, "confirm-submit").click()
    wait(browser).until(ec.presence_of_element_located((By.CSS_SELECTOR, "button.unmerge")))
    with httpx.Client(timeout=10) as client:
        token = live_server.token("auditor")
        detail = client.get(
            f"{live_server.url}/schools/{keep}", headers={"Authorization": f"Bearer {token}"}
        ).json()
    assert len(detail["sources"]) == 2
    assert severe_console_errors(browser) == []
