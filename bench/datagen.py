"""Bulk-load users, tip subscriptions and reminders into a database migrated by alembic.

The schema comes from the real migrations (`upgrade_to_head_sync`), the rows from plain
`sqlite3.executemany` (PostgreSQL: asyncpg's COPY) with the indexes dropped during the load
and rebuilt after it, so a million subscribers load in seconds. Due times are computed with
the bot's own `next_due_utc`, once per (zone, local time) pair. Optionally, days of delivery
history (one finished tip delivery per subscriber per day) are added.

    python -m bench.datagen out.sqlite3 --subscribers 1000000
    python -m bench.datagen postgresql+asyncpg://user:pw@host/empty_db --history-days 7
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import time as clock
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.db.session import upgrade_to_head_sync
from bot.domain.schedule import next_due_utc, occurrence_utc

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
    """next_due_utc per (zone, local time), computed once each, in the form `store` gives."""

    def __init__(self, after: datetime, store: Callable[[datetime], Any] = db_time) -> None:
        self.after = after
        self.store = store
        self._cache: dict[tuple[str, str], Any] = {}
        self._zones: dict[str, ZoneInfo] = {}

    def __call__(self, zone: str, local: str) -> Any:
        key = (zone, local)
        found = self._cache.get(key)
        if found is None:
            tz = self._zones.setdefault(zone, ZoneInfo(zone))
            hour, minute = map(int, local.split(":"))
            found = self.store(next_due_utc(time(hour, minute), tz, self.after))
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


def _fast(con: sqlite3.Connection) -> list[tuple[str, str]]:
    """Switch off the journal for a bulk load; return the droppable indexes of TABLES."""
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")
    return [
        (name, sql)
        for name, sql in con.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
            f" AND tbl_name IN ({','.join('?' * len(TABLES))})",
            TABLES,
        )
    ]


def load(path: Path, plan: Plan) -> None:
    """Append the plan's rows to a migrated database."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        indexes = _fast(con)
        con.execute("BEGIN")
        for name, _ in indexes:
            con.execute(f'DROP INDEX "{name}"')
        for users, tips, reminders in _chunks(plan, db_time):
            con.executemany(
                "INSERT INTO users (id, chat_id, first_name, language, time_zone, created_at)"
                " VALUES (?, ?, ?, 'en', ?, ?)",
                users,
            )
            con.executemany(
                "INSERT INTO tip_subscriptions (user_id, local_time, active, next_due_utc,"
                " rotation, \"cursor\", created_at) VALUES (?, ?, 1, ?, '', 0, ?)",
                tips,
            )
            if reminders:
                con.executemany(
                    "INSERT INTO reminders (user_id, label, local_time, active, next_due_utc,"
                    " created_at) VALUES (?, ?, ?, 1, ?, ?)",
                    reminders,
                )
        for _, sql in indexes:
            con.execute(sql)
        con.execute("COMMIT")
        con.execute("PRAGMA journal_mode=WAL")  # what the bot uses
    finally:
        con.close()


Rows = list[tuple[Any, ...]]


def _chunks(plan: Plan, store: Callable[[datetime], Any]) -> Iterator[tuple[Rows, Rows, Rows]]:
    """The plan's (users, tips, reminders) rows, 100 000 users at a time; times via `store`.

    users: (id, chat_id, first_name, time_zone, created_at); tips: (user_id, local_time,
    next_due_utc, created_at); reminders: (user_id, label, local_time, next_due_utc, created_at).
    """
    due = DueTimes(plan.now, store)
    if plan.all_due_at is not None:  # the occurrence at that minute, not the one after it
        start = plan.all_due_at.replace(second=0, microsecond=0) - timedelta(seconds=1)
        due = DueTimes(start, store)
    created = store(plan.now - timedelta(days=30))
    rng = random.Random(plan.seed + 1)
    users: Rows = []
    tips: Rows = []
    reminders: Rows = []
    chunk = 100_000
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
            yield users, tips, reminders
            users, tips, reminders = [], [], []
    yield users, tips, reminders


# -- delivery history --------------------------------------------------------------------------
#
# What a bot that has run for a while holds in `deliveries`: one finished row per tip per day.
# Each tip subscription gets the `days` occurrences before its next one (its local time on
# each of the `days` local dates before, with the bot's own occurrence rule), from a small
# table of (zone, local time, days back) computed here and joined in one INSERT ... SELECT
# per day, oldest day first and in time order, so ids follow time as the dispatcher's own
# inserts do.
# Of each 1000 rows 10 are blocked, 15 expired, 5 failed, 3 unknown, the rest sent (seconds to
# minutes after their time).

