"""Resident memory of the bot: empty, 1 M subscribers at rest and in the peak, 100 k users.

    python -m bench.memory            # 0 / 100 k / 1 M subscribers, 100 k peak, 100 k users
    python -m bench.memory --quick    # 0 / 10 k / 100 k subscribers, 10 k peak, 2 000 users

What is measured is the resident set (from /proc/<pid>/statm) of `python -m bot` on SQLite
against the local fake Bot API (bench/fakeapi.py), sampled every 0.25 s from a thread:

* `rss_0_mb`: an empty database, once the bot polls and its dispatcher has ticked for
  `--settle` seconds: the median of `--samples` samples, one second apart. `rss_100k_mb`
  (quick: 10 k) the same with 100 000 subscribers at rest.
* Then one process on 1 000 000 subscribers (quick: 100 000; local times spread over the day
  in 13 zones, 10 % of them at 09:00 Europe/Berlin), in three phases:
  - at rest (`rss_1m_mb`): the median of the samples taken over `--samples` seconds after
    `--settle` seconds. Then, with the bot running, the peak's tips are made due `--lead`
    seconds later (their `next_due_utc` is moved there in the database, as if it were just
    before 09:00 in Berlin): 100 000 tips due at the same instant.
  - the peak (`rss_1m_peak_mb`): the MAXIMUM of the samples from that instant until every
    peak tip has reached the fake API, or `--peak-window` seconds have passed (at 30 msg/s
    100 000 tips take an hour; with PAID_BROADCAST and SEND_RATE=1000 a few minutes). The
    dispatcher claims and the sender sends during the whole window; how many tips arrived
    in it is reported (`peak_sent`), and a window in which none did is a problem.
  - 100 000 distinct users (`rss_after_100k_users_mb`): getUpdates hands out one command
    each (/start, /food almonds, /foods, /symptoms, /help in turn) from 100 000 user ids none
    of which is a subscriber, in private chats; the bench waits until the fake API has
    received a reply in every one of those chats, then for `--settle` / 2 seconds, and takes
    the median of `--samples` samples. How many replies arrived and how long it took are
    reported, and so is the growth per user over the RSS just before the first command.
* `delta_mb` is the largest of the differences to `rss_0_mb`. Target: `delta_mb` <= 50.

Replies pass the bot's token rate limiter (SEND_RATE, at most 30/s by default), so when the
bot accepts `PAID_BROADCAST` it runs with PAID_BROADCAST=true and SEND_RATE=1000 (`--send-rate`)
against a fake API that allows as many per second; without it the default number of users is
small (100 000 replies at 28/s take an hour) and the run says so. Beside it, for contrast, the
baseline design: PTB's one `run_daily` job per subscriber (`bench/perjob.py`, its own
process) at 100 000 jobs (quick: 10 000). Only the bot's own process is measured (not the
chart worker it may start).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
from bench.fakeapi import BenchApi, Call
from bot.config import Settings

TARGET_MB = 50
SAMPLE_EVERY = 0.25  # seconds
USERS_BASE = 700_000_000  # the simulated users' ids (no subscriber has one of these)
COMMANDS = ("/start", "/food almonds", "/foods", "/symptoms", "/help")
PAID_RATE = 1000  # SEND_RATE with PAID_BROADCAST (Telegram's paid limit)
FREE_LIMIT = 30  # Telegram's free messages per second


def paid_broadcast_supported() -> bool:
    """Return True when the bot's settings know PAID_BROADCAST (SEND_RATE up to 1000)."""
    return "paid_broadcast" in Settings.model_fields


