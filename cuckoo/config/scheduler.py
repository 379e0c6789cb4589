"""[scheduler] section of cuckoo.toml: how often the jobs run and how hard cuckoo may dial."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SchedulerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Worker id written into leases; empty: "<hostname>:<pid>". Must differ between workers.
    owner: str = ""
    poll_interval_s: float = Field(default=30.0, gt=0)  # ask the ERPs for new rows
    dispatch_interval_s: float = Field(default=1.0, gt=0)  # claim due notifications
    outbox_interval_s: float = Field(default=10.0, gt=0)  # write results back to the ERPs
    reap_interval_s: float = Field(default=15.0, gt=0)  # look for leases of dead workers
    # A claimed notification is leased for this long; the worker renews the lease while the
    # attempt runs, so this is how soon a crashed worker's notification is retried.
    lease_s: float = Field(default=60.0, gt=0)
    # Attempts in flight at once in this worker (calls and SMS together).
    max_concurrent: int = Field(default=4, ge=1)
    # Per-tenant limits on attempts in flight in this worker; tenants not listed: no own limit.
    max_concurrent_per_tenant: dict[str, int] = {}
    # Calls in flight at once across every worker that shares this store (the trunk's channel
    # limit); 0: no store-wide limit, only each worker's own max_concurrent.
    cluster_max_calls: int = Field(default=0, ge=0)
    # New attempts started per second (token bucket) and how many may start back to back.
    calls_per_second: float = Field(default=2.0, gt=0)
    burst: int = Field(default=2, ge=1)
    # Results sent to the ERPs per outbox run; a failed report is retried after a delay that
    # doubles from outbox_retry_s up to outbox_retry_max_s.
    outbox_batch: int = Field(default=100, ge=1)
    outbox_retry_s: float = Field(default=30.0, gt=0)
    outbox_retry_max_s: float = Field(default=3600.0, gt=0)
    # ERP down: next poll of that adapter after a delay that doubles up to the max.
    erp_retry_s: float = Field(default=30.0, gt=0)
    erp_retry_max_s: float = Field(default=900.0, gt=0)
    # SMS a call's dialog asked for (`sms:` steps), sent after the call by the SMS channel:
    # checked every sms_request_interval_s, up to sms_request_batch per run. A send that fails
    # for now (gateway down) is retried after a delay that doubles from sms_request_retry_s up
    # to sms_request_retry_max_s; after sms_request_max_tries tries the request fails for good.
    sms_request_interval_s: float = Field(default=5.0, gt=0)
    sms_request_batch: int = Field(default=20, ge=1)
    sms_request_retry_s: float = Field(default=60.0, gt=0)
    sms_request_retry_max_s: float = Field(default=3600.0, gt=0)
    sms_request_max_tries: int = Field(default=10, ge=1)
    # A request is hidden from other workers this long while one sends it: longer than one
    # send may take (the gateway's submit_timeout_s, or an HTTP gateway's timeouts and retries).
    sms_request_lease_s: float = Field(default=120.0, gt=0)
    # Store down (database unreachable, disk full): results wait in the journal
    # (<var_dir>/journal) and the jobs pause, probing after a delay that doubles up to the max.
    store_retry_s: float = Field(default=1.0, gt=0)
    store_retry_max_s: float = Field(default=5.0, gt=0)
    # On SIGINT/SIGTERM wait this long for attempts in flight; the rest are recorded interrupted.
    shutdown_grace_s: float = Field(default=60.0, ge=0)
