"""Scenario validation: every broken scenario in tests/data/scenarios is rejected with the exact
file:line and message; the shipped scenarios pass; helpers around loading work."""

from __future__ import annotations

from pathlib import Path

import pytest

from cuckoo.dialog import load_scenario, render_sms, static_phrases, validate_dir
from cuckoo.dialog.loader import check_text, scenario_path
from cuckoo.dialog.schema import AskState
from cuckoo.errors import ConfigError, InputError

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "data" / "scenarios"
SHIPPED = ROOT / "scenarios"

EXPECTED: dict[str, list[str]] = {
    "unknown_state.yaml": ["9: unknown state 'nowhere'"],
    "unreachable.yaml": ["9: state 'orphan' is unreachable from start 'hello'"],
    "missing_variable.yaml": [
        "8: variable 'customer.patronymic' is not in the sample `variables` (add an example value)"
    ],
    "no_way_out.yaml": [
        "4: question 'q' has no way out: add `on_fail:` (where to go when nobody answers or "
        "the answer is not understood)"
    ],
    "silence_loop.yaml": ["12: question 'q' has no way out when nobody answers: q → hello → q"],
    "template_syntax.yaml": ["10: template syntax error: unexpected '}'"],
    "unknown_outcome.yaml": [
        "5: states.done.outcome: unknown outcome 'accepted'; use one of: confirmed, declined, "
        "delivered, callback_requested, opted_out, operator_requested, wrong_number"
    ],
    "duplicate_dtmf.yaml": [
        "10: DTMF key '1' is given twice in question 'q' (first in answer 1)",
        "13: DTMF '12' can never be entered in question 'q': '1' is taken as soon as it is pressed",
    ],
    "unknown_key.yaml": [
        "4: states.hello: 'next' is missing",
        "6: states.hello: unknown key 'nxt'",
    ],
    "not_yaml.yaml": [
        "7: not valid YAML: found unexpected end of stream "
        "(while scanning a quoted scalar at line 5)"
    ],
    "no_kind.yaml": [
        "4: states.hello: a state needs one of the keys: ask, callback, transfer, hangup, "
        "outcome, sms, say"
    ],
    "bad_values.yaml": [
        "7: states.q.answers.0.dtmf: DTMF keys are 0-9, * and #, got 'A'",
        "9: states.q.answers.1.intent: unknown intent 'maybe'; use one of: yes, no, repeat, "
        "operator, optout, later, wrong_number",
        "11: states.q.answers.2: an answer needs dtmf, intent or time",
        "14: states.later.callback: callback must be 'answer', 'today HH:MM', 'tomorrow HH:MM' "
        "or 'in N days HH:MM', got 'next week'",
        "17: states.bye: unknown key 'retries'",
    ],
    "bad_transfer.yaml": [
        "16: states.human.transfer: transfer to 'operator', a phone number (+74951234567) or a "
        "SIP URI (sip:op@pbx.local), got 'оператору'"
    ],
    "callback_answer.yaml": [
        "14: 'callback: answer' in state 'later' needs a question with a `time: true` answer"
    ],
    "bad_refs.yaml": [
        "1: name 'other_name' differs from the file name 'bad_refs'",
        "2: goal 'declined' is not the outcome of any state",
        "3: unknown state 'begin'",
        "8: 'hello' is given twice",
    ],
}


