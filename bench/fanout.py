"""100 000 tips due in the same minute, sent by `python -m bot` to a Bot API that enforces limits.

    python -m bench.fanout            # 100 000 due, 2 minutes at each latency (about 7 minutes)
    python -m bench.fanout --quick    # 20 000 due, 45 s at each latency

The same run is made at 50, 200 and 500 ms per API call (`--latencies`): real Telegram round
trips from a cheap host are 100-500 ms, and the bot must hold its rate at each (the number of
sends under way follows rate x latency: `bot.delivery.sender.workers_for`). The top-level keys
are those of the worst latency (the lowest sustained rate); `by_latency` holds each one's.

The local fake Bot API (`bench/fakeapi.py`) answers 429 with retry_after when more than 30
messages arrive within one second, and 403 for 1 % of the chats (blocked users). While the
bot drains the queue, a simulated user sends `/food almonds` every 2 s (each from a new
account) and the time until the reply arrives is measured. Not all 100 000 need to drain:
the figures are taken from the steady state (after the first `--warmup` seconds).

The baseline is Telegram's limit itself: the ratio of the sustained rate to 30 msg/s.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from bench import datagen
from bench.common import (
    TOKEN,
    BotProcess,
    bot_env,
    check_log,
    finish,
    max_in_window,
    percentile,
    say,
    table,
    workdir,
)
from bench.fakeapi import BenchApi, Call

USER_BASE = 900_000_000  # the simulated users asking /food; never subscribers
LIMIT = 30


def run(args: argparse.Namespace, latency: float) -> dict[str, Any]:
    with workdir(keep=args.keep) as tmp:
        db = tmp / "fanout.sqlite3"
        # Due one minute ago (well inside the 2 h budget), so the first tick claims them all.
        due = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
        datagen.create(db, datagen.Plan(args.deliveries, due, all_due_at=due))
        chats = [datagen.USER_ID_BASE + i for i in range(args.deliveries)]
        blocked = frozenset(chats[:: int(1 / args.blocked_share)] if args.blocked_share else [])
        replies: dict[int, float] = {}  # simulated user -> reply arrival

        def on_call(call: Call) -> None:
            if call.chat_id >= USER_BASE and call.chat_id not in replies:
                replies[call.chat_id] = call.at

        with BenchApi(TOKEN, limit=LIMIT, blocked=blocked, latency=latency) as api:
            api.on_call = on_call
            bot = BotProcess(bot_env(api.base_url, db), tmp / "bot.log")
            try:
                polled = api.wait_polling(timeout=120)
                if polled is None:
                    raise SystemExit(f"the bot did not start:\n{bot.log()[-3000:]}")
                say(f"bot polling after {polled - bot.started:.1f} s; draining")
                asked = ask_food(api, args.duration)
                stopped_at = time.monotonic()
            finally:
                code = bot.stop()
            calls = api.snapshot()
            log = bot.log()
        rows = statuses(db)
    problems = check_log(log)
    if code != 0:
        problems.append(f"the bot exited with code {code}")
    return report(args, latency, calls, asked, replies, stopped_at, rows, problems)


def ask_food(
    api: Asker,
    duration: float,
    *,
    every: float = 2.0,
    done: Callable[[], bool] | None = None,
    tail: float = 3.0,
) -> dict[int, float]:
    """Send `/food almonds` every `every` s from a new user until `duration` has passed (or
    `done()` says so); then wait `tail` s for the last replies. Return user -> time asked."""
    asked: dict[int, float] = {}
    started = time.monotonic()
    n = 0
    stop = threading.Event()
    while time.monotonic() - started < duration:
        if done is not None and done():
            break
        user = USER_BASE + n
        asked[user] = time.monotonic()
        api.push_message("/food almonds", user_id=user)
        n += 1
        stop.wait(max(0.0, started + every * n - time.monotonic()))
    stop.wait(tail)  # the last replies
    return asked


class Asker(Protocol):
    """A fake Bot API a simulated user can write to."""

    def push_message(self, text: str, *, user_id: int) -> object:
        """Queue a private message from `user_id` for getUpdates."""
        ...


def statuses(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        return dict(con.execute("SELECT status, count(*) FROM deliveries GROUP BY status"))
    finally:
        con.close()


def report(
    args: argparse.Namespace,
    latency: float,
    calls: list[Call],
    asked: dict[int, float],
    replies: dict[int, float],
    stopped_at: float,
    rows: dict[str, int],
    problems: list[str],
) -> dict[str, Any]:
    arrivals = [c.at for c in calls]
    if not arrivals:
        raise SystemExit("the bot sent nothing")
    first = arrivals[0]
    steady_from = first + args.warmup
    # Every message call counts against Telegram's limit; 429s are refused, not delivered.
    # The cadence: messages after the first one in the window, over the time they took.
    accepted = [c.at for c in calls if c.status != 429 and steady_from <= c.at <= stopped_at]
    span = max(1e-9, accepted[-1] - accepted[0]) if len(accepted) > 1 else float("nan")
    sustained = (len(accepted) - 1) / span
    latencies = [replies[u] - t for u, t in asked.items() if u in replies]
    unanswered = sum(1 for u in asked if u not in replies)
    tips = [c for c in calls if c.chat_id < USER_BASE]
    result = {
        "bench": "fanout",
        "deliveries": args.deliveries,
        "sustained_msgs_per_s": round(sustained, 4),
        "rate_resolution_msgs_per_s": round(1 / span, 4),  # one message more or less
        "ratio_to_limit": round(sustained / LIMIT, 3),
        "max_in_1s_window": max_in_window(arrivals, 1.0),
        "http_429": sum(1 for c in calls if c.status == 429),
        "reply_p50_s": round(percentile(latencies, 50), 3),
        "reply_p99_s": round(percentile(latencies, 99), 3),
        "replies": len(latencies),
        "unanswered": unanswered,
        "delivered": sum(1 for c in tips if c.status == 200),
        "blocked_403": sum(1 for c in tips if c.status == 403),
        "drain_s": round(stopped_at - first, 1),
        "steady_window_s": round(span, 1),
        "api_latency_s": latency,
        "row_statuses": rows,
        "problems": problems,
    }
    print(
        table(
            f"Fan-out: {args.deliveries:,} tips due at once, fake Bot API limited to {LIMIT}/s"
            f" ({latency * 1000:g} ms per call), steady state after {args.warmup:g} s",
            ["figure", "value", "target"],
            [
                ["sustained msgs/s", f"{sustained:.4f} ± {1 / span:.4f}", ">= 28"],
                ["ratio to 30/s", result["ratio_to_limit"], ">= 0.933"],
                ["max messages in any 1 s", result["max_in_1s_window"], "<= 30"],
                ["HTTP 429 answers", result["http_429"], "0"],
                ["/food reply p50 (s)", result["reply_p50_s"], ""],
                ["/food reply p99 (s)", result["reply_p99_s"], "<= 1"],
                ["/food asked / unanswered", f"{len(asked)} / {unanswered}", "0 unanswered"],
                ["tips delivered / 403", f"{result['delivered']} / {result['blocked_403']}", ""],
            ],
        )
    )
    print(f"deliveries rows by status when stopped: {rows}")
    checks = {
        # Counting can be off by one message over the window: that is the resolution.
        ">= 28 msg/s sustained": sustained >= 28 - 1 / span,
        "never > 30 in a 1-s window": result["max_in_1s_window"] <= LIMIT,
        "0 x 429": result["http_429"] == 0,
        "reply p99 <= 1 s": result["reply_p99_s"] <= 1 and not unanswered,
    }
    result["targets"] = checks
    print()
    for name, ok in checks.items():
        print(f"target {name} at {latency * 1000:g} ms: {'met' if ok else 'MISSED'}")
    for problem in problems:
        print(f"problem: {problem}")
    return result


def combine(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The worst latency's figures at the top, every latency's under `by_latency`."""
    worst = min(results, key=lambda r: r["sustained_msgs_per_s"])
    combined = {key: value for key, value in worst.items() if key != "targets"}
    combined["worst_latency_s"] = worst["api_latency_s"]
    combined["by_latency"] = {
        f"{r['api_latency_s'] * 1000:g}ms": {
            key: r[key]
            for key in (
                "sustained_msgs_per_s",
                "rate_resolution_msgs_per_s",
                "max_in_1s_window",
                "http_429",
                "reply_p50_s",
                "reply_p99_s",
                "unanswered",
                "delivered",
            )
        }
        for r in results
    }
    missed = [
        f"{name} at {r['api_latency_s'] * 1000:g} ms"
        for r in results
        for name, ok in r["targets"].items()
        if not ok
    ]
    combined["targets_missed"] = missed
    print(
        table(
            "Fan-out by API latency",
            ["latency", "msgs/s", "max in 1 s", "429", "reply p99 (s)", "targets"],
            [
                [
                    f"{r['api_latency_s'] * 1000:g} ms",
                    f"{r['sustained_msgs_per_s']:.3f}",
                    r["max_in_1s_window"],
                    r["http_429"],
                    r["reply_p99_s"],
                    "met" if all(r["targets"].values()) else "MISSED",
                ]
                for r in results
            ],
        )
    )
    return combined


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 000 due, 45 s per latency")
    parser.add_argument("--deliveries", type=int)
    parser.add_argument("--duration", type=float, help="seconds of drain at each latency")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before steady state")
    parser.add_argument(
        "--latencies",
        default="0.05,0.2,0.5",
        help="seconds per API call, comma-separated (one run each)",
    )
    parser.add_argument("--blocked-share", type=float, default=0.01)
    parser.add_argument("--keep", action="store_true", help="keep the database and the log")
    args = parser.parse_args()
    args.deliveries = args.deliveries or (20_000 if args.quick else 100_000)
    args.duration = args.duration or (45.0 if args.quick else 120.0)
    latencies = [float(value) for value in args.latencies.split(",") if value.strip()]
    results = []
    for latency in latencies:
        say(f"-- {latency * 1000:g} ms per API call")
        results.append(run(args, latency))
    finish(combine(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
