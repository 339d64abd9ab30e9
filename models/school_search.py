"""Searching schools by words that forgive case, accents, punctuation and abbreviations.

Each school keeps ``search_text``: the distinct words of its name, its other names (aliases,
the names its sources print — so a school merged into another is found under the one it
went into), its address, city and district, each spelled by ``domain.normalize.match_key``
("St. Helens" and "Saint Helens" -> ``saint helens``; "Elem" -> ``elementary``; "École" ->
``ecole``). A query is spelled the same way in Python, and every one of its words must
begin a word of the school: the same rule on SQLite (an FTS5 index kept by triggers,
migration 0009) and PostgreSQL (a GIN index on the text's ``simple`` tsvector), so both
databases find the same schools. Results rank a school whose name is the query first, then
those whose name starts with it, then by bm25 (SQLite) or ts_rank (PostgreSQL).

``search_text`` is written by every path that changes what a school is called or where it
is: a save (a new school), a merge (the union of both schools' words), an edit and an
unmerge (computed again from the school's names and sources).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Float,
    Integer,
    Table,
    TextClause,
    literal,
    select,
    text,
    update,
)

from domain.matching.names import name_key
from domain.normalize import match_key
from models.tables import School, SchoolAlias, SchoolSource

schools = cast(Table, School.__table__)
sources = cast(Table, SchoolSource.__table__)
aliases = cast(Table, SchoolAlias.__table__)

PLACES = ("address", "city", "district")
_WORD = re.compile(r"\w+")
_KEPT = frozenset({"school", "the", "of"})
# The expression the PostgreSQL index is built on: a query must repeat it exactly.
PG_VECTOR = "to_tsvector('simple', coalesce(schools.search_text, ''))"


def words_of(texts: Iterable[str | None], *, stored: bool = False) -> list[str]:
    """The distinct search words of ``texts``, in order. ``stored``: also the words a key
    leaves out ("school", "the", "of"), so that a query of nothing else still finds them."""
    seen: dict[str, None] = {}
    for value in texts:
        if value:
            seen.update(dict.fromkeys(match_key(value).split()))
            if stored:
                seen.update(dict.fromkeys(w for w in _WORD.findall(value.casefold()) if w in _KEPT))
    return list(seen)


def search_text(name: str, places: Iterable[str | None], names: Iterable[str] = ()) -> str:
    return " ".join(words_of([name, *names, *places], stored=True))


def record_text(name: str, values: dict[str, Any]) -> str:
    """A new school's words, from the record that makes it."""
    return search_text(name, (values.get(k) for k in PLACES))


def union(kept: str | None, other: str | None) -> str:
    """A school's words once another school is merged into it."""
    return " ".join(dict.fromkeys([*(kept or "").split(), *(other or "").split()]))


def refresh(conn: Connection, school_id: int) -> None:
    """Compute a school's words again from its names, places and sources (an edit, an
    unmerge); inside the caller's transaction."""
    c = schools.c
    row = conn.execute(
        select(c.name, c.address, c.city, c.district, c.search_text).where(c.id == school_id)
    ).one()
    other_names = list(
        conn.execute(select(aliases.c.name).where(aliases.c.school_id == school_id)).scalars()
    )
    records = conn.execute(select(sources.c.record).where(sources.c.school_id == school_id))
    for record in records.scalars():
        record = record or {}
        other_names.append(str(record.get("name") or ""))
        other_names += [str(record.get(k) or "") for k in PLACES]
    fresh = search_text(row.name, (row.address, row.city, row.district), other_names)
    if fresh != row.search_text:
        conn.execute(update(schools).where(c.id == school_id).values(search_text=fresh))


class Query:
    """A search as both databases run it: which schools match, and how well."""

    def __init__(self, text_query: str, dialect: str) -> None:
        self.words = words_of([text_query])
        self.key = name_key(text_query)
        self.pg = dialect == "postgresql"

    def hits(self) -> Any:
        """(id, score) of the matching schools, higher better; SQLite only."""
        match = " ".join(f'"{w}"*' for w in self.words)
        fts = text(
            "SELECT rowid AS id, -bm25(school_search) AS score FROM school_search "
            "WHERE school_search MATCH :match"
        ).bindparams(match=match)
        return fts.columns(id=Integer, score=Float).subquery("hits")

    def pg_match(self) -> TextClause:
        return text(f"{PG_VECTOR} @@ to_tsquery('simple', :tsq)").bindparams(tsq=self._tsq())

    def pg_score(self) -> TextClause:
        return text(f"ts_rank({PG_VECTOR}, to_tsquery('simple', :tsq2))").bindparams(
            tsq2=self._tsq()
        )

    def _tsq(self) -> str:
        return " & ".join(f"{w}:*" for w in self.words)

    def ranks(self) -> list[Any]:
        """ORDER BY terms before the score: the name is the query, begins with its words,
        has its words together ("Helens" finds St. Helens before Helensburgh)."""
        key = self.key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        spaced = literal(" ") + schools.c.match_key + literal(" ")
        return [
            (schools.c.match_key == self.key).desc(),
            schools.c.match_key.like(f"{key} %", escape="\\").desc(),
            spaced.like(f"% {key} %", escape="\\").desc(),
        ]


__all__ = ["PLACES", "Query", "record_text", "refresh", "search_text", "union", "words_of"]
