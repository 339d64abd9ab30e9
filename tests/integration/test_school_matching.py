"""Save-time matching on a real database (SQLite file and PostgreSQL): merges, possible
duplicates, dismissals, unmerge, aliases, order independence, concurrent saves."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

import pytest
from sqlalchemy import text

from domain.matching import facts_of
from domain.matching.dedupe import group_duplicates
from domain.records import Evidence, SchoolRecord
from models.db import open_database, run_sync_transaction
from models.documents import DocumentStore
from models.migrate import upgrade
from models.school_index import candidates
from models.schools import SaveItem, SchoolInfo, SchoolStore
from pipeline.errors import ConflictError
from schoolx.app import App, open_app
from tests.conftest import FAST
from tests.support.schools import FRESNO, HARBOR, MAILING, MODESTO, PARK, PHYSICAL, rec

REVIEWER = "reviewer"


class Docs:
    """Documents of records, saved as the pdf handler saves them."""

    def __init__(self, app: App) -> None:
        self.documents = DocumentStore(app.db)
        self.schools = SchoolStore(app.db)
        self.count = 0

    async def save(self, *records: SchoolRecord, store: SchoolStore | None = None) -> int:
        self.count += 1
        doc, _ = await self.documents.add(f"doc {self.count}".encode(), f"d{self.count}.pdf", "u")
        placed = [
            replace(r, evidence=Evidence(1, i * 10, i * 10 + 5, f"{r.name} ({i})"))
            for i, r in enumerate(records)
        ]
        items = [
            SaveItem(placed[g[0]], tuple(placed[i] for i in g[1:]))
            for g in group_duplicates(placed)
        ]
        await (store or self.schools).save(items, document_id=doc.id, task_id=0, extractor="t")
        return doc.id

    async def partition(self) -> set[frozenset[tuple[str, str]]]:
        """Which evidence ended in which school: (document name, snippet) per school."""
        return {
            frozenset((s.document, s.snippet) for s in school.sources)
            for school in await self.schools.export()
        }


@pytest.fixture
async def docs(app: App) -> AsyncIterator[Docs]:
    yield Docs(app)


def snapshot(info: SchoolInfo) -> tuple[object, ...]:
    return (
        info.name,
        info.fields,
        info.status,
        info.merged_into,
        info.locked_fields,
        sorted(s.id for s in info.sources),
        info.aliases,
    )


async def test_mailing_and_physical_address_are_one_school_keeping_both(docs: Docs) -> None:
    await docs.save(PHYSICAL, HARBOR)
    await docs.save(MAILING, PARK)
    schools = {s.name: s for s in await docs.schools.export()}
    assert set(schools) == {PHYSICAL.name, HARBOR.name, PARK.name}
    bonham = await docs.schools.get(schools[PHYSICAL.name].id)
    assert len(bonham.sources) == 2
    # the record shows one address; the other is kept with its source, and can be chosen
    addresses = bonham.alternatives()["address"]
    assert [(a.value, a.current) for a in addresses] == [
        ("5200 Mainland Rd", True),
        ("PO Box 1500", False),
    ]
    assert addresses[1].sources[0].document_id == bonham.sources[1].document_id
    switched = await docs.schools.edit(bonham.id, {"address": "PO Box 1500"}, REVIEWER)
    assert switched.fields["address"] == "PO Box 1500"
    assert [a.current for a in switched.alternatives()["address"]] == [True, False]


async def test_prose_mention_is_proposed_never_merged(docs: Docs) -> None:
    await docs.save(
        rec("Webster Elementary", address="1 Elm St", city="Dayton", phone="937-555-0100")
    )
    await docs.save(rec("Webster Elementary"))  # a document that only mentions it
    assert len(await docs.schools.export()) == 2
    pairs = await docs.schools.duplicates()
    assert [(p.a.name, p.b.name) for p in pairs] == [("Webster Elementary",) * 2]
    assert "name same" in pairs[0].reasons[0]


async def test_dismissed_pair_never_comes_back(docs: Docs) -> None:
    await docs.save(
        rec("Webster Elementary", address="1 Elm St", city="Dayton", phone="937-555-0100")
    )
    await docs.save(rec("Webster Elementary"))
    [pair] = await docs.schools.duplicates()
    dismissed = await docs.schools.dismiss(pair.id, REVIEWER)
    assert dismissed.status == "dismissed"
    assert await docs.schools.duplicates() == []
    await docs.save(rec("Webster Elementary"))  # mentioned again, elsewhere
    # the new mention is proposed (a new school), the dismissed pair is not
    again = await docs.schools.duplicates()
    assert {frozenset((p.a.id, p.b.id)) for p in again}.isdisjoint(
        {frozenset((pair.a.id, pair.b.id))}
    )
    with pytest.raises(ConflictError, match="already dismissed"):
        await docs.schools.accept(pair.id, REVIEWER)


async def test_unmerge_restores_exactly_the_former_records(docs: Docs) -> None:
    await docs.save(HARBOR)
    await docs.save(replace(PARK, grades="K-5", website="park.org"))
    keep, other = sorted(await docs.schools.export(), key=lambda s: s.id)
    before = [snapshot(await docs.schools.get(s.id)) for s in (keep, other)]
    merged = await docs.schools.merge(keep.id, other.id, REVIEWER)
    assert merged.fields["grades"] == "K-5" and len(merged.sources) == 2
    restored = await docs.schools.unmerge(other.id, REVIEWER)
    assert restored.status == "pending"
    after = [snapshot(await docs.schools.get(s.id)) for s in (keep, other)]
    assert after == before
    # unmerged schools are remembered as two
    assert await docs.schools.duplicates() == []


async def test_an_automatic_merge_can_be_undone(docs: Docs) -> None:
    await docs.save(PHYSICAL)
    [before] = await docs.schools.export()
    await docs.save(replace(MAILING, grades="6-8", website="https://bonham.org"))
    [school] = await docs.schools.export()
    info = await docs.schools.get(school.id)
    [auto] = [m for m in info.merges if m.kind == "auto"]
    assert info.fields["website"] == "https://bonham.org"
    assert any("contact" in r for r in auto.reasons)
    separated = await docs.schools.unmerge(auto.merged_id, REVIEWER)
    assert separated.name == MAILING.name and separated.fields["website"] == "https://bonham.org"
    assert [s.document for s in separated.sources] == ["d2.pdf"]
    restored = await docs.schools.get(before.id)
    assert (restored.name, restored.fields, restored.status) == (
        before.name,
        before.fields,
        before.status,
    )
    assert [s.document for s in restored.sources] == ["d1.pdf"]
    # both are found by a save again, each by its own keys only
    found = await run_sync_transaction(
        docs.schools.db, lambda conn: candidates(conn, [facts_of(MAILING)])
    )
    assert {c.id for c in found} == {before.id, separated.id}
    by_website = facts_of(rec("Unrelated", website="https://bonham.org"))
    found = await run_sync_transaction(docs.schools.db, lambda conn: candidates(conn, [by_website]))
    assert [c.id for c in found] == [separated.id]


async def test_merging_a_rejected_school_needs_confirmation(docs: Docs) -> None:
    await docs.save(HARBOR)
    await docs.save(PARK)
    harbor, park = sorted(await docs.schools.export(), key=lambda s: s.id)
    await docs.schools.review(park.id, False, REVIEWER)
    with pytest.raises(ConflictError, match="rejected; merging it needs confirmation"):
        await docs.schools.merge(harbor.id, park.id, REVIEWER)
    merged = await docs.schools.merge(harbor.id, park.id, REVIEWER, confirm=True)
    assert len(merged.sources) == 2


async def test_accepted_merge_teaches_an_alias(docs: Docs) -> None:
    await docs.save(
        rec("San Benito High", address="1220 Monterey St", city="Hollister", phone="831-555-0100")
    )
    await docs.save(
        rec("Hollister High", address="9 Other Rd", city="Hollister", phone="831-555-0999")
    )
    first, second = sorted(await docs.schools.export(), key=lambda s: s.id)
    await docs.schools.merge(first.id, second.id, REVIEWER)
    assert (await docs.schools.get(first.id)).aliases == ("Hollister High",)
    # the variant, printed with the school's own street: links without review
    await docs.save(rec("Hollister High", address="1220 Monterey St", city="Hollister"))
    assert len(await docs.schools.export()) == 1
    assert await docs.schools.duplicates() == []


async def test_name_edit_keeps_the_old_name_as_alias(docs: Docs) -> None:
    await docs.save(rec("BONHAM J H", address="5200 Mainland Rd", city="Dallas"))
    [school] = await docs.schools.export()
    edited = await docs.schools.edit(school.id, {"name": "Bonham Middle School"}, REVIEWER)
    assert edited.aliases == ("BONHAM J H",)
    await docs.save(
        rec("Bonham J H", address="5200 Mainland Rd", city="Dallas", phone="2145550101")
    )
    assert len(await docs.schools.export()) == 1


DOCUMENTS: list[tuple[SchoolRecord, ...]] = [
    (
        PHYSICAL,
        HARBOR,
        rec("Lincoln Elementary", city="Fresno", postal_code="93701", phone="559-555-0100"),
    ),
    (
        MAILING,
        PARK,
        rec("Lincoln Elementary", city="Modesto", postal_code="95350", phone="209-555-0200"),
    ),
    (
        rec("Bonham Middle", city="Dallas", region="TX", phone="214.555.0101"),
        rec("LINCOLN ELEM", city="Fresno", postal_code="93701", address="1 Main St"),
        rec("Webster Elementary"),
    ),
    (
        rec("BONHAM J H", city="Dallas", region="TX", phone="(214) 555-0101", grades="6-8"),
        rec("Lincoln Elementary", address="1 Main Street", city="Fresno", phone="559-555-0100"),
    ),
]


def ev(document: int, index: int) -> tuple[int, str]:
    return document, f"{DOCUMENTS[document][index].name} ({index})"


@pytest.mark.parametrize("order", list(itertools.permutations(range(len(DOCUMENTS)))))
async def test_any_order_gives_the_same_schools(app: App, order: Sequence[int]) -> None:
    docs = Docs(app)
    names = {}
    for i in order:
        await docs.save(*DOCUMENTS[i])
        names[f"d{docs.count}.pdf"] = i
    found = {
        frozenset((names[d], snippet) for d, snippet in school) for school in await docs.partition()
    }
    expected = {
        frozenset({ev(0, 0), ev(1, 0), ev(2, 0), ev(3, 0)}),  # physical, mailing, J H
        frozenset({ev(0, 1)}),  # Harbor
        frozenset({ev(1, 1)}),  # Park
        frozenset({ev(0, 2), ev(2, 1), ev(3, 1)}),  # Lincoln in Fresno, linked through doc 3
        frozenset({ev(1, 2)}),  # Lincoln in Modesto
        frozenset({ev(2, 2)}),  # a mention
    }
    assert found == expected


async def test_two_workers_saving_one_school_make_one_record(db_url: str, app: App) -> None:
    docs = Docs(app)
    other = open_database(db_url)  # a second worker: its own engine and connections
    try:
        second = SchoolStore(other)
        for round_ in range(3):
            school = replace(PHYSICAL, name=f"Bonham Middle School {round_ + 1}")
            await asyncio.gather(
                docs.save(school),
                docs.save(replace(school, address="PO Box 1500"), store=second),
            )
        found = await docs.schools.export()
        assert sorted(s.name for s in found) == [f"Bonham Middle School {n}" for n in (1, 2, 3)]
        assert all(len(s.sources) == 2 for s in found)
    finally:
        await other.dispose()


async def test_schools_saved_before_the_upgrade_are_found(db_url: str) -> None:
    db = open_database(db_url)
    try:
        await upgrade(db, "0005")
        async with db.write.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO documents (sha256, filename, user_id, size, content, created_at)"
                    " VALUES ('x', 'old.pdf', 'u', 1, :c, '2026-01-01')"
                ),
                {"c": b"x"},
            )
            await conn.execute(
                text(
                    "INSERT INTO schools (name, match_key, city, phone, status, locked_fields, "
                    "created_at, updated_at) VALUES ('Bonham Middle School', 'bonham middle', "
                    "'Dallas', '+12145550101', 'pending', '[]', '2026-01-01', '2026-01-01')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO school_sources (school_id, document_id, page, span_start, "
                    "span_end, snippet, extractor, record, created_school) VALUES (1, 1, 1, 0, "
                    "5, 'Bonham', 'rules', :r, true)"
                ),
                {"r": json.dumps(replace(PHYSICAL, address=None).to_json())},
            )
        await upgrade(db)
    finally:
        await db.dispose()
    app = await open_app(db_url, FAST)
    try:
        docs = Docs(app)
        await docs.save(MAILING)
        [school] = await docs.schools.export()
        assert school.name == "Bonham Middle School" and len(school.sources) == 2
    finally:
        await app.close()


async def test_identifiers_decide(docs: Docs) -> None:
    udise = {"udise": "33300100101"}
    await docs.save(replace(rec("GHS Kovilpatti", city="Kovilpatti"), identifiers=udise))
    # another spelling, no other agreement: the same id makes it the same school
    await docs.save(replace(rec("Government High School", city="Tuticorin"), identifiers=udise))
    # the same name and town under another id of the scheme: another school
    other = {"udise": "33300100102"}
    await docs.save(replace(rec("GHS Kovilpatti", city="Kovilpatti"), identifiers=other))
    found = sorted((len(s.sources), s.identifiers["udise"]) for s in await docs.schools.export())
    assert found == [(1, "33300100102"), (2, "33300100101")]
    assert await docs.schools.duplicates() == []


async def test_a_mention_in_a_list_of_twins_joins_neither(docs: Docs) -> None:
    await docs.save(FRESNO, MODESTO, rec("Lincoln Elementary"))  # two schools, one mention
    found = await docs.schools.export()
    assert sorted(len(s.sources) for s in found) == [1, 1, 1]
    assert {(p.a.name, p.b.name) for p in await docs.schools.duplicates()} == {
        ("Lincoln Elementary", "Lincoln Elementary")
    }
