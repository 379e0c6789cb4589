"""The families of issue 16 item 6, by mechanism: negation scope, lemma synonyms, "not now"
(later), wrong number, hours and minutes, years after a date, a time kept with any intent, and
the clarifying question. Row by row they are also in tests/data/nlu_labeled.tsv; here each
mechanism is pinned with forms the sets do not have."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from cuckoo.speech.nlu import (
    _VOCABULARY,
    UNSURE_BELOW,
    Intent,
    Understanding,
    clarifying_question,
    understand,
)
from cuckoo.speech.nlu.lemmas import analyse

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 18, 14, 0, tzinfo=MSK)  # a Wednesday


def _negated(text: str) -> list[str]:
    return [w.text for w in analyse(text.split()) if w.negated]


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("не против", ["против"]),
        ("ничего не имею против", ["против"]),  # «не» reaches over «имею»
        ("не имею ничего против", ["против"]),
        ("не очень удобно", ["удобно"]),
        ("возражений нет", ["возражений"]),  # a genitive noun before «нет»
        ("нет возражений", ["возражений"]),
        ("проблем никаких", ["проблем"]),
        ("без проблем", ["проблем"]),
        ("времени совсем нет", ["времени"]),
        ("возражаю", []),
        ("его нет", []),  # a pronoun: absent, not negated
        ("это не я", ["я"]),  # a word reached over ends the scope: it is what is negated
    ],
)
def test_negation_scope(text: str, negated: list[str]) -> None:
    assert _negated(text) == negated


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # An objection negated is a yes; alone it is a no.
        ("я ничего не имею против", Intent.YES),
        ("возражений у нас нет", Intent.YES),
        ("никаких проблем", Intent.YES),
        ("не вопрос", Intent.YES),
        ("не сомневайтесь", Intent.YES),
        ("а почему бы и нет", Intent.YES),
        ("категорически против", Intent.NO),
        ("сомневаюсь", Intent.NO),
        # An agreeing verb in any form is a yes; negated it is a no.
        ("устраивает", Intent.YES),
        ("вполне устроило", Intent.YES),
        ("сойдёт", Intent.YES),
        ("это подойдёт", Intent.YES),
        ("не подойдёт", Intent.NO),
        ("нас не устроит", Intent.NO),
        ("не годится", Intent.NO),
        # A soft no.
        ("навряд ли", Intent.NO),
        ("вряд ли", Intent.NO),
        ("не думаю", Intent.NO),
        # The thing asked about, done or promised, and its negation.
        ("внесла вчера", Intent.YES),
        ("переведу на днях", Intent.YES),
        ("уже всё оплатили", Intent.YES),
        ("посылку принесли", Intent.YES),
        ("до нас ничего не доходило", Intent.NO),
        ("не оплатил ещё", Intent.NO),
        ("не успела ещё заплатить", Intent.NO),
        ("я на машине подъеду", Intent.YES),  # a promise beside a busy word
        ("а когда привезут", Intent.UNKNOWN),  # their future, a question: no answer
    ],
)
def test_lemma_families(text: str, intent: Intent) -> None:
    assert understand(text, NOW).intent == intent


@pytest.mark.parametrize(
    "text",
    [
        "я за рулём",
        "щас не могу",
        "у меня нет времени",
        "перезвоните позже",
        "сейчас неудобно разговаривать",
        "мне некогда",
        "я на совещании",
        "у нас собрание",
        "я в самолёте",
        "мы ужинаем",
        "давайте попозже",
        "в другой раз",
        "не сегодня",
        "поздно уже",
        "нет сейчас не могу",  # a «нет» that only says "not now"
        "я сам перезвоню",
        "в январе",  # a period named for the call, not a moment
        "после праздников",
    ],
)
def test_not_now_is_later(text: str) -> None:
    got = understand(text, NOW)
    assert got.intent == Intent.LATER
    assert got.time is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # A real answer beside a "not now" is that answer.
        ("я за рулём но документы получил", Intent.YES),
        ("занят и мне это не интересно", Intent.NO),
        # A plain «нет» with a time answers the question and names another time.
        ("нет давайте в пятницу", Intent.NO),
        ("неудобно", Intent.NO),
        ("нет я в другом городе", Intent.NO),
        ("сейчас посмотрю", Intent.UNKNOWN),
        ("кто это звонит так поздно", Intent.UNKNOWN),
    ],
)
def test_not_now_is_not_everything(text: str, intent: Intent) -> None:
    assert understand(text, NOW).intent == intent


@pytest.mark.parametrize(
    "text",
    [
        "вы не туда попали",
        "девушка вы ошиблись номером",
        "номер перепутали",
        "нет тут никакого петра",
        "никакой светланы тут нет",
        "я не пётр николаевич",
        "это не я",
        "номер теперь у другого человека",
        "у этого номера новый владелец",
        "я эту симку недавно купил",
        "это не мой телефон",
        "она у нас больше не работает",
        "он уволился",
        "таких тут нет",
        "чужой номер",
    ],
)
def test_wrong_number(text: str) -> None:
    assert understand(text, NOW).intent == Intent.WRONG_NUMBER


@pytest.mark.parametrize(
    "text",
    ["ивана петровича нет дома", "его сейчас нет", "я ошибся", "а вы не ошиблись", "это ошибка"],
)
def test_not_a_wrong_number(text: str) -> None:
    assert understand(text, NOW).intent != Intent.WRONG_NUMBER


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("если ещё раз позвоните я в полицию напишу", Intent.OPTOUT),  # a threat
        ("удалить мой номер", Intent.OPTOUT),
        ("оставьте нас в покое", Intent.OPTOUT),
        ("не смейте звонить", Intent.OPTOUT),
        ("отказываюсь от звонков", Intent.OPTOUT),
        ("дайте кого-нибудь живого", Intent.OPERATOR),
        ("хочу поговорить с кем-то живым", Intent.OPERATOR),
        ("начните сначала", Intent.REPEAT),
        ("плохо слышно перезвоните", Intent.LATER),  # a call asked for, not the question
    ],
)
def test_other_families(text: str, intent: Intent) -> None:
    assert understand(text, NOW).intent == intent


@pytest.mark.parametrize(
    ("text", "hour", "minute", "day"),
    [
        ("в десять часов сорок минут", 10, 40, 19),
        ("в шестнадцать часов пять минут", 16, 5, 18),
        ("в два часа ноль пять", 14, 5, 18),
        ("в час тридцать", 13, 30, 19),
        ("в девять часов пятнадцать минут вечера", 21, 15, 18),
        ("в десять часов тридцать", 10, 30, 19),
        ("часов в пять", 17, 0, 18),  # a bare small number after «часов» is the hour
        ("без десяти минут три", 14, 50, 18),
        ("без пяти минут шесть вечера", 17, 55, 18),
    ],
)
def test_hours_and_minutes(text: str, hour: int, minute: int, day: int) -> None:
    assert understand(text, NOW).time == datetime(2026, 11, day, hour, minute, tzinfo=MSK)


def test_relative_hours_and_minutes() -> None:
    assert understand("через час пять минут", NOW).time == datetime(2026, 11, 18, 15, 5, tzinfo=MSK)
    assert understand("через два часа тридцать минут", NOW).time == datetime(
        2026, 11, 18, 16, 30, tzinfo=MSK
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("двадцать восьмого ноября две тысячи двадцать шестого года", datetime(2026, 11, 28, 10)),
        ("третьего января две тысячи двадцать седьмого года в девять", datetime(2027, 1, 3, 9)),
        ("пятого марта двадцать седьмого года", datetime(2027, 3, 5, 10)),
        ("десятого декабря 2026 года", datetime(2026, 12, 10, 10)),
        ("пятого ноября две тысячи двадцать шестого года", None),  # past: no callback time
    ],
)
def test_a_year_after_a_date(text: str, expected: datetime | None) -> None:
    got = understand(text, NOW).time
    assert got == (expected.replace(tzinfo=MSK) if expected else None)


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("давайте в среду часов в двенадцать", Intent.YES, datetime(2026, 11, 25, 12)),
        ("да в пятницу устроит", Intent.YES, datetime(2026, 11, 20, 10)),
        ("нет давайте в пятницу", Intent.NO, datetime(2026, 11, 20, 10)),
        ("не получил перезвоните завтра", Intent.NO, datetime(2026, 11, 19, 10)),
        ("я за рулём наберите через час", Intent.LATER, datetime(2026, 11, 18, 15)),
        ("оператора можно завтра утром", Intent.OPERATOR, datetime(2026, 11, 19, 9)),
    ],
)
def test_a_time_is_kept_with_any_intent(text: str, intent: Intent, expected: datetime) -> None:
    got = understand(text, NOW)
    assert (got.intent, got.time) == (intent, expected.replace(tzinfo=MSK))


def test_past_reports_name_no_callback_time() -> None:
    assert understand("оплатил вчера вечером", NOW) == Understanding(Intent.YES, None, 1.0)


def test_unsure_answers_and_the_clarifying_question() -> None:
    assert understand("хм", NOW).unsure
    assert understand("наверное нет", NOW).intent == Intent.NO
    assert understand("наверное нет", NOW).unsure
    assert understand("вроде получил", NOW).unsure
    assert not understand("да нет", NOW).unsure  # a firm no
    assert not understand("да", NOW).unsure
    assert not understand("я за рулём", NOW).unsure
    assert 0.0 < UNSURE_BELOW < 0.9
    assert clarifying_question() == "Скажите, пожалуйста, да или нет — или нажмите 1."
    assert clarifying_question("5").endswith("нажмите 5.")
    assert clarifying_question(None) == "Скажите, пожалуйста, да или нет."


@pytest.mark.parametrize(
    "intent", [Intent.YES, Intent.NO, Intent.LATER, Intent.WRONG_NUMBER, Intent.OPTOUT]
)
def test_grammar_phrases_mean_their_intent(intent: Intent) -> None:
    # A Vosk grammar offers these phrases; each, said alone, must be understood as its intent.
    for phrase in _VOCABULARY[intent]:
        assert understand(phrase, NOW).intent == intent, phrase
