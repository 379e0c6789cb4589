"""Settings from the environment: a `CUCKOO_…` variable overrides any key of cuckoo.toml.

The name is "CUCKOO_" and the key's path joined by "__", in any case:

    var_dir                             CUCKOO_VAR_DIR
    [store] url                         CUCKOO_STORE__URL
    [scheduler] poll_interval_s         CUCKOO_SCHEDULER__POLL_INTERVAL_S
    [telephony.trunk] password          CUCKOO_TELEPHONY__TRUNK__PASSWORD
    [sms.gateways.smsc] password_file   CUCKOO_SMS__GATEWAYS__SMSC__PASSWORD_FILE
    [log] format                        CUCKOO_LOG__FORMAT

Only variables whose first part names a top-level key are read, so CUCKOO_CONFIG (the file's
path) and variables of one's own stay free. The value is read as a TOML value when it parses as
one (30, 2.5, true, ["PCMA/8000"], "quoted", {match = "…", replace = "…"}), else as plain text;
a key that holds text always gets the raw text, so a password 0123 stays "0123".

Variables apply on top of the file, before validation: a bad value is reported naming the
variable. Setting one form of a secret (`X`, `X_env`, `X_file`) drops the other forms the file
gives, so a variable always wins over the file. Pure: the environment is passed in.
"""

from __future__ import annotations

import copy
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from cuckoo.errors import ConfigError

PREFIX = "CUCKOO_"
SEPARATOR = "__"
SECRET_FORMS = ("_env", "_file")

Path = tuple[str, ...]


def variable_name(path: Path) -> str:
    """The variable that sets a key: ("store", "url") → CUCKOO_STORE__URL."""
    return PREFIX + SEPARATOR.join(path).upper()


@dataclass(frozen=True)
class Override:
    variable: str  # as spelled in the environment
    path: Path  # lower case, as read from the name
    value: Any


def _members(tp: Any) -> list[Any]:
    """The concrete types a field annotation allows (Annotated, unions and None unwrapped)."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _members(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return [m for a in get_args(tp) if a is not type(None) for m in _members(a)]
    return [tp]


def holds_text(model: type[BaseModel], path: Path) -> bool:
    """Whether the key at `path` of `model` is text (str, or a Literal of strings)."""
    current = [model]
    for key in path:
        nxt: list[Any] = []
        for tp in current:
            for m in _members(tp):
                if isinstance(m, type) and issubclass(m, BaseModel):
                    field = m.model_fields.get(key)
                    if field is not None:
                        nxt.append(field.annotation)
                elif get_origin(m) is dict:
                    nxt.append(get_args(m)[1])
        current = nxt
    for tp in current:
        for m in _members(tp):
            if m is str:
                return True
            if get_origin(m) is Literal and all(isinstance(a, str) for a in get_args(m)):
                return True
    return False


def parse_value(raw: str, text: bool) -> Any:
    if text:
        return raw
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def overrides(environ: Mapping[str, str], model: type[BaseModel]) -> list[Override]:
    """The CUCKOO_… variables that name a key of `model`, sorted by name (a stable order)."""
    top = {name for name, f in model.model_fields.items() if not f.exclude}
    found = []
    for name in sorted(environ):
        if not name.upper().startswith(PREFIX):
            continue
        parts = name[len(PREFIX) :].lower().split(SEPARATOR)
        if parts[0] not in top:
            continue
        if any(not p for p in parts):
            raise ConfigError(f"env {name}: an empty part in the key path (___ or a trailing __)")
        path = tuple(parts)
        found.append(Override(name, path, parse_value(environ[name], holds_text(model, path))))
    return found


def _key_in(table: dict[str, Any], key: str) -> str:
    """The table's own spelling of `key` (keys match in any case), else `key`."""
    return next((k for k in table if k.lower() == key), key)


def apply(data: dict[str, Any], found: list[Override]) -> tuple[dict[str, Any], dict[Path, str]]:
    """`data` (the parsed file) with the overrides applied, and which variable set each path
    (in the spelling of the result)."""
    data = copy.deepcopy(data)
    set_by: dict[Path, str] = {}
    for ov in found:
        table = data
        real: list[str] = []
        for key in ov.path[:-1]:
            k = _key_in(table, key)
            real.append(k)
            nxt = table.setdefault(k, {})
            if not isinstance(nxt, dict):
                raise ConfigError(
                    f"env {ov.variable}: [{'.'.join(real)}] is a value, not a table; "
                    f"it has no key {ov.path[len(real)]!r}"
                )
            table = nxt
        last = _key_in(table, ov.path[-1])
        table[last] = ov.value
        here = (*real, last)
        set_by[here] = ov.variable
        # one form of a secret from the environment replaces the file's other forms
        base = next((last[: -len(s)] for s in SECRET_FORMS if last.endswith(s)), last)
        for form in (base, *(base + s for s in SECRET_FORMS)):
            k = _key_in(table, form)
            if k != last and k in table and (*real, k) not in set_by:
                del table[k]
    return data, set_by


def variables_for(loc: Path, set_by: Mapping[Path, str]) -> tuple[list[str], bool]:
    """The variables behind a validation error at `loc` (lower case, list indexes dropped; a
    union's tag may sit in it), and whether the error is about a table above them (then the
    file may be involved too)."""
    names, above = [], False
    for path, var in set_by.items():
        p = tuple(k.lower() for k in path)
        if loc[: len(p)] == p or any(
            (loc[:i] + loc[i + 1 :])[: len(p)] == p for i in range(len(loc))
        ):
            names.append(var)
        elif p[: len(loc)] == loc:
            names.append(var)
            above = True
    return names, above
