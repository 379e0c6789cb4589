"""Fresh, throw-away ERP databases for the adapter tests: SQLite in tmp, an own database on the
local PostgreSQL (and MariaDB when it runs), dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# .ci/run makes a passwordless cuckoo_test user where root logs in only by socket (stock Debian)
MARIADB_ADMIN_URL = os.environ.get(
    "CUCKOO_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/mysql"
)


def _admin_engine(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


@contextmanager
def fresh_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield the SQLAlchemy URL of an empty database of `kind` (sqlite, postgres, mariadb)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'erp.db'}"
        return
    name = f"cuckoo_adapters_{uuid.uuid4().hex[:12]}"
    if kind == "postgres":
        admin = _admin_engine(PG_ADMIN_URL)
        try:
            admin.connect().close()
        except sa.exc.OperationalError as e:
            pytest.skip(f"PostgreSQL is not running on 127.0.0.1:5432: {e.orig}")
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        create = f'CREATE DATABASE "{name}"'
    elif kind == "mariadb":
        pytest.importorskip("pymysql", reason="MariaDB tests need pymysql")
        admin = _admin_engine(MARIADB_ADMIN_URL)
        try:
            admin.connect().close()
        except sa.exc.OperationalError as e:
            pytest.skip(f"MariaDB at {MARIADB_ADMIN_URL} does not answer: {e.orig}")
        url = MARIADB_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}?charset=utf8mb4"
        drop = f"DROP DATABASE IF EXISTS `{name}`"
        create = f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"
    else:
        raise ValueError(kind)
    with admin.connect() as conn:
        conn.execute(sa.text(create))
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(drop))
        admin.dispose()
