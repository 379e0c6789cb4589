"""ERP adapters: where notifications come from and where results go back.

`build_adapter(name, settings, base_dir)` picks the class by `settings.type`:

    sql    adapters.sql:SqlAdapter          any SQLAlchemy URL, configurable SELECT + write-back
    onec   adapters.onec:OneCAdapter        1C:Enterprise standard OData interface
    csv    adapters.csv_folder:CsvFolderAdapter   a drop folder of *.csv files
    api    adapters.api:ApiAdapter          cuckoo's HTTP API in, results to a signed webhook
    "mypkg.mymod:MyAdapter"                 your own class (same constructor, see below)

An adapter class is built as `cls(name, options, base_dir)`. If it has a pydantic model
`cls.Options`, the `[adapters.NAME]` keys (all but `type` and `enabled`) are validated with it
first and errors name `adapters.NAME.key`; otherwise `options` is the plain dict.

Delivery contract (sql, onec, csv): `fetch_pending()` returns every row that is still
waiting in the ERP — including rows it returned before — until a final result has been written
back by `report()`. The store drops duplicates by (source, external_id), so a crash between
fetching and storing loses nothing: the rows come again on the next poll. `report()` is safe to
repeat (the outbox retries it until it returns); it raises ErpUnavailable when the ERP is down,
ConfigError/InputError when retrying cannot help.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from adapters.base import option_error_text
from cuckoo.config.adapters import AdapterSettings
from cuckoo.config.objects import load_object
from cuckoo.domain import ErpAdapter
from cuckoo.errors import ConfigError

BUILTIN: dict[str, str] = {
    "sql": "adapters.sql:SqlAdapter",
    "onec": "adapters.onec:OneCAdapter",
    "csv": "adapters.csv_folder:CsvFolderAdapter",
    "api": "adapters.api:ApiAdapter",
}

__all__ = ["BUILTIN", "build_adapter", "build_adapters", "resolve_class"]


def resolve_class(name: str, type_: str) -> type[Any]:
    """The adapter class for `type` (a built-in name or "package.module:Class")."""
    target = BUILTIN.get(type_, type_)
    if ":" not in target:
        raise ConfigError(
            f"[adapters.{name}.type] unknown adapter type {type_!r}; use one of "
            f"{', '.join(BUILTIN)} or 'package.module:ClassName'"
        )
    cls = load_object(target, f"[adapters.{name}.type]")
    if not isinstance(cls, type):
        raise ConfigError(f"[adapters.{name}.type] {target!r} is not a class")
    return cls


def build_adapter(name: str, settings: AdapterSettings, base_dir: Path) -> ErpAdapter:
    """One configured adapter. Raises ConfigError naming adapters.NAME.key on bad options."""
    cls = resolve_class(name, settings.type)
    raw = settings.options()
    options: Any = raw
    model = getattr(cls, "Options", None)
    if isinstance(model, type) and issubclass(model, BaseModel):
        try:
            # base_dir: where `*_file` secrets are read from (cuckoo.config.secrets)
            options = model.model_validate(raw, context={"base_dir": base_dir})
        except ValidationError as e:
            raise ConfigError(option_error_text(name, e.errors())) from e
    adapter = cls(name, options, base_dir)
    if not isinstance(adapter, ErpAdapter):
        raise ConfigError(
            f"[adapters.{name}.type] {settings.type} does not implement ErpAdapter "
            "(name, fetch_pending(), report())"
        )
    return adapter


def build_adapters(adapters: dict[str, AdapterSettings], base_dir: Path) -> dict[str, ErpAdapter]:
    """Every enabled adapter of a Config (`config.adapters`, `config.base_dir`), by name."""
    return {
        name: build_adapter(name, settings, base_dir)
        for name, settings in adapters.items()
        if settings.enabled
    }
