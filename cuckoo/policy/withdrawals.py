"""When a notification counts as withdrawn in its ERP. Pure: sets of ids in, sets out.

Some adapters (sql, onec with `withdraw_unlisted = true`) list every pending row on every poll,
so a notification cuckoo holds open that the ERP stops listing was unticked by a manager. One
poll is not proof: a page of 1C's OData can shift while it is read, a query can race a
manager's edit. So a notification is withdrawn only when two successful polls in a row leave
it out; one that shows up again in between is forgotten.
"""

from __future__ import annotations

from collections.abc import Collection, Set

__all__ = ["withdrawn"]


def withdrawn(
    open_ids: Collection[str], listed: Collection[str], unlisted_before: Set[str]
) -> tuple[set[str], set[str]]:
    """→ (withdraw now, unlisted for the first time: to check at the next poll).

    `open_ids`: the source's notifications cuckoo holds open (pending or in a call);
    `listed`: every external id the ERP listed in this poll (rejected rows too);
    `unlisted_before`: the first set this function returned after the previous poll."""
    unlisted = set(open_ids) - set(listed)
    now = unlisted & unlisted_before
    return now, unlisted - now
