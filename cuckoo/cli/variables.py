"""Template variables from the command line: `--vars-json FILE` then `--var KEY=VALUE`.

A dotted key makes nested groups, as scenarios use them: `--var customer.first_name=Пётр`
→ {"customer": {"first_name": "Пётр"}}. Shared by `notify add`, `scenario simulate`, `call`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cuckoo.domain import Variables
from cuckoo.errors import InputError


def parse_vars(pairs: list[str], json_file: str | None = None) -> Variables:
    out: Variables = {}
    if json_file:
        try:
            data = json.loads(Path(json_file).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise InputError(f"{json_file}: cannot read variables: {e}") from e
        if not isinstance(data, dict):
            raise InputError(f"{json_file}: variables must be a JSON object")
        out = data
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"--var {pair!r}: expected KEY=VALUE")
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise InputError(f"--var {pair!r}: {part} is not a group of variables")
        node[leaf] = value
    return out


def add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="template variable; a dotted key nests: customer.first_name=Пётр",
    )
    parser.add_argument("--vars-json", metavar="FILE", help="variables from a JSON object")
