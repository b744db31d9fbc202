"""Start-up and recovery after 3 hours of downtime, with a million subscribers.

    python -m bench.startup            # 1 000 000 subscribers, 3 runs, about 6 minutes
    python -m bench.startup --quick    # 100 000 subscribers, 2 runs, per-job design at 10 000

The database holds the users, a daily tip each and, for a quarter of them, a daily reminder,
their local times spread over the day and over 13 zones (`bench/datagen.py`, without its 09:00
peak, so that the backlog does not depend on the hour the benchmark runs at). The due times are
those of a bot that stopped `--downtime` (3) hours ago: every occurrence of the last 3 hours
is overdue, about 156 000 rows at 1 M (1.25 M schedules x 3/24). The tips due more than 2
hours ago are past their lateness budget (about 42 000); the reminders (6 hours) are all still
worth sending.

`python -m bot` starts `--runs` times, each on a fresh copy, against the local fake Bot API,
at the bot's own SEND_RATE (28 messages/s by default). The clock runs from just before the
process is spawned:

* `startup_s`: to the first getUpdates (interpreter, imports, content, migrations check,
  recovery of rows left open, command menu). The dispatcher's first tick comes after it, so
  the start never waits for the backlog (a run where the backlog is already decided at the
  first getUpdates is reported as a problem). A user sends /help at once and again a second
  after each answer: `reply_max_s` is the longest wait for an answer during recovery.
* `recovery_s`: until every overdue row is decided, as read from the database every 0.25 s.
  The dispatcher decides an occurrence past its lateness budget by recording it `expired` and
  moving its schedule on; one still within its budget by claiming it and sending it, oldest
  first, as fast as SEND_RATE lets it. So the clock stops when nothing due is past its budget
  without an outcome: no tip or reminder whose `next_due_utc` is older than now minus its
  budget, and no claimed, sending or scheduled (snooze) row older than that (a row that
  crossed its budget less than two ticks, 10 s, ago waits for the next tick). All that is left
  then is within its budget, waiting its turn in due order (or already queued), and it goes at
  the measured `send_rate_msgs_per_s`; `all_sent_eta_s` estimates how long sending all of it
  takes (`overdue_fresh` / that rate: the send rate, not the bot, sets it).

The same start is measured with an empty database, to show what the subscribers add. Beside
it, the per-job design (`bench/perjob.py`): the time to rebuild 100 000 `run_daily` jobs, which
that design pays at every start before it can serve anyone (`ratio` = startup_s / that).
Targets: startup_s <= 2, recovery_s <= 60.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import datagen
from bench.common import TOKEN, BotProcess, bot_env, check_log, finish, say, table, workdir
from bench.fakeapi import BenchApi
from bench.memory import per_job
from bot.domain.schedule import REMINDER_BUDGET, TIP_BUDGET
from bot.domain.vocabulary import OPEN_STATUSES, DeliveryStatus

TARGET_STARTUP_S = 2.0
TARGET_RECOVERY_S = 60.0
PROBE_USER = 1  # not a subscriber: a new user who asks for /help
POLL_EVERY = 0.25  # seconds between reads of the database while the backlog is worked off
# The dispatcher decides on its ticks (every 5 s): a row that crossed its budget since the
# last one is decided at the next. Rows past their budget by less than two ticks are not
# counted as undecided yet (at 1 M, about 12 tips a second cross the 2-hour budget).
GRACE = timedelta(seconds=10)

# (table, budget) of what the dispatcher decides; snoozes are deliveries rows, see below.
SCHEDULES = (("tip_subscriptions", TIP_BUDGET), ("reminders", REMINDER_BUDGET))
KIND_BUDGETS = (("tip", TIP_BUDGET), ("reminder", REMINDER_BUDGET), ("snooze", REMINDER_BUDGET))
UNDECIDED = (*OPEN_STATUSES, DeliveryStatus.SCHEDULED)


# -- reading the database (the bot's own file, read-only, beside the running bot) --------------


@contextmanager
def connect(db: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection (autocommit: no read transaction stays open), then closed."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10, isolation_level=None)
    try:
        yield con
    finally:
        con.close()


def _count(con: sqlite3.Connection, sql: str, *params: object) -> int:
    return int(con.execute(sql, params).fetchone()[0])


def undecided(con: sqlite3.Connection, now: datetime) -> int:
    """Rows past their lateness budget (by over GRACE) at `now` without a final outcome."""
    now -= GRACE
    total = 0
    for name, budget in SCHEDULES:
        before = datagen.db_time(now - budget)
        total += _count(con, f"SELECT count(*) FROM {name} WHERE next_due_utc < ?", before)
    marks = ",".join("?" * len(UNDECIDED))
    for kind, budget in KIND_BUDGETS:
        total += _count(
            con,
            f"SELECT count(*) FROM deliveries WHERE status IN ({marks}) AND kind = ?"
            " AND due_utc < ?",
            *UNDECIDED,
            kind,
            datagen.db_time(now - budget),
        )
    return total


@dataclass
class Backlog:
    """What is overdue at a moment, by schedule table."""

    overdue: int = 0  # next_due_utc <= now
    past_budget: int = 0  # of those, already too late to send
    by_table: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def fresh(self) -> int:
        return self.overdue - self.past_budget


def backlog(db: Path, now: datetime) -> Backlog:
    found = Backlog()
    with connect(db) as con:
        for name, budget in SCHEDULES:
            sql = f"SELECT count(*) FROM {name} WHERE next_due_utc "
            overdue = _count(con, sql + "<= ?", datagen.db_time(now))
            late = _count(con, sql + "< ?", datagen.db_time(now - budget))
            found.by_table[name] = (overdue, late)
            found.overdue += overdue
            found.past_budget += late
    return found


def statuses(db: Path) -> dict[str, int]:
    with connect(db) as con:
        rows = con.execute("SELECT status, count(*) FROM deliveries GROUP BY status").fetchall()
    return {str(status): int(n) for status, n in rows}


# -- one start -------------------------------------------------------------------------------


@dataclass
class Run:
    startup_s: float
    recovery_s: float | None = None  # None: not within the timeout
    undecided_at_start: int = 0
    undecided_at_first_poll: int = 0
    replies_s: list[float] = field(default_factory=list)
    send_rate: float = 0.0  # scheduled messages per second, once the backlog was decided
    statuses: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def start_bot(db: Path, log: Path, *, recovery: bool, timeout: float, observe: float) -> Run:
    """Start the bot on `db`; time its first getUpdates and, with `recovery`, the backlog."""
    with connect(db) as con:
        before = undecided(con, datetime.now(UTC)) if recovery else 0
    with BenchApi(TOKEN) as api:
        bot = BotProcess(bot_env(api.base_url, db), log)
        try:
            polled = api.wait_polling(timeout=120)
            if polled is None:
                raise SystemExit(f"the bot did not start:\n{bot.log()[-3000:]}")
            run = Run(startup_s=polled - bot.started, undecided_at_start=before)
            if recovery:
                _watch(run, api, bot, db, timeout, observe)
            else:
                time.sleep(1)  # let it finish its first tick before the stop
            if not bot.alive():
                raise SystemExit(f"the bot died:\n{bot.log()[-3000:]}")
        finally:
            code = bot.stop()
    run.problems += check_log(bot.log())
    if code != 0:
        run.problems.append(f"exit code {code}")
    if recovery:
        run.statuses = statuses(db)
    return run


class Probe:
    """A user who sends /help, waits for the answer, and asks again a second later."""

    def __init__(self, api: BenchApi) -> None:
        self.api = api
        self.waits: list[float] = []
        self._asked: float | None = None  # time.monotonic() of the unanswered /help
        self._next = 0.0

    def _answers(self) -> list[float]:
        return [c.at for c in self.api.sent() if c.chat_id == PROBE_USER]

    def step(self) -> None:
        now = time.monotonic()
        if self._asked is not None:
            later = [at for at in self._answers() if at >= self._asked]
            if not later:
                return
            self.waits.append(min(later) - self._asked)
            self._asked, self._next = None, now + 1.0
        if now >= self._next:
            self._asked = now
            self.api.push_message("/help", user_id=PROBE_USER)

    def finish(self, timeout: float) -> bool:
        """Wait for the last answer; return False if it never came."""
        deadline = time.monotonic() + timeout
        while self._asked is not None and time.monotonic() < deadline:
            self.step()
            time.sleep(0.05)
        return self._asked is None


def _watch(
    run: Run, api: BenchApi, bot: BotProcess, db: Path, timeout: float, observe: float
) -> None:
    """Read the database until nothing overdue is undecided; probe replies meanwhile."""
    probe = Probe(api)
    with connect(db) as con:
        run.undecided_at_first_poll = undecided(con, datetime.now(UTC))
        while True:
            probe.step()
            left = undecided(con, datetime.now(UTC))
            if left == 0:
                run.recovery_s = time.monotonic() - bot.started
                break
            if time.monotonic() - bot.started > timeout:
                run.problems.append(f"{left:,} overdue rows still undecided after {timeout:.0f} s")
                break
            time.sleep(POLL_EVERY)
    if run.undecided_at_start and run.undecided_at_first_poll == 0:
        run.problems.append("the backlog was decided before the first getUpdates")
    # Then the rate the rows still worth sending go out at (the probe's answers aside).
    first = sum(c.chat_id != PROBE_USER for c in api.sent())
    watched = time.monotonic()
    while time.monotonic() - watched < observe:
        probe.step()
        time.sleep(0.05)
    sends = sum(c.chat_id != PROBE_USER for c in api.sent())
    run.send_rate = (sends - first) / (time.monotonic() - watched)
    if not probe.finish(timeout=10):
        run.problems.append("a /help sent during recovery got no answer within 10 s")
    run.replies_s = probe.waits


# -- the benchmark -----------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def rows_in(db: Path, name: str) -> int:
    with connect(db) as con:
        return _count(con, f"SELECT count(*) FROM {name}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    size = 100_000 if args.quick else 1_000_000
    jobs = 10_000 if args.quick else 100_000
    problems: list[str] = []
    runs: list[Run] = []
    empty: list[float] = []
    with workdir() as tmp:
        blank = tmp / "empty.sqlite3"
        datagen.create(blank, datagen.Plan(0, datetime.now(UTC)))
        for run_no in range(args.runs):
            log = tmp / f"bot-empty-{run_no}.log"
            found = start_bot(blank, log, recovery=False, timeout=0, observe=0)
            say(
                f"empty database, run {run_no + 1}: first getUpdates after {found.startup_s:.2f} s"
            )
            empty.append(found.startup_s)
            problems += [f"empty database: {p}" for p in found.problems]
        template = tmp / "subscribers.sqlite3"
        stopped = datetime.now(UTC) - timedelta(hours=args.downtime)  # due times come after it
        plan = datagen.Plan(size, stopped, peak_share=0.0, reminders_share=args.reminders_share)
        datagen.create(template, plan)
        reminders = rows_in(template, "reminders")
        say(f"per-job design: rebuilding {jobs:,} run_daily jobs")
        baseline = per_job(template, jobs)
        at_start = Backlog()
        for run_no in range(args.runs):
            db = tmp / f"run-{run_no}.sqlite3"
            shutil.copyfile(template, db)
            os.sync()  # the copy's writes are the harness's, not the bot's start-up
            at_start = backlog(db, datetime.now(UTC))
            log = tmp / f"bot-{run_no}.log"
            found = start_bot(
                db, log, recovery=True, timeout=args.recovery_timeout, observe=args.observe
            )
            decided = "never" if found.recovery_s is None else f"after {found.recovery_s:.2f} s"
            say(
                f"{size:,} subscribers, {at_start.overdue:,} overdue"
                f" ({at_start.past_budget:,} past their budget), run {run_no + 1}: first"
                f" getUpdates after {found.startup_s:.2f} s, backlog decided {decided}"
            )
            runs.append(found)
            problems += [f"run {run_no + 1}: {p}" for p in found.problems]
            for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
                path.unlink(missing_ok=True)
    startup = median([r.startup_s for r in runs])
    recoveries = [r.recovery_s for r in runs]
    recovery = None if None in recoveries else median([r for r in recoveries if r is not None])
    rebuild = float(baseline["rebuild_s"])
    replies = [s for r in runs for s in r.replies_s]
    rate = median([r.send_rate for r in runs])
    after = runs[-1].statuses
    result: dict[str, Any] = {
        "bench": "startup",
        "startup_s": round(startup, 2),
        "recovery_s": None if recovery is None else round(recovery, 2),
        "per_job_rebuild_100k_s": round(rebuild, 2) if jobs == 100_000 else None,
        "ratio": round(startup / rebuild, 3),
        "subscribers": size,
        "reminders": reminders,
        "downtime_h": args.downtime,
        "overdue_rows": at_start.overdue,
        "overdue_past_budget": at_start.past_budget,
        "overdue_fresh": at_start.fresh,
        "overdue_by_table": {
            name: {"overdue": overdue, "past_budget": late}
            for name, (overdue, late) in at_start.by_table.items()
        },
        "statuses_after": after,
        "send_rate_msgs_per_s": round(rate, 1),
        "all_sent_eta_s": round(at_start.fresh / rate) if rate else None,
        "reply_max_s": round(max(replies), 3) if replies else None,
        "replies": len(replies),
        "startup_empty_s": round(median(empty), 2),
        "startup_runs_s": [round(r.startup_s, 2) for r in runs],
        "recovery_runs_s": [None if r is None else round(r, 2) for r in recoveries],
        "per_job_jobs": jobs,
        "per_job_rebuild_s": round(rebuild, 2),
        "per_job_add_s": baseline["add_s"],
        "problems": problems,
    }
    report(result, args.runs)
    return result


def report(result: dict[str, Any], runs: int) -> None:
    size, jobs = result["subscribers"], result["per_job_jobs"]
    startup, recovery = result["startup_s"], result["recovery_s"]
    print(
        table(
            f"Start-up after {result['downtime_h']:g} h of downtime (median of {runs} runs),"
            " seconds from process start",
            ["design", "subscribers", "seconds", "target"],
            [
                ["this bot: first getUpdates, empty database", 0, result["startup_empty_s"], ""],
                ["this bot: first getUpdates", size, startup, f"<= {TARGET_STARTUP_S:g}"],
                [
                    "this bot: every overdue row decided",
                    size,
                    float("nan") if recovery is None else recovery,
                    f"<= {TARGET_RECOVERY_S:g}",
                ],
                [
                    f"per-job design: rebuild {jobs:,} run_daily jobs only",
                    jobs,
                    result["per_job_rebuild_s"],
                    "",
                ],
            ],
        )
    )
    after = result["statuses_after"]
    print()
    print(
        table(
            "The backlog (last run)",
            ["rows", "count"],
            [
                ["tips + reminders overdue at the start", result["overdue_rows"]],
                [
                    "  of which past their lateness budget (2 h / 6 h)",
                    result["overdue_past_budget"],
                ],
                ["  of which still worth sending", result["overdue_fresh"]],
                ["deliveries recorded expired when the bot stopped", after.get("expired", 0)],
                ["deliveries sent when the bot stopped", after.get("sent", 0)],
                [
                    "deliveries still open (claimed, sending)",
                    after.get("claimed", 0) + after.get("sending", 0),
                ],
                ["send rate once decided (msg/s)", result["send_rate_msgs_per_s"]],
                ["seconds to send every fresh overdue row (estimate)", result["all_sent_eta_s"]],
                ["slowest /help answer while recovering (s)", result["reply_max_s"]],
            ],
        )
    )
    print(
        f"\nratio: start-up with {size:,} subscribers / per-job rebuild of {jobs:,} jobs ="
        f" {result['ratio']}; the subscribers and their backlog add"
        f" {startup - result['startup_empty_s']:+.2f} s to an empty start"
    )
    checks = {
        f"startup_s <= {TARGET_STARTUP_S:g}": startup <= TARGET_STARTUP_S,
        f"recovery_s <= {TARGET_RECOVERY_S:g}": recovery is not None
        and recovery <= TARGET_RECOVERY_S,
    }
    for name, ok in checks.items():
        print(f"target {name}: {'met' if ok else 'MISSED'}")
    for problem in result["problems"]:
        print(f"problem: {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 k subscribers, 10 k jobs")
    parser.add_argument("--runs", type=int, default=3, help="starts per database (median)")
    parser.add_argument("--downtime", type=float, default=3.0, help="hours the bot was down")
    parser.add_argument(
        "--reminders-share", type=float, default=0.25, help="subscribers with a daily reminder"
    )
    parser.add_argument(
        "--recovery-timeout", type=float, default=180.0, help="seconds to wait for the backlog"
    )
    parser.add_argument(
        "--observe", type=float, default=10.0, help="seconds of sending watched after it"
    )
    args = parser.parse_args()
    if args.quick:
        args.runs = min(args.runs, 2)
    finish(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
