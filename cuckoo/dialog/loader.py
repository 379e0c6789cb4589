"""Read scenario files and check them, reporting every problem as `file:line: what is wrong`.

The YAML is composed into nodes first so that every key and value keeps its line; pydantic
errors and the whole-scenario checks below are then pointed at the line they are about.

Whole-scenario checks (on top of each field's own, in cuckoo.dialog.schema):
- `start`, `next`, `go`, `on_fail` name states that exist; every state is reachable from start;
- every question has a way out: `on_fail`, and from there the path taken when nobody answers
  (say → next, question → on_fail) reaches an end state without going round in a circle;
- no DTMF key or spoken intent is given twice in one question;
- every template compiles and renders with the sample `variables` (so a variable the ERP must
  send is declared with an example), plus the run-time names `now`, `speech`, `answer_time`,
  `callback_at`;
- the goal is an outcome some state ends with (or `delivered`);
- `voicemail: leave_message` has a message to leave (a `say`/`ask` state marked `message:
  true`, or a start state that says or asks something).

YAML here is YAML 1.2-ish for booleans: only true/false are booleans, so `intent: yes` and
`intent: no` stay words, as an admin means them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import yaml
from pydantic import ValidationError

from cuckoo.dialog import templates
from cuckoo.dialog.schema import (
    AnyState,
    AskState,
    CallbackState,
    OutcomeState,
    PlayPart,
    SayState,
    Scenario,
    SmsState,
    is_end,
    targets,
)
from cuckoo.domain import Variables
from cuckoo.errors import ConfigError, InputError
from cuckoo.speech import recordings
from cuckoo.speech.nlu import clarifying_question

log = logging.getLogger(__name__)

SUFFIXES = (".yaml", ".yml")
RUNTIME_NAMES = ("now", "speech", "answer_time", "callback_at")

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class _Loader(yaml.SafeLoader):
    """SafeLoader where only true/false are booleans (not yes/no/on/off)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True)
class _Where:
    key_line: int  # line of the key (or of the list item)
    start: int  # the value's first and last character in the file text
    end: int


class Lines:
    """Lines of every key path in one YAML document, e.g. ("states", "ask_1", "answers", 0)."""

    def __init__(self, where: dict[Path_, _Where], text: str = "") -> None:
        self._where = where
        self._text = text

    def of(self, loc: tuple[Any, ...]) -> int:
        """Line of the deepest known prefix of `loc`; pydantic's union tags are skipped."""
        path: Path_ = ()
        line = self._where[()].key_line if () in self._where else 1
        for part in loc:
            candidate = (*path, part)
            if candidate in self._where:
                path = candidate
                line = self._where[path].key_line
        return line

    def raw(self, loc: Path_) -> tuple[int, str] | None:
        """(line, text) of the value at `loc` as written in the file, with its line breaks
        (a folded `>` text loses them when loaded)."""
        w = self._where.get(loc)
        if w is None:
            return None
        return self._text.count("\n", 0, w.start) + 1, self._text[w.start : w.end]


def _walk(
    node: yaml.Node, path: Path_, out: dict[Path_, _Where], dups: list[tuple[int, str]]
) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                dups.append((key_node.start_mark.line + 1, key))
            seen.add(key)
            out[(*path, key)] = _Where(
                key_node.start_mark.line + 1, value_node.start_mark.index, value_node.end_mark.index
            )
            _walk(value_node, (*path, key), out, dups)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[(*path, i)] = _Where(
                item.start_mark.line + 1, item.start_mark.index, item.end_mark.index
            )
            _walk(item, (*path, i), out, dups)


