"""Several workers racing on one database, for the store's concurrency tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from cuckoo.store import Store


def race(
    db_url: str, claim: Callable[[Store, str], Sequence[int]], workers: int = 4
) -> dict[str, list[int]]:
    """Start `workers` threads together, each with its own Store (own connections), each
    calling `claim(store, name)` until it returns nothing; what each one got, by name."""
    got: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(workers)

    def worker(name: str) -> None:
        s = Store(db_url)
        mine: list[int] = []
        try:
            start.wait()
            while batch := claim(s, name):
                mine.extend(batch)
        except BaseException as e:
            errors.append(e)
        finally:
            s.close()
            got[name] = mine

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return got
