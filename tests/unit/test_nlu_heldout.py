"""The blind held-out batches (tests/data/nlu_heldout*.tsv) as a regression floor.

Each batch was committed before the parser first ran on it; its first figures are in the commit
that fixed its misses (batch 1: intents 98.1 %, times 96.8 %; batch 2: intents 98.4 %, times
100 %; batch 3, the first with later and wrong_number: intents 59.0 %, times 92.6 %; see
cuckoo.speech.nlu.evaluate.BLIND_SCORES). Unlike the main set, a row here may stay a miss when
the label is right but the rule would be a special case (see KNOWN_MISSES), so the test asserts
accuracies, not every row. Raise a floor when a fix lifts it; never lower one to let a change in.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from cuckoo.speech.nlu import Intent, understand
from cuckoo.speech.nlu.evaluate import LABELED_SETS, evaluate, load_labeled

# (intent accuracy, time accuracy) reached, as fractions of the rows.
FLOORS = {
    "heldout": (360 / 361, 188 / 188),
    "heldout2": (182 / 182, 93 / 93),
    "heldout3": (315 / 315, 54 / 54),
}
# Intents a batch has no row of: batch 2 was written before wrong_number existed (batch 1 has
# one, relabelled from "no").
PREDATES = {"heldout2": {Intent.WRONG_NUMBER}}
# Right labels the rules do not reach, and why.
KNOWN_MISSES = {
    ("heldout", "один"): "«нажмите 1 или скажите да»: yes only to someone who heard the prompt",
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_heldout_accuracy_stays_at_its_floor(name: str) -> None:
    result = evaluate(load_labeled(LABELED_SETS[name]))
    misses = [
        f"{e['line']}: {e['utterance']!r} intent {e['got_intent']} (want "
        f"{e['expected_intent']}), time {e['got_time']} (want {e['expected_time']})"
        for e in result["errors"]
        if (name, e["utterance"]) not in KNOWN_MISSES
    ]
    intent_floor, time_floor = FLOORS[name]
    assert result["intent_accuracy"] >= intent_floor - 1e-9, misses
    assert result["time_accuracy"] >= time_floor - 1e-9, misses


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_heldout_sets_are_varied(name: str) -> None:
    rows = load_labeled(LABELED_SETS[name])
    assert len(rows) >= 100
    assert len({r.now.tzinfo for r in rows}) >= 4
    assert len({r.now for r in rows}) >= 5
    for intent in set(Intent) - PREDATES.get(name, set()):
        assert any(r.intent == intent for r in rows), intent
    # Batch 3 is about intents (later, wrong_number): a sixth of its rows name a time.
    assert sum(r.time is not None for r in rows) >= len(rows) // (6 if name == "heldout3" else 3)


def test_known_misses_are_still_in_their_sets() -> None:
    for name, utterance in KNOWN_MISSES:
        assert any(r.utterance == utterance for r in load_labeled(LABELED_SETS[name]))


MSK = ZoneInfo("Europe/Moscow")
THU = datetime(2026, 3, 12, 11, 20, tzinfo=MSK)


@pytest.mark.parametrize(
    ("text", "intent", "time"),
    [
        # A past report names when something happened, not a callback...
        ("да получил ещё в понедельник", Intent.YES, None),
        ("пришли сегодня утром", Intent.YES, None),
        # ...unless a call or a time is asked for too.
        ("нет не получил перезвоните в понедельник", Intent.NO, datetime(2026, 3, 16, 10, 0)),
        ("не получили можете в понедельник", Intent.NO, datetime(2026, 3, 16, 10, 0)),
        ("в начале третьего", Intent.LATER, datetime(2026, 3, 12, 14, 0)),
        ("в начале первого", Intent.LATER, datetime(2026, 3, 12, 12, 0)),
        ("пять минут седьмого", Intent.LATER, datetime(2026, 3, 12, 18, 5)),
        ("в пятницу в двадцать минут десятого", Intent.LATER, datetime(2026, 3, 13, 9, 20)),
        ("часа через полтора", Intent.LATER, datetime(2026, 3, 12, 12, 50)),
        ("через пару деньков", Intent.LATER, datetime(2026, 3, 14, 11, 20)),
        ("я в дороге", Intent.LATER, None),
        ("я на совещании наберите в три", Intent.LATER, datetime(2026, 3, 12, 15, 0)),
        ("больше не набирайте этот номер", Intent.OPTOUT, None),
        ("не набирайте сейчас перезвоните вечером", Intent.LATER, datetime(2026, 3, 12, 18, 0)),
    ],
)
def test_rules_the_batches_added(text: str, intent: Intent, time: datetime | None) -> None:
    got = understand(text, THU)
    assert got.intent == intent
    assert got.time == (time.replace(tzinfo=MSK) if time else None)
