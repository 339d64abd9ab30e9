"""The review page's HTML in-process: paging, the needs-review list, the buttons a task
offers, field labels, documents from the shared inbox, the API docs without a CDN."""

from __future__ import annotations

import re

from pipeline.inbox import DEFAULT_USER
from tests.web.conftest import SAMPLE, Api, add_schools, wait_task


async def page(api: Api, headers: dict[str, str], url: str) -> str:
    """The page at ``url`` as the browser of the user ``headers`` authenticate gets it."""
    api.client.cookies.set("schoolx_token", headers["Authorization"].split()[1])
    response = await api.client.get(url)
    assert response.status_code == 200, response.text
    return response.text


async def first_school(api: Api) -> dict[str, int]:
    found = await api.app.state.web.runtime.schools.search(limit=1)
    return {"id": found[0].id}


def school_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-school-id="(\d+)"', html)]


async def test_schools_come_in_pages_with_counts(api_no_worker: Api, db_url: str) -> None:
    alice = await api_no_worker.user("alice")
    await add_schools(db_url, 120)
    first = await page(api_no_worker, alice, "/")
    assert "Showing 1–50 of 120" in first
    assert len(school_ids(first)) == 50
    assert 'href="/?offset=50"' in first
    last = await page(api_no_worker, alice, "/?offset=100")
    assert "Showing 101–120 of 120" in last
    assert 'class="pager-next disabled"' in last
    assert 'href="/?offset=50"' in last  # previous
    assert not set(school_ids(first)) & set(school_ids(last))
    beyond = await page(api_no_worker, alice, "/?offset=5000")
    assert "Showing 101–120 of 120" in beyond  # a stale link lands on the last page
    huge = await page(api_no_worker, alice, f"/?offset={10**20}")
    assert "Showing 101–120 of 120" in huge


async def test_paging_keeps_the_filters(api_no_worker: Api, db_url: str) -> None:
    alice = await api_no_worker.user("alice")
    await add_schools(db_url, 120)
    found = await page(api_no_worker, alice, "/?q=school+10&status=pending")
    assert "Showing 1–10 of 10" in found  # School 100 to School 109: words begin with "10"
    assert 'class="pager-next disabled"' in found
    more = await page(api_no_worker, alice, "/?q=school&status=pending&offset=50")
    assert "Showing 51–100 of 120" in more
    assert 'href="/?q=school&amp;status=pending&amp;offset=100"' in more


