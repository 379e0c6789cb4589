"""The runner with spoken answers: words typed into TextLine go through the real NLU
(cuckoo.speech.nlu) as a transcript would; grammars, transcripts, times in the customer's zone."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cuckoo.dialog import DialogResult, load_scenario, run_dialog
from cuckoo.dialog.loader import check_text
from cuckoo.dialog.schema import Scenario
from cuckoo.dialog.text_line import TextLine
from cuckoo.domain import ChannelKind, Notification, Outcome
from cuckoo.line import Expect, Reply, ReplyKind

nlu = pytest.importorskip("cuckoo.speech.nlu")

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "scenarios"
MSK = ZoneInfo("Europe/Moscow")
TUESDAY = datetime(2026, 11, 17, 7, 0, tzinfo=UTC)  # 10:00 in Moscow
CLARIFY_1 = "Скажите, пожалуйста, да или нет — или нажмите 1."


class Recording(TextLine):
    def __init__(self, inputs: list[str]) -> None:
        super().__init__(io.StringIO("".join(f"{i}\n" for i in inputs)), io.StringIO(), echo=True)
        self.expects: list[Expect] = []

    def listen(self, expect: Expect) -> Reply:
        self.expects.append(expect)
        return super().listen(expect)


def run(
    sc: Scenario | str,
    inputs: list[str],
    *,
    now: datetime = TUESDAY,
    tz: str = "Europe/Moscow",
    line_class: type[Recording] = Recording,
) -> tuple[DialogResult, Recording]:
    if isinstance(sc, str):
        sc = load_scenario(SHIPPED / f"{sc}.yaml")
    line = line_class(inputs)
    result = run_dialog(sc, line, sc.variables, now=lambda: now, tz=tz, speech_available=True)
    return result, line


def test_grammar_comes_from_the_answers() -> None:
    _, line = run("documents_sent", ["да"])
    (expect,) = line.expects
    assert expect.speech is True
    # the keys 1, 2 and 0 may be said; 9 (opt-out, from `anytime`) may not. Every shipped
    # scenario takes "not now", a wrong number and a callback time at any question (`anytime`),
    # so their words and the time words are in the grammar too.
    assert expect.grammar == nlu.grammar_for(
        [
            nlu.Intent.YES,
            nlu.Intent.NO,
            nlu.Intent.REPEAT,
            nlu.Intent.OPTOUT,
            nlu.Intent.LATER,
            nlu.Intent.WRONG_NUMBER,
        ],
        True,
        keys=["1", "2", "0"],
    )
    # («девять» is there as an hour, «девятку» would only be the key)
    assert "один" in expect.grammar and "девятку" not in expect.grammar
    assert expect.grammar is not None and expect.grammar[-1] == "[unk]"
    assert "да" in expect.grammar and "пятницу" in expect.grammar


def test_time_questions_get_time_words() -> None:
    _, line = run("callback_offer", ["нет", "в пятницу в одиннадцать", "да"])
    propose, when, read_back = line.expects
    for expect in (propose, when, read_back):
        assert expect.grammar is not None and "пятницу" in expect.grammar


def test_spoken_time_is_read_back_and_scheduled() -> None:
    result, _ = run("callback_offer", ["нет", "в пятницу в одиннадцать", "да"])
    assert result.outcome == Outcome.CALLBACK_REQUESTED
    assert result.callback_at == datetime(2026, 11, 20, 11, 0, tzinfo=MSK)
    assert result.transcript == "нет | в пятницу в одиннадцать | да"
    assert result.said[-1] == (
        "Хорошо, перезвоним в пятницу, двадцатого ноября, в одиннадцать часов. До свидания."
    )
    assert result.path == ["offer", "propose", "when", "read_back", "scheduled"]


def test_corrected_time() -> None:
    result, _ = run("callback_offer", ["нет", "в пятницу в одиннадцать", "нет, в четверг в три"])
    # The third answer names a time: it is read back again (no more input: hung up).
    assert result.path == ["offer", "propose", "when", "read_back", "read_back"]
    assert result.said[-1].startswith(
        "Перезвоним Вам послезавтра, в четверг, девятнадцатого ноября, в пятнадцать часов."
    )
    assert result.outcome == Outcome.DELIVERED


def test_time_in_another_zone() -> None:
    # 10:00 UTC = 17:00 in Novosibirsk on Tuesday; "завтра в десять" = Wednesday 10:00 there.
    now = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)
    result, _ = run(
        "callback_offer", ["нет", "завтра в десять", "да"], now=now, tz="Asia/Novosibirsk"
    )
    nsk = ZoneInfo("Asia/Novosibirsk")
    assert result.callback_at == datetime(2026, 11, 18, 10, 0, tzinfo=nsk)
    assert result.callback_at.utcoffset() == nsk.utcoffset(datetime(2026, 11, 18))


def test_unmapped_repeat_repeats_the_question() -> None:
    # read_back does not map "repeat": the question is said again, no "не понял".
    result, _ = run("callback_offer", ["нет", "в пятницу в одиннадцать", "повторите", "да"])
    read_back = [s for s in result.said if s.startswith("Перезвоним Вам")]
    assert len(read_back) == 2
    assert "Извините, я не понял." not in result.said
    assert result.outcome == Outcome.CALLBACK_REQUESTED


def test_unclear_words_then_keys() -> None:
    result, _ = run("payment_reminder", ["какая сегодня погода", "1"])
    assert result.said[-2] == CLARIFY_1  # one clarifying question, not "не понял"
    assert "Извините, я не понял." not in result.said
    assert result.outcome == Outcome.CONFIRMED
    assert result.transcript == "какая сегодня погода"
    assert result.dtmf == "1"


@pytest.mark.parametrize(
    ("name", "said", "path_end", "outcome"),
    [
        ("documents_sent", "один", "thanks", Outcome.CONFIRMED),
        ("documents_sent", "ну нажимаю двойку", "not_yet", Outcome.DECLINED),
        ("order_ready", "один", "sent", Outcome.CONFIRMED),  # goal: delivered
        ("order_ready", "два", "operator", Outcome.OPERATOR_REQUESTED),
    ],
)
def test_a_key_said_aloud_is_that_keys_answer(
    name: str, said: str, path_end: str, outcome: Outcome
) -> None:
    result, _ = run(name, [said])
    assert result.path[-1] == path_end
    assert result.outcome == outcome
    assert result.transcript == said and result.dtmf == ""  # heard, not pressed
    if path_end == "sent":
        assert result.sms_text is not None and result.sms_text.startswith("Заказ 1024")


def test_the_opt_out_key_said_aloud_blocks_nobody() -> None:
    # «нажмите 9, чтобы мы больше не звонили»: a stray «девять» is not an opt-out.
    result, _ = run("documents_sent", ["девять", "1"])
    assert result.outcome == Outcome.CONFIRMED
    assert CLARIFY_1 in result.said  # not understood: asked once more


SPEECH_OFF = """
name: keys_only
start: q
states:
  q:
    ask: Нажмите 1.
    speech: false
    answers:
      - dtmf: 1
        intent: yes
        go: ok
    on_fail: bye
  ok:
    outcome: confirmed
  bye:
    hangup: true
