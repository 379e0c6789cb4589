"""`type = "sql"`: any database SQLAlchemy can reach (SQLite, PostgreSQL, MariaDB/MySQL, ...).

- `pending_query` is a SELECT whose columns name the notification fields (external_id, phone,
  scenario, channel or call_flag/sms_flag, tenant, timezone, not_before, deadline, variables as
  a JSON object); every other column becomes a template variable. `fields` renames columns.
- `write_back` is one or more statements run in one transaction per report, with the named
  parameters :source :external_id :status :status_code :outcome :outcome_code :final :attempts
  :contacts :dtmf :transcript :callback_at :detail :last_attempt_at :reported_at (times in
  `erp_timezone`). :status, :outcome and :detail are in Russian («не дозвонились», «не
  ответил», «не дозвонились: исчерпано 3 попытки») unless `results = "en"`; :status_code and
  :outcome_code are always the English codes.

Delivery: the query returns every row still waiting, also rows returned before; the store
dedups. A row stops being pending only when the write-back of a final status changes it (the
sample clears the flags). So a crash between fetch and store loses nothing, and a write-back
repeated by the outbox must be harmless (the sample replaces its result row).

Errors: connection refused/lost, timeouts, deadlocks, "database is locked" → ErpUnavailable
(retried); bad SQL, unknown table/column, bad credentials, missing driver → ConfigError; a
value the ERP refuses on write-back (too long, constraint) → InputError.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import Field, ValidationInfo, field_validator, model_validator
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from adapters.base import CommonOptions, RejectedRows
from adapters.mapping import REPORT_PARAMS, map_rows, report_params
from adapters.samples.erp import PENDING_QUERY, WRITE_BACK
from cuckoo.config.secrets import env_checked, file_checked, resolve_secret
from cuckoo.domain import IncomingNotification, ResultReport
from cuckoo.errors import ConfigError, CuckooError, ErpUnavailable, InputError

log = logging.getLogger("cuckoo.adapters.sql")

# Driver hints for the URL schemes people use most.
_DRIVER_HINTS = {
    "psycopg": "pip install 'psycopg[binary]'  (or: pip install 'cuckoo[postgres]')",
    "psycopg2": "pip install psycopg2-binary",
    "pymysql": "pip install pymysql",
    "mysqldb": "pip install mysqlclient",
    "pyodbc": "pip install pyodbc",
    "oracledb": "pip install oracledb",
}


def bind_names(statement: str) -> set[str]:
    """The :named parameters of one SQL statement."""
    return set(sa.text(statement).compile().params)


# Parameters a pending_query may use: :now (current time in erp_timezone), :source (NAME).
QUERY_PARAMS = ("now", "source")


class SqlOptions(CommonOptions):
    # Each poll lists every pending row, so a notification the ERP stops listing (two polls
    # in a row) was unticked: it is cancelled (a call under way finishes first). Leave it off
    # when the query or filter returns only some of the pending rows (a LIMIT, a time filter).
    withdraw_unlisted: bool = False
    url: str = Field(default="", repr=False)  # e.g. "postgresql+psycopg://cuckoo:pw@erp/shop"
    url_env: str | None = None  # or: name of an environment variable holding the URL
    url_file: str | None = None  # or: a file holding it (relative to cuckoo.toml's folder)
    pending_query: str = PENDING_QUERY
    write_back: list[str] = WRITE_BACK
    connect_timeout_s: float = 10.0
    # PostgreSQL: statement_timeout; MariaDB/MySQL: read/write timeout; a hung query → retry
    query_timeout_s: float = 60.0

    @field_validator("pending_query")
    @classmethod
    def _query_params(cls, v: str) -> str:
        unknown = sorted(bind_names(v) - set(QUERY_PARAMS))
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {', '.join(':' + u for u in unknown)}; "
                f"known: {', '.join(':' + p for p in QUERY_PARAMS)}"
            )
        return v

    @field_validator("write_back", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("write_back")
    @classmethod
    def _known_params(cls, v: list[str]) -> list[str]:
        for n, stmt in enumerate(v, start=1):
            unknown = sorted(bind_names(stmt) - set(REPORT_PARAMS))
            if unknown:
                raise ValueError(
                    f"statement {n}: unknown parameter(s) {', '.join(':' + u for u in unknown)};"
                    f" known: {', '.join(':' + p for p in REPORT_PARAMS)}"
                )
        return v

    @field_validator("url_env")
    @classmethod
    def _url_env(cls, v: str | None) -> str | None:
        return env_checked(v)

    @field_validator("url_file")
    @classmethod
    def _url_file(cls, v: str | None, info: ValidationInfo) -> str | None:
        return file_checked(v, info)

    @model_validator(mode="after")
    def _one_url(self, info: ValidationInfo) -> SqlOptions:
        resolve_secret(self, "url", info)
        if not self.url:
            raise ValueError("set one of `url`, `url_env` or `url_file`")
        return self


# Texts of OperationalErrors that retrying cannot fix.
_CONFIG_MARKERS = (
    "no such table",
    "no such column",
    "syntax error",
    "has no column",
    "unrecognized token",
    "authentication failed",
    "no pg_hba.conf entry",
    "does not exist",  # role / database
    "access denied",
    "unable to open database file",  # SQLite: the folder is missing
)


def classify_db_error(e: BaseException) -> type[CuckooError]:
    """Which cuckoo error a database error is: retry (ErpUnavailable), fix the config
    (ConfigError), or bad data (InputError). Pure: looks at types, SQLSTATE, codes, text."""
    orig = getattr(e, "orig", None) or e
    text = str(orig).lower()
    if isinstance(e, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return ErpUnavailable
    if isinstance(e, sa_exc.NoSuchModuleError | sa_exc.ArgumentError):
        return ConfigError
    sqlstate = getattr(orig, "sqlstate", None)  # psycopg
    if isinstance(sqlstate, str) and len(sqlstate) == 5:
        cls2 = sqlstate[:2]
        if cls2 in ("08", "40", "53", "57", "58", "55") or sqlstate == "25006":
            return ErpUnavailable  # connection, rollback/deadlock, resources, shutdown, locks
        if cls2 in ("22", "23"):
            return InputError
        return ConfigError  # 28 auth, 3D no database, 42 syntax/undefined, ...
    args = getattr(orig, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None  # pymysql / mysqlclient
    if code is not None:
        if code in (1044, 1045, 1049, 1054, 1064, 1142, 1146, 1149):
            return ConfigError  # access denied, unknown db/column/table, syntax
        if code in (1048, 1062, 1264, 1292, 1366, 1406, 1451, 1452):
            return InputError  # null, duplicate, out of range, bad value, too long, FK
        return ErpUnavailable  # 2003 can't connect, 2006/2013 gone away, 1205/1213 locks...
    if isinstance(e, sa_exc.IntegrityError | sa_exc.DataError):
        return InputError
    if isinstance(e, sa_exc.ProgrammingError):
        return ConfigError
    if isinstance(e, sa_exc.OperationalError):
        # SQLite reports schema mistakes, PostgreSQL login failures as OperationalError too
        if any(marker in text for marker in _CONFIG_MARKERS):
            return ConfigError
        return ErpUnavailable  # locked, busy, disk I/O, connection refused/lost
    if isinstance(e, sa_exc.InterfaceError):
        return ErpUnavailable
    return ConfigError


def is_login_error(e: BaseException) -> bool:
    """A refused login or an unknown database: the URL is wrong, not the query. Pure."""
    orig = getattr(e, "orig", None) or e
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate[:2] in ("28", "3D")  # invalid authorization, invalid catalog name
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0] in (1044, 1045, 1049)  # access denied (db, user), unknown database
    text = str(orig).lower()
    return any(
        m in text
        for m in ("authentication failed", "no pg_hba.conf entry", "access denied", "role ")
    ) or ("database" in text and "does not exist" in text)


class SqlAdapter:
    Options = SqlOptions

    def __init__(self, name: str, options: SqlOptions, base_dir: Path) -> None:
        self.name = name
        self.options = options
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self._defaults = options.row_defaults()
        self._query = sa.text(options.pending_query)
        self._query_names = bind_names(options.pending_query)
        self._statements = [(sa.text(s), bind_names(s)) for s in options.write_back]
        self._zone = ZoneInfo(options.erp_timezone)
        self._wording = options.wording()
        self.engine = _make_engine(name, options.url, base_dir, options)
        self._naive_times = self.engine.dialect.name in ("sqlite", "mysql", "mariadb", "mssql")
        self._rejected = RejectedRows(name, self.report, options.report_invalid)
        self._listed: frozenset[str] | None = None

    def __repr__(self) -> str:
        return f"SqlAdapter({self.name!r}, {self.engine.url.render_as_string(hide_password=True)})"

    def fetch_pending(self) -> list[IncomingNotification]:
        try:
            with self.engine.connect() as conn:
                result = conn.execute(self._query, self._query_params())
                columns = list(result.keys())
                rows = [dict(r) for r in result.mappings()]
        except sa_exc.SQLAlchemyError as e:
            raise self._error("pending_query", e) from e
        id_col = self._defaults.fields.get("external_id", "external_id")
        if id_col not in columns:
            raise ConfigError(
                f"[adapters.{self.name}.pending_query] returns no column {id_col!r} "
                f"(it returns: {', '.join(columns)})"
            )
        good, bad = map_rows(self.name, rows, self._defaults)
        self._rejected.handle(bad, lambda err: f"pending_query row external_id={err.external_id}")
        if self.options.withdraw_unlisted:
            self._listed = frozenset(
                [n.external_id for n in good] + [e.external_id for e in bad if e.external_id]
            )
        return good

    def listed_ids(self) -> frozenset[str] | None:
        """What the last successful fetch listed, when `withdraw_unlisted` is on
        (cuckoo.domain.ListsAllPending)."""
        return self._listed if self.options.withdraw_unlisted else None

    def report(self, result: ResultReport) -> None:
        params = {
            k: self._db_value(v)
            for k, v in report_params(result, self.clock(), self._wording).items()
        }
        try:
            with self.engine.begin() as conn:
                for stmt, names in self._statements:
                    conn.execute(stmt, {k: params[k] for k in names})
        except sa_exc.SQLAlchemyError as e:
            raise self._error("write_back", e) from e

    def check(self) -> None:
        """Connect and run the pending query once, read-only (nothing is written, a missing
        SQLite file is not created). Raises like fetch: ConfigError for a missing file, a
        refused login or a broken query (with the database's words), ErpUnavailable for a
        database that cannot be reached."""
        missing = self._missing_sqlite_file()
        if missing is not None:
            raise missing
        try:
            with self.engine.connect() as conn:
                conn.execute(self._query, self._query_params()).close()
        except sa_exc.SQLAlchemyError as e:
            raise self._error("pending_query", e) from e

    def close(self) -> None:
        self.engine.dispose()

    def _query_params(self) -> dict[str, Any]:
        names = self._query_names
        values = {"now": self._db_value(self.clock()), "source": self.name}
        return {k: v for k, v in values.items() if k in names}

    def _db_value(self, v: Any) -> Any:
        if isinstance(v, datetime):
            local = v.astimezone(self._zone)
            if self._naive_times:  # no time zone support: store office-local wall time
                local = local.replace(tzinfo=None)
                if self.engine.dialect.name == "sqlite":
                    return local.isoformat(sep=" ")
            return local
        return v

    def _missing_sqlite_file(self) -> ConfigError | None:
        path = sqlite_file(self.engine.url)
        if path is None or path.exists():
            return None
        return ConfigError(
            f"[adapters.{self.name}.url] the SQLite file {path} does not exist "
            "(cuckoo never creates an ERP database: check the path)"
        )

    def _error(self, key: str, e: sa_exc.SQLAlchemyError) -> CuckooError:
        missing = self._missing_sqlite_file()
        if missing is not None:
            return missing
        kind = classify_db_error(e)
        detail = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        url = self.engine.url.render_as_string(hide_password=True)
        if kind is ConfigError and is_login_error(e):
            return ConfigError(f"[adapters.{self.name}.url] the database refused: {detail} ({url})")
        if kind is ErpUnavailable:
            return ErpUnavailable(f"adapters.{self.name}: database unavailable ({url}): {detail}")
        if kind is InputError:
            return InputError(f"[adapters.{self.name}.{key}] the database refused: {detail}")
        return ConfigError(f"[adapters.{self.name}.{key}] {detail} ({url})")


def sqlite_file(url: sa.URL) -> Path | None:
    """The file of a plain SQLite URL (not :memory:, not a file: URI); None for others."""
    if url.get_backend_name() != "sqlite":
        return None
    db = url.database
    if not db or db == ":memory:" or db.startswith("file:"):
        return None
    return Path(db)


def _open_existing_only(engine: sa.Engine, path: Path) -> None:
    """SQLite creates a missing database file on connect: open it as a URI with mode=rw so a
    wrong path fails ("unable to open database file") instead of making an empty ERP."""

    @event.listens_for(engine, "do_connect")
    def _connect(dialect: Any, conn_rec: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        uri = "file:" + urllib.parse.quote(str(path.absolute())) + "?mode=rw"
        if cargs:
            cargs[0] = uri
        else:
            cparams["database"] = uri
        cparams["uri"] = True


def _make_engine(name: str, raw_url: str, base_dir: Path, options: SqlOptions) -> sa.Engine:
    timeout_s, zone = options.connect_timeout_s, options.erp_timezone
    query_ms = max(1, round(options.query_timeout_s * 1000))
    try:
        url = sa.engine.make_url(raw_url)
    except sa_exc.ArgumentError as e:
        raise ConfigError(f"[adapters.{name}.url] not a database URL: {e}") from e
    backend = url.get_backend_name()
    connect_args: dict[str, Any] = {}
    if backend == "sqlite":
        db = url.database
        if db and db != ":memory:" and not db.startswith("file:") and not Path(db).is_absolute():
            url = url.set(database=str(base_dir / db))  # relative to cuckoo.toml, not the cwd
        connect_args["timeout"] = timeout_s
    elif backend == "postgresql":
        connect_args["connect_timeout"] = max(1, round(timeout_s))
        if url.get_driver_name() in ("psycopg", "psycopg2"):
            # Session zone = the ERP's: aware values land in `timestamp` columns as office
            # wall time (like on SQLite/MariaDB) and exactly in `timestamptz` ones.
            extra = url.query.get("options")  # keep the user's own libpq options
            user = extra if isinstance(extra, str) else " ".join(extra or ())
            connect_args["options"] = (
                f"{user} -c TimeZone={zone} -c statement_timeout={query_ms}".strip()
            )
    elif backend in ("mysql", "mariadb"):
        t = max(1, round(timeout_s))
        q = max(1, round(options.query_timeout_s))
        connect_args.update(connect_timeout=t, read_timeout=q, write_timeout=q)
    try:
        engine = sa.create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    except sa_exc.NoSuchModuleError as e:
        raise ConfigError(
            f"[adapters.{name}.url] no SQLAlchemy dialect for {backend!r}: {e}"
        ) from e
    except ImportError as e:
        driver = url.get_driver_name()
        hint = _DRIVER_HINTS.get(driver, f"install the Python driver {driver!r}")
        raise ConfigError(
            f"[adapters.{name}.url] the database driver {driver!r} is not installed: {hint}"
        ) from e
    path = sqlite_file(engine.url)
    if path is not None:
        _open_existing_only(engine, path)
    return engine
