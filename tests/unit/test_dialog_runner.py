"""The dialog runner over TextLine: every key-press branch of the shipped scenarios, reprompts,
hang-ups, barge-in, transfer, SMS, callbacks in the customer's zone, and `converse`."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cuckoo.dialog import DialogResult, check_variables, load_scenario, run_dialog
from cuckoo.dialog.converse import ScenarioConversation
from cuckoo.dialog.loader import check_text
from cuckoo.dialog.runner import MAX_STEPS
from cuckoo.dialog.schema import Scenario
from cuckoo.dialog.text_line import TextLine, speech_text
from cuckoo.domain import ChannelKind, Notification, Outcome
from cuckoo.errors import ConfigError, InputError
from cuckoo.line import Expect, Reply, ReplyKind
from cuckoo.line.leg import CallRequest, ConversationResult

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "scenarios"
MSK = ZoneInfo("Europe/Moscow")
# Thursday 19 November 2026, 10:00 in Moscow.
NOW = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)


def scenario(name: str) -> Scenario:
    return load_scenario(SHIPPED / f"{name}.yaml")


def simulate(
    sc: Scenario | str,
    inputs: list[str],
    *,
    line: TextLine | None = None,
    speech: bool = False,
    now: datetime = NOW,
    tz: str = "Europe/Moscow",
    variables: dict[str, Any] | None = None,
    operator: str | None = None,
) -> tuple[DialogResult, str]:
    if isinstance(sc, str):
        sc = scenario(sc)
    out = io.StringIO()
    if line is None:
        line = TextLine(io.StringIO("".join(f"{i}\n" for i in inputs)), out, echo=True)
    result = run_dialog(
        sc,
        line,
        sc.variables if variables is None else variables,
        now=lambda: now,
        tz=tz,
        speech_available=speech,
        operator=operator,
    )
    return result, line.output.getvalue() if isinstance(line.output, io.StringIO) else ""


DOC_MESSAGE = (
    "Пётр Николаевич, здравствуйте! Это ООО «Ромашка». 7 февраля мы отправили Вам заказным "
    "письмом бухгалтерские документы за декабрь."
)
DOC_QUESTION = (  # without speech recognition: keys only
    "Если Вы уже их получили, нажмите 1. Если ещё нет — нажмите 2. "
    "Чтобы прослушать ещё раз — нажмите 0."
)


# -- documents_sent ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "outcome", "dtmf", "last_said"),
    [
        (["1"], Outcome.CONFIRMED, "1", "Спасибо! Всего доброго."),
        (
            ["2"],
            Outcome.DECLINED,
            "2",
            "Понятно. Мы проверим отправку и свяжемся с Вами. До свидания.",
        ),
        (["9"], Outcome.OPTED_OUT, "9", "Хорошо, мы больше не будем Вам звонить. До свидания."),
        (["0", "1"], Outcome.CONFIRMED, "01", "Спасибо! Всего доброго."),
        (["", "1"], Outcome.CONFIRMED, "1", "Спасибо! Всего доброго."),
        (
            ["7", "2"],
            Outcome.DECLINED,
            "72",
            "Понятно. Мы проверим отправку и свяжемся с Вами. До свидания.",
        ),
        (["", "", ""], Outcome.DELIVERED, "", "Мы перезвоним Вам позже. До свидания."),
        (["5", "", "5"], Outcome.DELIVERED, "55", "Мы перезвоним Вам позже. До свидания."),
        ([], Outcome.DELIVERED, "", DOC_QUESTION),  # hung up at the question: message heard
        (["1#"], Outcome.CONFIRMED, "1#", "Спасибо! Всего доброго."),
    ],
)
def test_documents_sent_keys(
    inputs: list[str], outcome: Outcome, dtmf: str, last_said: str
) -> None:
    result, _ = simulate("documents_sent", inputs)
    assert result.outcome == outcome
    assert result.dtmf == dtmf
    assert result.said[0] == DOC_MESSAGE
    assert result.said[-1] == last_said
    assert result.heard


def test_documents_sent_reprompts() -> None:
    result, out = simulate("documents_sent", ["", "5", ""])
    assert result.said == [
        DOC_MESSAGE,
        DOC_QUESTION,
        "Извините, Вас не слышно.",
        DOC_QUESTION,
        "Извините, я не понял.",
        DOC_QUESTION,
        "Мы перезвоним Вам позже. До свидания.",
    ]
    assert result.path == ["message", "received", "give_up"]
    assert "клиент: (молчание)" in out
    assert out.rstrip().endswith("робот: (кладёт трубку)")


def test_repeat_says_the_message_again() -> None:
    result, _ = simulate("documents_sent", ["0", "0", "1"])
    assert result.said.count(DOC_MESSAGE) == 3
    assert result.path == [
        "message",
        "received",
        "message",
        "received",
        "message",
        "received",
        "thanks",
    ]


def test_variables_from_the_erp() -> None:
    variables = {
        "customer": {"first_name": "Ольга", "patronymic": "Ивановна"},
        "sent_date": "2026-03-02",
        "period": "февраль",
        "company": "ИП Смирнов",
    }
    result, _ = simulate("documents_sent", ["1"], variables=variables)
    assert result.said[0] == (
        "Ольга Ивановна, здравствуйте! Это ИП Смирнов. 2 марта мы отправили Вам заказным "
        "письмом бухгалтерские документы за февраль."
    )


class HangsUpDuringSay(TextLine):
    """A customer who hangs up while the robot is saying its `n`-th text."""

    def __init__(self, n: int, inputs: list[str] = ()) -> None:  # type: ignore[assignment]
        super().__init__(io.StringIO("".join(f"{i}\n" for i in inputs)), io.StringIO(), echo=True)
        self.n = n
        self.says = 0

    def say(self, text: str, *, barge_in: bool = True) -> Reply | None:
        self.says += 1
        if self.says == self.n:
            self.closed = True
            return Reply.hangup()
        return super().say(text, barge_in=barge_in)


def test_hangup_during_the_message_is_no_contact() -> None:
    result, _ = simulate("documents_sent", [], line=HangsUpDuringSay(1))
    assert result.outcome == Outcome.NO_ANSWER
    assert not result.heard
    assert result.said == [DOC_MESSAGE]  # it was started


def test_hangup_after_the_message_is_delivered() -> None:
    result, _ = simulate("documents_sent", [], line=HangsUpDuringSay(2))
    assert result.outcome == Outcome.DELIVERED
    assert result.heard


@pytest.mark.parametrize(
    ("name", "inputs", "outcome"),
    [
        ("documents_sent", ["1"], Outcome.CONFIRMED),
        ("documents_sent", ["2"], Outcome.DECLINED),
        ("callback_offer", ["1"], Outcome.CONFIRMED),
        ("payment_reminder", ["3"], Outcome.OPERATOR_REQUESTED),
    ],
)
def test_hangup_during_the_goodbye_keeps_the_answer(
    name: str, inputs: list[str], outcome: Outcome
) -> None:
    # Says: message, question, goodbye (3rd) - the customer hangs up during the goodbye.
    line = HangsUpDuringSay(3, inputs)
    result, _ = simulate(name, [], line=line)
    assert result.outcome == outcome
    assert result.dtmf == inputs[0]
    assert len(result.said) == 3


class BargesIn(TextLine):
    """Presses `key` while the robot says its first text."""

    def __init__(self, key: str, inputs: list[str] = ()) -> None:  # type: ignore[assignment]
        super().__init__(io.StringIO("".join(f"{i}\n" for i in inputs)), io.StringIO(), echo=True)
        self.key = key

    def say(self, text: str, *, barge_in: bool = True) -> Reply | None:
        super().say(text, barge_in=barge_in)
        if barge_in and self.key:
            key, self.key = self.key, ""
            return Reply(ReplyKind.DTMF, digits=key)
        return None


def test_barge_in_during_the_message_answers_the_question() -> None:
    result, _ = simulate("documents_sent", [], line=BargesIn("1"))
    assert result.outcome == Outcome.CONFIRMED
    assert result.heard
    assert DOC_QUESTION not in result.said  # answered before it was asked


# -- DTMF-only lines ---------------------------------------------------------------------------


def test_words_are_not_heard_without_speech_recognition() -> None:
    result, out = simulate("documents_sent", ["да", "1"])
    assert result.outcome == Outcome.CONFIRMED
    assert "(речь сейчас не распознаётся: ответьте кнопкой)" in out
    assert result.said[2] == "Извините, Вас не слышно."
    assert result.transcript == ""


TIME_ONLY = """
name: time_only
goal: delivered
start: q
states:
  q:
    ask: Когда перезвонить?
    answers:
      - time: true
        go: cb
    on_fail: fallback
  cb:
    callback: answer
    say: Перезвоним {{ callback_at | when_spoken }}.
  fallback:
    callback: tomorrow 12:00
