"""Opening the store from a config: the one place that gives it the scenario checks, so every
command and the worker reject an ERP row whose scenario is unknown or whose variables do not fit
it at ingest, before anybody is called."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator

from cuckoo.config import Config
from cuckoo.dialog.catalog import ScenarioCatalog
from cuckoo.domain import Variables
from cuckoo.errors import ConfigError
from cuckoo.store import Store


class ScenarioNames(Collection[str]):
    """The scenario names in a folder (file stems), read afresh on every question, so a
    scenario file an admin adds is known to a running worker without a restart."""

    def __init__(self, catalog: ScenarioCatalog) -> None:
        self._catalog = catalog

    def __contains__(self, name: object) -> bool:
        return name in self._catalog.names()

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._catalog.names()))

    def __len__(self) -> int:
        return len(self._catalog.names())


def scenario_names(config: Config) -> ScenarioNames | None:
    """Scenario names known from scenarios_dir, or None when there is no such folder or it is
    empty at start: then ingest does not check scenario names."""
    catalog = ScenarioCatalog(config.path(config.scenarios_dir))
    return ScenarioNames(catalog) if catalog.names() else None


def variables_checker(config: Config) -> Callable[[str, Variables], list[str]] | None:
    """Checks an ERP row's variables against its scenario's texts at ingest, so a row that
    would break off mid-call is rejected (INVALID, reported to the ERP) before any call."""
    folder = config.path(config.scenarios_dir)
    if not folder.is_dir():
        return None
    catalog = ScenarioCatalog(folder)

    def check(scenario: str, variables: Variables) -> list[str]:
        try:
            return catalog.problems_with(scenario, variables)
        except ConfigError as e:
            return [f"the scenario file is invalid: {e}"]

    return check


def every_attempt_sources(config: Config) -> frozenset[str]:
    """The API adapters whose webhook hears of every attempt (`webhook_attempts = true`)."""
    return frozenset(
        name
        for name, a in config.adapters.items()
        if a.is_api and a.options().get("webhook_attempts") is True
    )


def open_store(config: Config, *, check_schema: bool = True) -> Store:
    """The store, for a command or the worker. `check_schema` (every command but `db upgrade`
    and the demo, which migrate): the database must exist at the newest revision, and a
    missing SQLite file is an error naming `cuckoo db upgrade`, not a new empty file."""
    store = Store.from_config(
        config,
        known_scenarios=scenario_names(config),
        check_variables=variables_checker(config),
        create=not check_schema,
    )
    store.report_every_attempt = every_attempt_sources(config)
    if check_schema:
        store.require_schema()
    return store
