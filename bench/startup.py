"""Time from process start to the first getUpdates with a million subscribers.

    python -m bench.startup            # 1 000 000 subscribers, about 1.5 minutes
    python -m bench.startup --quick    # 100 000 subscribers, per-job design at 10 000 jobs

`python -m bot` is started `--runs` times against the local fake Bot API; the clock runs from
just before the process is spawned to the moment the server receives the first getUpdates
(interpreter start, imports, content, migrations check, start-up recovery, command menu).
The same is measured with an empty database, to show what the subscribers add. Beside it,
the per-job design (`bench/perjob.py`): the time to rebuild 100 000 `run_daily` jobs, which
that design pays at every start before it can serve anyone.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import datagen
from bench.common import finish, say, table, workdir
from bench.memory import per_job, polling_bot


def time_to_poll(db: Path, log: Path) -> tuple[float, list[str]]:
    """Start the bot; return seconds until its first getUpdates, and log problems."""
    with polling_bot(db, log) as (bot, polled, problems):
        elapsed = polled - bot.started
        time.sleep(1)  # let it finish its first tick before the stop
    return elapsed, problems


def run(args: argparse.Namespace) -> dict[str, Any]:
    size = 100_000 if args.quick else 1_000_000
    jobs = 10_000 if args.quick else 100_000
    problems: list[str] = []
    times: dict[int, list[float]] = {0: [], size: []}
    with workdir() as tmp:
        for n in times:
            db = tmp / f"subscribers-{n}.sqlite3"
            datagen.create(db, datagen.Plan(n, datetime.now(UTC)))
            if n == size:
                say(f"per-job design: rebuilding {jobs:,} run_daily jobs")
                baseline = per_job(db, jobs)
            for run_no in range(args.runs):
                elapsed, found = time_to_poll(db, tmp / f"bot-{n}-{run_no}.log")
                say(f"{n:,} subscribers, run {run_no + 1}: first getUpdates after {elapsed:.2f} s")
                times[n].append(elapsed)
                problems += [f"{n:,} subscribers: {p}" for p in found]
            db.unlink()
    startup = statistics.median(times[size])
    empty = statistics.median(times[0])
    rebuild = float(baseline["rebuild_s"])
    result: dict[str, Any] = {
        "bench": "startup",
        "startup_s": round(startup, 2),
        "per_job_rebuild_100k_s": round(rebuild, 2) if jobs == 100_000 else None,
        "ratio": round(startup / rebuild, 3),
        "subscribers": size,
        "startup_empty_s": round(empty, 2),
        "startup_runs_s": [round(t, 2) for t in times[size]],
        "per_job_jobs": jobs,
        "per_job_rebuild_s": round(rebuild, 2),
        "per_job_add_s": baseline["add_s"],
        "problems": problems,
    }
    print(
        table(
            f"Start-up: process start to first getUpdates (median of {args.runs} runs), seconds",
            ["design", "subscribers", "seconds"],
            [
                ["this bot (one dispatcher job)", 0, round(empty, 2)],
                ["this bot (one dispatcher job)", size, round(startup, 2)],
                [f"per-job design: rebuild {jobs:,} run_daily jobs only", jobs, rebuild],
            ],
        )
    )
    print(
        f"\nratio: start-up with {size:,} subscribers / per-job rebuild of {jobs:,} jobs ="
        f" {result['ratio']}; the subscribers add {startup - empty:+.2f} s to an empty start"
    )
    for problem in problems:
        print(f"problem: {problem}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 k subscribers, 10 k jobs")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    finish(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