HISTORY_OWNER = "worker-history"
HISTORY_COLUMNS = (
    "kind, item_id, user_id, chat_id, local_date, scheduled_utc, due_utc, status, attempts,"
    " claimed_by, claimed_at, sent_at, message_id, reminder_id, label, tip_id, error"
)


def _occurrence(day: date, at: time, tz: ZoneInfo) -> datetime:
    """occurrence_utc, with a fast path for the local times that exist once (nearly all)."""
    due = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
    wanted = datetime.combine(day, at)
    if due.astimezone(tz).replace(tzinfo=None) == wanted and (
        datetime.combine(day, at, tzinfo=tz).replace(fold=1).astimezone(UTC) == due
    ):
        return due
    return occurrence_utc(day, at, tz)


def history_times(
    pairs: Iterable[tuple[str, str]], days: int, now: datetime
) -> Iterator[tuple[str, str, int, datetime, date, datetime]]:
    """(zone, local time, days back, occurrence, its local date, sent at) for each pair.

    Days back from the local date of the pair's next occurrence after `now`.
    """
    zones: dict[str, ZoneInfo] = {}
    for zone, local in pairs:
        tz = zones.setdefault(zone, ZoneInfo(zone))
        hour, minute = map(int, local.split(":"))
        at = time(hour, minute)
        upcoming = now.astimezone(tz).date()
        if _occurrence(upcoming, at, tz) <= now:
            upcoming += timedelta(days=1)
        sent_after = timedelta(seconds=3 + (hour * 60 + minute) % 600)
        for k in range(1, days + 1):
            day = upcoming - timedelta(days=k)
            due = _occurrence(day, at, tz)
            yield zone, local, k, due, day, due + sent_after


def history_select(k: int) -> str:
    """The SELECT of the history `k` days back, in time order; joins `history_time`."""
    r = f"((t.id * 31 + {k} * 17) % 1000)"
    return (
        "SELECT 'tip', t.id, t.user_id, u.chat_id, h.local_date, h.at, h.at,"
        f" CASE WHEN {r} < 10 THEN 'blocked' WHEN {r} < 25 THEN 'expired'"
        f" WHEN {r} < 30 THEN 'failed' WHEN {r} < 33 THEN 'unknown' ELSE 'sent' END,"
        f" CASE WHEN {r} BETWEEN 10 AND 24 THEN 0 ELSE 1 END, '{HISTORY_OWNER}', h.at,"
        f" CASE WHEN {r} >= 33 THEN h.sent END,"
        f" CASE WHEN {r} >= 33 THEN t.id * 8 + {k} END, NULL, '',"
        f" CASE WHEN {r} BETWEEN 10 AND 24 THEN NULL ELSE 'tip-' || ((t.id + {k}) % 120) END,"
        f" CASE WHEN {r} < 10 THEN 'Forbidden: bot was blocked by the user'"
        f" WHEN {r} BETWEEN 25 AND 29 THEN 'Bad Request: chat not found' END"
        " FROM tip_subscriptions t JOIN users u ON u.id = t.user_id"
        " JOIN history_time h ON h.zone = u.time_zone AND h.local_time = t.local_time"
        f" AND h.days_back = {k} WHERE t.next_due_utc IS NOT NULL ORDER BY t.next_due_utc"
    )


