"""Jinja2 for scenario texts: a sandbox (templates come from admins, variables from the ERP),
StrictUndefined (a missing variable is an error, never a silent gap in what the robot says),
and filters that format dates, times and money for speech.

Filters:
    {{ sent_date | date_spoken }}        → "7 февраля"   (a date, "YYYY-MM-DD" or "DD.MM.YYYY")
    {{ sent_date | date_spoken(true) }}  → "7 февраля 2026 года"
    {{ amount | money }}                 → "1 250 руб. 50 коп."
    {{ opens | time_spoken }}            → "девять часов"       ("HH:MM" or a time)
    {{ opens | time_spoken('gen') }}     → "девяти часов"        (after "с", "до")
    {{ callback_at | when_spoken }}      → "завтра, в пятницу, двадцатого ноября, в десять часов"
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from cuckoo.dialog import spoken
from cuckoo.domain import Variables


def _when_spoken(ctx: Any, value: Any) -> str:
    if not isinstance(value, datetime):
        raise ValueError(f"when_spoken needs a date and time, got {value!r}")
    now = ctx.get("now")
    today = now.date() if isinstance(now, datetime) else now if isinstance(now, date) else None
    return spoken.when_spoken(value, today)


def _time_spoken(value: Any, case: str = "nom") -> str:
    if case not in ("nom", "gen"):
        raise ValueError(f"time_spoken case is 'nom' or 'gen', got {case!r}")
    return spoken.time_words(spoken.as_time(value), case=case)


def _date_spoken(value: Any, year: bool = False) -> str:
    return spoken.date_spoken(value, year=year)


def make_env() -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
    )
    env.filters["date_spoken"] = _date_spoken
    env.filters["money"] = spoken.money
    env.filters["time_spoken"] = _time_spoken
    env.filters["when_spoken"] = jinja2.pass_context(_when_spoken)
    return env


ENV = make_env()


@functools.lru_cache(maxsize=1024)
def compile_template(source: str) -> jinja2.Template:
    """Compiled once per distinct text.
    Raises jinja2.TemplateSyntaxError (its .lineno counts inside the template)."""
    return ENV.from_string(source)


def variables_used(source: str) -> set[str]:
    """Top-level names the text reads, e.g. {"customer", "speech"}."""
    return set(_free_names(source))


@functools.lru_cache(maxsize=1024)
def _free_names(source: str) -> frozenset[str]:
    return frozenset(meta.find_undeclared_variables(ENV.parse(source)))


def _chain(node: nodes.Node) -> list[str] | None:
    """`customer.first_name` / `customer["first_name"]` as ["customer", "first_name"]."""
    if isinstance(node, nodes.Name):
        return [node.name]
    if isinstance(node, nodes.Getattr):
        base = _chain(node.node)
        return None if base is None else [*base, node.attr]
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        base = _chain(node.node)
        return None if base is None else [*base, str(node.arg.value)]
    return None


def dotted_names(source: str) -> list[str]:
    """Every variable path the text reads, in order: ["customer.first_name", "period"].
    Names the template sets itself (loop variables) are left out."""
    return list(_dotted_names(source))


# Parsed once per distinct text: intake checks every row's variables against every text.
@functools.lru_cache(maxsize=1024)
def _dotted_names(source: str) -> tuple[str, ...]:
    ast = ENV.parse(source)
    free = meta.find_undeclared_variables(ast)
    out: dict[str, None] = {}

    def visit(node: nodes.Node) -> None:
        chain = _chain(node)
        if chain is not None:
            if chain[0] in free:
                out[".".join(chain)] = None
            return
        for child in node.iter_child_nodes():
            visit(child)

    visit(ast)
    return tuple(out)


def missing_name(path: str, variables: Variables) -> str | None:
    """The first part of dotted `path` that `variables` lacks, as a dotted path; else None."""
    parts = path.split(".")
    value: Any = variables
    for i, part in enumerate(parts):
        if isinstance(value, dict):
            if part not in value:
                return ".".join(parts[: i + 1])
            value = value[part]
        elif i > 0 and hasattr(value, part):
            value = getattr(value, part)
        else:
            return ".".join(parts[: i + 1])
    return None


def render(source: str, variables: Variables) -> str:
    """The text as the robot says it: whitespace collapsed (YAML block texts span lines)."""
    return " ".join(compile_template(source).render(variables).split())
