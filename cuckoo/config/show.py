"""The effective config, key by key: its value (secrets masked) and where it came from
(`cuckoo check --show-config`). Pure: a `Loaded` config in, rows or text out."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from cuckoo.config import Loaded

MASK = "***"

# Keys masked by name where no model declares them secret (an adapter's own options).
SECRET_KEYS = frozenset({"password", "passwd", "secret", "token", "api_key", "apikey", "psw"})
_URL_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^/\s:@]*):([^@\s/]+)@", re.IGNORECASE)
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Setting:
    path: tuple[str, ...]
    value: Any  # JSON-able; a secret is MASK
    origin: str  # "cuckoo.toml:12", "env CUCKOO_X", "file /path" or "default"

    @property
    def key(self) -> str:
        return ".".join(self.path)


def _is_secret(table: dict[str, Any], key: str) -> bool:
    """A secret field has `X_env` / `X_file` siblings (config/secrets.py)."""
    return f"{key}_env" in table or f"{key}_file" in table or key.lower() in SECRET_KEYS


def _masked(table: dict[str, Any], key: str, value: Any) -> Any:
    if _is_secret(table, key):
        return MASK if value else value
    if isinstance(value, str):
        return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", value)
    return value


def settings(loaded: Loaded) -> list[Setting]:
    """Every key of the effective config (unset optional keys left out), in the file's order
    of sections: top-level keys first, then each table."""
    rows: list[Setting] = []

    def walk(table: dict[str, Any], prefix: tuple[str, ...]) -> None:
        tables = []
        for key, value in table.items():
            if value is None:
                continue
            if isinstance(value, dict) and value:
                tables.append((key, value))
                continue
            path = (*prefix, key)
            rows.append(Setting(path, _masked(table, key, value), loaded.origin(path)))
        for key, value in tables:
            walk(value, (*prefix, key))

    walk(loaded.config.model_dump(mode="json"), ())
    return rows


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def toml_value(value: Any) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return f"{{ {inner} }}" if inner else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)  # str, int, float, bool: TOML spells them alike


def as_toml(rows: list[Setting], column: int = 48) -> str:
    """TOML-like text: a table header where the section changes, `key = value  # origin`."""
    out: list[str] = []
    section: tuple[str, ...] = ()
    for row in rows:
        table, key = row.path[:-1], row.path[-1]
        if table != section:
            out.append("")
            out.append("[" + ".".join(_toml_key(k) for k in table) + "]")
            section = table
        line = f"{_toml_key(key)} = {toml_value(row.value)}"
        out.append(f"{line.ljust(column)}  # {row.origin}")
    return "\n".join(out).lstrip("\n") + "\n"


def as_json(rows: list[Setting]) -> str:
    return json.dumps(
        [{"key": r.key, "value": r.value, "source": r.origin} for r in rows],
        ensure_ascii=False,
        indent=1,
    )