def test_every_broken_file_has_expectations() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_scenario_problems(name: str) -> None:
    path = BROKEN / name
    problems = validate_dir(path)
    assert [str(p) for p in problems] == [f"{path}:{e}" for e in EXPECTED[name]]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_load_scenario_refuses_broken(name: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_scenario(BROKEN / name)
    lines = str(err.value).splitlines()
    assert lines == [f"{BROKEN / name}:{e}" for e in EXPECTED[name]]


def test_validate_dir_collects_all_files() -> None:
    problems = validate_dir(BROKEN)
    assert len(problems) == sum(len(v) for v in EXPECTED.values())
    assert {Path(p.file).name for p in problems} == set(EXPECTED)


def test_shipped_scenarios_are_valid() -> None:
    assert [str(p) for p in validate_dir(SHIPPED)] == []
    names = sorted(p.stem for p in SHIPPED.glob("*.yaml"))
    assert names == ["callback_offer", "documents_sent", "order_ready", "payment_reminder"]
    for name in names:
        sc = load_scenario(SHIPPED / f"{name}.yaml")
        assert sc.name == name
        assert sc.description
        assert sc.sms


def test_missing_path() -> None:
    assert [str(p) for p in validate_dir(BROKEN / "nope")] == [
        f"{BROKEN / 'nope'}:1: no such file or folder"
    ]


def test_yes_no_stay_words() -> None:
    """YAML 1.1 would read `intent: yes` as true; admins mean the word."""
    text = """
name: t
start: q
states:
  q:
    ask: Да или нет?
    answers:
      - intent: yes
        go: a
      - intent: [no, optout]
        go: b
      - dtmf: 1
        time: true
        go: a
    on_fail: b
  a:
    outcome: confirmed
  b:
    hangup: true
"""
    sc, problems = check_text(text, "t.yaml")
    assert problems == []
    assert sc is not None
    q = sc.states["q"]
    assert isinstance(q, AskState)
    assert [a.intent for a in q.answers] == [["yes"], ["no", "optout"], []]
    assert q.answers[2].dtmf == "1" and q.answers[2].time


def test_empty_and_non_mapping_files() -> None:
    assert [str(p) for p in check_text("", "e.yaml")[1]] == ["e.yaml:1: the file is empty"]
    assert [str(p) for p in check_text("- a\n- b\n", "l.yaml")[1]] == [
        "l.yaml:1: a scenario is a mapping (name:, start:, states: ...)"
    ]


def test_missing_top_level_fields() -> None:
    problems = [str(p) for p in check_text("name: x\ndescription: d\n", "x.yaml")[1]]
    assert problems == ["x.yaml:1: 'start' is missing", "x.yaml:1: 'states' is missing"]


def test_template_syntax_error_line_in_plain_and_folded_texts() -> None:
    text = (
        "name: x\n"
        "goal: delivered\n"
        "start: a\n"
        "states:\n"
        "  a:\n"
        "    say: Привет {% if %}\n"  # line 6, plain scalar
        "    next: b\n"
        "  b:\n"
        "    hangup: true\n"
        "    say: >-\n"
        "      Раз,\n"
        "      два {{ x }\n"  # line 12, the second line of a folded text
    )
    problems = [str(p) for p in check_text(text, "x.yaml")[1]]
    assert problems == [
        "x.yaml:6: template syntax error: Expected an expression, got 'end of statement block'",
        "x.yaml:12: template syntax error: unexpected '}'",
    ]


def test_scenario_path_lookup() -> None:
    assert scenario_path(SHIPPED, "documents_sent") == SHIPPED / "documents_sent.yaml"
    assert scenario_path(SHIPPED, str(BROKEN / "bad_refs.yaml")) == BROKEN / "bad_refs.yaml"
    with pytest.raises(ConfigError, match="no scenario 'nope' \\(there are: callback_offer, "):
        scenario_path(SHIPPED, "nope")


def test_render_sms() -> None:
    sc = load_scenario(SHIPPED / "payment_reminder.yaml")
    assert render_sms(sc, sc.variables) == (
        "Иван Петрович, напоминаем: по договору 45-Б нужно внести 1 250 руб. 50 коп. "
        "до 25 ноября. ООО «Ромашка»."
    )
    variables = {**sc.variables, "amount": "99", "due_date": "2026-03-01"}
    assert "нужно внести 99 руб. до 1 марта." in (render_sms(sc, variables) or "")
    with pytest.raises(InputError, match="payment_reminder: sms: variable 'contract' is missing"):
        render_sms(sc, {k: v for k, v in sc.variables.items() if k != "contract"})
    with pytest.raises(InputError, match="payment_reminder: sms: not an amount: 'x'"):
        render_sms(sc, {**sc.variables, "amount": "x"})
    no_sms = check_text(
        "name: x\ngoal: delivered\nstart: a\nstates:\n  a:\n    hangup: true\n", "x.yaml"
    )[0]
    assert no_sms is not None and render_sms(no_sms, {}) is None


def test_static_phrases() -> None:
    phrases = static_phrases(SHIPPED)
    # Fixed texts are there, once each ...
    assert "Спасибо! Всего доброго." in phrases
    assert "Извините, Вас не слышно." in phrases
    # the built-in clarifying question, with the key of the yes answer (documents_sent: 1)
    assert "Скажите, пожалуйста, да или нет — или нажмите 1." in phrases
    assert len(phrases) == len(set(phrases))
    # ... texts that depend only on `speech` come in both versions ...
    assert any(p.startswith("Когда Вам удобно? Назовите день и время") for p in phrases)
    assert (
        "Когда Вам удобно? Нажмите 1 — завтра утром, 2 — завтра днём, 3 — послезавтра утром."
        in phrases
    )
    # ... and nothing that depends on the customer or the time.
    assert not any("{{" in p or "Пётр" in p or "перезвоним завтра" in p for p in phrases)
    # Invalid scenarios are skipped, a missing folder gives nothing.
    assert static_phrases(BROKEN) == []
    assert static_phrases(ROOT / "no-such-folder") == []
