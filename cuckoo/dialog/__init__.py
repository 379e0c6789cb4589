"""Dialog scenarios: schema (pydantic), loader with file:line problems, runner over a `Line`.

load_scenario(path) -> Scenario            ConfigError listing every problem
validate_dir(path) -> list[Problem]        for `cuckoo check`; [] = all good
static_phrases(scenarios_dir) -> [str]     texts TTS can prerender
render_sms(scenario, variables) -> str | None
run_dialog(scenario, line, variables, now=, tz=, speech_available=) -> DialogResult
ScenarioConversation                       (cuckoo.dialog.converse) what call workers run
TextLine                                   (cuckoo.dialog.text_line) a Line over text
"""

from cuckoo.dialog.loader import (
    Problem,
    check_variables,
    load_named,
    load_scenario,
    render_sms,
    scenario_path,
    static_phrases,
    validate_dir,
)
from cuckoo.dialog.runner import DialogResult, run_dialog
from cuckoo.dialog.schema import Scenario

__all__ = [
    "DialogResult",
    "Problem",
    "Scenario",
    "check_variables",
    "load_named",
    "load_scenario",
    "render_sms",
    "run_dialog",
    "scenario_path",
    "static_phrases",
    "validate_dir",
]
