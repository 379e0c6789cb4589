"""The one way cuckoo turns a string from the config or the command line into a Python object:
`package.module:name` (importable) or `path/to/file.py:name` (a file of your own)."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

from cuckoo.errors import ConfigError


def load_object(spec: str, what: str) -> Any:
    """The object `spec` names; ConfigError starting with `what` (the setting or option to fix)
    when it cannot be found."""
    target, sep, name = spec.rpartition(":")
    if not sep or not target or not name:
        raise ConfigError(f"{what} {spec!r}: expected 'package.module:name' or 'file.py:name'")
    try:
        if target.endswith(".py"):
            path = Path(target).resolve()
            module_spec = importlib.util.spec_from_file_location(path.stem, path)
            if module_spec is None or module_spec.loader is None:
                raise ConfigError(f"{what} {spec!r}: cannot load {path}")
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(target)
    except (ImportError, OSError) as e:
        raise ConfigError(f"{what} {spec!r}: cannot import {target}: {e}") from e
    try:
        return getattr(module, name)
    except AttributeError:
        raise ConfigError(f"{what} {spec!r}: {target} has no {name!r}") from None
