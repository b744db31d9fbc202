"""Charts drawn while other people chat: render time beside everyone else's reply latency.

    python -m bench.chart            # 20 charts per configuration (about 1.5 minutes)
    python -m bench.chart --quick    # 10 charts
    python -m bench.chart --month    # /month (30 days) instead of /week

`python -m bot` runs against the local fake Bot API (`bench/fakeapi.py`, 30 messages per
second). Chart users each have 30 days of diary (three or four entries a day, all different, so
no chart comes from the cache) and a reminder answered every day. Meanwhile other users, a new
account each time, ask `/food almonds` every 0.1 s, and the time until each reply arrives is
measured.

Per configuration, in one bot process: a first chart (it starts the worker), then a baseline
(the /food traffic alone), then the burst (every chart user asks at the same moment, the
/food traffic goes on). Render time is what the bot logs for each chart ("Rendered a 7-day
chart in X s", measured around the drawing itself); chart reply time runs from /week sent
to the photo's arrival, so it includes the wait behind the other charts of the burst.

Configurations: CHART_WORKERS=1 (the default: one worker process draws), and CHART_WORKERS=0
(the drawing runs in a thread of the bot's own process), for contrast.
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.common import (
    TOKEN,
    BotProcess,
    bot_env,
    check_log,
    finish,
    percentile,
    say,
    table,
    workdir,
)
from bench.datagen import db_time
from bench.fakeapi import BenchApi, Call
from bot.db.session import upgrade_to_head_sync

CHART_USER_BASE = 700_000_000
FOOD_USER_BASE = 900_000_000
WARMUP_USER = 800_000_000
ZONE = "Europe/Berlin"
FOOD_EVERY = 0.1  # seconds between two /food questions
RENDERED = re.compile(r"Rendered a (\d+)-day chart in ([\d.]+) s")
TARGET_RENDER_P95 = 0.5
TARGET_REPLY_P99 = 1.0


# -- data ----------------------------------------------------------------------------------------


def seed(db: Path, users: int, days: int, rng: random.Random) -> None:
    """A migrated database with `users` chart users (plus the warm-up user), each with a
    profile, a zone, a paused reminder answered every day, and `days` days of diary."""
    upgrade_to_head_sync(f"sqlite+aiosqlite:///{db}")
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(ZONE)).date()
    con = sqlite3.connect(db)
    try:
        ids = [WARMUP_USER, *(CHART_USER_BASE + i for i in range(users))]
        con.executemany(
            "INSERT INTO users (id, chat_id, first_name, language, time_zone, age, sex,"
            " created_at) VALUES (?, ?, 'Bench', 'en', ?, 35, 'f', ?)",
            [(uid, uid, ZONE, db_time(now)) for uid in ids],
        )
        diary: list[tuple[Any, ...]] = []
        reminders: list[tuple[Any, ...]] = []
        doses: list[tuple[Any, ...]] = []
        delivery = 1
        for n, uid in enumerate(ids, start=1):
            reminders.append((n, uid, "magnesium glycinate 200 mg", "21:00", db_time(now)))
            for back in range(days):
                day = (today - timedelta(days=back)).isoformat()
                for _ in range(rng.randint(3, 4)):
                    food = rng.choice(("almonds", "spinach", "black_beans", "banana"))
                    mg = round(rng.uniform(20, 160), 1)
                    diary.append((uid, day, "food", mg, food, food, "", db_time(now)))
                if rng.random() < 0.6:
                    mg = rng.choice((100.0, 200.0, 400.0))
                    diary.append((uid, day, "supplement", mg, None, "", "", db_time(now)))
                status = "taken" if rng.random() < 0.8 else "skipped"
                doses.append((n, delivery, day, status, db_time(now)))
                delivery += 1
        con.executemany(
            "INSERT INTO reminders (id, user_id, label, local_time, active, next_due_utc,"
            " created_at) VALUES (?, ?, ?, ?, 0, NULL, ?)",
            reminders,
        )
        con.executemany(
            "INSERT INTO doses (reminder_id, delivery_id, local_date, status, at_utc)"
            " VALUES (?, ?, ?, ?, ?)",
            doses,
        )
        con.executemany(
            "INSERT INTO diary (user_id, local_date, kind, mg, food_id, label, amount,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            diary,
        )
        con.commit()
    finally:
        con.close()


# -- one bot process -------------------------------------------------------------------------


@dataclass
class Phase:
    """What one configuration measured."""

    name: str
    workers: int
    first_chart_s: float
    baseline: list[float]  # /food reply latencies without charts
    during: list[float]  # /food reply latencies while the charts were drawn
    chart_replies: list[float]  # /week sent -> photo arrived, per chart of the burst
    renders: list[float]  # seconds per drawing, from the bot's log (burst only)
    burst_s: float  # first /week sent -> last photo arrived
    problems: list[str]


class Traffic:
    """Simulated users: /food askers on a timer, chart users on demand; arrival times."""

    def __init__(self, api: BenchApi) -> None:
        self.api = api
        self.asked: dict[int, float] = {}
        self.answered: dict[int, float] = {}
        self.photos: dict[int, float] = {}
        self._next_food = FOOD_USER_BASE
        self._lock = threading.Lock()
        api.on_call = self.on_call

    def on_call(self, call: Call) -> None:
        with self._lock:
            if call.status != 200:
                return
            if call.method.lower() == "sendphoto":
                self.photos.setdefault(call.chat_id, call.at)
            elif call.chat_id >= FOOD_USER_BASE:
                self.answered.setdefault(call.chat_id, call.at)

    def ask_food(self, seconds: float, until: Any = None) -> list[int]:
        """Ask /food every FOOD_EVERY s for `seconds`, or until `until()` (at most 120 s)."""
        users = []
        started = time.monotonic()
        stop = threading.Event()
        n = 0
        while True:
            elapsed = time.monotonic() - started
            if until is None and elapsed >= seconds:
                break
            if until is not None and (until() or elapsed > 120):
                break
            user = self._next_food
            self._next_food += 1
            with self._lock:
                self.asked[user] = time.monotonic()
            self.api.push_message("/food almonds", user_id=user)
            users.append(user)
            n += 1
            stop.wait(max(0.0, started + FOOD_EVERY * n - time.monotonic()))
        return users

    def latencies(self, users: list[int], wait: float = 5.0) -> list[float]:
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(u not in self.answered for u in users):
            time.sleep(0.05)
        with self._lock:
            return [self.answered[u] - self.asked[u] for u in users if u in self.answered]


def run_phase(name: str, workers: int, db: Path, tmp: Path, args: argparse.Namespace) -> Phase:
    command = "/month" if args.month else "/week"
    with BenchApi(TOKEN, latency=args.latency) as api:
        traffic = Traffic(api)
        log_path = tmp / f"bot-{workers}.log"
        bot = BotProcess(bot_env(api.base_url, db, CHART_WORKERS=str(workers)), log_path)
        try:
            if api.wait_polling(timeout=120) is None:
                raise SystemExit(f"the bot did not start:\n{bot.log()[-3000:]}")
            say(f"{name}: bot polling; first chart (starts the worker)")
            sent = time.monotonic()
            api.push_message(command, user_id=WARMUP_USER)
            if api.wait_for(lambda: WARMUP_USER in traffic.photos, timeout=120) is None:
                raise SystemExit(f"no first chart:\n{bot.log()[-3000:]}")
            first = traffic.photos[WARMUP_USER] - sent
            renders_before = len(RENDERED.findall(bot.log()))

            say(f"{name}: baseline, /food alone for {args.baseline:g} s")
            baseline = traffic.latencies(traffic.ask_food(args.baseline))

            say(f"{name}: {args.charts} users ask {command} at once, /food goes on")
            chart_users = [CHART_USER_BASE + i for i in range(args.charts)]
            asked_at = {}
            for user in chart_users:
                asked_at[user] = time.monotonic()
                api.push_message(command, user_id=user)

            def all_photos() -> bool:
                return all(u in traffic.photos for u in chart_users)

            during_users = traffic.ask_food(0, until=all_photos)
            during = traffic.latencies(during_users)
            chart_replies = [traffic.photos[u] - asked_at[u] for u in chart_users]
            burst = max(traffic.photos[u] for u in chart_users) - min(asked_at.values())
        finally:
            code = bot.stop()
        log = bot.log()
    renders = [float(s) for _, s in RENDERED.findall(log)][renders_before:]
    problems = check_log(log)
    if code != 0:
        problems.append(f"the bot exited with code {code}")
    if len(renders) != args.charts:
        problems.append(f"{len(renders)} renders logged for {args.charts} charts")
    if not baseline or not during:
        problems.append("no /food replies measured")
    unanswered = len(during_users) - len(during)
    if unanswered:
        problems.append(f"{unanswered} /food questions during the burst got no reply")
    return Phase(name, workers, first, baseline, during, chart_replies, renders, burst, problems)


# -- report ----------------------------------------------------------------------------------


def figures(phase: Phase) -> dict[str, Any]:
    return {
        "workers": phase.workers,
        "first_chart_s": round(phase.first_chart_s, 3),
        "render_p50_s": round(percentile(phase.renders, 50), 3),
        "render_p95_s": round(percentile(phase.renders, 95), 3),
        "chart_reply_p50_s": round(percentile(phase.chart_replies, 50), 3),
        "chart_reply_p95_s": round(percentile(phase.chart_replies, 95), 3),
        "burst_s": round(phase.burst_s, 2),
        "baseline_reply_p50_s": round(percentile(phase.baseline, 50), 3),
        "baseline_reply_p99_s": round(percentile(phase.baseline, 99), 3),
        "reply_p50_s": round(percentile(phase.during, 50), 3),
        "reply_p99_s": round(percentile(phase.during, 99), 3),
        "reply_max_s": round(max(phase.during, default=float("nan")), 3),
        "replies_baseline": len(phase.baseline),
        "replies_during": len(phase.during),
        "problems": phase.problems,
    }


def report(args: argparse.Namespace, phases: list[Phase]) -> dict[str, Any]:
    days = 30 if args.month else 7
    rows = []
    for phase in phases:
        f = figures(phase)
        rows.append(
            [
                f"{phase.name}: /food alone (baseline)",
                "",
                "",
                "",
                f["baseline_reply_p50_s"],
                f["baseline_reply_p99_s"],
            ]
        )
        rows.append(
            [
                f"{phase.name}: {args.charts} charts at once",
                f["render_p50_s"],
                f["render_p95_s"],
                f["chart_reply_p95_s"],
                f["reply_p50_s"],
                f["reply_p99_s"],
            ]
        )
    print(
        table(
            f"{args.charts} {days}-day charts asked at once while other users ask /food every"
            f" {FOOD_EVERY:g} s (fake Bot API, {args.latency * 1000:g} ms per call); seconds",
            [
                "configuration",
                "render p50",
                "render p95",
                "chart reply p95",
                "others' reply p50",
                "others' reply p99",
            ],
            rows,
        )
    )
    print()
    for phase in phases:
        f = figures(phase)
        print(
            f"{phase.name}: first chart {f['first_chart_s']} s (starts the worker); the burst"
            f" took {f['burst_s']} s; chart reply p50 {f['chart_reply_p50_s']} s;"
            f" /food replies measured: {f['replies_baseline']} alone,"
            f" {f['replies_during']} during; slowest during: {f['reply_max_s']} s"
        )
    main = figures(phases[0])
    checks = {
        f"render p95 <= {TARGET_RENDER_P95} s": main["render_p95_s"] <= TARGET_RENDER_P95,
        f"other users' reply p99 <= {TARGET_REPLY_P99} s": main["reply_p99_s"] <= TARGET_REPLY_P99,
    }
    print()
    for name, ok in checks.items():
        print(f"target ({phases[0].name}) {name}: {'met' if ok else 'MISSED'}")
    for phase in phases:
        for problem in phase.problems:
            print(f"problem ({phase.name}): {problem}")
    return {
        "bench": "chart",
        "charts": args.charts,
        "days": days,
        "api_latency_s": args.latency,
        **{phase.name: figures(phase) for phase in phases},
        "targets_met": all(checks.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 charts, 4 s baseline")
    parser.add_argument("--charts", type=int, help="charts asked at once (default 20)")
    parser.add_argument("--baseline", type=float, help="seconds of /food alone (default 8)")
    parser.add_argument("--month", action="store_true", help="/month (30 days) charts")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per API call")
    parser.add_argument("--no-thread", action="store_true", help="skip the CHART_WORKERS=0 run")
    parser.add_argument("--keep", action="store_true", help="keep the database and the logs")
    args = parser.parse_args()
    args.charts = args.charts or (10 if args.quick else 20)
    args.baseline = args.baseline or (4.0 if args.quick else 8.0)
    rng = random.Random(12)
    phases = []
    with workdir(keep=args.keep) as tmp:
        configurations = [("worker process", 1)]
        if not args.no_thread:
            configurations.append(("thread", 0))
        for name, workers in configurations:
            db = tmp / f"chart-{workers}.sqlite3"
            seed(db, args.charts, 30, rng)
            phases.append(run_phase(name, workers, db, tmp, args))
        if args.keep:
            say(f"kept {tmp}")
    finish(report(args, phases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
