"""The scenarios a running robot may use: loaded once, validated, looked up by name."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from cuckoo.dialog.loader import check_variables, load_named, render_sms, scenario_files
from cuckoo.dialog.runner import run_dialog
from cuckoo.dialog.schema import Scenario
from cuckoo.dialog.text_line import TextLine
from cuckoo.domain import Variables
from cuckoo.errors import InputError


class ScenarioCatalog:
    """The scenarios of one folder, by name. Loading goes through the loader's cache (by file
    and mtime): an edited file is read again, an invalid one raises ConfigError on every use and
    is never cached, so fixing the file fixes the next attempt."""

    def __init__(self, scenarios_dir: str | Path) -> None:
        self.dir = Path(scenarios_dir)

    def names(self) -> set[str]:
        return {p.stem for p in scenario_files(self.dir)} if self.dir.is_dir() else set()

    def get(self, name: str) -> Scenario:
        return load_named(self.dir, name)

    def problems_with(self, name: str, variables: Variables) -> list[str]:
        """What keeps this notification's variables from rendering every text of `name`."""
        return check_variables(self.get(name), variables)

    def sms_text(self, name: str, variables: Variables) -> str:
        """The scenario's `sms:` text rendered with these variables."""
        text = render_sms(self.get(name), dict(variables))
        if text is None:
            raise InputError(f"scenario {name!r} has no `sms:` text")
        return text

    def preview_call(self, name: str, variables: Variables, tz: str) -> list[str]:
        """What the robot says on a call up to the first answer: the dialog run on a line
        where the customer hangs up when asked (so the message and the question, rendered)."""

        line = TextLine(io.StringIO(""), io.StringIO())
        result = run_dialog(
            self.get(name),
            line,
            dict(variables),
            now=lambda: datetime.now(UTC),
            tz=tz,
            speech_available=False,
        )
        return list(result.said)
