"""Alembic without an alembic.ini: the Config is built here, pointing at the shipped migrations/
(`cuckoo.resources`: the source tree's folder, or the copy inside an installed wheel)."""

from __future__ import annotations

import logging
from pathlib import Path

# Alembic logs its plugin set-up at INFO when it is imported; keep it to warnings unless the
# user asked for debug logging (cuckoo -v).
if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
    logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from cuckoo.errors import ConfigError
from cuckoo.resources import shipped

log = logging.getLogger(__name__)


def migrations_dir() -> Path:
    """The Alembic script folder: the source tree's migrations/ or the wheel's copy."""
    here = shipped("migrations")
    if (here / "env.py").is_file():
        return here
    raise ConfigError(f"{here}: Alembic migrations incomplete (no env.py); reinstall cuckoo")


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _quiet_alembic() -> None:
    """Alembic logs its plugin set-up at INFO; keep it to warnings unless we debug."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("alembic").setLevel(logging.WARNING)


def upgrade(connection: Connection, revision: str = "head") -> None:
    _quiet_alembic()
    before = current_revision(connection)
    command.upgrade(alembic_config(connection), revision)
    after = current_revision(connection)
    if after != before:
        log.info("database migrated from %s to %s", before or "empty", after)


def current_revision(connection: Connection) -> str | None:
    _quiet_alembic()
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