"""


def test_speech_can_be_turned_off_per_question() -> None:
    sc, problems = check_text(SPEECH_OFF, "keys_only.yaml")
    assert problems == [] and sc is not None
    result, line = run(sc, ["да", "1"])
    assert line.expects[0].speech is False and line.expects[0].grammar is None
    assert result.outcome == Outcome.CONFIRMED
    assert result.transcript == ""


@pytest.mark.parametrize(
    ("name", "said", "outcome"),
    [
        ("documents_sent", "да, получил", Outcome.CONFIRMED),
        ("documents_sent", "нет", Outcome.DECLINED),
        ("documents_sent", "больше не звоните", Outcome.OPTED_OUT),
        ("payment_reminder", "соедините с оператором", Outcome.OPERATOR_REQUESTED),
        ("order_ready", "позовите менеджера", Outcome.OPERATOR_REQUESTED),
        ("callback_offer", "да, удобно", Outcome.CONFIRMED),
    ],
)
def test_spoken_intents(name: str, said: str, outcome: Outcome) -> None:
    result, _ = run(name, [said])
    assert result.outcome == outcome
    assert result.transcript == said.replace(",", "")


class SpeaksOver(Recording):
    """Starts talking during the robot's first text, as SipLine reports it: an empty SPEECH
    reply at the speech start; the words come from the next listen()."""

    def __init__(self, inputs: list[str]) -> None:
        super().__init__(inputs)
        self.interrupted = False

    def say(self, text: str, *, barge_in: bool = True) -> Reply | None:
        super().say(text, barge_in=barge_in)
        if barge_in and not self.interrupted:
            self.interrupted = True
            return Reply(ReplyKind.SPEECH, text="")
        return None


def test_speech_barge_in_is_listened_to_the_end() -> None:
    result, line = run("documents_sent", ["да, получил"], line_class=SpeaksOver)
    assert result.outcome == Outcome.CONFIRMED
    assert result.transcript == "да получил"
    assert len(result.said) == 2  # the message (interrupted) and the goodbye: no question
    assert line.expects[0].grammar is not None  # listened with the question's grammar


def test_day_parts_from_config_decide_what_morning_means() -> None:
    """[speech.day_parts] reaches the NLU through the worker's conversation: «завтра утром» is
    8:30 here."""
    from cuckoo.config import parse
    from cuckoo.line.leg import CallRequest
    from cuckoo.worker.channels import scenario_conversation

    config = parse(f'scenarios_dir = "{SHIPPED}"\n[speech.day_parts]\nmorning = "8:30"\n')
    converse = replace(scenario_conversation(config), speech_available=True)
    line = TextLine(io.StringIO("нет\nзавтра утром\nда\n"), io.StringIO())
    variables = load_scenario(SHIPPED / "callback_offer.yaml").variables
    n = Notification(
        1,
        "t",
        "1",
        "default",
        "+7",
        "+7",
        ChannelKind.CALL,
        "callback_offer",
        variables,
        "Europe/Moscow",
        1,
        0,
    )
    result = converse(line, CallRequest("sip:x", n, now=TUESDAY))
    assert result.outcome == "callback_requested"
    assert result.callback_at == datetime(2026, 11, 18, 5, 30, tzinfo=UTC)  # Wed 8:30 Moscow


def test_bad_day_parts_are_a_config_error_naming_the_key() -> None:
    from cuckoo.config import parse
    from cuckoo.errors import ConfigError

    with pytest.raises(ConfigError, match=r"x.toml:1: .*speech.day_parts.morning: .25:00."):
        parse('[speech.day_parts]\nmorning = "25:00"\n', source="x.toml")


# ---- one clarifying question -------------------------------------------------------------------

DOC_MESSAGE = (
    "Пётр Николаевич, здравствуйте! Это ООО «Ромашка». 7 февраля мы отправили Вам заказным "
    "письмом бухгалтерские документы за декабрь."
)
DOC_QUESTION = (
    "Если Вы уже их получили, нажмите 1 или скажите «да». Если ещё нет — нажмите 2. "
    "Чтобы прослушать ещё раз — нажмите 0."
)
THANKS = "Спасибо! Всего доброго."
NOT_YET = "Понятно. Мы проверим отправку и свяжемся с Вами. До свидания."


@pytest.mark.parametrize(
    ("answers", "outcome", "said_after_the_question"),
    [
        # not understood → the clarifying question (yes key 1 from the answers) → a clear yes
        (["какая погода", "да"], Outcome.CONFIRMED, [CLARIFY_1, THANKS]),
        (["ну наверное", "1"], Outcome.CONFIRMED, [CLARIFY_1, THANKS]),
        # a tentative no is not acted on at once: the clear answer to the question decides
        (["наверное нет", "да, получил"], Outcome.CONFIRMED, [CLARIFY_1, THANKS]),
        (["вроде получил", "нет"], Outcome.DECLINED, [CLARIFY_1, NOT_YET]),
        # tentative again after the one question: that answer stands
        (["наверное нет", "наверное нет"], Outcome.DECLINED, [CLARIFY_1, NOT_YET]),
        # firm answers are never questioned
        (["да нет"], Outcome.DECLINED, [NOT_YET]),
        (["да"], Outcome.CONFIRMED, [THANKS]),
    ],
)
def test_an_unsure_answer_gets_one_clarifying_question(
    answers: list[str], outcome: Outcome, said_after_the_question: list[str]
) -> None:
    result, _ = run("documents_sent", answers)
    assert result.outcome == outcome
    assert result.said == [DOC_MESSAGE, DOC_QUESTION, *said_after_the_question]
    assert result.path == [
        "message",
        "received",
        "thanks" if outcome.value == "confirmed" else "not_yet",
    ]
    words = [a.replace(",", "") for a in answers if not a.isdigit()]  # keys are not words
    assert result.transcript == " | ".join(words)


def test_the_clarifying_question_is_asked_once_and_is_not_a_retry() -> None:
    # documents_sent: retries 2. Unclear, unclear again (→ "не понял", retry 1), silence
    # (retry 2), silence → on_fail.
    result, _ = run("documents_sent", ["какая погода", "какая погода", "", ""])
    assert result.said == [
        DOC_MESSAGE,
        DOC_QUESTION,
        CLARIFY_1,
        "Извините, я не понял.",
        DOC_QUESTION,
        "Извините, Вас не слышно.",
        DOC_QUESTION,
        "Мы перезвоним Вам позже. До свидания.",
    ]
    assert result.path == ["message", "received", "give_up"]


def test_silence_gets_no_clarifying_question() -> None:
    result, _ = run("documents_sent", ["", "да"])
    assert result.said == [
        DOC_MESSAGE,
        DOC_QUESTION,
        "Извините, Вас не слышно.",
        DOC_QUESTION,
        THANKS,
    ]


def test_a_question_without_yes_or_no_gets_no_standard_clarifying_question() -> None:
    # payment_reminder's when_to_call asks for a time (retries 0): unclear words → on_fail.
    result, _ = run("payment_reminder", ["я за рулём", "какая погода"])
    assert result.path[-2:] == ["when_to_call", "call_back_later"]
    assert not any(s.startswith("Скажите, пожалуйста") for s in result.said)


CLARIFY = """
name: clarify
variables: {{name: Анна}}
start: q
states:
  q:
    ask: Вы придёте завтра?
    answers:
      - {{intent: yes, go: ok}}
      - {{dtmf: 2, intent: no, go: no}}
{clarify}
    on_fail: bye
  ok: {{outcome: confirmed}}
  no: {{outcome: declined}}
  bye: {{hangup: true}}
