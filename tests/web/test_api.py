"""The web API: auth, per-user isolation, uploads, tasks, events, schools, the page's HTML."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from domain.records import Evidence, SchoolRecord
from models.documents import DocumentStore
from models.schools import SaveItem, SchoolStore
from pipeline.store import EventInfo
from schoolx.web.routes_events import event_stream
from schoolx.web.uploads import sanitize_filename
from tests.web.conftest import (
    SAMPLE,
    XSS_NAME,
    Api,
    LiveServer,
    bearer,
    directory_pdf,
    open_api,
    wait_task,
    xss_pdf,
)

PDF = SAMPLE.read_bytes()


def other_pdf(tag: str) -> bytes:
    return directory_pdf([[f"{tag} Elementary", "1 Oak St", "Dayton, OH 45402"]])


async def upload(
    api: Api, headers: dict[str, str], data: bytes = PDF, name: str = "directory.pdf"
) -> httpx.Response:
    files = {"file": (name, data, "application/pdf")}
    return await api.client.post("/documents", headers=headers, files=files)


# --- auth --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/tasks", "/tasks/1", "/events", "/schools", "/schools/1", "/documents/1/pdf"]
)
async def test_no_token_is_401(api_no_worker: Api, path: str) -> None:
    response = await api_no_worker.client.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    bad = await api_no_worker.client.get(path, headers=bearer("not-a-token"))
    assert bad.status_code == 401


async def test_revoked_token_is_401(api_no_worker: Api) -> None:
    headers = await api_no_worker.user("alice")
    assert (await api_no_worker.client.get("/tasks", headers=headers)).status_code == 200
    await api_no_worker.app.state.web.users.revoke("alice")
    assert (await api_no_worker.client.get("/tasks", headers=headers)).status_code == 401


async def test_new_token_replaces_old(api_no_worker: Api) -> None:
    old = await api_no_worker.user("alice")
    new = await api_no_worker.user("alice")
    assert (await api_no_worker.client.get("/tasks", headers=old)).status_code == 401
    assert (await api_no_worker.client.get("/tasks", headers=new)).status_code == 200


async def test_login_sets_strict_httponly_cookie(api_no_worker: Api) -> None:
    client = api_no_worker.client
    token = (await api_no_worker.user("alice"))["Authorization"].split()[1]
    refused = await client.post("/login", data={"token": "wrong"})
    assert refused.status_code == 401 and "not valid" in refused.text
    response = await client.post("/login", data={"token": token})
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    # The client keeps the cookie: pages and the API accept it instead of the header.
    assert (await client.get("/")).status_code == 200
    assert (await client.get("/tasks")).status_code == 200
    cross = await client.post("/tasks/1/cancel", headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    client.cookies.clear()
    assert (await client.get("/")).headers["location"] == "/login"


# --- uploads -----------------------------------------------------------------------------


async def test_upload_runs_and_duplicate_returns_same_task(api: Api) -> None:
    headers = await api.user("alice")
    first = await upload(api, headers)
    assert first.status_code == 201, first.text
    task = first.json()
    assert task["duplicate"] is False and task["status"] == "pending"
    done = await wait_task(api.client, headers, task["id"])
    assert done["status"] == "completed" and done["progress"] == 100
    assert done["result"]["schools_found"] > 0
    again = await upload(api, headers, name="copy.pdf")
    assert again.status_code == 200
    assert again.json()["id"] == task["id"] and again.json()["duplicate"] is True
    listed = (await api.client.get("/tasks", headers=headers)).json()
    assert [t["id"] for t in listed["items"]] == [task["id"]] and listed["total"] == 1
    assert listed["items"][0]["filename"] == "directory.pdf"


async def test_file_name_is_sanitized(api_no_worker: Api) -> None:
    headers = await api_no_worker.user("alice")
    response = await upload(api_no_worker, headers, name="../../x.pdf")
    assert response.status_code == 201
    assert response.json()["filename"] == "x.pdf"
    doc = await api_no_worker.app.state.web.runtime.documents.get(response.json()["document_id"])
    assert doc.filename == "x.pdf"
    pdf = await api_no_worker.client.get(f"/documents/{doc.id}/pdf", headers=headers)
    assert pdf.headers["content-disposition"].startswith('inline; filename="x.pdf"')
    other = await upload(api_no_worker, headers, other_pdf("A"), "..\\..\\evil.pdf")
    assert other.json()["filename"] == "evil.pdf"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../x.pdf", "x.pdf"),
        ("C:\\Users\\a\\list.pdf", "list.pdf"),
        ("ev\x00il\n\u202e.pdf", "evil.pdf"),
        ("..", "upload.pdf"),
        ("", "upload.pdf"),
        ("a" * 300 + ".pdf", "a" * 196 + ".pdf"),
    ],
)
def test_sanitize_filename(raw: str, clean: str) -> None:
    assert sanitize_filename(raw) == clean


async def test_not_a_pdf_is_415(api_no_worker: Api) -> None:
    headers = await api_no_worker.user("alice")
    fake = await upload(api_no_worker, headers, b"<html>hello</html>", "fake.pdf")
    assert fake.status_code == 415 and "not a PDF" in fake.json()["detail"]
    late = await upload(api_no_worker, headers, b"x" * 2000 + PDF, "late.pdf")
    assert late.status_code == 415
    # The signature may follow some junk, as long as it starts in the first kilobyte.
    early = await upload(api_no_worker, headers, b"junk\n" + PDF, "early.pdf")
    assert early.status_code == 201


async def test_oversize_upload_is_413(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("SCHOOLX_MAX_UPLOAD_BYTES", "2000")
    async for api in open_api(db_url, start_worker=False):
        headers = await api.user("alice")
        response = await upload(api, headers)  # the sample is ~8 kB: past the file limit
        assert response.status_code == 413
        assert "2000 bytes" in response.json()["detail"]
        huge = await upload(api, headers, b"%PDF-" + b"0" * 200_000)  # past the body cap
        assert huge.status_code == 413 and "2000 bytes" in huge.json()["detail"]


async def test_task_limit_is_429(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("SCHOOLX_MAX_ACTIVE_PER_USER", "1")
    async for api in open_api(db_url, start_worker=False):
        headers = await api.user("alice")
        assert (await upload(api, headers, other_pdf("A"))).status_code == 201
        refused = await upload(api, headers, other_pdf("B"))
        assert refused.status_code == 429 and "limit 1" in refused.json()["detail"]


async def test_bad_extractor_is_400(api_no_worker: Api) -> None:
    headers = await api_no_worker.user("alice")
    files = {"file": ("a.pdf", PDF, "application/pdf")}
    response = await api_no_worker.client.post(
        "/documents", headers=headers, files=files, data={"extractor": "magic"}
    )
    assert response.status_code == 400 and "unknown extractor" in response.json()["detail"]


# --- isolation and task actions ----------------------------------------------------------


async def test_users_see_only_their_own(api_no_worker: Api) -> None:
    client = api_no_worker.client
    alice, bob = await api_no_worker.user("alice"), await api_no_worker.user("bob")
    task = (await upload(api_no_worker, alice)).json()
    for method, path in [
        ("GET", f"/tasks/{task['id']}"),
        ("POST", f"/tasks/{task['id']}/cancel"),
        ("POST", f"/tasks/{task['id']}/retry"),
        ("GET", f"/documents/{task['document_id']}/pdf"),
    ]:
        response = await client.request(method, path, headers=bob)
        assert response.status_code == 404, (method, path, response.text)
    assert (await client.get("/tasks", headers=bob)).json()["items"] == []
    # The same bytes from bob must not hand him alice's task.
    assert (await upload(api_no_worker, bob)).status_code == 409
    pdf = await client.get(f"/documents/{task['document_id']}/pdf", headers=alice)
    assert pdf.status_code == 200 and pdf.content == PDF
    assert pdf.headers["content-type"] == "application/pdf"


async def test_cancel_then_retry(api_no_worker: Api) -> None:
    client = api_no_worker.client
    headers = await api_no_worker.user("alice")
    task = (await upload(api_no_worker, headers)).json()
    conflict = await client.post(f"/tasks/{task['id']}/retry", headers=headers)
    assert conflict.status_code == 409  # pending: nothing to retry
    cancelled = await client.post(f"/tasks/{task['id']}/cancel", headers=headers)
    assert cancelled.json()["status"] == "cancelled"
    retried = await client.post(f"/tasks/{task['id']}/retry", headers=headers)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert (await client.get("/tasks/999", headers=headers)).status_code == 404


# --- schools -----------------------------------------------------------------------------


async def test_school_review_flow(api: Api) -> None:
    client = api.client
    alice, bob = await api.user("alice"), await api.user("bob")
    task = (await upload(api, alice)).json()
    await wait_task(client, alice, task["id"])
    found = (await client.get("/schools", headers=bob, params={"q": "colinas"})).json()["items"]
    assert [s["name"] for s in found] == ["Las Colinas Middle"]
    by_city = (await client.get("/schools", headers=bob, params={"city": "camarillo"})).json()
    by_city = by_city["items"]
    assert {s["id"] for s in by_city} >= {found[0]["id"]}
    school_id = found[0]["id"]

    mine = (await client.get(f"/schools/{school_id}", headers=alice)).json()
    source = mine["sources"][0]
    assert source["pdf_url"] == f"/documents/{task['document_id']}/pdf#page={source['page']}"
    theirs = (await client.get(f"/schools/{school_id}", headers=bob)).json()
    assert theirs["sources"][0]["pdf_url"] is None and theirs["sources"][0]["document"] is None

    approved = await client.post(f"/schools/{school_id}/approve", headers=bob)
    assert approved.json()["status"] == "approved" and approved.json()["reviewed_by"] == "bob"
    edited = await client.patch(
        f"/schools/{school_id}", headers=alice, json={"phone": "(805) 555-0199"}
    )
    assert edited.json()["phone"] == "+18055550199" and "phone" in edited.json()["locked_fields"]
    unknown = await client.patch(f"/schools/{school_id}", headers=alice, json={"id": "7"})
    assert unknown.status_code == 409
    empty = await client.patch(f"/schools/{school_id}", headers=alice, json={"name": ""})
    assert empty.status_code == 422 and empty.json()["field"] == "name"

    other = next(s["id"] for s in by_city if s["id"] != school_id) if len(by_city) > 1 else None
    other = other or (await client.get("/schools", headers=bob)).json()["items"][-1]["id"]
    merge = {"keep": school_id, "other": other}
    assert (await client.post("/schools/merge", headers=bob, json=merge)).status_code == 200
    again = await client.post("/schools/merge", headers=bob, json=merge)
    assert again.status_code == 409
    rejected = await client.post(f"/schools/{other}/reject", headers=bob)
    assert rejected.status_code == 409  # merged schools cannot be reviewed
    history = (await client.get(f"/schools/{school_id}", headers=bob)).json()["history"]
    assert [(h["action"], h["user"]) for h in history] == [
        ("approve", "bob"),
        ("edit", "alice"),
        ("merge", "bob"),
    ]
    assert (await client.get("/schools/99999", headers=bob)).status_code == 404
    assert (await client.get("/schools?status=bogus", headers=bob)).status_code == 400


async def xss_school(api: Api, headers: dict[str, str]) -> int:
    """The school named ``<script>...`` from a PDF; inserted directly if rules skip it."""
    task = (await upload(api, headers, xss_pdf(), "xss.pdf")).json()
    await wait_task(api.client, headers, task["id"])
    found = (await api.client.get("/schools", headers=headers, params={"q": "alert"})).json()
    found = found["items"]
    if found:
        return int(found[0]["id"])
    rt = api.app.state.web.runtime
    return await insert_xss_school(rt.documents, rt.schools, task["document_id"], task["id"])


async def insert_xss_school(
    documents: DocumentStore, schools: SchoolStore, document_id: int, task_id: int
) -> int:
    snippet = f"{XSS_NAME}\n12 Main St\nSpringfield, IL 62701"
    record = SchoolRecord(
        name=XSS_NAME,
        evidence=Evidence(page=1, start=0, end=len(snippet), snippet=snippet),
        city="Springfield",
        region="IL",
        postal_code="62701",
    )
    item = SaveItem(record)
    await schools.save([item], document_id=document_id, task_id=task_id, extractor="test")
    return (await schools.search(text_query="alert"))[0].id


def inline_scripts(html: str) -> list[str]:
    return [m for m in re.findall(r"<script\b[^>]*>", html) if "src=" not in m]


async def test_pdf_text_is_escaped_in_pages(api: Api) -> None:
    headers = await api.user("alice")
    school_id = await xss_school(api, headers)
    token = headers["Authorization"].split()[1]
    api.client.cookies.set("schoolx_token", token)
    for path in ["/?q=alert", f"/ui/schools/{school_id}"]:
        response = await api.client.get(path)
        html = response.text
        assert response.status_code == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert" not in html
        assert inline_scripts(html) == []
        assert "script-src 'self'" in response.headers["content-security-policy"]
    page = (await api.client.get(f"/ui/schools/{school_id}")).text
    assert "<mark>&lt;script&gt;alert(1)&lt;/script&gt;</mark>" in page
    edit = await api.client.post(
        f"/ui/schools/{school_id}/edit", data={"district": '"><img src=x onerror=alert(2)>'}
    )
    assert edit.status_code == 303
    page = (await api.client.get(f"/ui/schools/{school_id}")).text
    assert "<img src=x" not in page and "&#34;&gt;&lt;img src=x" in page


async def test_errors_never_show_tracebacks(api_no_worker: Api) -> None:
    headers = await api_no_worker.user("alice")
    client = api_no_worker.client
    for response in [
        await client.get("/tasks/abc", headers=headers),
        await client.post("/schools/merge", headers=headers, content=b"{not json"),
        await client.patch("/schools/1", headers=headers, json={"name": "x"}),
    ]:
        assert response.status_code in (404, 422), response.text
        assert "Traceback" not in response.text and 'File "' not in response.text


# --- over real HTTP ----------------------------------------------------------------------


def read_events(
    client: httpx.Client, headers: dict[str, str], until: str, limit_s: float = 120
) -> tuple[list[dict[str, Any]], list[str]]:
    """Events from /events until one of type ``until``; also the raw lines seen."""
    events: list[dict[str, Any]] = []
    lines: list[str] = []
    deadline = time.monotonic() + limit_s
    with client.stream("GET", "/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        event_id = None
        for line in response.iter_lines():
            lines.append(line)
            assert time.monotonic() < deadline, lines
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                event = json.loads(line[6:])
                assert event["id"] == event_id
                events.append(event)
                if event["type"] == until:
                    break
    return events, lines


def test_over_http_with_live_events(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = bearer(live_server.token("alice"))
    bob = bearer(live_server.token("bob"))
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        assert client.get("/tasks").status_code == 401
        files = {"file": ("directory.pdf", PDF, "application/pdf")}
        task = client.post("/documents", headers=alice, files=files).json()
        events, lines = read_events(client, alice, until="task_completed")
        assert {e["task_id"] for e in events} == {task["id"]}
        kinds = [e["type"] for e in events]
        assert kinds[0] == "task_queued" and "task_progress" in kinds
        progress = [e["data"]["progress"] for e in events if e["type"] == "task_progress"]
        assert progress == sorted(progress)
        assert any(line.startswith("retry: ") for line in lines)

        # Resume: after the second event, the stream starts with the third.
        resumed, _ = read_events(
            client, alice | {"Last-Event-ID": str(events[1]["id"])}, until="task_completed"
        )
        assert [e["id"] for e in resumed] == [e["id"] for e in events[2:]]
        with client.stream("GET", "/events", headers=bob, params={"after": 0}) as response:
            assert response.status_code == 200  # bob's stream is open but has none of alice's
        assert client.get(f"/tasks/{task['id']}", headers=bob).status_code == 404
        pdf = client.get(f"/documents/{task['document_id']}/pdf", headers=alice)
        assert pdf.content.startswith(b"%PDF-")


async def test_event_stream_sends_keepalive_while_quiet() -> None:
    async def quiet() -> AsyncIterator[EventInfo]:
        await asyncio.Event().wait()
        yield  # type: ignore[misc]  # never reached: a subscription with no events

    stream = event_stream(quiet(), keepalive_s=0.05)
    try:
        assert (await anext(stream)).startswith("retry: ")
        assert await anext(stream) == ": keep-alive\n\n"
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
