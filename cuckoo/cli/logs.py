"""The logging of every `cuckoo` command: [log] from cuckoo.toml (and CUCKOO_LOG__… variables)
onto cuckoo.logs. The formats, the notification context, the level rules and the redaction
live in cuckoo/logs.py, where the worker and the call worker processes reach them too."""

from __future__ import annotations

import logging
from pathlib import Path

from cuckoo.config.log import LogSettings
from cuckoo.config.private import private_file
from cuckoo.errors import ConfigError
from cuckoo.logs import (
    QUIET_LOGGERS,
    LogSpec,
    RedactingFilter,
    configure,
    quiet_libraries,
    redact,
)

__all__ = ["QUIET_LOGGERS", "RedactingFilter", "quiet_libraries", "redact", "setup_logging"]


def setup_logging(
    verbose: bool, settings: LogSettings | None = None, var_dir: Path | None = None
) -> LogSpec:
    """Log as [log] says (text on stderr without it); `-v` lowers the level to DEBUG. A log
    file is made 0600 in a 0700 folder before it is opened."""
    settings = settings or LogSettings()
    level = logging.DEBUG if verbose else logging.getLevelNamesMapping()[settings.level]
    file = None
    if settings.file:
        path = Path(settings.file)
        if not path.is_absolute():
            path = (var_dir or Path("var")) / path
        try:
            file = str(private_file(path).resolve())
        except OSError as e:
            raise ConfigError(f"[log] file {path}: cannot create it: {e.strerror}") from e
    spec = LogSpec(format=settings.format, level=level, file=file)
    configure(spec)
    if not verbose:  # it announces every dictionary load at INFO
        logging.getLogger("pymorphy3").setLevel(logging.WARNING)
    return spec
