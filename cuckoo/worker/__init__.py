"""The worker: everything `cuckoo run` runs, assembled from the config.

- worker.py     `Worker`: store + ERP adapters + channels + scheduler; start, stop, run_once
- scheduler.py  the APScheduler jobs: poll ERPs, dispatch due notifications, outbox, leases
- channels.py   the call, SMS and dry-run channels built from the config
- store.py      `open_store(config)`: the store with the scenario checks used at ingest
- dry_run.py    the channel that logs what would be said or sent
"""