def parse_yaml(text: str, file: str) -> tuple[Any, Lines, list[Problem]]:
    """The document's data and lines, or problems if it is not readable YAML."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, Lines({}), [Problem(file, 1, "the file is empty")]
        where: dict[Path_, _Where] = {
            (): _Where(node.start_mark.line + 1, node.start_mark.index, node.end_mark.index)
        }
        dups: list[tuple[int, str]] = []
        _walk(node, (), where, dups)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        msg = f"not valid YAML: {e.problem or e}"
        if e.context and e.context_mark and e.context_mark is not mark:
            msg += f" ({e.context} at line {e.context_mark.line + 1})"
        return None, Lines({}), [Problem(file, line, msg)]
    except yaml.YAMLError as e:
        return None, Lines({}), [Problem(file, 1, f"not valid YAML: {e}")]
    finally:
        loader.dispose()
    problems = [Problem(file, line, f"'{key}' is given twice") for line, key in dups]
    return data, Lines(where, text), problems


def _pydantic_problems(e: ValidationError, lines: Lines, file: str) -> list[Problem]:
    out = []
    for err in e.errors():
        loc = tuple(err["loc"])
        names = [str(p) for p in loc if not (isinstance(p, str) and p.endswith(" state"))]
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key '{names[-1]}'" if names else "unknown key"
            names = names[:-1]
        elif err["type"] == "missing":
            msg = f"'{names[-1]}' is missing" if names else msg
            names = names[:-1]
        where = ".".join(names)
        out.append(Problem(file, lines.of(loc), f"{where}: {msg}" if where else msg))
    return out


def template_fields(state: AnyState) -> Iterator[tuple[str, str]]:
    """(field, text) of every template in a state; the texts of a hybrid `say:` list as
    "say.0", "say.2" (their index in the list)."""
    fields = ("say", "ask", "sms", "if_silent", "if_unclear", "reprompt", "clarify", "if_failed")
    for field in fields:
        value = getattr(state, field, None)
        if isinstance(value, str):
            yield field, value
        elif isinstance(value, list):
            for i, part in enumerate(value):
                if isinstance(part, str):
                    yield f"{field}.{i}", part


def recordings_of(state: AnyState) -> Iterator[tuple[str, str]]:
    """(field, file) of every recording of a hybrid `say:` list, e.g. ("say.0", "hello.wav")."""
    value = getattr(state, "say", None)
    if isinstance(value, list):
        for i, part in enumerate(value):
            if isinstance(part, PlayPart):
                yield f"say.{i}", part.play


def field_loc(field: str) -> tuple[str | int, ...]:
    """ "say.1" → ("say", 1): a template_fields field as a key path of the YAML document."""
    return tuple(int(p) if p.isdigit() else p for p in field.split("."))


def sample_context(scenario: Scenario, now: datetime | None = None) -> Variables:
    """The sample variables plus run-time names, as `check` and `simulate` render with."""
    now = now or datetime.now(ZoneInfo("Europe/Moscow")).replace(second=0, microsecond=0)
    later = (now + timedelta(days=1)).replace(hour=11, minute=0)
    return {
        **scenario.variables,
        "now": now,
        "speech": True,
        "answer_time": later,
        "callback_at": later,
    }


# Intake checks every row against its scenario's texts: the list is made once per scenario
# object (the loader's cache hands out the same object until the file changes).
_TEXTS: dict[int, tuple[Scenario, list[tuple[str, str]]]] = {}


def _texts_of(scenario: Scenario) -> list[tuple[str, str]]:
    """(where, template) of every text of the scenario, the SMS first."""
    cached = _TEXTS.get(id(scenario))
    if cached is not None and cached[0] is scenario:
        return cached[1]
    texts: list[tuple[str, str]] = []
    if scenario.sms is not None:
        texts.append(("sms", scenario.sms))
    for name, state in scenario.states.items():
        texts += [(f"states.{name}.{field}", text) for field, text in template_fields(state)]
    if len(_TEXTS) > 256:
        _TEXTS.clear()
    _TEXTS[id(scenario)] = (scenario, texts)
    return texts


def check_variables(
    scenario: Scenario, variables: Variables, *, include_sms: bool = True
) -> list[str]:
    """What is wrong with one notification's variables for `scenario`; [] when every text
    renders. For ingestion (reject a bad ERP row early, as InputError) and for the runner
    (a dialog never starts that would break off halfway)."""
    runtime = sample_context(scenario)
    texts = [(w, t) for w, t in _texts_of(scenario) if include_sms or w != "sms"]
    problems: dict[str, None] = {}
    for where, text in texts:
        used = templates.variables_used(text)
        if not used:
            continue  # the same words for every notification: nothing here can fail
        for speech in (True, False) if "speech" in used else (True,):
            ctx = {**variables, **{k: runtime[k] for k in RUNTIME_NAMES}, "speech": speech}
            missing = [templates.missing_name(p, ctx) for p in templates.dotted_names(text)]
            for gap in missing:
                if gap:
                    problems[f"{where}: variable '{gap}' is missing"] = None
            if any(missing):
                continue
            try:
                templates.render(text, ctx)
            except jinja2.TemplateError as e:
                problems[f"{where}: {e.message or e}"] = None
            except (ValueError, TypeError, ArithmeticError) as e:
                problems[f"{where}: {e}"] = None
    return list(problems)


def _syntax_error_line(loc: Path_, err: jinja2.TemplateSyntaxError, lines: Lines) -> int:
    """The file line of a template syntax error: the text is compiled again as written in
    the file (line breaks kept) so that Jinja's line number counts file lines."""
    raw = lines.raw(loc)
    if raw is None:
        return lines.of(loc)
    first, text = raw
    try:
        templates.ENV.parse(text)
    except jinja2.TemplateSyntaxError as again:
        return first + again.lineno - 1
    return first + err.lineno - 1