"""


@pytest.mark.parametrize(
    ("clarify", "answers", "outcome", "asked"),
    [
        ("", ["какая погода", "да"], Outcome.CONFIRMED, "Скажите, пожалуйста, да или нет."),
        (
            "    clarify: '{{ name }}, так Вы придёте? Да или нет?'",
            ["ну наверное", "да"],
            Outcome.CONFIRMED,
            "Анна, так Вы придёте? Да или нет?",
        ),
        ("    clarify: false", ["наверное нет"], Outcome.DECLINED, None),
        ("    clarify: false", ["какая погода", "да"], Outcome.CONFIRMED, None),
    ],
    ids=["yes-without-a-key", "own-text", "off-tentative-stands", "off-unclear"],
)
def test_the_clarifying_question_of_a_scenario(
    clarify: str, answers: list[str], outcome: Outcome, asked: str | None
) -> None:
    sc, problems = check_text(CLARIFY.format(clarify=clarify), "clarify.yaml")
    assert problems == [] and sc is not None
    result, _ = run(sc, answers)
    assert result.outcome == outcome
    if asked is None:
        assert not any(s.startswith("Скажите") for s in result.said)
        assert ("Извините, я не понял." in result.said) == (answers[0] == "какая погода")
    else:
        assert result.said == ["Вы придёте завтра?", asked]


def test_an_empty_clarify_text_is_refused_with_its_line() -> None:
    sc, problems = check_text(CLARIFY.format(clarify="    clarify: ' '"), "clarify.yaml")
    assert sc is None
    assert [str(p) for p in problems] == [
        "clarify.yaml:11: states.q.clarify: clarify: give the question's text, or false to "
        "never ask one"
    ]