async def test_needs_review_lists_the_least_certain_first(api_no_worker: Api, db_url: str) -> None:
    alice = await api_no_worker.user("alice")
    await add_schools(db_url, 60)
    html = await page(api_no_worker, alice, "/ui/review")
    assert "Showing 1–50 of 60" in html
    filled = [int(n) for n in re.findall(r'data-filled="(\d+)"', html)]
    assert filled == sorted(filled) and filled[0] < filled[-1]
    first = school_ids(html)[0]
    response = await api_no_worker.client.post(
        f"/ui/schools/{first}/approve", data={"back": "/ui/review"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/review"
    after = await page(api_no_worker, alice, "/ui/review")
    assert "Showing 1–50 of 59" in after
    assert first not in school_ids(after)
    # Only the review list is a place to go back to: never a URL the form names.
    other = school_ids(after)[0]
    response = await api_no_worker.client.post(
        f"/ui/schools/{other}/reject", data={"back": "https://elsewhere.example/"}
    )
    assert response.headers["location"] == f"/ui/schools/{other}"


async def test_documents_with_warnings_are_listed(api: Api) -> None:
    headers = await api.user("alice")
    prose = SAMPLE.parent / "prose.pdf"
    files = {"file": (prose.name, prose.read_bytes(), "application/pdf")}
    task = (await api.client.post("/documents", headers=headers, files=files)).json()
    done = await wait_task(api.client, headers, task["id"])
    assert done["status"] == "completed", done
    assert done["result"]["warnings"], "the sample is meant to give a warning"
    html = await page(api, headers, "/ui/review")
    assert f'data-task-id="{task["id"]}"' in html
    assert "prose.pdf" in html
    assert "low confidence" in html or "no schools recognised" in html


def actions(html: str, task_id: int) -> list[str]:
    row = re.search(rf'<tr id="task-{task_id}".*?</tr>', html, re.DOTALL)
    assert row, html
    return re.findall(r'class="(task-cancel|task-retry)"', row.group(0))


async def test_task_buttons_follow_the_status(api_no_worker: Api) -> None:
    headers = await api_no_worker.user("alice")
    files = {"file": (SAMPLE.name, SAMPLE.read_bytes(), "application/pdf")}
    task = (await api_no_worker.client.post("/documents", headers=headers, files=files)).json()
    html = await page(api_no_worker, headers, "/")
    assert actions(html, task["id"]) == ["task-cancel"]
    cancelled = await api_no_worker.client.post(f"/tasks/{task['id']}/cancel", headers=headers)
    assert cancelled.json()["status"] == "cancelled"
    html = await page(api_no_worker, headers, "/")
    assert actions(html, task["id"]) == ["task-retry"]


async def test_completed_task_offers_no_buttons(api: Api) -> None:
    headers = await api.user("alice")
    files = {"file": (SAMPLE.name, SAMPLE.read_bytes(), "application/pdf")}
    task = (await api.client.post("/documents", headers=headers, files=files)).json()
    assert (await wait_task(api.client, headers, task["id"]))["status"] == "completed"
    html = await page(api, headers, "/")
    assert actions(html, task["id"]) == []
    assert "schools found" in html


async def test_inbox_documents_show_their_name(api: Api) -> None:
    inbox = await api.user(DEFAULT_USER)
    files = {"file": ("from-the-inbox.pdf", SAMPLE.read_bytes(), "application/pdf")}
    task = (await api.client.post("/documents", headers=inbox, files=files)).json()
    assert (await wait_task(api.client, inbox, task["id"]))["status"] == "completed"
    alice = await api.user("alice")
    school = await first_school(api)
    detail = (await api.client.get(f"/schools/{school['id']}", headers=alice)).json()
    source = detail["sources"][0]
    assert source["document"] == "from-the-inbox.pdf"
    pdf = await api.client.get(source["pdf_url"].split("#")[0], headers=alice)
    assert pdf.content == SAMPLE.read_bytes()
    html = await page(api, alice, f"/ui/schools/{school['id']}")
    assert "from-the-inbox.pdf, page" in html
    assert "Another user's document" not in html


async def test_another_users_document_stays_anonymous(api: Api) -> None:
    bob = await api.user("bob")
    files = {"file": ("bobs-secret.pdf", SAMPLE.read_bytes(), "application/pdf")}
    task = (await api.client.post("/documents", headers=bob, files=files)).json()
    assert (await wait_task(api.client, bob, task["id"]))["status"] == "completed"
    school = await first_school(api)
    html = await page(api, await api.user("carol"), f"/ui/schools/{school['id']}")
    assert "bobs-secret" not in html
    assert "Another user's document" in html


async def test_fields_have_human_labels(api: Api) -> None:
    headers = await api.user("alice")
    files = {"file": (SAMPLE.name, SAMPLE.read_bytes(), "application/pdf")}
    task = (await api.client.post("/documents", headers=headers, files=files)).json()
    await wait_task(api.client, headers, task["id"])
    school = await first_school(api)
    html = await page(api, headers, f"/ui/schools/{school['id']}")
    assert ">Postal code</label>" in html
    assert ">postal_code<" not in html


async def test_api_docs_need_no_cdn(api_no_worker: Api) -> None:
    assert (await api_no_worker.client.get("/redoc")).status_code == 404  # not offered
    response = await api_no_worker.client.get("/docs")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "http" not in csp and "unsafe-inline" not in csp
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert len(assets) == 4 and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        assert (await api_no_worker.client.get(asset)).status_code == 200, asset
