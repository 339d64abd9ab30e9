"""Every list of the API is one page with how many there are in all: schools (also of one
document), tasks, documents, possible duplicates; a window out of range is a 422."""

from __future__ import annotations

import pytest

from tests.support.seed import seed, town
from tests.web.conftest import SAMPLE, Api


async def two_documents(api: Api) -> tuple[int, int]:
    rt = api.app.state.web.runtime
    first = await seed(
        rt.documents,
        rt.schools,
        [town(f"School Number {i}", "Salem", phone=f"(503) 555-01{i:02d}") for i in range(7)],
        filename="salem.pdf",
    )
    second = await seed(
        rt.documents,
        rt.schools,
        [town(f"Academy {n}", "Bend", phone=f"(541) 555-02{i:02d}") for i, n in enumerate("ABC")],
        filename="bend.pdf",
    )
    return first, second


async def test_schools_are_paged_with_a_total(api_no_worker: Api) -> None:
    client, headers = api_no_worker.client, await api_no_worker.user("alice")
    await two_documents(api_no_worker)
    first = (await client.get("/schools", headers=headers, params={"limit": 4})).json()
    assert (first["total"], first["limit"], first["offset"]) == (10, 4, 0)
    assert [s["name"] for s in first["items"]] == [
        "Academy A",
        "Academy B",
        "Academy C",
        "School Number 0",
    ]
    last = (await client.get("/schools", headers=headers, params={"limit": 4, "offset": 8})).json()
    assert [s["name"] for s in last["items"]] == ["School Number 5", "School Number 6"]
    assert last["total"] == 10
    beyond = (await client.get("/schools", headers=headers, params={"offset": 50})).json()
    assert (beyond["items"], beyond["total"]) == ([], 10)


async def test_schools_of_one_document(api_no_worker: Api) -> None:
    client, headers = api_no_worker.client, await api_no_worker.user("alice")
    salem, bend = await two_documents(api_no_worker)
    found = (await client.get("/schools", headers=headers, params={"document": bend})).json()
    assert found["total"] == 3
    assert {s["city"] for s in found["items"]} == {"Bend"}
    both: dict[str, str | int] = {"document": salem, "city": "bend"}
    assert (await client.get("/schools", headers=headers, params=both)).json()["total"] == 0
    documents = (await client.get("/documents", headers=headers)).json()
    assert documents["total"] == 2
    assert [(d["id"], d["filename"], d["schools"]) for d in documents["items"]] == [
        (bend, "bend.pdf", 3),
        (salem, "salem.pdf", 7),
    ]
    bob = await api_no_worker.user("bob")
    assert (await client.get("/documents", headers=bob)).json() == {
        "total": 0,
        "limit": 100,
        "offset": 0,
        "items": [],
    }


async def test_tasks_and_duplicates_are_paged(api_no_worker: Api) -> None:
    client, headers = api_no_worker.client, await api_no_worker.user("alice")
    for name in ("one.pdf", "two.pdf", "three.pdf"):
        data = SAMPLE.read_bytes() + name.encode()  # other bytes: another task
        files = {"file": (name, data, "application/pdf")}
        assert (await client.post("/documents", headers=headers, files=files)).status_code == 201
    page = (await client.get("/tasks", headers=headers, params={"limit": 2, "offset": 1})).json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 1)
    assert [t["filename"] for t in page["items"]] == ["two.pdf", "one.pdf"]
    pairs = (await client.get("/duplicates", headers=headers, params={"limit": 5})).json()
    assert (pairs["total"], pairs["limit"], pairs["items"]) == (0, 5, [])


@pytest.mark.parametrize("path", ["/schools", "/tasks", "/documents", "/duplicates"])
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 10**20}, "offset"),  # not a 500 from an integer SQLite cannot bind
    ],
)
async def test_a_window_out_of_range_is_422(
    api_no_worker: Api, path: str, params: dict[str, int], field: str
) -> None:
    headers = await api_no_worker.user("alice")
    response = await api_no_worker.client.get(path, headers=headers, params=params)
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["query", field]
