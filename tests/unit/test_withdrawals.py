"""cuckoo.policy.withdrawals: a notification counts as withdrawn in its ERP only when two
successful polls in a row leave it out."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cuckoo.policy.withdrawals import withdrawn

IDS = st.sets(st.sampled_from([str(i) for i in range(12)]))


def test_one_poll_is_not_proof() -> None:
    now, later = withdrawn({"1", "2", "3"}, {"1", "3"}, set())
    assert (now, later) == (set(), {"2"})


def test_the_second_poll_in_a_row_withdraws() -> None:
    assert withdrawn({"1", "2", "3"}, {"1", "3"}, {"2"}) == ({"2"}, set())


def test_listed_again_in_between_is_forgotten() -> None:
    _, later = withdrawn({"1", "2"}, {"1", "2"}, {"2"})
    assert later == set()
    assert withdrawn({"1", "2"}, {"1"}, later) == (set(), {"2"})


def test_a_notification_that_ended_meanwhile_is_dropped() -> None:
    # "2" was unlisted, then ended (final) before the next poll: nothing to cancel.
    assert withdrawn({"1"}, {"1"}, {"2"}) == (set(), set())


@given(IDS, IDS, IDS)
def test_only_open_unlisted_ids_twice_in_a_row(
    open_ids: set[str], listed: set[str], before: set[str]
) -> None:
    now, later = withdrawn(open_ids, listed, before)
    assert now <= open_ids - listed
    assert now <= before
    assert now.isdisjoint(later)
    assert now | later == open_ids - listed
