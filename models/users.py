"""Users of the web API: a name and the sha256 of one bearer token.

Only the hash is stored, so a leaked database does not leak usable tokens. Tokens are 256
random bits, so a plain (unsalted) hash is enough: there is nothing to guess.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import String, Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from models.base import utcnow
from models.db import Database, run_read, upsert
from models.retrying import retry_locked
from models.tables import User
from pipeline.errors import ConfigError, NotFoundError
from pipeline.names import USER_ID_RULE, valid_user_id

users = cast(Table, User.__table__)
# Built once: every API request checks its token with it (bench.api).
BY_TOKEN = select(users.c.id, users.c.revoked).where(
    users.c.token_hash == bindparam("token_hash", type_=String)
)


@dataclass(frozen=True)
class UserInfo:
    id: str
    revoked: bool
    created_at: datetime


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_name(name: str) -> str:
    if not valid_user_id(name):
        raise ConfigError(f"invalid user name {name!r}: use {USER_ID_RULE}")
    return name


class UserStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._insert = upsert(db.dialect)

    async def add(self, name: str) -> str:
        """Create the user, or give an existing one a new token (the old one stops working)."""
        check_name(name)
        token = secrets.token_urlsafe(32)
        digest = hash_token(token)

        async def fn() -> None:
            async with self.db.write.begin() as conn:
                await self._upsert(conn, name, digest)

        await retry_locked(fn)
        return token

    async def _upsert(self, conn: AsyncConnection, name: str, digest: str) -> None:
        stmt = self._insert(users).values(
            id=name, token_hash=digest, revoked=False, created_at=utcnow()
        )
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["id"], set_={"token_hash": digest, "revoked": False}
            )
        )

    async def list(self) -> list[UserInfo]:
        async with self.db.read.connect() as conn:
            rows = await conn.execute(select(users).order_by(users.c.id))
            return [UserInfo(r.id, bool(r.revoked), r.created_at) for r in rows]

    async def revoke(self, name: str) -> None:
        """Revoke the user's token; they can sign in again only after ``add`` issues a new one."""

        async def fn() -> int:
            async with self.db.write.begin() as conn:
                result = await conn.execute(
                    update(users).where(users.c.id == name).values(revoked=True, token_hash=None)
                )
                return int(result.rowcount)

        if not await retry_locked(fn):
            raise NotFoundError(f"no user {name!r}")

    async def authenticate(self, token: str) -> str | None:
        """The user id the token belongs to, or None (unknown, revoked, or empty)."""
        if not token:
            return None
        hashed = {"token_hash": hash_token(token)}
        # One row by a unique index: on the event loop (models.db.run_read).
        row = await run_read(
            self.db, lambda conn: conn.execute(BY_TOKEN, hashed).first(), inline=True
        )
        if row is None or row.revoked:
            return None
        return str(row.id)
