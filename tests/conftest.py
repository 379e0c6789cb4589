"""Shared fixtures.

`db_url`: a fresh, empty database per test, on SQLite (a temp file) and on PostgreSQL (its own
schema in the `test` database, dropped afterwards, so parallel runs don't collide). PostgreSQL
tests (the `postgres` mark or the `pg_url` fixture) are skipped — with the reason — only when the
server does not answer. Override the server with CUCKOO_TEST_PG_URL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL = os.environ.get("CUCKOO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

_pg_problem: str | None = None
_pg_checked = False


def pg_unreachable() -> str | None:
    """None if PostgreSQL answers, else why not (checked once per session)."""
    global _pg_checked, _pg_problem
    if not _pg_checked:
        _pg_checked = True
        try:
            from sqlalchemy import create_engine, text

            engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
        except Exception as e:  # any failure to connect means: skip, and say why
            _pg_problem = f"PostgreSQL at {PG_URL} is unreachable: {type(e).__name__}: {e}"
    return _pg_problem


def pytest_runtest_setup(item: pytest.Item) -> None:
    # A test that talks to PostgreSQL directly (not through pg_url) skips too, instead of erroring.
    if item.get_closest_marker("postgres") is not None:
        problem = pg_unreachable()
        if problem:
            pytest.skip(problem)


def pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new empty schema, dropped after the test."""
    problem = pg_unreachable()
    if problem:
        pytest.skip(problem)
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield pg_schema_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cuckoo.sqlite'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cuckoo.sqlite'}"
    url: str = request.getfixturevalue("pg_url")
    return url
