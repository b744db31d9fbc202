"""Crash the bot with SIGKILL in the middle of a fan-out, restart it, count what arrived.

    python -m bench.chaos            # 5 runs x 10 000 due deliveries, runs in parallel (~7 min)
    python -m bench.chaos --quick    # 5 runs x 1 000 due deliveries (~1.5 min)

Each run: a fresh database where N/2 users each have a daily tip and a reminder due now
(N deliveries), a local fake Bot API (30 msg/s limit, 50 ms per call), and `python -m bot`.
When the server has received the run's share of the messages (a different kill point per
run), the server kills the bot with SIGKILL while that message's HTTP answer is still
pending, so rows are caught `claimed` and `sending`. The bot is started again and runs until
every due item has a deliveries row in a final state; then the server's record is counted
per delivery:

* duplicate tips: a user's tip received more than once (tips are at most once: must be 0);
* lost reminders: a reminder never received (reminders are at least once: must be 0);
* unfinished rows: deliveries rows not in a final state, or due items never claimed.

A reminder received twice is allowed (the send was under way when the bot died) and counted.
At Telegram's 30 msg/s one run of 10 000 takes about 6 minutes, so the runs go in parallel,
each with its own bot token, server and database (`--parallel 1` runs them one by one).
"""

from __future__ import annotations

import argparse
import collections
import random
import sqlite3
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import datagen
from bench.common import BotProcess, bot_env, check_log, finish, say, table, workdir
from bench.fakeapi import BenchApi, Call

FINAL = ("sent", "blocked", "failed", "expired", "unknown")
KILL_POINTS = (0.03, 0.25, 0.5, 0.75, 0.97)  # share of the messages received before the kill