def _check_template(
    text: str, loc: Path_, ctx: Variables, lines: Lines, file: str
) -> Problem | None:
    try:
        template = templates.compile_template(text)
    except jinja2.TemplateSyntaxError as e:
        return Problem(
            file, _syntax_error_line(loc, e, lines), f"template syntax error: {e.message}"
        )
    for path in templates.dotted_names(text):
        missing = templates.missing_name(path, ctx)
        if missing:
            return Problem(
                file,
                lines.of(loc),
                f"variable '{missing}' is not in the sample `variables` (add an example value)",
            )
    try:
        template.render(ctx)
    except jinja2.UndefinedError as e:
        return Problem(
            file,
            lines.of(loc),
            f"template uses a variable missing from the sample `variables`: {e.message}",
        )
    except jinja2.TemplateError as e:
        return Problem(file, lines.of(loc), f"template error: {e.message or e}")
    except (ValueError, TypeError, ArithmeticError) as e:
        return Problem(file, lines.of(loc), f"template error with the sample variables: {e}")
    return None


def check_scenario(sc: Scenario, lines: Lines, file: str) -> list[Problem]:
    """Whole-scenario checks; see the module docstring."""
    problems = _name_differs_from_file(sc, lines, file)
    problems += _unknown_state(sc.start, ("start",), sc, lines, file)
    for i, ans in enumerate(sc.anytime):
        problems += _unknown_state(ans.go, ("anytime", i, "go"), sc, lines, file)
    for name, state in sc.states.items():
        problems += _state_problems(name, state, sc, lines, file)
    problems += _unreachable_states(sc, lines, file)
    problems += _no_answer_loops(sc, lines, file)
    problems += _callback_without_time(sc, lines, file)
    problems += _goal_not_an_outcome(sc, lines, file)
    problems += _voicemail_without_message(sc, lines, file)
    problems += _template_problems(sc, lines, file)
    problems += _recording_problems(sc, lines, file)
    return problems


def _name_differs_from_file(sc: Scenario, lines: Lines, file: str) -> list[Problem]:
    """A `name` that is not the file's name (without its suffix)."""
    stem = Path(file).stem
    if sc.name == stem:
        return []
    return [
        Problem(file, lines.of(("name",)), f"name '{sc.name}' differs from the file name '{stem}'")
    ]


def _unknown_state(name: str, loc: Path_, sc: Scenario, lines: Lines, file: str) -> list[Problem]:
    """A problem if `name` (written at `loc`) is not a state of the scenario."""
    if name in sc.states:
        return []
    return [Problem(file, lines.of(loc), f"unknown state '{name}'")]


def _state_problems(
    name: str, state: AnyState, sc: Scenario, lines: Lines, file: str
) -> list[Problem]:
    """One state's own links: `next` names a state; a question's answers and way out."""
    problems: list[Problem] = []
    if isinstance(state, SayState | SmsState):
        problems += _unknown_state(state.next, ("states", name, "next"), sc, lines, file)
    if isinstance(state, AskState):
        problems += _question_problems(name, state, sc, lines, file)
    return problems


