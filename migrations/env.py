"""Alembic environment for cuckoo. `cuckoo db upgrade` builds the Alembic Config in code
(cuckoo.store.migrate) and hands over an open connection; developers can also run
`alembic -x url=sqlite:///var/dev.sqlite revision --autogenerate -m "..."` with
`-c` pointing at no file: the url comes from `-x url=...`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from cuckoo.store.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("migrations/env.py: pass -x url=<SQLAlchemy URL>")
    engine = create_engine(url)
    with engine.connect() as conn:
        _configure(conn)


if context.is_offline_mode():
    raise SystemExit("cuckoo migrations run online only (cuckoo db upgrade)")
run_migrations_online()