def add_history(path: Path, days: int, now: datetime, *, quiet: bool = False) -> tuple[float, int]:
    """Add `days` days of finished tip deliveries before `now` to a filled SQLite database.

    Returns (seconds, rows in deliveries).
    """
    started = clock.perf_counter()
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA cache_size=-1048576")
        con.execute("PRAGMA temp_store=MEMORY")
        # Rows go in in time order, so the occurrence key and (status, due_utc) grow at their
        # ends; only the user_id index (one scattered entry per row) is rebuilt afterwards.
        indexes = list(
            con.execute(
                "SELECT name, sql FROM sqlite_master WHERE type='index'"
                " AND name = 'ix_deliveries_user_id'"
            )
        )
        pairs = con.execute(
            "SELECT DISTINCT u.time_zone, t.local_time FROM tip_subscriptions t"
            " JOIN users u ON u.id = t.user_id WHERE u.time_zone IS NOT NULL"
        ).fetchall()
        con.execute("BEGIN")
        con.execute(
            "CREATE TEMP TABLE history_time (zone TEXT, local_time TEXT, days_back INTEGER,"
            " at TEXT, local_date TEXT, sent TEXT, PRIMARY KEY (zone, local_time, days_back))"
            " WITHOUT ROWID"
        )
        con.executemany(
            "INSERT INTO history_time VALUES (?, ?, ?, ?, ?, ?)",
            (
                (zone, local, k, db_time(at), day.isoformat(), db_time(sent))
                for zone, local, k, at, day, sent in history_times(pairs, days, now)
            ),
        )
        for name, _ in indexes:
            con.execute(f'DROP INDEX "{name}"')
        for k in range(days, 0, -1):
            con.execute(f"INSERT INTO deliveries ({HISTORY_COLUMNS}) {history_select(k)}")
        for _, sql in indexes:
            con.execute(sql)
        con.execute("DROP TABLE history_time")
        con.execute("COMMIT")
        (rows,) = con.execute("SELECT count(*) FROM deliveries").fetchone()
        con.execute("PRAGMA journal_mode=WAL")
    finally:
        con.close()
    elapsed = clock.perf_counter() - started
    if not quiet:
        print(f"added {rows:,} deliveries rows ({days} days) in {elapsed:.1f} s", file=sys.stderr)
    return elapsed, rows