def _question_problems(
    name: str, state: AskState, sc: Scenario, lines: Lines, file: str
) -> list[Problem]:
    """Every answer's `go` names a state, the question has an `on_fail` way out that names a
    state, and no key, intent or time is taken twice."""
    problems: list[Problem] = []
    for i, ans in enumerate(state.answers):
        problems += _unknown_state(ans.go, ("states", name, "answers", i, "go"), sc, lines, file)
    if state.on_fail is None:
        problems.append(
            Problem(
                file,
                lines.of(("states", name)),
                f"question '{name}' has no way out: add `on_fail:` (where to go when "
                "nobody answers or the answer is not understood)",
            )
        )
    else:
        problems += _unknown_state(state.on_fail, ("states", name, "on_fail"), sc, lines, file)
    problems += _answer_clashes(name, state, sc, lines, file)
    return problems


def _reachable(sc: Scenario) -> set[str]:
    """The states reachable from start (none if start is not a state)."""
    states = sc.states
    seen: set[str] = set()
    todo = [sc.start] if sc.start in states else []
    while todo:
        cur = todo.pop()
        if cur in seen:
            continue
        seen.add(cur)
        todo += [t for _, t in targets(states[cur], sc.anytime) if t in states]
    return seen


def _unreachable_states(sc: Scenario, lines: Lines, file: str) -> list[Problem]:
    """States no path from start leads to (not checked when start itself is unknown)."""
    if sc.start not in sc.states:
        return []
    seen = _reachable(sc)
    return [
        Problem(
            file,
            lines.of(("states", name)),
            f"state '{name}' is unreachable from start '{sc.start}'",
        )
        for name in sc.states
        if name not in seen
    ]


def _no_answer_loops(sc: Scenario, lines: Lines, file: str) -> list[Problem]:
    """Questions whose no-answer path runs round in a circle instead of reaching an end."""
    problems: list[Problem] = []
    for name, state in sc.states.items():
        if isinstance(state, AskState) and state.on_fail in sc.states:
            loop = _no_answer_loop(name, sc)
            if loop:
                problems.append(
                    Problem(
                        file,
                        lines.of(("states", name, "on_fail")),
                        f"question '{name}' has no way out when nobody answers: "
                        + " → ".join(loop),
                    )
                )
    return problems


def _callback_without_time(sc: Scenario, lines: Lines, file: str) -> list[Problem]:
    """`callback: answer` states in a scenario where no question takes a time."""
    states = sc.states
    takes_time = any(a.time for a in sc.anytime) or any(
        a.time for st in states.values() if isinstance(st, AskState) for a in st.answers
    )
    if takes_time:
        return []
    return [
        Problem(
            file,
            lines.of(("states", name, "callback")),
            f"'callback: answer' in state '{name}' needs a question with a `time: true` answer",
        )
        for name, state in states.items()
        if isinstance(state, CallbackState) and state.callback == "answer"
    ]


def _goal_not_an_outcome(sc: Scenario, lines: Lines, file: str) -> list[Problem]:
    """A goal (other than `delivered`) that no state ends with."""
    states = sc.states
    ends = {s.outcome for s in states.values() if isinstance(s, OutcomeState | CallbackState)}
    if sc.goal == "delivered" or sc.goal in ends:
        return []
    return [Problem(file, lines.of(("goal",)), f"goal '{sc.goal}' is not the outcome of any state")]


def _voicemail_without_message(sc: Scenario, lines: Lines, file: str) -> list[Problem]:
    """`voicemail: leave_message` with no message to leave."""
    if sc.voicemail != "leave_message" or sc.message_text() is not None:
        return []
    return [
        Problem(
            file,
            lines.of(("voicemail",)),
            "'voicemail: leave_message' needs a message to leave: mark a `say` or `ask` "
            "state `message: true` (or start with one)",
        )
    ]


