"""The scenarios a running robot may use: loaded once, validated, looked up by name."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from cuckoo.dialog.loader import check_variables, load_named, scenario_files
from cuckoo.dialog.schema import Scenario


class ScenarioCatalog:
    """Thread-safe cache over a scenarios folder. An invalid scenario raises ConfigError on
    first use and is never cached, so fixing the file fixes the next attempt."""

    def __init__(self, scenarios_dir: str | Path) -> None:
        self.dir = Path(scenarios_dir)
        self._cache: dict[str, Scenario] = {}
        self._lock = threading.Lock()

    def names(self) -> set[str]:
        return {p.stem for p in scenario_files(self.dir)} if self.dir.is_dir() else set()

    def get(self, name: str) -> Scenario:
        with self._lock:
            scenario = self._cache.get(name)
            if scenario is None:
                scenario = self._cache[name] = load_named(self.dir, name)
            return scenario

    def problems_with(self, name: str, variables: dict[str, Any]) -> list[str]:
        """What keeps this notification's variables from rendering every text of `name`."""
        return check_variables(self.get(name), variables)
