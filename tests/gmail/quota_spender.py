"""A `crm`-like process that spends a mailbox's Gmail quota, for tests and benchmarks.

    python -m tests.gmail.quota_spender CONFIG ADDRESS CALLS START_AT

Waits until the wall clock reaches START_AT (so several processes start together),
makes CALLS one-id ``messages.list`` calls (5 units each) through the same client a
sync uses (quota bucket, retries) and prints what it spent, and when (wall clock, so
that processes can be compared), as JSON.
"""

from __future__ import annotations

import json
import sys
import time

from worker.config import load_settings
from worker.gmail import requests
from worker.gmail.session import open_client
from worker.runtime import use_settings


def main(config: str, address: str, calls: int, start_at: float) -> int:
    runtime = use_settings(load_settings(config))
    with open_client(runtime, address) as client:
        client.call("getProfile", requests.get_profile())  # the token refresh, before the clock
        time.sleep(max(0.0, start_at - time.time()))
        started = time.time()
        for _ in range(calls):
            client.call("messages.list", requests.list_messages(1, None))
        finished = time.time()
    usage = client.usage
    print(
        json.dumps(
            {
                "units": usage.total_units,
                "rate_limited": usage.rate_limited,
                "seconds": finished - started,
                "started": started,
                "finished": finished,
                "quota_wait_seconds": client.quota_wait_seconds,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