def _template_problems(sc: Scenario, lines: Lines, file: str) -> list[Problem]:
    """The scenario's sms text, then every state's texts: each compiles and renders with the
    sample variables and the run-time names."""
    ctx = sample_context(sc)
    texts: list[tuple[str, Path_]] = []
    if sc.sms is not None:
        texts.append((sc.sms, ("sms",)))
    for name, state in sc.states.items():
        texts += [
            (text, ("states", name, *field_loc(field))) for field, text in template_fields(state)
        ]
    found = (_check_template(text, loc, ctx, lines, file) for text, loc in texts)
    return [p for p in found if p]


def _recording_problems(sc: Scenario, lines: Lines, file: str) -> list[Problem]:
    """Every `play:` file exists beside the scenario and reads as audio."""
    folder = Path(file).parent
    out = []
    for name, state in sc.states.items():
        for field, play in recordings_of(state):
            problem = recordings.file_problem(folder / play)
            if problem:
                loc = ("states", name, *field_loc(field), "play")
                out.append(Problem(file, lines.of(loc), f"states.{name}.{field}: {problem}"))
    return out


def _answer_clashes(
    name: str, state: AskState, sc: Scenario, lines: Lines, file: str
) -> list[Problem]:
    out: list[Problem] = []
    keys: dict[str, int] = {}
    intents: dict[str, int] = {}
    times = 0
    for i, ans in enumerate(state.answers):
        loc: Path_ = ("states", name, "answers", i)
        if ans.dtmf is not None:
            if ans.dtmf in keys:
                out.append(
                    Problem(
                        file,
                        lines.of((*loc, "dtmf")),
                        f"DTMF key '{ans.dtmf}' is given twice in question '{name}' "
                        f"(first in answer {keys[ans.dtmf] + 1})",
                    )
                )
            keys.setdefault(ans.dtmf, i)
        for intent in ans.intent:
            if intent in intents:
                out.append(
                    Problem(
                        file,
                        lines.of((*loc, "intent")),
                        f"intent '{intent}' is given twice in question '{name}'",
                    )
                )
            intents.setdefault(intent, i)
        if ans.time:
            times += 1
            if times > 1:
                out.append(
                    Problem(file, lines.of((*loc, "time")), f"question '{name}' takes a time twice")
                )
    for key in keys:
        for other in keys:
            if other != key and other.startswith(key):
                out.append(
                    Problem(
                        file,
                        lines.of(("states", name, "answers", keys[other], "dtmf")),
                        f"DTMF '{other}' can never be entered in question '{name}': "
                        f"'{key}' is taken as soon as it is pressed",
                    )
                )
    return out


def _no_answer_loop(start: str, sc: Scenario) -> list[str]:
    """The circle the no-answer path from question `start` runs into, or [] if it ends."""
    path = [start]
    cur: AnyState = sc.states[start]
    while not is_end(cur):
        if isinstance(cur, AskState):
            nxt = cur.on_fail
        elif isinstance(cur, SayState | SmsState):
            nxt = cur.next
        else:  # pragma: no cover - every kind is handled above
            return []
        if nxt is None or nxt not in sc.states:
            return []  # reported elsewhere
        if nxt in path:
            return [*path, nxt]
        path.append(nxt)
        cur = sc.states[nxt]
    return []


def check_text(text: str, file: str) -> tuple[Scenario | None, list[Problem]]:
    """Parse and check one scenario's text; the scenario only if it has no problems."""
    data, lines, problems = parse_yaml(text, file)
    if data is None:
        return None, problems
    if not isinstance(data, dict):
        return None, [
            *problems,
            Problem(file, 1, "a scenario is a mapping (name:, start:, states: ...)"),
        ]
    data.setdefault("name", Path(file).stem)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as e:
        return None, problems + _pydantic_problems(e, lines, file)
    problems += check_scenario(sc, lines, file)
    sc.set_folder(Path(file).parent)  # where its `play:` recordings are
    return (None if problems else sc), sorted(problems, key=lambda p: p.line)


def check_file(path: Path) -> tuple[Scenario | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return None, [Problem(str(path), 1, f"cannot read: {e}")]
    return check_text(text, str(path))


def scenario_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())


