"""The California entity-resolution data (../shared/data/er) as normalized records.

Side A is the NCES list (``us_california_public_schools.csv``: the street printed is
mostly the mailing address), side B the California directory (``ca_cde_pubschls_2018.csv``,
printed here with its physical address, as a district directory would). ``links.csv``
says which A and B rows are one school. Every school is in the training half or the
held-back half, by a hash of its id, so weights are estimated on one half and the
matcher is measured on the other. Identifiers are not put in the records.
"""

from __future__ import annotations

import csv
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

from domain.normalize import normalize_record
from domain.records import Evidence, SchoolRecord

DATA = Path(os.environ.get("SCHOOLX_ER_DATA", Path(__file__).resolve().parents[2] / "shared/data"))
TRAIN, HELD_BACK = 0, 1


@dataclass(frozen=True)
class Row:
    id: str  # "A:<nces id>" or "B:<cds code>"
    school: str  # the true school: the link's CDS code, else the row's own id
    half: int  # TRAIN or HELD_BACK
    record: SchoolRecord


def _evidence(name: str) -> Evidence:
    return Evidence(page=1, start=0, end=len(name), snippet=name)


def _grades(low: str, high: str) -> str | None:
    return f"{low}-{high}" if low[:1].isalnum() and high[:1].isalnum() else None


def _nces(row: dict[str, str]) -> SchoolRecord:
    name = row["School Name"]
    postal = row["ZIP"] + (f"-{row['ZIP 4-digit']}" if row["ZIP 4-digit"] else "")
    return normalize_record(
        SchoolRecord(
            name,
            _evidence(name),
            address=row["Street Address"] or None,
            city=row["City"] or None,
            region=row["State"] or None,
            postal_code=postal or None,
            phone=row["Phone"] or None,
            grades=_grades(row["Low Grade*"], row["High Grade*"]),
            district=row["District"] or None,
        )
    )


def _cde(row: dict[str, str]) -> SchoolRecord:
    name = row["School"]
    phone = row["Phone"] + (f" ext. {row['Ext']}" if row["Ext"] and row["Phone"] else "")
    return normalize_record(
        SchoolRecord(
            name,
            _evidence(name),
            address=row["Street"] or row["MailStreet"] or None,
            city=row["City"] or row["MailCity"] or None,
            region=row["State"] or "CA",
            postal_code=row["Zip"] or row["MailZip"] or None,
            phone=phone or None,
            website=row["WebSite"] or None,
            grades=row["GSoffered"] or None,
            district=row["District"] or None,
        )
    )


def nces_records(path: Path) -> list[SchoolRecord]:
    """Every school of an NCES list (any state's export) as a normalized record."""
    return [_nces(r) for r in _read(path)]


def _half(key: str) -> int:
    return zlib.crc32(key.encode()) % 2


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load(data: Path = DATA) -> tuple[list[Row], list[Row]]:
    """(side A rows, side B rows); a linked pair shares ``school`` and ``half``."""
    links = {r["nces_id"]: r["cds_code"] for r in _read(data / "er/links.csv")}
    side_a = [
        Row(
            f"A:{r['NCES School ID']}",
            school,
            _half(school),
            _nces(r),
        )
        for r in _read(data / "us_california_public_schools.csv")
        for school in [links.get(r["NCES School ID"], f"A:{r['NCES School ID']}")]
    ]
    side_b = [
        Row(f"B:{r['CDSCode']}", r["CDSCode"], _half(r["CDSCode"]), _cde(r))
        for r in _read(data / "er/ca_cde_pubschls_2018.csv")
    ]
    return side_a, side_b


__all__ = ["DATA", "HELD_BACK", "TRAIN", "Row", "load", "nces_records"]
