"""A fresh PostgreSQL database per test run, on the server at 127.0.0.1:5432.

CI must have PostgreSQL: when it cannot be reached the PostgreSQL tests fail, they are not
skipped. ``SCHOOLX_TEST_PG=0`` turns them off explicitly on a machine without the server.
"""

from __future__ import annotations

import os
import uuid

import asyncpg

ADMIN_DSN = os.environ.get("SCHOOLX_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def pg_enabled() -> bool:
    return os.environ.get("SCHOOLX_TEST_PG", "1") != "0"


async def create_database() -> str:
    name = f"schoolx_test_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(ADMIN_DSN, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{name}"


async def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(ADMIN_DSN, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