def validate_dir(path: str | Path) -> list[Problem]:
    """Every problem of every scenario in a folder (or of one file). [] means all is well."""
    path = Path(path)
    if not path.exists():
        return [Problem(str(path), 1, "no such file or folder")]
    problems: list[Problem] = []
    for f in scenario_files(path):
        problems += check_file(f)[1]
    return problems


# Every scenario loaded in this process, by file: (mtime, scenario). Call threads share it; a
# race only loads a file twice.
_cache: dict[Path, tuple[float, Scenario]] = {}


def load_scenario(path: str | Path) -> Scenario:
    """A checked scenario; ConfigError listing every problem otherwise. Cached by mtime."""
    path = Path(path)
    try:
        mtime = path.stat().st_mtime
    except OSError as e:
        raise ConfigError(f"{path}: cannot read scenario: {e.strerror}") from e
    hit = _cache.get(path)
    if hit and hit[0] == mtime:
        return hit[1]
    sc, problems = check_file(path)
    if sc is None:
        raise ConfigError("\n".join(str(p) for p in problems))
    _cache[path] = (mtime, sc)
    return sc


def scenario_path(scenarios_dir: str | Path, name: str) -> Path:
    """The file of scenario `name` (a name or a path to a file)."""
    as_path = Path(name)
    if as_path.suffix in SUFFIXES and as_path.is_file():
        return as_path
    folder = Path(scenarios_dir)
    for suffix in SUFFIXES:
        candidate = folder / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    known = ", ".join(p.stem for p in scenario_files(folder)) if folder.is_dir() else "none"
    raise ConfigError(f"{folder}: no scenario '{name}' (there are: {known})")


def load_named(scenarios_dir: str | Path, name: str) -> Scenario:
    return load_scenario(scenario_path(scenarios_dir, name))


def render_sms(scenario: Scenario, variables: Variables) -> str | None:
    """The SMS text of this notification, or None if the scenario has none.
    Raises InputError when the variables do not fit the text (a missing name, a bad date)."""
    if scenario.sms is None:
        return None
    ctx = {**variables, "speech": False}
    for path in templates.dotted_names(scenario.sms):
        missing = templates.missing_name(path, ctx)
        if missing:
            raise InputError(f"scenario {scenario.name}: sms: variable '{missing}' is missing")
    try:
        return templates.render(scenario.sms, ctx)
    except (jinja2.TemplateError, ValueError, TypeError, ArithmeticError) as e:
        raise InputError(f"scenario {scenario.name}: sms: {e}") from e


def default_clarify_text(state: AskState) -> str | None:
    """The built-in clarifying question of a question that takes a yes or a no (with the key
    of its yes answer); None for other questions («да или нет?» makes no sense for a time)."""
    yes_no = [a for a in state.answers if "yes" in a.intent or "no" in a.intent]
    if not yes_no:
        return None
    yes_key = next((a.dtmf for a in yes_no if "yes" in a.intent and a.dtmf), None)
    return clarifying_question(yes_key)


def static_phrases(scenarios_dir: str | Path) -> list[str]:
    """Every text of every valid scenario that does not depend on variables, as the runner
    says it: what TTS can prerender. Invalid scenarios are skipped (and logged)."""
    out: dict[str, None] = {}
    folder = Path(scenarios_dir)
    if not folder.exists():
        return []
    for f in scenario_files(folder):
        sc, problems = check_file(f)
        if sc is None:
            log.warning("skipping invalid scenario %s (%d problems)", f, len(problems))
            continue
        for state in sc.states.values():
            if isinstance(state, AskState) and state.clarify is True:
                default = default_clarify_text(state)
                if default:
                    out[default] = None  # said only when an answer was unsure
            for _, text in template_fields(state):
                used = templates.variables_used(text)
                if used - {"speech"}:
                    continue  # depends on the notification or the time
                # Texts that only ask "is speech recognition on?" exist in two versions.
                for speech in (True, False) if used else (True,):
                    phrase = templates.render(text, {"speech": speech})
                    if phrase:
                        out[phrase] = None
    return list(out)
