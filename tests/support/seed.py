"""Schools put straight into a database, as a save of one document would: for the tests of
lists, search and edits, which need schools but not the PDF stages that find them."""

from __future__ import annotations

from collections.abc import Sequence

from domain.normalize import normalize_record
from domain.records import Evidence, SchoolRecord
from models.documents import DocumentStore
from models.schools import SaveItem, SchoolStore


async def seed(
    documents: DocumentStore,
    schools: SchoolStore,
    places: Sequence[tuple[str, dict[str, str]]],
    *,
    filename: str = "seed.pdf",
    user: str = "alice",
) -> int:
    """Save one document of schools (name, values); returns the document's id."""
    doc, _ = await documents.add(f"%PDF-seed {filename}".encode(), filename, user)
    items = [
        SaveItem(normalize_record(SchoolRecord.of(name, Evidence(1, i, i + 1, name), values)))
        for i, (name, values) in enumerate(places)
    ]
    await schools.save(items, document_id=doc.id, task_id=0, extractor="test")
    return doc.id


def town(name: str, city: str, region: str = "OR", **values: str) -> tuple[str, dict[str, str]]:
    return name, {"city": city, "region": region, **values}
