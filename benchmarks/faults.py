"""The fault suite's figures (issue 13): each fault injected on loopback by its test, and for
each what it cost — results lost, duplicated calls, customers called in vain, time to recover.

    .venv/bin/python benchmarks/faults.py            # the burst is 10 000 notifications
    .venv/bin/python benchmarks/faults.py --burst 1000

The faults are the test suite's own tests (they assert zero losses; here they also report):

- kill -9 of the worker mid-call (SQLite, PostgreSQL): tests/integration/test_scheduler_workers.py
- the store stopped mid-call — PostgreSQL stopped with `pg_ctl stop -m immediate` and started
  again; SQLite locked by another process past its busy timeout:
  tests/integration/test_store_outage.py
- SQLite's disk full (a small loop-mounted file system), where the machine lets us mount:
  tests/integration/test_store_file_problems.py
- the ERP locked during calls, the ERP's schema changed under us, hostile ERP rows:
  tests/integration/test_faults_erp.py
- a burst with two workers on PostgreSQL: test_scheduler_workers.py (CUCKOO_FAULTS_BURST)

"recovered" is the time from the fault's end (the store or ERP back, the dead worker's
replacement started) to the last result stored or written back; for the burst, the time to
deliver all of it. The tests run with pytest; their `record_property` figures are read back
from a JUnit XML file.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

TESTS = [
    "tests/integration/test_scheduler_workers.py::test_a_worker_killed_mid_attempt_loses_nothing",
    "tests/integration/test_store_outage.py",
    "tests/integration/test_store_file_problems.py",
    "tests/integration/test_faults_erp.py",
    "tests/integration/test_scheduler_workers.py"
    "::test_two_workers_on_postgresql_deliver_a_burst_exactly_once",
]
COLUMNS = ["results_lost", "duplicated_calls", "called_in_vain", "recovery_s"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--burst", type=int, default=10_000, help="notifications in the burst")
    args = ap.parse_args()
    present = [t for t in TESTS if (ROOT / t.split("::")[0]).exists()]
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "faults.xml"
        env = {**os.environ, "CUCKOO_FAULTS_BURST": str(args.burst)}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             "-o", "junit_family=xunit1", "--timeout", "1800", f"--junitxml={xml}", *present],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        if not xml.exists():
            print(run.stdout[-3000:], run.stderr[-3000:])
            return 1
        cases = ET.parse(xml).getroot().iter("testcase")
        rows = []
        for case in cases:
            props = {p.get("name"): p.get("value") for p in case.iter("property")}
            failed = case.find("failure") is not None or case.find("error") is not None
            skipped = case.find("skipped")
            if "scenario" not in props and skipped is None and not failed:
                continue  # a test of these files that is not a fault
            name = props.get("scenario") or case.get("name", "?")
            if skipped is not None:
                rows.append([name, "skipped: " + (skipped.get("message") or "")[:60]])
            elif failed:
                rows.append([name, "FAILED (see pytest's output)"])
            else:
                rows.append([name, *[str(props.get(c, "-")) for c in COLUMNS]])
    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"{'fault':<{width}}  {'lost':>4}  {'dup':>3}  {'in vain':>7}  {'recovered (s)':>13}")
    for r in rows:
        if len(r) == 2:
            print(f"{r[0]:<{width}}  {r[1]}")
        else:
            print(f"{r[0]:<{width}}  {r[1]:>4}  {r[2]:>3}  {r[3]:>7}  {r[4]:>13}")
    print(run.stdout.strip().splitlines()[-1] if run.stdout.strip() else "")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
