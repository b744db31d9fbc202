"""`python -m bot run` with a shorter delivery lease, for the quick run of `bench/chaos.py`.

The lease (`bot.delivery.dispatcher.RECOVERY_LEASE`, 5 minutes) is a constant, not a setting,
so a test of a 429 pause longer than the lease would take more than 5 minutes. This entry point
scales the lease and the two intervals tied to it (renewal and recovery, both 1 minute) by the
same factor, then runs the bot unchanged. `BENCH_LEASE_S` gives the lease in seconds.

    BENCH_LEASE_S=45 python -m bench.short_lease run
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta

from bot.delivery import courier, dispatcher

MARK = "delivery lease shortened for the benchmark:"  # the bench finds it in the log


def shorten(lease: timedelta) -> None:
    """Give every courier built after this call `lease`, with renewal and recovery scaled."""
    scale = lease / dispatcher.RECOVERY_LEASE
    dispatcher.RENEW_EVERY = dispatcher.RENEW_EVERY * scale
    dispatcher.RECOVERY_EVERY = dispatcher.RECOVERY_EVERY * scale
    dispatcher.RECOVERY_LEASE = lease
    for init in (courier.Courier.__init__, dispatcher.Dispatcher.__init__):
        defaults = init.__kwdefaults__
        if not defaults or "lease" not in defaults:
            raise SystemExit(f"{init.__qualname__} takes no `lease` any more: update this module")
        defaults["lease"] = lease


def main() -> int:
    lease = timedelta(seconds=float(os.environ["BENCH_LEASE_S"]))
    shorten(lease)
    print(
        f"{MARK} {lease.total_seconds():g} s, renewal every"
        f" {dispatcher.RENEW_EVERY.total_seconds():g} s, recovery every"
        f" {dispatcher.RECOVERY_EVERY.total_seconds():g} s",
        file=sys.stderr,
        flush=True,
    )
    from bot.__main__ import main as bot_main

    return bot_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
