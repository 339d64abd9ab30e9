"""Search on SQLite (FTS5) and PostgreSQL (tsvector): case, accents, punctuation and
abbreviations forgiven the same way on both, best matches first, kept up to date by saves,
merges, edits and unmerges."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from models.db import open_database
from models.documents import DocumentStore
from models.migrate import upgrade
from models.schools import SchoolStore
from schoolx.app import App
from tests.support.seed import seed, town

PLACES = [
    town("St. Helens High School", "St. Helens"),
    town("Lincoln Elementary School", "Salem"),
    town("Lincoln High School", "Portland"),
    town("Lincoln High School Annex", "Portland"),
    town("Abraham Lincoln High", "Eugene"),
    town("École Sainte-Anne", "Beaverton"),
    town("Helensburgh Primary", "Bend"),
]


@pytest.fixture
async def schools(app: App) -> AsyncIterator[SchoolStore]:
    store = SchoolStore(app.db)
    await seed(DocumentStore(app.db), store, PLACES)
    yield store


async def names(store: SchoolStore, query: str) -> list[str]:
    return [s.name for s in (await store.find(text_query=query)).items]


@pytest.mark.parametrize(
    "query", ["st helens", "saint helens", "ST. HELENS", "St Helens High", "st. hel", "Helens"]
)
async def test_saint_helens_however_written(schools: SchoolStore, query: str) -> None:
    found = await names(schools, query)
    assert found[0] == "St. Helens High School"
    assert "Helensburgh Primary" not in found[:1]


async def test_abbreviations_and_accents(schools: SchoolStore) -> None:
    assert await names(schools, "lincoln elem") == ["Lincoln Elementary School"]
    assert await names(schools, "ecole sainte anne") == ["École Sainte-Anne"]
    assert await names(schools, "ECOLE ste-anne") == ["École Sainte-Anne"]
    assert await names(schools, "beaverton") == ["École Sainte-Anne"]  # its city
    assert len(await names(schools, "school")) == 4  # a word the name keys leave out


@pytest.mark.parametrize("query", ["zebra", "helens elementary", "lincoln bend", "!!!", "the"])
async def test_no_false_matches(schools: SchoolStore, query: str) -> None:
    page = await schools.find(text_query=query)
    assert (page.items, page.total) == ([], 0)


async def test_exact_name_first_then_names_starting_with_it(schools: SchoolStore) -> None:
    assert await names(schools, "lincoln high") == [
        "Lincoln High School",
        "Lincoln High School Annex",
        "Abraham Lincoln High",
    ]
    page = await schools.find(text_query="lincoln", limit=2, offset=1)
    assert page.total == 4
    assert [s.name for s in page.items] == ["Lincoln High School", "Lincoln High School Annex"]


async def test_merge_edit_and_unmerge_keep_search_current(app: App, schools: SchoolStore) -> None:
    docs = DocumentStore(app.db)
    await seed(docs, schools, [town("Columbia County Academy", "Scappoose")], filename="b.pdf")
    [helens] = (await schools.find(text_query="st helens high")).items
    [academy] = (await schools.find(text_query="columbia county")).items
    await schools.merge(helens.id, academy.id, "rita")
    assert await names(schools, "columbia county") == ["St. Helens High School"]
    assert await names(schools, "scappoose") == ["St. Helens High School"]

    await schools.edit(helens.id, {"name": "Saint Helens Riverside High"}, "rita")
    assert await names(schools, "st helens riverside") == ["Saint Helens Riverside High"]
    assert await names(schools, "columbia") == ["Saint Helens Riverside High"]

    await schools.unmerge(academy.id, "rita")
    assert await names(schools, "columbia county") == ["Columbia County Academy"]
    assert await names(schools, "scappoose") == ["Columbia County Academy"]
    assert await names(schools, "st helens") == ["Saint Helens Riverside High"]


async def test_search_combines_with_filters(schools: SchoolStore) -> None:
    page = await schools.find(text_query="lincoln", city="portland")
    assert [s.name for s in page.items] == ["Lincoln High School", "Lincoln High School Annex"]
    assert page.total == 2
    assert (await schools.find(text_query="lincoln", status="approved")).total == 0


async def test_upgrade_indexes_the_schools_already_there(db_url: str) -> None:
    db = open_database(db_url)
    try:
        await upgrade(db, "0008")
        async with db.write.begin() as conn:
            for statement in BEFORE_0009:
                await conn.execute(text(statement))
        await upgrade(db)
        store = SchoolStore(db)
        assert await names(store, "st helens") == ["St. Helens High School"]
        assert await names(store, "columbia co acad") == ["St. Helens High School"]  # alias
        assert await names(store, "helens union") == ["St. Helens High School"]  # a source
    finally:
        await db.dispose()


BEFORE_0009 = [
    "INSERT INTO documents (id, sha256, filename, user_id, size, content, created_at) "
    "VALUES (1, 'x', 'a.pdf', 'u', 1, 'x', '2026-01-01')",
    "INSERT INTO schools (id, name, match_key, city, status, locked_fields, created_at, "
    "updated_at) VALUES (1, 'St. Helens High School', 'saint helens high', 'St. Helens', "
    "'pending', '[]', '2026-01-01', '2026-01-01')",
    "INSERT INTO school_aliases (school_id, name, origin, user_id, created_at) "
    "VALUES (1, 'Columbia County Academy', 'edit', 'u', '2026-01-01')",
    "INSERT INTO school_sources (school_id, document_id, page, span_start, span_end, snippet, "
    "extractor, record) VALUES (1, 1, 1, 0, 1, 's', 'rules', "
    '\'{"name": "Helens Union High"}\')',
]