class Sampler(threading.Thread):
    """Reads a process's RSS every SAMPLE_EVERY seconds until stopped (or the process ends)."""

    def __init__(self, bot: BotProcess) -> None:
        super().__init__(daemon=True)
        self.bot = bot
        self.samples: list[tuple[float, int]] = []  # (time.monotonic(), bytes)
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                self.samples.append((time.monotonic(), self.bot.rss()))
            except (FileNotFoundError, ProcessLookupError):
                return
            self._halt.wait(SAMPLE_EVERY)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    def between(self, start: float, end: float) -> list[int]:
        return [v for t, v in list(self.samples) if start <= t < end]

    def timeline(self, origin: float, step: float = 5.0) -> list[list[float]]:
        """[seconds after `origin`, the largest MiB in that step] for each step."""
        steps: dict[int, int] = {}
        for t, v in list(self.samples):
            key = int((t - origin) // step)
            steps[key] = max(steps.get(key, 0), v)
        return [[key * step, mb(v)] for key, v in sorted(steps.items())]


@dataclass
class Tally:
    """What the fake API received, counted as it arrives (called under the API's lock)."""

    peak: range  # the peak subscribers' chat ids
    users: range  # the simulated users' chat ids
    peak_chats: set[int] = field(default_factory=set)
    peak_first: float | None = None
    peak_last: float | None = None
    answered: set[int] = field(default_factory=set)
    replies: int = 0
    last_answer: float | None = None  # when the last user got a first reply
    rejected: int = 0  # message calls the API refused (429, ...)

    def __call__(self, call: Call) -> None:
        if call.status != 200:
            self.rejected += 1
            return
        if call.chat_id in self.users:
            self.replies += 1
            if call.chat_id not in self.answered:
                self.answered.add(call.chat_id)
                self.last_answer = call.at
        elif call.chat_id in self.peak and call.chat_id not in self.peak_chats:
            self.peak_chats.add(call.chat_id)
            self.peak_first = self.peak_first or call.at
            self.peak_last = call.at


@contextmanager
def running_bot(
    db: Path, log: Path, api: BenchApi, env: dict[str, str]
) -> Iterator[tuple[BotProcess, float, list[str]]]:
    """Start the bot on `db` against `api` and wait for its first getUpdates.

    Yields the bot, the time.monotonic() of that first getUpdates, and a list which, once the
    block is left and the bot stopped, holds the problems in its log (and a non-zero exit).
    """
    problems: list[str] = []
    bot = BotProcess(bot_env(api.base_url, db, **env), log)
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


@contextmanager
def polling_bot(
    db: Path, log: Path, env: dict[str, str] | None = None, limit: int = FREE_LIMIT
) -> Iterator[tuple[BotProcess, float, list[str]]]:
    """`running_bot` against a fresh fake API (allowing `limit` messages a second)."""
    with (
        BenchApi(TOKEN, limit=limit) as api,
        running_bot(db, log, api, env or {}) as started,
    ):
        yield started


def bot_rss(db: Path, log: Path, args: argparse.Namespace) -> tuple[int, list[str]]:
    """Start the bot on `db`, let it settle, return its median RSS and any log problems."""
    with polling_bot(db, log, args.env, args.api_limit) as (bot, _, problems):
        time.sleep(args.settle)
        values = []
        for _ in range(args.samples):
            values.append(bot.rss())
            time.sleep(1)
        if not bot.alive():
            raise SystemExit(f"the bot died:\n{bot.log()[-3000:]}")
    return int(statistics.median(values)), problems


def users_feed(api: BenchApi, users: range) -> Iterator[dict[str, Any]]:
    """One command from each simulated user, made when getUpdates asks for it."""
    for n, user_id in enumerate(users):
        yield api.message_update(COMMANDS[n % len(COMMANDS)], user_id=user_id)


def big_run(db: Path, log: Path, plan: datagen.Plan, args: argparse.Namespace) -> dict[str, Any]:
    """The bot on the large database: at rest, the peak, then the users. Figures in bytes."""
    users = range(USERS_BASE, USERS_BASE + args.users)
    tally = Tally(datagen.peak_ids(plan), users)
    with (
        BenchApi(TOKEN, limit=args.api_limit, on_call=tally) as api,
        running_bot(db, log, api, args.env) as (bot, polled, problems),
    ):
        sampler = Sampler(bot)
        sampler.start()
        try:
            rest_from = polled + args.settle
            time.sleep(max(0.0, rest_from + args.samples - time.monotonic()))
            rest_end = time.monotonic()
            # The bot runs on; its database gets the peak (it reads due times at every tick).
            due = datetime.now(UTC) + timedelta(seconds=args.lead)
            due_at = time.monotonic() + args.lead
            moved = datagen.move_peak(db, plan, due)
            time.sleep(max(0.0, due_at - time.monotonic()))
            say(f"peak: {moved:,} tips due now")
            peak_end = due_at + args.peak_window
            api.wait_for(lambda: len(tally.peak_chats) >= moved, peak_end - time.monotonic())
            peak_end = min(peak_end, time.monotonic())
            peak_sent, peak_first, peak_last = (
                len(tally.peak_chats),
                tally.peak_first,
                tally.peak_last,
            )
            say(f"{args.users:,} users send a command each")
            users_from = time.monotonic()
            api.feed(users_feed(api, users))
            answered = api.wait_for(lambda: len(tally.answered) >= len(users), args.users_timeout)
            users_end = time.monotonic()
            time.sleep(args.settle / 2)
            after_from = time.monotonic()
            time.sleep(args.samples)
            after_end = time.monotonic()
            if not bot.alive():
                raise SystemExit(f"the bot died:\n{bot.log()[-3000:]}")
        finally:
            sampler.stop()
        first_fed, fed = api.first_fed, api.fed
        replies, users_answered = tally.replies, len(tally.answered)
        last_answer, rejected = tally.last_answer, tally.rejected
    rest = sampler.between(rest_from, rest_end)
    peak = sampler.between(due_at, peak_end)
    before_users = sampler.between(users_from - 2, users_from)
    during_users = sampler.between(users_from, users_end)
    after = sampler.between(after_from, after_end)
    if not (rest and peak and after):
        raise SystemExit("too few RSS samples: the bot stopped answering /proc")
    if not answered:
        problems.append(
            f"only {users_answered:,} of {args.users:,} users got a reply within"
            f" {args.users_timeout:.0f} s"
        )
    if not peak_sent:
        problems.append("no peak tip was sent while the peak was measured")
    users_s = (last_answer - first_fed) if last_answer and first_fed else float("nan")
    peak_s = (peak_last - due_at) if peak_last else float("nan")
    result: dict[str, Any] = dict(
        peak_due=moved,
        rest=int(statistics.median(rest)),
        peak=max(peak),
        peak_median=int(statistics.median(peak)),
        before_users=int(statistics.median(before_users or peak[-4:])),
        during_users=max(during_users or [0]),
        after=int(statistics.median(after)),
        peak_sent=peak_sent,
        peak_window_s=round(peak_end - due_at, 1),
        peak_first_send_s=round(peak_first - due_at, 2) if peak_first else None,
        peak_send_s=round(peak_s, 1),
        users_fed=fed,
        users_answered=users_answered,
        user_replies=replies,
        users_s=round(users_s, 1),
        api_refused=rejected,
        timeline=sampler.timeline(polled),
        phases_s={
            "rest": round(rest_from - polled, 1),
            "peak": round(due_at - polled, 1),
            "users": round(users_from - polled, 1),
            "answered": round(users_end - polled, 1),
            "after": round(after_from - polled, 1),
        },
        problems=problems,
    )
    return result


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
    small, large = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
    jobs = 10_000 if args.quick else 100_000
    rss: dict[int, int] = {}
    problems: list[str] = []
    with workdir(args.keep) as tmp:
        if args.keep:
            say(f"databases and bot logs kept in {tmp}")
        for size in (0, small):
            db = tmp / f"subscribers-{size}.sqlite3"
            datagen.create(db, datagen.Plan(size, datetime.now(UTC)))
            say(f"bot with {size:,} subscribers, at rest")
            rss[size], found = bot_rss(db, tmp / f"bot-{size}.log", args)
            problems += [f"{size:,} subscribers: {p}" for p in found]
            db.unlink()
        db = tmp / f"subscribers-{large}.sqlite3"
        plan = datagen.Plan(large, datetime.now(UTC))
        datagen.create(db, plan)
        say(f"per-job design: {jobs:,} run_daily jobs")
        baseline = per_job(db, jobs)
        say(f"bot with {large:,} subscribers: at rest, the peak, {args.users:,} users")
        big = big_run(db, tmp / f"bot-{large}.log", plan, args)
        problems += [f"{large:,} subscribers: {p}" for p in big.pop("problems")]
    rss[large] = big["rest"]
    zero = rss[0]
    measured = {"at rest": big["rest"], "peak": big["peak"], "after users": big["after"]}
    delta = max([*measured.values(), rss[small]]) - zero
    job_rss = int(baseline["rss_after_bytes"])
    job_delta = job_rss - int(baseline["rss_before_bytes"])
    users_s = big["users_s"]
    per_user = (big["after"] - big["before_users"]) / max(1, big["users_answered"])
    result: dict[str, Any] = {
        "bench": "memory",
        "rss_0_mb": mb(zero),
        "rss_100k_mb": mb(rss[100_000]),
        "rss_1m_mb": mb(big["rest"]),
        "rss_1m_peak_mb": mb(big["peak"]),
        "rss_after_100k_users_mb": mb(big["after"]),
        "delta_mb": mb(delta),
        "target_mb": TARGET_MB,
        "per_job_design_100k_mb": mb(job_rss) if jobs == 100_000 else None,
        "per_job_design_delta_mb": mb(job_delta),
        "per_job_jobs": jobs,
        "sizes": [0, small, large],
        "rss_mb_by_size": {str(k): mb(v) for k, v in rss.items()},
        "subscribers": large,
        "peak_due": big["peak_due"],
        "peak_sent": big["peak_sent"],
        "peak_window_s": big["peak_window_s"],
        "peak_first_send_s": big["peak_first_send_s"],
        "rss_1m_peak_median_mb": mb(big["peak_median"]),
        "users": args.users,
        "users_fed": big["users_fed"],
        "users_answered": big["users_answered"],
        "user_replies": big["user_replies"],
        "users_s": users_s,
        "users_per_s": round(big["users_answered"] / users_s, 1) if users_s > 0 else None,
        "rss_before_users_mb": mb(big["before_users"]),
        "rss_during_users_max_mb": mb(big["during_users"]),
        "per_user_bytes": round(per_user),
        "api_refused": big["api_refused"],
        "send_rate": args.send_rate,
        "paid_broadcast": args.paid,
        "problems": problems,
        "phases_s": big["phases_s"],  # when each phase began, seconds after the first poll
        "rss_mb_timeline": big["timeline"],  # [seconds after the first poll, max MiB], 5-s steps
    }
    rows = [
        ["empty database, at rest", mb(zero), 0.0, "median"],
        [f"{small:,} subscribers, at rest", mb(rss[small]), mb(rss[small] - zero), "median"],
        [f"{large:,} subscribers, at rest", mb(big["rest"]), mb(big["rest"] - zero), "median"],
        [
            f"  the peak: {big['peak_due']:,} due at once ({big['peak_sent']:,} sent"
            f" in {big['peak_window_s']} s)",
            mb(big["peak"]),
            mb(big["peak"] - zero),
            "max",
        ],
        [
            f"  just before {args.users:,} users",
            mb(big["before_users"]),
            mb(big["before_users"] - zero),
            "median",
        ],
        [
            f"  while they are answered ({users_s} s)",
            mb(big["during_users"]),
            mb(big["during_users"] - zero),
            "max",
        ],
        [
            f"  after {big['users_answered']:,} users answered",
            mb(big["after"]),
            mb(big["after"] - zero),
            "median",
        ],
        [f"{jobs:,} run_daily jobs (per-job design)", mb(job_rss), mb(job_delta), "after"],
    ]
    print(table("Resident memory (MiB)", ["process", "RSS", "over empty", "of samples"], rows))
    verdict = "met" if delta <= TARGET_MB * 1024 * 1024 else "MISSED"
    print(
        f"\nusers: {big['users_fed']:,} commands handed out, {big['users_answered']:,} users"
        f" answered with {big['user_replies']:,} messages in {users_s} s"
        f" (SEND_RATE {args.send_rate:g}, PAID_BROADCAST {'on' if args.paid else 'off'});"
        f" {per_user:,.0f} bytes of RSS per user"
    )
    print(f"target: delta_mb (largest RSS - RSS(0)) <= {TARGET_MB}: {mb(delta)} MB ({verdict})")
    print(f"at {jobs:,} per-job design grows {mb(job_delta)} MB for its jobs alone")
    if big["api_refused"]:
        print(f"note: the fake API refused {big['api_refused']:,} message calls (429)")
    for problem in problems:
        print(f"problem: {problem}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.epilog = "\n".join(__doc__.splitlines()[4:])
    parser.add_argument("--quick", action="store_true", help="100 k subscribers, 2 000 users")
    parser.add_argument("--settle", type=float, default=12.0, help="seconds after polling starts")
    parser.add_argument("--samples", type=int, default=5, help="samples (1 s apart) at rest")
    parser.add_argument("--lead", type=float, default=5.0, help="seconds from rest to the peak")
    parser.add_argument("--peak-window", type=float, help="seconds the peak is sampled at most")
    parser.add_argument("--users", type=int, help="distinct users sending a command")
    parser.add_argument("--users-timeout", type=float, help="seconds to wait for their replies")
    parser.add_argument("--send-rate", type=float, help="the bot's SEND_RATE")
    parser.add_argument("--keep", action="store_true", help="keep the databases and bot logs")
    args = parser.parse_args()
    if args.quick:
        args.settle = min(args.settle, 6.0)
        args.samples = min(args.samples, 3)
    args.paid = paid_broadcast_supported()
    if args.send_rate is None:
        args.send_rate = PAID_RATE if args.paid else 28.0
    args.paid = args.paid and args.send_rate > FREE_LIMIT
    args.env = {"SEND_RATE": f"{args.send_rate:g}"}
    if args.paid:
        args.env["PAID_BROADCAST"] = "true"
    args.api_limit = PAID_RATE if args.paid else FREE_LIMIT
    if args.users is None:
        if args.paid:
            args.users = 2_000 if args.quick else 100_000
        else:
            args.users = 1_000 if args.quick else 5_000
            say(
                f"this bot has no PAID_BROADCAST: replies go out at {args.send_rate:g}/s, so"
                f" {args.users:,} users (not 100 000); --users to choose"
            )
    if args.peak_window is None:
        args.peak_window = 20.0 if args.quick else 180.0
    if args.users_timeout is None:
        args.users_timeout = 120 + 3 * args.users / min(args.send_rate, 200)
    finish(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
