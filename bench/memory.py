"""Resident memory of the running bot with 0, 100 000 and 1 000 000 subscribers.

    python -m bench.memory            # 0 / 100 k / 1 M subscribers, about 2.5 minutes
    python -m bench.memory --quick    # 0 / 10 k / 100 k subscribers, per-job design at 10 k

Each size is a fresh SQLite database (due times spread over the day). `python -m bot` starts
against the local fake Bot API; once it polls and the dispatcher has ticked for `--settle`
seconds, its RSS (from /proc) is sampled `--samples` times, one second apart, and the median
is kept. Beside it, for contrast, the baseline design: PTB's one `run_daily` job per
subscriber (`bench/perjob.py`, its own process) at 100 000 jobs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import datagen
from bench.common import (
    ROOT,
    TOKEN,
    BotProcess,
    bot_env,
    check_log,
    finish,
    mb,
    say,
    table,
    workdir,
)
from bench.fakeapi import BenchApi


@contextmanager
def polling_bot(db: Path, log: Path) -> Iterator[tuple[BotProcess, float, list[str]]]:
    """Start the bot on `db` against a fresh fake API and wait for its first getUpdates.

    Yields the bot, the time.monotonic() of that first getUpdates, and a list which, once the
    block is left and the bot stopped, holds the problems in its log (and a non-zero exit).
    """
    problems: list[str] = []
    with BenchApi(TOKEN) as api:
        bot = BotProcess(bot_env(api.base_url, db), log)
        try:
            polled = api.wait_polling(timeout=120)
            if polled is None:
                raise SystemExit(f"the bot did not start:\n{bot.log()[-3000:]}")
            yield bot, polled, problems
        finally:
            code = bot.stop()
    problems += check_log(bot.log())
    if code != 0:
        problems.append(f"exit code {code}")


def bot_rss(db: Path, log: Path, settle: float, samples: int) -> tuple[int, list[str]]:
    """Start the bot on `db`, let it settle, return its median RSS and any log problems."""
    with polling_bot(db, log) as (bot, _, problems):
        time.sleep(settle)
        values = []
        for _ in range(samples):
            values.append(bot.rss())
            time.sleep(1)
        if not bot.alive():
            raise SystemExit(f"the bot died:\n{bot.log()[-3000:]}")
    return int(statistics.median(values)), problems


def per_job(db: Path, jobs: int) -> dict[str, Any]:
    """Run the per-job baseline in its own interpreter; return its JSON line."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.perjob", str(db), "--jobs", str(jobs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = (0, 10_000, 100_000) if args.quick else (0, 100_000, 1_000_000)
    jobs = 10_000 if args.quick else 100_000
    rss: dict[int, int] = {}
    problems: list[str] = []
    baseline: dict[str, Any] = {}
    with workdir() as tmp:
        for size in sizes:
            db = tmp / f"subscribers-{size}.sqlite3"
            datagen.create(db, datagen.Plan(size, datetime.now(UTC)))
            if size == jobs:
                say(f"per-job design: {jobs:,} run_daily jobs")
                baseline = per_job(db, jobs)
            say(f"bot with {size:,} subscribers")
            rss[size], found = bot_rss(db, tmp / f"bot-{size}.log", args.settle, args.samples)
            problems += [f"{size:,} subscribers: {p}" for p in found]
            db.unlink()
    small, large = sizes[1], sizes[2]
    delta = rss[large] - rss[0]
    job_rss = int(baseline["rss_after_bytes"])
    job_delta = job_rss - int(baseline["rss_before_bytes"])
    result: dict[str, Any] = {
        "bench": "memory",
        "rss_0_mb": mb(rss[0]),
        "rss_100k_mb": mb(rss[100_000]) if 100_000 in rss else None,
        "rss_1m_mb": mb(rss[1_000_000]) if 1_000_000 in rss else None,
        "delta_mb": mb(delta),
        "per_job_design_100k_mb": mb(job_rss) if jobs == 100_000 else None,
        "per_job_design_delta_mb": mb(job_delta),
        "per_job_jobs": jobs,
        "sizes": list(sizes),
        "rss_mb_by_size": {str(k): mb(v) for k, v in rss.items()},
        "problems": problems,
    }
    rows = [
        [f"{size:,} subscribers (bot, dispatcher running)", mb(v), mb(v - rss[0])]
        for size, v in rss.items()
    ]
    rows.append([f"{jobs:,} run_daily jobs (per-job design)", mb(job_rss), mb(job_delta)])
    print(table("Resident memory (MiB)", ["process", "RSS", "over empty"], rows))
    verdict = "met" if delta < 50 * 1024 * 1024 else "MISSED"
    print(f"\ntarget: RSS({large:,}) - RSS(0) under 50 MB: {mb(delta)} MB ({verdict})")
    if small == jobs:
        print(
            f"at {jobs:,}: the bot grows {mb(rss[small] - rss[0])} MB, the per-job design"
            f" {mb(job_delta)} MB"
        )
    for problem in problems:
        print(f"problem: {problem}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="0 / 10 k / 100 k subscribers")
    parser.add_argument("--settle", type=float, default=12.0, help="seconds after polling starts")
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    if args.quick:
        args.settle = min(args.settle, 6.0)
        args.samples = min(args.samples, 3)
    finish(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
