"""The baseline design: PTB's one `run_daily` job per subscriber, rebuilt at every start.

Run in its own interpreter (memory.py and startup.py start it), so its RSS is its own:

    python -m bench.perjob subscribers.sqlite3 --jobs 100000

It builds an Application with a JobQueue, reads `--jobs` subscriptions (user, zone, local time)
from the database, adds one `run_daily` job each, and starts the application (APScheduler then
computes every job's next run). It prints one JSON line: the rebuild time (read + add + start)
and the RSS before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sqlite3
import sys
import time as clock
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Application, ContextTypes

from bench.common import rss_bytes


async def send_tip(context: ContextTypes.DEFAULT_TYPE) -> None:
    """What each job would do at its time (never called here)."""
    raise AssertionError("no job is due during the measurement")


async def rebuild(db: Path, jobs: int) -> dict[str, Any]:
    app = Application.builder().token("1:per-job-baseline").build()
    assert app.job_queue is not None
    gc.collect()
    rss_before = rss_bytes()
    started = clock.perf_counter()
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT u.id, u.chat_id, u.time_zone, s.local_time FROM tip_subscriptions s"
        " JOIN users u ON u.id = s.user_id WHERE s.active LIMIT ?",
        (jobs,),
    ).fetchall()
    con.close()
    zones: dict[str, ZoneInfo] = {}
    for user_id, chat_id, zone, local in rows:
        tz = zones.setdefault(zone, ZoneInfo(zone))
        hour, minute = map(int, local.split(":"))
        app.job_queue.run_daily(
            send_tip,
            time(hour, minute, tzinfo=tz),
            chat_id=chat_id,
            user_id=user_id,
            name=f"tip:{user_id}",
        )
    added = clock.perf_counter() - started
    # The scheduler computes each pending job's next run when it starts (as at a restart).
    # (No app.initialize(): it would call getMe; nothing here talks to a network.)
    await app.job_queue.start()
    rebuilt = clock.perf_counter() - started
    gc.collect()
    rss_after = rss_bytes()
    count = len(app.job_queue.scheduler.get_jobs())
    await app.job_queue.stop(wait=False)
    return {
        "jobs": count,
        "add_s": round(added, 3),
        "rebuild_s": round(rebuilt, 3),
        "rss_before_bytes": rss_before,
        "rss_after_bytes": rss_after,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--jobs", type=int, default=100_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(rebuild(args.db, args.jobs))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