"""


def test_question_without_keys_goes_to_on_fail_when_speech_is_off() -> None:
    sc, problems = check_text(TIME_ONLY, "time_only.yaml")
    assert problems == [] and sc is not None
    result, _ = simulate(sc, ["1"])
    assert result.path == ["q", "fallback"]
    assert result.said == []
    assert result.outcome == Outcome.CALLBACK_REQUESTED
    assert result.callback_at == datetime(2026, 11, 20, 12, 0, tzinfo=MSK)


class Recording(TextLine):
    def __init__(self, inputs: list[str]) -> None:
        super().__init__(io.StringIO("".join(f"{i}\n" for i in inputs)), io.StringIO(), echo=True)
        self.expects: list[Expect] = []

    def listen(self, expect: Expect) -> Reply:
        self.expects.append(expect)
        return super().listen(expect)


def test_expect_without_speech() -> None:
    line = Recording(["1"])
    simulate("documents_sent", [], line=line)
    (expect,) = line.expects
    assert expect.speech is False
    assert expect.grammar is None
    assert expect.max_digits == 1
    assert expect.no_speech_timeout_s == 6.0


# -- callback_offer ----------------------------------------------------------------------------

FRI_10 = datetime(2026, 11, 20, 10, 0, tzinfo=MSK)


@pytest.mark.parametrize(
    ("inputs", "outcome", "at", "last_said"),
    [
        (
            ["1"],
            Outcome.CONFIRMED,
            FRI_10,
            "Спасибо! Менеджер перезвонит Вам завтра, в пятницу, двадцатого ноября, "
            "в десять часов. До свидания.",
        ),
        (
            ["2", "1"],
            Outcome.CALLBACK_REQUESTED,
            FRI_10,
            "Хорошо, перезвоним завтра, в пятницу, двадцатого ноября, в десять часов. До свидания.",
        ),
        (
            ["2", "2"],
            Outcome.CALLBACK_REQUESTED,
            datetime(2026, 11, 20, 15, 0, tzinfo=MSK),
            "Хорошо, перезвоним завтра, в пятницу, двадцатого ноября, в пятнадцать часов. "
            "До свидания.",
        ),
        (
            ["2", "3"],
            Outcome.CALLBACK_REQUESTED,
            datetime(2026, 11, 21, 10, 0, tzinfo=MSK),
            "Хорошо, перезвоним послезавтра, в субботу, двадцать первого ноября, в десять часов. "
            "До свидания.",
        ),
        (["2", "", "", ""], Outcome.DELIVERED, None, "Мы перезвоним Вам позже. До свидания."),
        (["", "", ""], Outcome.DELIVERED, None, "Мы перезвоним Вам позже. До свидания."),
        (["9"], Outcome.OPTED_OUT, None, "Хорошо, мы больше не будем Вам звонить. До свидания."),
        (
            ["2", "9"],
            Outcome.OPTED_OUT,
            None,
            "Хорошо, мы больше не будем Вам звонить. До свидания.",
        ),
    ],
)
def test_callback_offer_keys(
    inputs: list[str], outcome: Outcome, at: datetime | None, last_said: str
) -> None:
    result, _ = simulate("callback_offer", inputs)
    assert result.outcome == outcome
    assert result.callback_at == at
    assert result.said[-1] == last_said


def test_callback_offer_dtmf_menu_without_speech() -> None:
    result, _ = simulate("callback_offer", ["2", "1"])
    assert (
        "Когда Вам удобно? Нажмите 1 — завтра утром, 2 — завтра днём, 3 — послезавтра утром."
        in result.said
    )


def test_callback_is_computed_in_the_customers_zone() -> None:
    # 22:30 UTC on the 19th is 03:30 on the 20th in Yekaterinburg: "tomorrow" is the 21st.
    late = datetime(2026, 11, 19, 22, 30, tzinfo=UTC)
    result, _ = simulate("callback_offer", ["1"], now=late, tz="Asia/Yekaterinburg")
    ekb = ZoneInfo("Asia/Yekaterinburg")
    assert result.callback_at == datetime(2026, 11, 21, 10, 0, tzinfo=ekb)
    assert result.callback_at.astimezone(UTC) == datetime(2026, 11, 21, 5, 0, tzinfo=UTC)
    assert "завтра, в субботу, двадцать первого ноября, в десять часов" in result.said[-1]


def test_callback_answer_without_a_time() -> None:
    text = TIME_ONLY.replace("on_fail: fallback", "on_fail: cb").replace(
        "  fallback:\n    callback: tomorrow 12:00\n", ""
    )
    sc, problems = check_text(text, "time_only.yaml")
    assert problems == [] and sc is not None
    result, _ = simulate(sc, [])
    assert result.outcome == Outcome.CALLBACK_REQUESTED
    assert result.callback_at is None  # the policy picks the time
    assert result.said == []


# -- order_ready: goal delivered, sms, transfer ------------------------------------------------


def test_order_ready_message() -> None:
    result, _ = simulate("order_ready", [""])
    assert result.said[0] == (
        "Мария, здравствуйте! Ваш заказ номер 1024 готов к выдаче. Забрать его можно по "
        "адресу: улица Ленина, дом 5, с девяти часов до двадцати одного часа. Заказ будет "
        "храниться до 27 ноября."
    )
    # No answer is fine: the message was heard and that is the goal.
    assert result.outcome == Outcome.CONFIRMED
    assert result.said[-1] == "Всего доброго!"


def test_order_ready_sms() -> None:
    result, _ = simulate("order_ready", ["1"])
    assert result.outcome == Outcome.CONFIRMED  # delivered is the goal
    assert result.sms_text == "Заказ 1024: улица Ленина, дом 5, с 09:00 до 21:00."
    assert result.said[-1] == "Отправили адрес в SMS. Всего доброго!"


def test_order_ready_hangup_during_message_is_not_the_goal() -> None:
    result, _ = simulate("order_ready", [], line=HangsUpDuringSay(1))
    assert result.outcome == Outcome.NO_ANSWER


def test_order_ready_unknown_key_goes_to_bye() -> None:
    result, _ = simulate("order_ready", ["7"])
    assert result.path == ["message", "menu", "bye"]
    assert result.outcome == Outcome.CONFIRMED


class Transfers(TextLine):
    def __init__(self, inputs: list[str], ok: bool) -> None:
        super().__init__(io.StringIO("".join(f"{i}\n" for i in inputs)), io.StringIO(), echo=True)
        self.ok = ok
        self.targets: list[str] = []

    def transfer(self, target: str) -> bool:
        self.targets.append(target)
        return self.ok


def test_transfer_without_line_support() -> None:
    result, _ = simulate("order_ready", ["2"], operator="+74950000000")
    assert result.outcome == Outcome.OPERATOR_REQUESTED
    assert result.said[-2:] == [
        "Соединяю с оператором.",
        "Сейчас оператор не может ответить. Мы Вам перезвоним.",
    ]


def test_transfer_with_line_support() -> None:
    line = Transfers(["2"], ok=True)
    result, _ = simulate("order_ready", [], line=line, operator="+74950000000")
    assert result.outcome == Outcome.OPERATOR_REQUESTED
    assert line.targets == ["+74950000000"]
    assert result.said[-1] == "Соединяю с оператором."
    assert not line.closed  # the call is the operator's now: the robot does not hang up


def test_transfer_refused_or_no_operator_configured() -> None:
    refused = Transfers(["2"], ok=False)
    result, _ = simulate("order_ready", [], line=refused, operator="sip:op@pbx")
    assert refused.targets == ["sip:op@pbx"]
    assert result.said[-1] == "Сейчас оператор не может ответить. Мы Вам перезвоним."
    unconfigured = Transfers(["2"], ok=True)
    result, _ = simulate("order_ready", [], line=unconfigured)
    assert unconfigured.targets == []
    assert result.outcome == Outcome.OPERATOR_REQUESTED


# -- payment_reminder --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "outcome"),
    [
        (["1"], Outcome.CONFIRMED),
        (["2"], Outcome.DECLINED),
        (["3"], Outcome.OPERATOR_REQUESTED),
        (["0", "2"], Outcome.DECLINED),
        (["9"], Outcome.OPTED_OUT),
        (["", "", ""], Outcome.DELIVERED),
        ([], Outcome.DELIVERED),
    ],
)
def test_payment_reminder_keys(inputs: list[str], outcome: Outcome) -> None:
    result, _ = simulate("payment_reminder", inputs)
    assert result.outcome == outcome
    assert result.said[0] == (
        "Иван Петрович, здравствуйте! Это ООО «Ромашка». Напоминаем: по договору 45-Б нужно "
        "внести платёж 1 250 руб. 50 коп. до 25 ноября."
    )


# -- limits and odd inputs ---------------------------------------------------------------------


def test_endless_repeat_is_cut_off() -> None:
    result, _ = simulate("documents_sent", ["0"] * MAX_STEPS)
    assert len(result.path) == MAX_STEPS
    assert result.outcome == Outcome.DELIVERED


MULTI = """
name: multi
start: q
states:
  q:
    ask: Введите код 12 и решётку.
    answers:
      - dtmf: "12"
        go: ok
      - dtmf: "3"
        go: ok
    on_fail: bye
  ok:
    outcome: confirmed
  bye:
    hangup: true
