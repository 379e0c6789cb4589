"""The database under the store: the engine, one transaction per store call, the schema.

Several `cuckoo run` processes may share one database; what keeps them apart:
- SQLite (`make_engine`): WAL mode, and every transaction starts with `BEGIN IMMEDIATE`, which
  takes the write lock at once: one writer at a time, the others wait up to busy_timeout_ms, so a
  transaction that reads rows and then updates them cannot be overtaken between the two.
- PostgreSQL: the queries that hand rows out read them `FOR UPDATE SKIP LOCKED` (see
  `is_postgres`), so two workers never see the same row, and settle them with a conditional
  UPDATE; the engine itself is a plain pooled one.

`Database.tx()` is the one way the store talks to the database: a session that is one
transaction, committed when the block ends, rolled back if it raises. Rows stay readable after
the commit (expire_on_commit=False): the store hands them out. A database that cannot be reached
or written raises `cuckoo.errors.StoreUnavailable` (the worker backs off and journals results).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cuckoo.config import Config
from cuckoo.config.private import private_file
from cuckoo.errors import ConfigError, StoreUnavailable

__all__ = ["Database", "default_url", "is_postgres", "make_engine"]


def make_engine(
    url: str, *, busy_timeout_ms: int = 10_000, echo: bool = False, create: bool = True
) -> Engine:
    """An engine set up for cuckoo: SQLite in WAL mode with BEGIN IMMEDIATE transactions.
    `create=False`: a missing SQLite file is an error, and nothing is created on the way (a
    command that only reads must not leave an empty database, or its folder, behind)."""
    if not url.startswith("sqlite"):
        return create_engine(url, echo=echo, pool_pre_ping=True)
    db = make_url(url).database
    if db and db != ":memory:" and not db.startswith("file:"):
        if create:
            private_file(db)  # SQLite would make it with the umask's mode; -wal/-shm copy it
        elif not Path(db).is_file():
            raise ConfigError(
                f"no database at {db}: run `cuckoo db upgrade` to create it (or point -c or "
                "$CUCKOO_CONFIG at the cuckoo.toml whose var_dir / [store] url holds it)"
            )
    engine = create_engine(
        url, echo=echo, connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
    )
    memory = ":memory:" in url or url.rstrip("/") in ("sqlite:", "sqlite+pysqlite:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (SQLAlchemy's recipe)
        cur = dbapi_conn.cursor()
        if not memory:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock up front: a read-then-write transaction can't be overtaken.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def sqlite_file_problem(db: Path, *, read_header: bool = False) -> str | None:
    """What is wrong on disk with a SQLite store at `db`, or None if nothing shows. SQLite
    writes `-wal` and `-shm` files beside the database, so its folder must be writable too.

    `read_header` only when SQLite itself said the file is not a database: closing any file
    descriptor of the database drops every POSIX lock this process holds on it, so reading it
    beside live connections would let another process take it for unused and delete the
    WAL under them (seen: SQLITE_IOERR_SHORT_READ in every connection opened afterwards)."""
    folder = db.parent
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return f"{folder} is on a read-only file system; the store must be writable"
    except OSError:
        pass
    if db.exists() and not db.is_file():
        return f"{db} is not a file"
    if not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"no write permission on the folder {folder} (SQLite writes -wal and -shm files "
            "beside the store)"
        )
    if db.exists() and not os.access(db, os.R_OK | os.W_OK):
        return f"no read/write permission on {db}"
    if read_header and db.exists() and db.stat().st_size >= 16:
        with db.open("rb") as f:
            if f.read(16) != b"SQLite format 3\x00":
                return f"{db} is not a SQLite database"
    return None


def default_url(config: Config) -> str:
    """[store] url, else the SQLite file <var_dir>/cuckoo.sqlite. Creates nothing: the engine
    makes the file (and var_dir) when it is opened with create=True."""
    if config.store.url:
        return config.store.url
    return f"sqlite:///{Path(config.path(config.var_dir), 'cuckoo.sqlite').resolve()}"


def is_postgres(s: Session) -> bool:
    """Whether the session talks to PostgreSQL: row locks (FOR UPDATE SKIP LOCKED) apply."""
    return s.get_bind().dialect.name == "postgresql"


class Database:
    """An engine, its sessions, and the schema's revision."""

    def __init__(
        self, url: str, *, busy_timeout_ms: int = 10_000, echo: bool = False, create: bool = True
    ) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms=busy_timeout_ms, echo=echo, create=create)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Told after every transaction: None when it committed, the error when the database
        # was unavailable (the worker's outage tracking: one warning, not one per job).
        self.watchers: list[Callable[[StoreUnavailable | None], None]] = []

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def tx(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises. The
        database being unreachable or unwritable (server down, connection lost, disk full, file
        locked past busy_timeout) raises StoreUnavailable, which callers may retry later."""
        try:
            with self._sessions.begin() as s:
                yield s
        except (OperationalError, InterfaceError) as e:
            down = StoreUnavailable(self.problem(e))
            for watcher in self.watchers:
                watcher(down)
            raise down from e
        for watcher in self.watchers:
            watcher(None)

    def problem(self, e: DBAPIError, *, read_header: bool = False) -> str:
        """One line for an error reaching the database: the store's URL, what the database
        said, and for a SQLite file what is wrong on disk (read-only, no folder, ...)."""
        url = make_url(self.url).render_as_string(hide_password=True)
        first: DBAPIError = e
        # SQLite rolls the whole transaction back on SQLITE_FULL, so rolling back the
        # savepoint fails too ("no such savepoint"): name the first error, the cause.
        while isinstance(first.__context__, OperationalError | InterfaceError | DatabaseError):
            first = first.__context__
        lines = str(first.orig if first.orig is not None else first).strip().splitlines()
        said = lines[0] if lines else type(e).__name__
        db = make_url(self.url).database if not self.is_postgres else None
        why = (
            sqlite_file_problem(Path(db), read_header=read_header)
            if db and db != ":memory:"
            else None
        )
        return f"store {url}: {said}" + (f" ({why})" if why else "")

    @contextmanager
    def _schema_connection(self, write: bool) -> Iterator[Any]:
        """A connection for the schema commands; a database that cannot be opened is one
        clear line (StoreUnavailable), not a driver's traceback."""
        try:
            with self.engine.begin() if write else self.engine.connect() as conn:
                yield conn
        except (OperationalError, InterfaceError) as e:
            raise StoreUnavailable(self.problem(e)) from e
        except DatabaseError as e:  # "file is not a database": nothing to wait for
            raise ConfigError(self.problem(e, read_header=True)) from e

    def upgrade(self) -> str | None:
        """Bring the schema to the newest Alembic revision; returns that revision."""
        # Alembic takes about 0.13 s to import and only schema commands need it.
        from cuckoo.store import migrate

        with self._schema_connection(write=True) as conn:
            migrate.upgrade(conn)
            return migrate.current_revision(conn)

    def require_schema(self) -> None:
        """Raise ConfigError unless the schema is at the newest revision."""
        # Alembic takes about 0.13 s to import and only schema commands need it.
        from cuckoo.store import migrate

        with self._schema_connection(write=False) as conn:
            current = migrate.current_revision(conn)
            conn.rollback()
        head = migrate.head_revision()
        if current != head:
            url = make_url(self.url).render_as_string(hide_password=True)
            raise ConfigError(
                f"database {url} is at revision {current or 'none (empty)'}, "
                f"the code needs {head}: run `cuckoo db upgrade`"
            )