@dataclass
class RunResult:
    run: int
    kill_after: int
    at_kill: dict[str, int] = field(default_factory=dict)
    tips_received: int = 0
    duplicate_tips: int = 0
    lost_tips: int = 0  # never received and not closed as unknown / blocked
    unknown_tips: int = 0
    reminders_received: int = 0
    duplicate_reminders: int = 0
    lost_reminders: int = 0
    unfinished_rows: int = 0
    http_429: int = 0
    flood_at: list[float] = field(default_factory=list)  # seconds after the restart
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def prepare(run: int, deliveries: int, tmp: Path, seed: int) -> Path:
    """Create the run's database (in the main thread: alembic is not thread-safe)."""
    db = tmp / f"chaos-{run}.sqlite3"
    due = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    plan = datagen.Plan(deliveries // 2, due, all_due_at=due, reminders_share=1.0, seed=seed)
    datagen.create(db, plan, quiet=True)
    return db


def run_once(run: int, db: Path, deliveries: int, kill_share: float, seed: int) -> RunResult:
    users = deliveries // 2
    tmp = db.parent
    rng = random.Random(seed)
    kill_after = max(1, int(deliveries * kill_share) + rng.randint(-20, 20))
    result = RunResult(run, kill_after)
    token = f"{700000 + run}:CHAOS-secret-{seed}"
    started = time.monotonic()
    killed = threading.Event()
    holder: dict[str, BotProcess] = {}

    def on_call(call: Call) -> None:
        # Runs in the server thread before the bot gets its answer: the send is in flight.
        if not killed.is_set() and call.status == 200 and sent_count[0] + 1 >= kill_after:
            killed.set()
            holder["bot"].kill()
        if call.status == 200:
            sent_count[0] += 1

    sent_count = [0]
    with BenchApi(token, latency=0.05, seed=seed) as api:
        env = bot_env(api.base_url, db, TELEGRAM_BOT_TOKEN=token)
        holder["bot"] = BotProcess(env, tmp / f"bot-{run}-first.log")
        api.on_call = on_call
        if not killed.wait(timeout=deliveries / 20 + 120):
            result.problems.append("the kill point was never reached")
            holder["bot"].kill()
        result.at_kill = statuses(db)
        logs = [holder["bot"].log()]
        api.reopen()
        second = BotProcess(env, tmp / f"bot-{run}-second.log")
        try:
            deadline = time.monotonic() + deliveries / 20 + 180
            while time.monotonic() < deadline and not finished(db, users, deliveries):
                time.sleep(2)
            time.sleep(1)  # anything still on the wire
        finally:
            code = second.stop()
        logs.append(second.log())
        if code != 0:
            result.problems.append(f"the restarted bot exited with {code}")
        calls = api.snapshot()
    result.flood_at = [round(c.at - second.started, 2) for c in calls if c.status == 429]
    result.seconds = round(time.monotonic() - started, 1)
    count(result, db, calls, deliveries)
    for log in logs:
        result.problems += [p for p in check_log(log.replace(token, "<token>")) if "token" in p]
        if token in log or token.split(":")[1] in log:
            result.problems.append("the token appears in the bot's log")
    return result


def statuses(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db, timeout=30)
    try:
        return dict(con.execute("SELECT status, count(*) FROM deliveries GROUP BY status"))
    finally:
        con.close()


def finished(db: Path, users: int, deliveries: int) -> bool:
    """True when every due item has a deliveries row and no row is open."""
    con = sqlite3.connect(db, timeout=30)
    try:
        rows, open_rows = con.execute(
            "SELECT count(*), coalesce(sum(status NOT IN (?, ?, ?, ?, ?)), 0) FROM deliveries",
            FINAL,
        ).fetchone()
    finally:
        con.close()
    return bool(rows >= deliveries and open_rows == 0)


def count(result: RunResult, db: Path, calls: list[Call], deliveries: int) -> None:
    """Count, per delivery, how often the server received it (HTTP 200)."""
    tips: collections.Counter[int] = collections.Counter()
    reminders: collections.Counter[int] = collections.Counter()  # delivery id -> received
    for call in calls:
        result.http_429 += call.status == 429
        if call.status != 200 or call.method != "sendMessage":
            continue
        taken = [d for d in call.callback_data if d.startswith("rem:taken:")]
        if taken:
            reminders[int(taken[0].rsplit(":", 1)[1])] += 1
        elif any(d.startswith("tip:") for d in call.callback_data):
            tips[call.chat_id] += 1
    con = sqlite3.connect(db, timeout=30)
    try:
        rows = con.execute("SELECT id, kind, item_id, chat_id, status FROM deliveries").fetchall()
        claimed_items = {(kind, item) for _, kind, item, _, _ in rows}
        due_items = con.execute(
            "SELECT 'tip', id FROM tip_subscriptions"
            " UNION ALL SELECT 'reminder', id FROM reminders"
        ).fetchall()
    finally:
        con.close()
    result.unfinished_rows = sum(1 for *_, status in rows if status not in FINAL)
    result.unfinished_rows += sum(1 for item in due_items if tuple(item) not in claimed_items)
    result.tips_received = sum(tips.values())
    result.duplicate_tips = sum(n - 1 for n in tips.values() if n > 1)
    result.reminders_received = sum(reminders.values())
    result.duplicate_reminders = sum(n - 1 for n in reminders.values() if n > 1)
    for row_id, kind, _item, chat_id, status in rows:
        if kind == "tip":
            result.unknown_tips += status == "unknown"
            if not tips[chat_id] and status not in ("unknown", "blocked", "expired"):
                result.lost_tips += 1
        elif kind == "reminder" and not reminders[row_id]:
            result.lost_reminders += 1
    result.lost_reminders += sum(
        1 for kind, item in due_items if kind == "reminder" and (kind, item) not in claimed_items
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    shares = [KILL_POINTS[i % len(KILL_POINTS)] for i in range(args.runs)]
    with workdir() as tmp, ThreadPoolExecutor(max_workers=args.parallel) as pool:
        say(f"{args.runs} runs x {args.deliveries:,} deliveries, {args.parallel} at a time")
        dbs = [prepare(n + 1, args.deliveries, tmp, args.seed + n) for n in range(args.runs)]
        futures = [
            pool.submit(run_once, n + 1, db, args.deliveries, share, args.seed + n)
            for n, (db, share) in enumerate(zip(dbs, shares, strict=True))
        ]
        results = [f.result() for f in futures]
    rows = [
        [
            r.run,
            r.kill_after,
            _fmt(r.at_kill),
            r.tips_received,
            r.duplicate_tips,
            r.unknown_tips,
            r.lost_tips,
            r.reminders_received,
            r.duplicate_reminders,
            r.lost_reminders,
            r.unfinished_rows,
            r.seconds,
        ]
        for r in results
    ]
    print(
        table(
            f"Chaos: SIGKILL during a fan-out of {args.deliveries:,} deliveries"
            f" ({args.deliveries // 2:,} tips + {args.deliveries // 2:,} reminders), restart",
            [
                "run",
                "killed after",
                "rows at kill",
                "tips rcvd",
                "dup tips",
                "unknown tips",
                "lost tips",
                "rem rcvd",
                "dup rem (ok)",
                "lost rem",
                "unfinished",
                "s",
            ],
            rows,
        )
    )
    totals = {
        "duplicate_tips": sum(r.duplicate_tips for r in results),
        "lost_reminders": sum(r.lost_reminders for r in results),
        "unfinished_rows": sum(r.unfinished_rows for r in results),
    }
    verdict = "MISSED" if any(totals.values()) else "met"
    print(f"\ntargets (0 duplicate tips, 0 lost reminders, 0 unfinished rows): {verdict}")
    problems = [f"run {r.run}: {p}" for r in results for p in r.problems]
    for problem in problems:
        print(f"problem: {problem}")
    return {
        "bench": "chaos",
        "runs": len(results),
        **totals,
        "deliveries_per_run": args.deliveries,
        "lost_tips": sum(r.lost_tips for r in results),
        "unknown_tips": sum(r.unknown_tips for r in results),
        "duplicate_reminders": sum(r.duplicate_reminders for r in results),
        "http_429": sum(r.http_429 for r in results),
        "per_run": [
            {
                "run": r.run,
                "kill_after": r.kill_after,
                "at_kill": r.at_kill,
                "duplicate_tips": r.duplicate_tips,
                "lost_reminders": r.lost_reminders,
                "unfinished_rows": r.unfinished_rows,
                "unknown_tips": r.unknown_tips,
                "duplicate_reminders": r.duplicate_reminders,
                "http_429": r.http_429,
                "429_at_s_after_restart": r.flood_at,
                "seconds": r.seconds,
            }
            for r in results
        ],
        "problems": problems,
    }


def _fmt(counts: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(counts.items()) if k in ("claimed", "sending"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 000 deliveries per run")
    parser.add_argument("--deliveries", type=int, help="due deliveries per run (default 10 000)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--parallel", type=int, default=5, help="runs at the same time")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.deliveries = args.deliveries or (1_000 if args.quick else 10_000)
    finish(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