"""


@pytest.mark.parametrize(
    ("typed", "outcome"),
    [("12#", Outcome.CONFIRMED), ("12", Outcome.CONFIRMED), ("1", Outcome.DELIVERED)],
)
def test_multi_digit_keys(typed: str, outcome: Outcome) -> None:
    sc, problems = check_text(MULTI, "multi.yaml")
    assert problems == [] and sc is not None
    line = Recording([typed, "", ""])
    result, _ = simulate(sc, [], line=line)
    assert line.expects[0].max_digits == 2
    assert result.outcome == outcome


@pytest.mark.parametrize(
    ("typed", "text"),
    [
        ("Да!", "да"),
        ("  Перезвоните, пожалуйста, в ПЯТНИЦУ.  ", "перезвоните пожалуйста в пятницу"),
        ("?!", ""),
    ],
)
def test_speech_text(typed: str, text: str) -> None:
    assert speech_text(typed) == text


def test_text_line_replies() -> None:
    out = io.StringIO()
    line = TextLine(io.StringIO("1\n\n*5#\nалло\nабв\n"), out, echo=False)
    assert line.listen(Expect()) == Reply(ReplyKind.DTMF, digits="1")
    assert line.listen(Expect()) == Reply.silence()
    assert line.listen(Expect(dtmf="0123456789")) == Reply(ReplyKind.DTMF, digits="5")
    assert line.listen(Expect()) == Reply(ReplyKind.SPEECH, text="алло", confidence=1.0)
    assert line.listen(Expect(speech=False)) == Reply.silence()
    assert line.listen(Expect()) == Reply.hangup()
    assert line.say("ещё?") == Reply.hangup()  # the customer is gone
    assert out.getvalue() == "      (речь сейчас не распознаётся: ответьте кнопкой)\n"


# -- converse ----------------------------------------------------------------------------------


def _request(scenario: str, variables: dict[str, Any], tz: str, now: datetime) -> CallRequest:
    n = Notification(
        1, "t", "1", "default", "+7", "+7", ChannelKind.CALL, scenario, variables, tz, 1, 0
    )
    return CallRequest("sip:x", n, now=now)


def test_converse() -> None:
    out = io.StringIO()
    line = TextLine(io.StringIO("2\n1\n"), out)
    variables = {
        "customer": {"first_name": "Анна", "patronymic": "Сергеевна"},
        "company": "ООО «Ромашка»",
        "topic": "продление договора",
    }
    converse = ScenarioConversation(SHIPPED, speech_available=False)
    at_10_in_vladivostok = datetime(2026, 11, 19, 0, 0, tzinfo=UTC)
    reply = converse(
        line, _request("callback_offer", variables, "Asia/Vladivostok", at_10_in_vladivostok)
    )
    assert reply == ConversationResult(
        Outcome.CALLBACK_REQUESTED,
        dtmf="21",
        callback_at=datetime(2026, 11, 20, 0, 0, tzinfo=UTC),  # tomorrow 10:00 in Vladivostok
        said=reply.said,
        path=("offer", "propose", "when", "tomorrow_morning"),  # the states it went through
    )
    assert reply.said[0].startswith("Анна Сергеевна, здравствуйте!")


def test_converse_refuses_invalid_or_unknown_scenarios(tmp_path: Path) -> None:
    bad = ROOT / "tests" / "data" / "scenarios"
    converse = ScenarioConversation(bad)
    now = datetime(2026, 11, 19, tzinfo=UTC)
    request = _request("unknown_state", {}, "Europe/Moscow", now)
    with pytest.raises(ConfigError, match=r"unknown_state\.yaml:9: unknown state 'nowhere'"):
        converse(TextLine(io.StringIO(""), io.StringIO()), request)
    with pytest.raises(ConfigError, match="no scenario 'nope'"):
        converse(
            TextLine(io.StringIO(""), io.StringIO()), _request("nope", {}, "Europe/Moscow", now)
        )


# -- variables from the ERP that do not fit ----------------------------------------------------


def test_check_variables() -> None:
    sc = scenario("payment_reminder")
    assert check_variables(sc, sc.variables) == []
    broken = {**sc.variables, "customer": {"first_name": "Иван"}}
    del broken["company"]
    assert check_variables(sc, broken) == [
        "sms: variable 'customer.patronymic' is missing",
        "sms: variable 'company' is missing",
        "states.message.say: variable 'customer.patronymic' is missing",
        "states.message.say: variable 'company' is missing",
    ]
    assert check_variables(sc, {**sc.variables, "amount": "много"}, include_sms=False) == [
        "states.message.say: not an amount: 'много'"
    ]
    assert check_variables(sc, {**sc.variables, "due_date": "вчера"}) == [
        "sms: not a date: 'вчера' (use YYYY-MM-DD or DD.MM.YYYY)",
        "states.message.say: not a date: 'вчера' (use YYYY-MM-DD or DD.MM.YYYY)",
    ]
    assert check_variables(sc, {**sc.variables, "due_date": "25.11.2026"}) == []


def test_the_dialog_does_not_start_with_bad_variables() -> None:
    sc = scenario("documents_sent")
    out = io.StringIO()
    line = TextLine(io.StringIO("1\n"), out, echo=True)
    with pytest.raises(InputError, match=r"documents_sent: states\.message\.say: variable"):
        run_dialog(sc, line, {}, now=lambda: NOW, tz="Europe/Moscow", speech_available=False)
    assert out.getvalue() == ""  # nothing was said


def test_converse_understands_speech_when_the_line_can_hear_it() -> None:
    """Without `speech_available`, the conversation asks the line: a TextLine has no
    recognizer_factory (keys only), a SipLine with a Vosk model has one."""
    sc = scenario("documents_sent")
    converse = ScenarioConversation(SHIPPED)
    request = _request("documents_sent", sc.variables, "Asia/Yekaterinburg", NOW)
    line = Recording(["2"])
    assert converse(line, request).outcome == Outcome.DECLINED
    assert line.expects[0].speech is False  # a TextLine has no recognizer_factory

    class WithRecognizer(Recording):
        recognizer_factory = object()

    line = WithRecognizer(["1"])
    assert converse(line, request).outcome == Outcome.CONFIRMED
    assert line.expects[0].speech is True


class SipLike(TextLine):
    """Barge-in as SipLine does it: an input line "~1" is a key pressed while the robot talks
    (one key per reply, the rest stays queued); "~words" is speech that *starts* while the robot
    talks (an empty SPEECH reply; the words come from the next listen)."""

    def __init__(self, inputs: list[str]) -> None:
        super().__init__(io.StringIO(), io.StringIO(), echo=True)
        self.queue = list(inputs)
        self.listened: list[Expect] = []

    def say(self, text: str, *, barge_in: bool = True) -> Reply | None:
        super().say(text, barge_in=barge_in)
        if barge_in and self.queue and self.queue[0].startswith("~"):
            head = self.queue[0][1:]
            if head[:1] in tuple("0123456789*#"):
                if head[1:]:
                    self.queue[0] = head[1:]  # the other keys wait for listen()
                else:
                    self.queue.pop(0)
                return Reply(ReplyKind.DTMF, digits=head[0])
            self.queue[0] = head  # the words come from listen()
            return Reply(ReplyKind.SPEECH, text="")
        return None

    def listen(self, expect: Expect) -> Reply:
        self.listened.append(expect)
        self.input = io.StringIO(self.queue.pop(0) + "\n" if self.queue else "")
        return super().listen(expect)


def test_barge_in_with_the_first_key_of_a_longer_answer() -> None:
    sc, problems = check_text(MULTI, "multi.yaml")
    assert problems == [] and sc is not None
    line = SipLike(["~12"])
    result, _ = simulate(sc, [], line=line)
    assert result.outcome == Outcome.CONFIRMED
    assert result.dtmf == "12"
    assert [e.max_digits for e in line.listened] == [1]  # waited for the one missing key
    assert result.said == ["Введите код 12 и решётку."]  # interrupted by the first key


def test_barge_in_with_a_complete_key_answer_does_not_wait() -> None:
    sc, problems = check_text(MULTI, "multi.yaml")
    assert problems == [] and sc is not None
    line = SipLike(["~3"])
    result, _ = simulate(sc, [], line=line)
    assert result.outcome == Outcome.CONFIRMED
    assert line.listened == []


def test_speech_barge_in_without_speech_recognition_is_silence() -> None:
    line = SipLike(["~алло", "1"])
    result, _ = simulate("documents_sent", [], line=line)
    # The speech start interrupted the message; with recognition off it counts as silence.
    assert result.said[:3] == [DOC_MESSAGE, "Извините, Вас не слышно.", DOC_QUESTION]
    assert result.outcome == Outcome.CONFIRMED
