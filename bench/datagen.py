"""Bulk-load users, tip subscriptions and reminders into a database migrated by alembic.

The schema comes from the real migrations (`upgrade_to_head_sync`), the rows from plain
`sqlite3.executemany` with the indexes dropped during the load and rebuilt after it, so a
million subscribers load in seconds. Due times are computed with the bot's own
`next_due_utc`, once per (zone, local time) pair.

    python -m bench.datagen out.sqlite3 --subscribers 1000000
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time as clock
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.db.session import upgrade_to_head_sync
from bot.domain.schedule import next_due_utc

# Both hemispheres, half- and 45-minute offsets, zones with and without DST.
ZONES = (
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Asia/Kathmandu",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Pacific/Auckland",
    "Africa/Lagos",
    "UTC",
)
PEAK_ZONE = "Europe/Berlin"
PEAK_TIME = "09:00"
USER_ID_BASE = 10_000_000  # subscriber i has user id = chat id = USER_ID_BASE + i
TABLES = ("users", "tip_subscriptions", "reminders")


def db_time(moment: datetime) -> str:
    """A UTC instant as SQLAlchemy stores DateTime on SQLite (naive, microseconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass(frozen=True)
class Plan:
    """What to load."""

    subscribers: int
    now: datetime  # due times are the first occurrence after this
    peak_share: float = 0.10  # of subscribers at PEAK_TIME in PEAK_ZONE
    reminders_share: float = 0.0  # of subscribers who also have one daily reminder
    seed: int = 7
    all_due_at: datetime | None = None  # everyone's tip (and reminder) due at this UTC minute


@dataclass(frozen=True)
class Subscriber:
    index: int
    user_id: int
    zone: str
    local_time: str


def subscribers(plan: Plan) -> Iterator[Subscriber]:
    """Local times spread over the day and over ZONES, plus the peak (or all due at once)."""
    rng = random.Random(plan.seed)
    if plan.all_due_at is not None:
        local = plan.all_due_at.astimezone(UTC).strftime("%H:%M")
        for i in range(plan.subscribers):
            yield Subscriber(i, USER_ID_BASE + i, "UTC", local)
        return
    peak = int(plan.subscribers * plan.peak_share)
    for i in range(plan.subscribers):
        if i % 10 == 0 and i // 10 < peak:  # the peak is interleaved, not one id range
            zone, local = PEAK_ZONE, PEAK_TIME
        else:
            zone = ZONES[rng.randrange(len(ZONES))]
            minute = rng.randrange(1440)
            local = f"{minute // 60:02d}:{minute % 60:02d}"
        yield Subscriber(i, USER_ID_BASE + i, zone, local)


class DueTimes:
    """next_due_utc per (zone, local time), computed once each."""

    def __init__(self, after: datetime) -> None:
        self.after = after
        self._cache: dict[tuple[str, str], str] = {}
        self._zones: dict[str, ZoneInfo] = {}

    def __call__(self, zone: str, local: str) -> str:
        key = (zone, local)
        found = self._cache.get(key)
        if found is None:
            tz = self._zones.setdefault(zone, ZoneInfo(zone))
            hour, minute = map(int, local.split(":"))
            found = db_time(next_due_utc(time(hour, minute), tz, self.after))
            self._cache[key] = found
        return found


def create(path: Path, plan: Plan, *, quiet: bool = False) -> float:
    """Create `path` migrated to head and filled as `plan` says; return the seconds it took."""
    started = clock.perf_counter()
    if path.exists():
        path.unlink()
    upgrade_to_head_sync(f"sqlite+aiosqlite:///{path}")
    load(path, plan)
    elapsed = clock.perf_counter() - started
    if not quiet:
        print(f"generated {plan.subscribers:,} subscribers in {elapsed:.1f} s", file=sys.stderr)
    return elapsed


def load(path: Path, plan: Plan) -> None:
    """Append the plan's rows to a migrated database."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-262144")
        indexes = [
            (name, sql)
            for name, sql in con.execute(
                "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
                f" AND tbl_name IN ({','.join('?' * len(TABLES))})",
                TABLES,
            )
        ]
        con.execute("BEGIN")
        for name, _ in indexes:
            con.execute(f'DROP INDEX "{name}"')
        _insert(con, plan)
        for _, sql in indexes:
            con.execute(sql)
        con.execute("COMMIT")
        con.execute("PRAGMA journal_mode=WAL")  # what the bot uses
    finally:
        con.close()


def _insert(con: sqlite3.Connection, plan: Plan) -> None:
    due = DueTimes(plan.now)
    if plan.all_due_at is not None:  # the occurrence at that minute, not the one after it
        due = DueTimes(plan.all_due_at.replace(second=0, microsecond=0) - timedelta(seconds=1))
    created = db_time(plan.now - timedelta(days=30))
    rng = random.Random(plan.seed + 1)
    users: list[tuple[object, ...]] = []
    tips: list[tuple[object, ...]] = []
    reminders: list[tuple[object, ...]] = []
    chunk = 100_000

    def flush() -> None:
        con.executemany(
            "INSERT INTO users (id, chat_id, first_name, language, time_zone, created_at)"
            " VALUES (?, ?, ?, 'en', ?, ?)",
            users,
        )
        con.executemany(
            "INSERT INTO tip_subscriptions (user_id, local_time, active, next_due_utc, rotation,"
            " \"cursor\", created_at) VALUES (?, ?, 1, ?, '', 0, ?)",
            tips,
        )
        if reminders:
            con.executemany(
                "INSERT INTO reminders (user_id, label, local_time, active, next_due_utc,"
                " created_at) VALUES (?, ?, ?, 1, ?, ?)",
                reminders,
            )
        users.clear()
        tips.clear()
        reminders.clear()

    for sub in subscribers(plan):
        users.append((sub.user_id, sub.user_id, f"User {sub.index}", sub.zone, created))
        tips.append((sub.user_id, sub.local_time, due(sub.zone, sub.local_time), created))
        if plan.reminders_share and rng.random() < plan.reminders_share:
            minute = rng.randrange(1440)
            local = f"{minute // 60:02d}:{minute % 60:02d}"
            if plan.all_due_at is not None:
                local = sub.local_time
            reminders.append(
                (sub.user_id, "magnesium glycinate 200 mg", local, due(sub.zone, local), created)
            )
        if len(users) >= chunk:
            flush()
    flush()


def peak_ids(plan: Plan) -> range:
    """The user (= chat) ids of the peak subscribers: every tenth, from the first."""
    if plan.all_due_at is not None or plan.peak_share > 0.1:
        raise ValueError("the peak is every tenth subscriber: peak_share <= 0.1, no all_due_at")
    return range(USER_ID_BASE, USER_ID_BASE + 10 * int(plan.subscribers * plan.peak_share), 10)


def move_peak(path: Path, plan: Plan, at: datetime) -> int:
    """Make the peak's tips due at `at` (as if the bot started just before 09:00 in
    PEAK_ZONE); their local time stays PEAK_TIME. Return how many rows moved."""
    ids = peak_ids(plan)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        cur = con.execute(
            "UPDATE tip_subscriptions SET next_due_utc = ?"
            " WHERE user_id >= ? AND user_id < ? AND (user_id - ?) % 10 = 0",
            (db_time(at), ids.start, ids.stop, ids.start),
        )
        return int(cur.rowcount)
    finally:
        con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--reminders-share", type=float, default=0.0)
    args = parser.parse_args()
    plan = Plan(args.subscribers, datetime.now(UTC), reminders_share=args.reminders_share)
    create(args.path, plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
