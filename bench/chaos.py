"""Crash the bot with SIGKILL in the middle of a fan-out, restart it, count what arrived.

    python -m bench.chaos          # 5 SQLite runs x 10 000 due, 2 PostgreSQL x 4 000 (~12 min)
    python -m bench.chaos --quick  # 5 SQLite runs x 1 000, 2 PostgreSQL x 600, 30 s lease (~3 min)

SQLite runs: a fresh database where N/2 users each have a daily tip and a reminder due now
(N deliveries), a local fake Bot API (30 msg/s limit, 50 ms per call), and `python -m bot`.
When the server has received the run's share of the messages (a different kill point per
run), the server kills the bot with SIGKILL while that message's HTTP answer is still
pending, so rows are caught `claimed` and `sending`. The bot is started again and runs until
every due item has a deliveries row in a final state.

PostgreSQL runs: the same kind of fan-out on a database of their own, two `python -m bot`
workers in webhook mode (as in `bench/workers.py`), one of them the delivery leader by the
advisory lock, a fake Bot API answering in 200 ms. At the run's kill point the server
SIGKILLs the leader while a message of it is in flight. The other worker wins the lock and
takes over every open row; after its 10th message the server answers 429 with a
`retry_after` longer than the delivery lease, and 429 again to any message that arrives
during the pause, as Telegram does. During the pause the killed worker is started again (as a
process manager would). The survivor must keep its rows through the pause (their lease stamps
renewed, sampled every 2 s), send nothing into it, and finish the fan-out. The second run
also SIGKILLs the survivor half-way through the pause: the restarted worker must take over,
keep the stored pause and finish. The lease is the shipped one (`RECOVERY_LEASE`, 5 min, so
the pause is 6 min); `--quick` runs the workers through `bench/short_lease.py`, which scales
the lease, its renewal and the recovery interval down by the same factor (30 s, pause 45 s).

Then the server's record is counted per delivery:

* duplicate tips: a user's tip received more than once (tips are at most once: must be 0);
* lost reminders: a reminder never received (reminders are at least once: must be 0);
* unfinished rows: deliveries rows not in a final state, or due items never claimed;
* tips closed `unknown` (the process died while they were `sending`), split into those the
  server accepted (`unknown_sent`: the user has the tip) and those it never accepted
  (`unknown_never_sent`: the user has no tip). Of these, the server had answered 429 and the
  bot was waiting to send it again (`unknown_never_sent_429`), or the row was marked
  `sending` but held by the pause before its request left (`unknown_never_sent_waiting`):
  both could have been known to be unsent; the rest were marked `sending` just before the
  kill and their request had not reached the server yet.

A reminder received twice is allowed (the send was under way when the bot died) and counted.
At Telegram's 30 msg/s one run of 10 000 takes about 6 minutes, so the runs go in parallel,
each with its own bot token, server and database (`--parallel 1` runs the SQLite ones one by
one); a PostgreSQL run adds its pause (6 min) and two takeovers to its sending time. On a
busy 2-core machine everything is slower (all runs share the cores): the counts hold, the
wall time does not.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import math
import os
import random
import shutil
import sqlite3
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from bench import datagen, short_lease
from bench.common import RESULTS, BotProcess, bot_env, check_log, finish, say, table, workdir
from bench.fakeapi import BenchApi, Call
from bench.workers import (
    Monitor,
    Worker,
    create_database,
    drop_database,
    free_ports,
    query,
    start_postgres,
    wait_ready,
)
from bench.workers import _load as load_pg
from bench.workers import finished as pg_finished
from bot.db.models import Delivery, Reminder, TipSubscription
from bot.db.session import upgrade_to_head_sync
from bot.delivery.dispatcher import RECOVERY_LEASE
from bot.delivery.messages import REM_TAKEN, TIP_NEXT
from harness.bot_process import bot_env as shared_bot_env

FINAL = ("sent", "blocked", "failed", "expired", "unknown")
KILL_POINTS = (0.03, 0.25, 0.5, 0.75, 0.97)  # share of the messages received before the kill
# (share of the messages received before the leader is killed, kill the next one in the pause)
# Reminders go first: past 0.5 the tips are being sent.
PG_PLANS = ((0.7, False), (0.6, True), (0.3, False), (0.9, True))
LEADING = "This process is the delivery leader"  # bot/delivery/leader.py logs it
PG_LATENCY = 0.2  # s per message call in the PostgreSQL runs (as bench/workers.py)
PAUSE_AFTER = 10  # messages the new leader sends before the long 429
IN_FLIGHT_MARGIN = 0.3  # s: a request sent just before the bot read the 429 arrives within
STRAGGLER = 0.5  # s: requests the killed leader had written reach the server within this
QUICK_LEASE = 30.0  # s, the --quick lease (the shipped one takes 6 minutes of pause)
SECRET = "bench-chaos-secret"
PUBLIC_URL = "http://127.0.0.1/telegram"
STAMP_AGE = text(
    "SELECT coalesce(max(extract(epoch FROM now() - claimed_at)), 0) FROM deliveries"
    " WHERE status IN ('claimed', 'sending')"
)


@dataclass
class RunResult:
    run: int
    kill_after: int
    db: str = "sqlite"
    at_kill: dict[str, int] = field(default_factory=dict)
    tips_received: int = 0
    duplicate_tips: int = 0
    lost_tips: int = 0  # never received and not closed as unknown / blocked
    unknown_tips: int = 0
    unknown_sent: int = 0  # closed unknown, but the server accepted the tip
    unknown_never_sent: int = 0  # closed unknown, and the server never accepted it
    unknown_never_sent_429: int = 0  # ... of which the server saw the request but answered 429
    unknown_never_sent_waiting: int = 0  # ... no request, caught `sending` by a kill in a pause
    reminders_received: int = 0
    duplicate_reminders: int = 0
    lost_reminders: int = 0
    unfinished_rows: int = 0
    http_429: int = 0
    flood_at: list[float] = field(default_factory=list)  # seconds after the restart
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    pg: PgFigures | None = None


@dataclass
class PgFigures:
    """What only the PostgreSQL runs measure."""

    lease_s: float
    pause_s: int  # the retry_after the server ordered
    takeover_s: float | None = None  # kill -> first message from the new leader
    pause_observed_s: float | None = None  # the ordered 429 -> the next accepted message
    max_stamp_age_s: float | None = None  # oldest lease stamp of an open row, after the kill
    max_stamp_age_in_pause_s: float | None = None  # ... in the pause, while the survivor leads
    during_pause_429: int = 0  # messages that arrived during the pause (answered 429)
    ignored_pause: int = 0  # ... of which sent after the bot had the 429 (not in flight)
    most_leaders_at_once: int = 0
    restarted_worker_led: bool = False
    kill_in_pause: bool = False  # the new leader killed too, half-way through the pause
    at_second_kill: dict[str, int] | None = None
    sending_at_second_kill: list[int] = field(default_factory=list)  # delivery ids


# -- SQLite ------------------------------------------------------------------------------------


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
        if not killed.wait(timeout=deliveries / 8 + 120):
            result.problems.append("the kill point was never reached")
            holder["bot"].kill()
        result.at_kill = statuses(db)
        logs = [holder["bot"].log()]
        api.reopen()
        second = BotProcess(env, tmp / f"bot-{run}-second.log")
        try:
            deadline = time.monotonic() + deliveries / 8 + 180
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
    con = sqlite3.connect(db, timeout=30)
    try:
        rows = con.execute("SELECT id, kind, item_id, chat_id, status FROM deliveries").fetchall()
        due_items = con.execute(
            "SELECT 'tip', id FROM tip_subscriptions"
            " UNION ALL SELECT 'reminder', id FROM reminders"
        ).fetchall()
    finally:
        con.close()
    count(result, calls, rows, due_items)
    for log in logs:
        result.problems += token_problems(log, token)
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


def token_problems(log: str, token: str) -> list[str]:
    """The token in a log (a traceback in a log cut off by SIGKILL is not a finding)."""
    problems = [p for p in check_log(log.replace(token, "<token>")) if "token" in p]
    if token in log or token.split(":")[1] in log:
        problems.append("the token appears in the bot's log")
    return problems


# -- counting ----------------------------------------------------------------------------------


def count(
    result: RunResult,
    calls: list[Call],
    rows: Sequence[Sequence[Any]],
    due_items: Sequence[Sequence[Any]],
    waiting: frozenset[int] = frozenset(),
) -> None:
    """Count, per delivery, how often the server received it (HTTP 200).

    `rows`: (id, kind, item_id, chat_id, status) of every deliveries row; `due_items`:
    (kind, id) of every tip subscription and reminder (each was due once); `waiting`: ids of
    rows caught `sending` by a kill while a 429 pause held every send.
    """
    tips: collections.Counter[int] = collections.Counter()  # chat -> tips received
    tips_refused: set[int] = set()  # chats whose tip request arrived and was answered 429
    reminders: collections.Counter[int] = collections.Counter()  # delivery id -> received
    for call in calls:
        result.http_429 += call.status == 429
        if call.method != "sendMessage":
            continue
        taken = [d for d in call.callback_data if d.startswith(REM_TAKEN)]
        is_tip = not taken and TIP_NEXT in call.callback_data
        if call.status == 429 and is_tip:
            tips_refused.add(call.chat_id)
        if call.status != 200:
            continue
        if taken:
            reminders[int(taken[0].removeprefix(REM_TAKEN))] += 1
        elif is_tip:
            tips[call.chat_id] += 1
    claimed_items = {(str(kind), item) for _, kind, item, _, _ in rows}
    due = [(str(kind), item) for kind, item in due_items]
    result.unfinished_rows = sum(1 for *_, status in rows if status not in FINAL)
    result.unfinished_rows += sum(1 for item in due if item not in claimed_items)
    result.tips_received = sum(tips.values())
    result.duplicate_tips = sum(n - 1 for n in tips.values() if n > 1)
    result.reminders_received = sum(reminders.values())
    result.duplicate_reminders = sum(n - 1 for n in reminders.values() if n > 1)
    for row_id, kind, _item, chat_id, status in rows:
        if kind == "tip":
            if status == "unknown":
                result.unknown_tips += 1
                if tips[chat_id]:
                    result.unknown_sent += 1
                else:
                    result.unknown_never_sent += 1
                    if chat_id in tips_refused:
                        result.unknown_never_sent_429 += 1
                    else:
                        result.unknown_never_sent_waiting += row_id in waiting
            if not tips[chat_id] and status not in ("unknown", "blocked", "expired"):
                result.lost_tips += 1
        elif kind == "reminder" and not reminders[row_id]:
            result.lost_reminders += 1
    result.lost_reminders += sum(
        1 for kind, item in due if kind == "reminder" and (kind, item) not in claimed_items
    )


# -- PostgreSQL --------------------------------------------------------------------------------


def prepare_pg(run: int, base_url: str, deliveries: int) -> str:
    """Create, migrate and fill the run's database (in the main thread); return its URL."""
    url = create_database(base_url, f"magbot_bench_chaos_{os.getpid()}_{run}")
    upgrade_to_head_sync(url)
    due = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    asyncio.run(load_pg(url, deliveries // 2, due))
    return url


def sending_ids(url: str) -> list[int]:
    return sorted(
        i for (i,) in query(url, select(Delivery.id).where(Delivery.status == "sending"))
    )


def pg_statuses(url: str) -> dict[str, int]:
    rows = query(url, text("SELECT status, count(*) FROM deliveries GROUP BY status"))
    return {str(status): int(n) for status, n in rows}


def stamp_age(url: str) -> float:
    """Seconds since the oldest lease stamp of an open row (database time)."""
    [(age,)] = query(url, STAMP_AGE)
    return float(age or 0)


def pause_for(lease_s: float) -> int:
    """The retry_after of the long 429: longer than the lease by a fifth, at least 15 s."""
    return math.ceil(lease_s + max(15.0, lease_s / 5))


def pg_run_once(
    run: int,
    url: str,
    tmp: Path,
    deliveries: int,
    plan: tuple[float, bool],
    seed: int,
    lease_s: float,
) -> RunResult:
    """Two workers; the leader killed at the plan's share, a long 429 for the next one (and,
    if the plan says so, that one killed too half-way through the pause)."""
    kill_share, kill_in_pause = plan
    rng = random.Random(seed)
    kill_after = max(1, int(deliveries * kill_share) + rng.randint(-20, 20))
    pause_s = pause_for(lease_s)
    result = RunResult(run, kill_after, db="postgresql")
    figures = result.pg = PgFigures(lease_s=lease_s, pause_s=pause_s, kill_in_pause=kill_in_pause)
    token = f"{710000 + run}:CHAOS-pg-secret-{seed}"
    started = time.monotonic()
    leader: dict[str, Worker] = {}
    sent = {"all": 0, "after": 0}
    times: dict[str, float] = {}  # killed, first_after, pause (the ordered 429), resumed
    killed, paused = threading.Event(), threading.Event()
    api = BenchApi(token, latency=PG_LATENCY, seed=seed, enforce_pauses=True)

    def on_call(call: Call) -> None:  # the server thread, before the bot gets its answer
        if call.status == 200:
            sent["all"] += 1
            if not killed.is_set():
                if sent["all"] >= kill_after and "worker" in leader:
                    leader["worker"].process.kill()  # this message's answer is still pending
                    times["killed"] = time.monotonic()
                    killed.set()
            elif call.at > times["killed"] + STRAGGLER:
                times.setdefault("first_after", call.at)
                sent["after"] += 1
                if sent["after"] == PAUSE_AFTER:
                    api.order_pause(pause_s)  # the next message gets 429, retry_after pause_s
                if "pause" in times:
                    times.setdefault("resumed", call.at)
        elif call.status == 429 and call.retry_after == pause_s and "pause" not in times:
            times["pause"] = call.at
            paused.set()
        elif call.status == 429 and "pause" in times and "resumed" not in times:
            figures.during_pause_429 += 1
            # Sent before the first 429's answer reached the bot, they were in flight already.
            figures.ignored_pause += call.at > times["pause"] + PG_LATENCY + IN_FLIGHT_MARGIN

    api.on_call = on_call
    processes: list[tuple[str, BotProcess, bool]] = []  # (name, process, killed on purpose)
    with api:
        ports = free_ports(2)
        extra = {"BENCH_LEASE_S": f"{lease_s:g}"}
        module = "bot" if lease_s == RECOVERY_LEASE.total_seconds() else "bench.short_lease"

        def start(index: int, suffix: str = "") -> BotProcess:
            env = shared_bot_env(
                api.base_url,
                url,
                token,
                WEBHOOK_URL=PUBLIC_URL,
                WEBHOOK_SECRET=SECRET,
                LISTEN="127.0.0.1",
                PORT=str(ports[index]),
                **extra,
            )
            process = BotProcess(env, tmp / f"pg-{run}-worker-{index}{suffix}.log", module=module)
            processes.append((f"worker {index}{suffix}", process, False))
            return process

        def killed_on_purpose(process: BotProcess) -> None:
            for n, (name, known, _) in enumerate(processes):
                if known is process:
                    processes[n] = (name, known, True)

        workers = [Worker(i, ports[i], start(i)) for i in range(2)]
        monitor = Monitor(workers)
        watcher = threading.Thread(target=monitor.run, daemon=True)
        restarted: Worker | None = None
        try:
            wait_ready(api, workers, 2, timeout=120)
            watcher.start()
            deadline = time.monotonic() + 60
            while "worker" not in leader and time.monotonic() < deadline:
                for worker in workers:
                    if (worker.health() or {}).get("delivery_leader"):
                        leader["worker"] = worker
                        break
                time.sleep(0.2)
            if "worker" not in leader:
                result.problems.append("no worker became the delivery leader")
            elif not killed.wait(timeout=deliveries / 8 + 120):
                result.problems.append("the kill point was never reached")
            if killed.is_set():
                dead = leader["worker"]
                killed_on_purpose(dead.process)
                survivor = workers[1 - dead.index]
                result.at_kill = pg_statuses(url)
                say(f"pg run {run}: killed worker {dead.index}, the leader, after {kill_after}")
                ages: list[float] = []  # after the kills, rows wait for the next leader
                in_pause: list[float] = []
                survivor_killed = False
                finish_by = time.monotonic() + pause_s + deliveries / 8 + 240
                while time.monotonic() < finish_by and not pg_finished(url, deliveries):
                    if paused.is_set() and restarted is None:  # a process manager restarts it
                        dead.process = start(dead.index, "-restarted")
                        restarted = dead
                    if (
                        kill_in_pause
                        and restarted is not None
                        and figures.at_second_kill is None
                        and time.monotonic() >= times["pause"] + pause_s / 2
                        and restarted.health()
                    ):
                        if not (survivor.health() or {}).get("delivery_leader"):
                            result.problems.append("the survivor did not lead in the pause")
                        survivor.process.kill()
                        survivor_killed = True
                        killed_on_purpose(survivor.process)
                        figures.at_second_kill = pg_statuses(url)
                        figures.sending_at_second_kill = sending_ids(url)
                        say(f"pg run {run}: killed worker {survivor.index} in the pause")
                    ages.append(stamp_age(url))
                    if "pause" in times and "resumed" not in times and not survivor_killed:
                        in_pause.append(ages[-1])  # every open row is the survivor's
                    time.sleep(2)
                if time.monotonic() >= finish_by:
                    result.problems.append("the deliveries did not finish in time")
                figures.max_stamp_age_s = round(max(ages, default=0.0), 1)
                figures.max_stamp_age_in_pause_s = round(max(in_pause, default=0.0), 1)
            time.sleep(1)  # anything still on the wire
        finally:
            monitor.stop.set()
            if watcher.is_alive():
                watcher.join(timeout=10)
            codes = {w.index: w.process.stop() for w in workers if w.process.alive()}
        calls = api.snapshot()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for log_file in tmp.glob(f"pg-{run}-worker-*.log"):  # kept for a closer look
        shutil.copyfile(log_file, RESULTS / f"chaos-{log_file.name}")
    for index, code in codes.items():
        if code != 0:
            result.problems.append(f"worker {index} exited with code {code}")
    for name, process, on_purpose in processes:
        log = process.log()
        result.problems += [f"{name}: {p}" for p in token_problems(log, token)]
        if not on_purpose and "Traceback" in log:
            result.problems.append(f"{name}: the bot logged a traceback")
        if module != "bot" and short_lease.MARK not in log:
            result.problems.append(f"{name}: ran without the shortened lease")
    if restarted is not None:
        figures.restarted_worker_led = LEADING in restarted.process.log()
    figures.most_leaders_at_once = monitor.most_at_once()
    if figures.most_leaders_at_once > 1:
        result.problems.append(f"{figures.most_leaders_at_once} workers led at the same time")
    if "killed" in times and "first_after" in times:
        figures.takeover_s = round(times["first_after"] - times["killed"], 2)
    if "pause" in times and "resumed" in times:
        figures.pause_observed_s = round(times["resumed"] - times["pause"], 1)
    if killed.is_set() and (figures.pause_observed_s or 0) <= lease_s:
        result.problems.append(
            f"the 429 pause ({figures.pause_observed_s} s observed) did not outlast"
            f" the {lease_s:g} s lease"
        )
    if figures.ignored_pause:
        result.problems.append(f"{figures.ignored_pause} messages were sent into the 429 pause")
    if (figures.max_stamp_age_in_pause_s or 0) >= lease_s:
        result.problems.append(
            f"a row the new leader held got a lease stamp {figures.max_stamp_age_in_pause_s} s"
            " old in the pause: past the lease"
        )
    if kill_in_pause and figures.at_second_kill is None and killed.is_set():
        result.problems.append("the new leader was never killed in the pause")
    result.seconds = round(time.monotonic() - started, 1)
    select_rows = select(
        Delivery.id, Delivery.kind, Delivery.item_id, Delivery.chat_id, Delivery.status
    )
    rows = [tuple(r) for r in query(url, select_rows)]
    due_items = [("tip", i) for (i,) in query(url, select(TipSubscription.id))]
    due_items += [("reminder", i) for (i,) in query(url, select(Reminder.id))]
    count(result, calls, rows, due_items, frozenset(figures.sending_at_second_kill))
    return result


# -- the benchmark -----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    shares = [KILL_POINTS[i % len(KILL_POINTS)] for i in range(args.runs)]
    pg_plans = [PG_PLANS[i % len(PG_PLANS)] for i in range(args.pg_runs)]
    base_url = ""
    pg_urls: list[str] = []
    pool = ThreadPoolExecutor(max_workers=args.parallel + args.pg_runs)
    with workdir(keep=args.keep) as tmp, pool:
        if args.keep:
            say(f"databases and logs in {tmp}")
        try:
            for old in RESULTS.glob("chaos-pg-*.log"):  # the logs of the last run only
                old.unlink()
            if args.pg_runs:
                say("starting PostgreSQL (.ci/postgres.sh)")
                base_url = start_postgres()
                for n in range(args.pg_runs):
                    pg_urls.append(prepare_pg(n + 1, base_url, args.pg_deliveries))
            say(
                f"{args.runs} SQLite runs x {args.deliveries:,} deliveries, {args.parallel} at a"
                f" time; {args.pg_runs} PostgreSQL run(s) x {args.pg_deliveries:,} with two"
                f" workers, lease {args.lease:g} s"
            )
            dbs = [prepare(n + 1, args.deliveries, tmp, args.seed + n) for n in range(args.runs)]
            pg_futures = [
                pool.submit(
                    pg_run_once,
                    n + 1,
                    url,
                    tmp,
                    args.pg_deliveries,
                    plan,
                    args.seed + 100 + n,
                    args.lease,
                )
                for n, (url, plan) in enumerate(zip(pg_urls, pg_plans, strict=True))
            ]
            futures = [
                pool.submit(run_once, n + 1, db, args.deliveries, share, args.seed + n)
                for n, (db, share) in enumerate(zip(dbs, shares, strict=True))
            ]
            results = [f.result() for f in futures]
            pg_results = [f.result() for f in pg_futures]
        finally:
            for url in pg_urls:
                drop_database(base_url, url)
    return report(args, results, pg_results)


def report(
    args: argparse.Namespace, results: list[RunResult], pg_results: list[RunResult]
) -> dict[str, Any]:
    everything = results + pg_results
    rows = [
        [
            f"{'pg' if r.db == 'postgresql' else 'sqlite'} {r.run}",
            r.kill_after,
            _fmt(r.at_kill),
            r.tips_received,
            r.duplicate_tips,
            r.unknown_tips,
            r.unknown_sent,
            r.unknown_never_sent,
            r.lost_tips,
            r.reminders_received,
            r.duplicate_reminders,
            r.lost_reminders,
            r.unfinished_rows,
            r.seconds,
        ]
        for r in everything
    ]
    print(
        table(
            f"Chaos: SIGKILL during a fan-out of {args.deliveries:,} deliveries"
            f" ({args.deliveries // 2:,} tips + {args.deliveries // 2:,} reminders), restart"
            + (
                f"; PostgreSQL: {args.pg_deliveries:,}, two workers, the leader killed"
                if pg_results
                else ""
            ),
            [
                "run",
                "killed after",
                "rows at kill",
                "tips rcvd",
                "dup tips",
                "unknown tips",
                "of which sent",
                "never sent",
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
    if pg_results:
        print()
        print(
            table(
                "PostgreSQL runs: the new leader meets a 429 pause longer than the lease",
                [
                    "run",
                    "lease s",
                    "retry_after s",
                    "pause seen s",
                    "takeover s",
                    "oldest stamp s",
                    "in pause",
                    "429 in pause",
                    "sent into it",
                    "leaders at once",
                    "killed in pause",
                    "restarted led",
                ],
                [
                    [
                        f"pg {r.run}",
                        f.lease_s,
                        f.pause_s,
                        _show(f.pause_observed_s),
                        _show(f.takeover_s),
                        _show(f.max_stamp_age_s),
                        _show(f.max_stamp_age_in_pause_s),
                        f.during_pause_429,
                        f.ignored_pause,
                        f.most_leaders_at_once,
                        _fmt(f.at_second_kill) if f.at_second_kill is not None else "-",
                        "yes" if f.restarted_worker_led else "no",
                    ]
                    for r in pg_results
                    if (f := r.pg) is not None
                ],
            )
        )
    totals = {
        "duplicate_tips": sum(r.duplicate_tips for r in everything),
        "lost_reminders": sum(r.lost_reminders for r in everything),
        "unfinished_rows": sum(r.unfinished_rows for r in everything),
    }
    verdict = "MISSED" if any(totals.values()) else "met"
    print(f"\ntargets (0 duplicate tips, 0 lost reminders, 0 unfinished rows): {verdict}")
    never = sum(r.unknown_never_sent for r in everything)
    refused = sum(r.unknown_never_sent_429 for r in everything)
    waited = sum(r.unknown_never_sent_waiting for r in everything)
    print(
        f"tips closed unknown: {sum(r.unknown_sent for r in everything)} had reached the user,"
        f" {never} had not: {refused} answered 429 and waiting to be sent again, {waited} marked"
        f" sending but held by the pause, {never - refused - waited} marked sending just"
        " before the kill, their request not yet at the server"
    )
    problems = [f"{r.db} run {r.run}: {p}" for r in everything for p in r.problems]
    for problem in problems:
        print(f"problem: {problem}")
    return {
        "bench": "chaos",
        "runs": len(results),
        "pg_runs": len(pg_results),
        **totals,
        "deliveries_per_run": args.deliveries,
        "pg_deliveries_per_run": args.pg_deliveries,
        "lost_tips": sum(r.lost_tips for r in everything),
        "unknown_tips": sum(r.unknown_tips for r in everything),
        "unknown_sent": sum(r.unknown_sent for r in everything),
        "unknown_never_sent": never,
        "unknown_never_sent_429": refused,
        "unknown_never_sent_waiting": waited,
        "duplicate_reminders": sum(r.duplicate_reminders for r in everything),
        "http_429": sum(r.http_429 for r in everything),
        "lease_s": args.lease,
        "per_run": [_per_run(r) for r in everything],
        "problems": problems,
    }


def _per_run(r: RunResult) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "db": r.db,
        "run": r.run,
        "kill_after": r.kill_after,
        "at_kill": r.at_kill,
        "duplicate_tips": r.duplicate_tips,
        "lost_reminders": r.lost_reminders,
        "unfinished_rows": r.unfinished_rows,
        "unknown_tips": r.unknown_tips,
        "unknown_sent": r.unknown_sent,
        "unknown_never_sent": r.unknown_never_sent,
        "unknown_never_sent_429": r.unknown_never_sent_429,
        "unknown_never_sent_waiting": r.unknown_never_sent_waiting,
        "duplicate_reminders": r.duplicate_reminders,
        "http_429": r.http_429,
        "seconds": r.seconds,
    }
    if r.pg is None:
        figures["429_at_s_after_restart"] = r.flood_at
    else:
        figures.update(vars(r.pg))
    return figures


def _fmt(counts: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(counts.items()) if k in ("claimed", "sending"))


def _show(value: Any) -> Any:
    return "n/a" if value is None else value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"1 000 deliveries per SQLite run, 600 per PostgreSQL run, a {QUICK_LEASE:g} s lease",
    )
    parser.add_argument("--deliveries", type=int, help="due deliveries per run (default 10 000)")
    parser.add_argument("--runs", type=int, default=5, help="SQLite runs (default 5)")
    parser.add_argument("--parallel", type=int, default=5, help="SQLite runs at the same time")
    parser.add_argument(
        "--pg-runs",
        type=int,
        default=2,
        help="PostgreSQL runs, two workers each (default 2: the second also kills the new leader"
        " in the pause)",
    )
    parser.add_argument(
        "--pg-deliveries",
        type=int,
        help="due deliveries per PostgreSQL run (default 4 000; --quick: 600)",
    )
    parser.add_argument(
        "--lease",
        type=float,
        help=f"delivery lease of the PostgreSQL workers in s (default: the shipped"
        f" {RECOVERY_LEASE.total_seconds():g}; --quick: {QUICK_LEASE:g}); the 429 pause is"
        f" longer by a fifth, at least 15 s (--quick: {pause_for(QUICK_LEASE)} s)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs")
    args = parser.parse_args()
    args.deliveries = args.deliveries or (1_000 if args.quick else 10_000)
    args.pg_deliveries = args.pg_deliveries or (600 if args.quick else 4_000)
    if args.lease is None:
        args.lease = QUICK_LEASE if args.quick else RECOVERY_LEASE.total_seconds()
    if args.lease <= 0:
        parser.error("--lease: a positive number of seconds")
    finish(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
