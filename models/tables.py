"""All tables. Queue tables first, then documents, then the schools under review."""

# No ``from __future__ import annotations`` here: SQLAlchemy would then evaluate each
# ``Mapped[...]`` string when the classes are made, about a third of this module's import
# time, which every command pays (bench/startup.py).

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow

# --- queue -----------------------------------------------------------------------------


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    user_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[Any] = mapped_column(JSON, default=dict)
    result: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    stage: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    run_after: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (
        Index("ix_tasks_status_user", "status", "user_id"),
        Index("ix_tasks_owner", "owner"),
    )


class TaskStep(Base):
    """One finished stage (or chunk) of a task: written once, never rewritten."""

    __tablename__ = "task_steps"

    task_id: Mapped[int] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    output: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TaskEvent(Base):
    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(32))
    data: Mapped[Any] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        Index("ix_task_events_user_id_id", "user_id", "id"),
        Index("ix_task_events_task_id", "task_id"),
    )


class Worker(Base):
    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# --- documents -------------------------------------------------------------------------


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    task_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Page(Base):
    __tablename__ = "pages"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    page_no: Mapped[int] = mapped_column(Integer, primary_key=True)  # counts from 1
    text: Mapped[str] = mapped_column(Text)
    needs_ocr: Mapped[bool] = mapped_column(Boolean, default=False)
    skipped: Mapped[str | None] = mapped_column(Text, nullable=True)


# --- schools ---------------------------------------------------------------------------


class School(Base):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    # The name as the matcher spells it (blocking itself uses school_keys).
    match_key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str | None] = mapped_column(String(32), nullable=True)
    address: Mapped[str | None] = mapped_column(String(255), nullable=True)
    city: Mapped[str | None] = mapped_column(String(128), nullable=True)
    region: Mapped[str | None] = mapped_column(String(64), nullable=True)
    postal_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    website: Mapped[str | None] = mapped_column(String(255), nullable=True)
    grades: Mapped[str | None] = mapped_column(String(64), nullable=True)
    district: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # official ids by scheme, as printed: {"udise": "33300100101", "nces": "..."}
    identifiers: Mapped[Any] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    merged_into: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Fields a reviewer approved or edited; automatic saves never overwrite them.
    locked_fields: Mapped[Any] = mapped_column(JSON, default=list)
    reviewed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # What the matcher compares a new record with: the facts of every record this school
    # is known by (its sources, its reviewed values, its aliases), distinct. Kept here so a
    # save reads one row per candidate instead of all of its sources.
    match_facts: Mapped[Any | None] = mapped_column(JSON, nullable=True)
    # The words search finds the school by, normalized (``models.school_search``); indexed
    # by FTS5 on SQLite and a tsvector GIN index on PostgreSQL (migration 0009).
    search_text: Mapped[str | None] = mapped_column(Text, nullable=True)


class SchoolSource(Base):
    """Evidence: where a school was seen (document, page, span, snippet)."""

    __tablename__ = "school_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    task_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    page: Mapped[int] = mapped_column(Integer)
    span_start: Mapped[int] = mapped_column(Integer)
    span_end: Mapped[int] = mapped_column(Integer)
    snippet: Mapped[str] = mapped_column(Text)
    extractor: Mapped[str] = mapped_column(String(32))
    record: Mapped[Any] = mapped_column(JSON, default=dict)
    # True when this evidence created the school: lets a repeated save report the same
    # {"saved", "merged"} split as the first one without storing anything else.
    created_school: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The record's facts as the matcher saw them (with the document's "shared phone" marks).
    facts: Mapped[Any | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (
        # A second save of the same evidence is a no-op: this is what makes save idempotent.
        UniqueConstraint("document_id", "page", "span_start", "extractor", name="evidence"),
    )


class SchoolKey(Base):
    """Blocking keys of the schools that are not merged away: (kind, value) -> school.

    A save looks up each key of a record here, one index lookup each, to find the schools
    worth comparing it with (``domain.matching.blocking``).
    """

    __tablename__ = "school_keys"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[str] = mapped_column(String(255), primary_key=True)
    # No index of its own: keys are removed by primary key, from the school's facts.
    school_id: Mapped[int] = mapped_column(
        ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True
    )


class SchoolPair(Base):
    """Two schools that may be one: proposed by a save, decided by a person.

    ``school_a`` < ``school_b``; one row per pair ever proposed, so a dismissed pair is
    remembered and never proposed again.
    """

    __tablename__ = "school_pairs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_a: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    school_b: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[Any] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # accepted, dismissed
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    __table_args__ = (
        UniqueConstraint("school_a", "school_b", name="school_pair"),
        Index("ix_school_pairs_status_score", "status", "score"),
    )


class SchoolMerge(Base):
    """One merge of ``merged_id`` into ``keep_id``, with what it changed, so it can be undone.

    ``kind``: ``auto`` (a save matched another document's school), ``document`` (one
    document listed the school twice), ``review`` (a person merged or accepted a pair).
    """

    __tablename__ = "school_merges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    keep_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    reasons: Mapped[Any] = mapped_column(JSON, default=list)
    # keep's fields before, and the ones this merge filled in: undo puts back those that
    # still hold the filled value.
    keep_before: Mapped[Any] = mapped_column(JSON)
    filled: Mapped[Any] = mapped_column(JSON, default=dict)
    merged_status: Mapped[str] = mapped_column(String(16))
    source_ids: Mapped[Any] = mapped_column(JSON, default=list)
    user_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    undone_by: Mapped[str | None] = mapped_column(String(128), nullable=True)


class SchoolAlias(Base):
    """Another name a school is known by, learned from review: the name of a school merged
    into it by a person, or its name before an edit. A document printing it links."""

    __tablename__ = "school_aliases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    origin: Mapped[str] = mapped_column(String(16))  # merge, edit
    merge_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    user_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ReviewAction(Base):
    __tablename__ = "review_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(128))
    detail: Mapped[Any] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class LlmCacheEntry(Base):
    """LLM replies keyed by hash(model, prompt version, schema, chunk text): never pay twice."""

    __tablename__ = "llm_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    model: Mapped[str] = mapped_column(String(128))
    response: Mapped[Any] = mapped_column(JSON)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    token_hash: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


__all__ = [
    "Document",
    "LlmCacheEntry",
    "Page",
    "ReviewAction",
    "School",
    "SchoolAlias",
    "SchoolKey",
    "SchoolMerge",
    "SchoolPair",
    "SchoolSource",
    "Task",
    "TaskEvent",
    "TaskStep",
    "User",
    "Worker",
]