# -- PostgreSQL --------------------------------------------------------------------------------
#
# The same rows through asyncpg's COPY (`copy_records_to_table`) into a database migrated by
# alembic, with the foreign keys, unique constraints and secondary indexes of the loaded tables
# dropped during the load and rebuilt after it, then VACUUM ANALYZE (as autovacuum would have
# done on a database that grew to this size).


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy URL (postgresql+asyncpg://...) as asyncpg's DSN."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def database_url(url: str, name: str) -> str:
    """`url` pointed at database `name` on the same server."""
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _connect(url: str) -> Any:
    import asyncpg  # type: ignore[import-untyped]

    return await asyncpg.connect(asyncpg_dsn(url))


async def pg_recreate(admin_url: str, name: str, *, template: str | None = None) -> str:
    """Drop database `name` if it exists and create it (as a copy of `template`); its URL."""
    con = await _connect(admin_url)
    try:
        await con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        copy = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        await con.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await con.close()
    return database_url(admin_url, name)


async def pg_drop(admin_url: str, name: str) -> None:
    """Drop database `name` if it exists."""
    con = await _connect(admin_url)
    try:
        await con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await con.close()


async def _secondary(con: Any, tables: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(DROP statements, CREATE statements) for the foreign keys to or from `tables`, and for
    their unique constraints and other indexes (primary keys stay)."""
    constraints = await con.fetch(
        "SELECT conrelid::regclass::text AS tbl, conname, contype,"
        " pg_get_constraintdef(oid) AS def FROM pg_constraint"
        " WHERE contype IN ('f', 'u') AND (conrelid::regclass::text = ANY($1::text[])"
        " OR confrelid::regclass::text = ANY($1::text[]))",
        list(tables),
    )
    indexes = await con.fetch(
        "SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS def"
        " FROM pg_index WHERE indrelid::regclass::text = ANY($1::text[]) AND NOT indisprimary"
        " AND indexrelid NOT IN (SELECT conindid FROM pg_constraint)",
        list(tables),
    )
    foreign = [c for c in constraints if c["contype"] == "f"]
    unique = [c for c in constraints if c["contype"] == "u"]
    drop = [f'ALTER TABLE {c["tbl"]} DROP CONSTRAINT "{c["conname"]}"' for c in foreign + unique]
    drop += [f'DROP INDEX "{i["name"]}"' for i in indexes]
    add = 'ALTER TABLE {tbl} ADD CONSTRAINT "{conname}" {def}'
    create = [add.format(**c) for c in unique]
    create += [i["def"] for i in indexes]
    create += [add.format(**c) for c in foreign]
    return drop, create


async def _fast_session(con: Any) -> None:
    await con.execute("SET synchronous_commit = off")
    await con.execute("SET maintenance_work_mem = '512MB'")
    await con.execute("SET work_mem = '64MB'")


async def pg_create(url: str, plan: Plan, *, quiet: bool = False) -> float:
    """Migrate the (empty) database at `url` to head and fill it as `plan` says; seconds."""
    started = clock.perf_counter()
    await asyncio.to_thread(upgrade_to_head_sync, url)  # alembic runs its own loop
    con = await _connect(url)
    try:
        await _fast_session(con)
        drop, create = await _secondary(con, TABLES)
        for statement in drop:
            await con.execute(statement)
        tip_id = reminder_id = 0
        for users, tips, reminders in _chunks(plan, lambda moment: moment):
            await con.copy_records_to_table(
                "users",
                records=[(*u[:3], "en", *u[3:]) for u in users],
                columns=["id", "chat_id", "first_name", "language", "time_zone", "created_at"],
            )
            first = tip_id
            tip_id += len(tips)
            await con.copy_records_to_table(
                "tip_subscriptions",
                records=[
                    (first + n + 1, user, local, True, due, "", 0, created)
                    for n, (user, local, due, created) in enumerate(tips)
                ],
                columns=[
                    "id",
                    "user_id",
                    "local_time",
                    "active",
                    "next_due_utc",
                    "rotation",
                    "cursor",
                    "created_at",
                ],
            )
            if reminders:
                first = reminder_id
                reminder_id += len(reminders)
                await con.copy_records_to_table(
                    "reminders",
                    records=[
                        (first + n + 1, *r[:3], True, *r[3:]) for n, r in enumerate(reminders)
                    ],
                    columns=[
                        "id",
                        "user_id",
                        "label",
                        "local_time",
                        "active",
                        "next_due_utc",
                        "created_at",
                    ],
                )
        for table, last in (("tip_subscriptions", tip_id), ("reminders", reminder_id)):
            if last:
                await con.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last})"
                )
        for statement in create:
            await con.execute(statement)
        await con.execute("VACUUM ANALYZE")
    finally:
        await con.close()
    elapsed = clock.perf_counter() - started
    if not quiet:
        print(
            f"generated {plan.subscribers:,} subscribers on PostgreSQL in {elapsed:.1f} s",
            file=sys.stderr,
        )
    return elapsed


async def pg_add_history(
    url: str, days: int, now: datetime, *, quiet: bool = False
) -> tuple[float, int]:
    """add_history for PostgreSQL: the same rows, the same SQL. Returns (seconds, rows)."""
    started = clock.perf_counter()
    con = await _connect(url)
    try:
        await _fast_session(con)
        drop, create = await _secondary(con, ("deliveries",))
        pairs = await con.fetch(
            "SELECT DISTINCT u.time_zone, t.local_time FROM tip_subscriptions t"
            " JOIN users u ON u.id = t.user_id WHERE u.time_zone IS NOT NULL"
        )
        await con.execute(
            "CREATE TEMP TABLE history_time (zone text, local_time text, days_back integer,"
            " at timestamptz, local_date date, sent timestamptz,"
            " PRIMARY KEY (zone, local_time, days_back))"
        )
        await con.copy_records_to_table(
            "history_time", records=list(history_times([tuple(p) for p in pairs], days, now))
        )
        await con.execute("ANALYZE history_time")
        for statement in drop:
            await con.execute(statement)
        for k in range(days, 0, -1):
            await con.execute(f"INSERT INTO deliveries ({HISTORY_COLUMNS}) {history_select(k)}")
        for statement in create:
            await con.execute(statement)
        # ANALYZE, not VACUUM: the claim never reads these rows' heap pages, only the indexes.
        await con.execute("ANALYZE deliveries")
        rows = int(await con.fetchval("SELECT count(*) FROM deliveries"))
    finally:
        await con.close()
    elapsed = clock.perf_counter() - started
    if not quiet:
        print(
            f"added {rows:,} deliveries rows ({days} days) on PostgreSQL in {elapsed:.1f} s",
            file=sys.stderr,
        )
    return elapsed, rows


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
    parser.add_argument("path", help="a SQLite file, or an empty PostgreSQL database's URL")
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--reminders-share", type=float, default=0.0)
    parser.add_argument("--history-days", type=int, default=0, help="days of tip deliveries")
    args = parser.parse_args()
    now = datetime.now(UTC)
    plan = Plan(args.subscribers, now, reminders_share=args.reminders_share)
    if args.path.startswith("postgresql"):
        asyncio.run(pg_create(args.path, plan))
        if args.history_days:
            asyncio.run(pg_add_history(args.path, args.history_days, now))
        return 0
    create(Path(args.path), plan)
    if args.history_days:
        add_history(Path(args.path), args.history_days, now)
    return 0


if __name__ == "__main__":
    sys.exit(main())
