"""PATCH /schools/{id}: values pass the extraction normalizers; a value that is not one of
its field is a 422 naming the field, and nothing is stored."""

from __future__ import annotations

import pytest

from tests.support.seed import seed, town
from tests.web.conftest import Api


async def seeded(api: Api) -> int:
    rt = api.app.state.web.runtime
    await seed(rt.documents, rt.schools, [town("Lincoln Elementary", "Salem", country="US")])
    [school] = await rt.schools.search()
    return int(school.id)


@pytest.mark.parametrize(
    ("changes", "stored"),
    [
        ({"grades": "k–5"}, {"grades": "K-5"}),
        ({"grades": "Grades 9 through 12"}, {"grades": "9-12"}),
        ({"region": "oregon"}, {"region": "OR"}),
        ({"phone": "(503) 555-0142"}, {"phone": "+15035550142"}),
        ({"country": "Australia", "region": "victoria"}, {"country": "AU", "region": "VIC"}),
        ({"country": "de", "region": "Bayern"}, {"country": "DE", "region": "Bayern"}),
        ({"postal_code": "97301 1234"}, {"postal_code": "97301-1234"}),
        ({"website": "Lincoln.Salem.K12.or.us/"}, {"website": "https://lincoln.salem.k12.or.us"}),
        ({"kind": "Elementary School"}, {"kind": "elementary"}),
        ({"name": "  LINCOLN   ELEMENTARY "}, {"name": "LINCOLN ELEMENTARY"}),
        ({"district": ""}, {"district": None}),
    ],
)
async def test_valid_values_are_stored_normalized(
    api_no_worker: Api, changes: dict[str, str], stored: dict[str, str | None]
) -> None:
    headers = await api_no_worker.user("alice")
    school_id = await seeded(api_no_worker)
    response = await api_no_worker.client.patch(
        f"/schools/{school_id}", headers=headers, json=changes
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in stored} == stored
    assert set(changes) <= set(body["locked_fields"])


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"phone": "banana"}, "phone", "'banana' is not a phone number of US"),
        ({"phone": "+1 555"}, "phone", "is not a phone number"),
        ({"region": "Bavaria"}, "region", "'Bavaria' is not a state or territory of US"),
        ({"country": "AU", "region": "Oregon"}, "region", "not a state or territory of AU"),
        ({"country": "Germany"}, "country", "'Germany' is not a country"),
        ({"country": "Atlantis"}, "country", "two-letter ISO code"),
        ({"grades": "banana"}, "grades", "'banana' is not a grade range"),
        ({"grades": "K–5 and lunch"}, "grades", "not a grade range"),
        ({"postal_code": "ABC"}, "postal_code", "not a postal code of US"),
        ({"website": "not a site"}, "website", "not a web address"),
        ({"kind": "castle"}, "kind", "'castle' is not a kind of school"),
        ({"name": " "}, "name", "a school needs a name"),
        ({"city": "x" * 200}, "city", "longer than 128 characters"),
    ],
)
async def test_invalid_values_are_422_naming_the_field(
    api_no_worker: Api, changes: dict[str, str], field: str, says: str
) -> None:
    headers = await api_no_worker.user("alice")
    school_id = await seeded(api_no_worker)
    before = (await api_no_worker.client.get(f"/schools/{school_id}", headers=headers)).json()
    response = await api_no_worker.client.patch(
        f"/schools/{school_id}", headers=headers, json=changes
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert response.json()["detail"].startswith(f"{field}: ")
    assert says in response.json()["detail"]
    after = (await api_no_worker.client.get(f"/schools/{school_id}", headers=headers)).json()
    assert after == before  # nothing of the edit was stored, not even its valid fields
