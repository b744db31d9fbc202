"""How long one dispatcher claim takes with a million subscribers, against a plain-SQL floor.

    python -m bench.dispatch            # 1 000 000 subscribers, 7 M history rows
    python -m bench.dispatch --quick    # 100 000 subscribers, 700 000 history rows

On each engine (SQLite, then PostgreSQL) four copies of one database of subscribers (local
times spread over the day in 13 zones, plus 10 % at 09:00 Europe/Berlin) are timed:

* day one, `deliveries` empty: the bot's own claim (`bot.delivery.dispatcher.claim_due` in
  one session transaction, as the dispatcher job does) and the floor, the same claim in plain
  SQL (SQLite: the standard library's `sqlite3`; PostgreSQL: `asyncpg`), one transaction that
  reads the same due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL), inserts their deliveries
  rows and advances their next_due_utc, computing the next occurrence with the same function;
* the same two on a copy holding 7 days of delivery history (one finished row per subscriber
  per day, mostly sent, some blocked, expired, failed or unknown; see bench/datagen.py).

A fake clock moves every copy through

* normal minutes: one tick every DISPATCH_EVERY seconds (5 s), as the repeating job runs;
* the peak minute (100 000 due at 09:00 Berlin): batch after batch of DISPATCH_BATCH rows.

The copies take turns tick by tick (the first of each tick rotates), so machine noise hits
all alike. Targets: claim p95 within 2x of the floor's on both engines, and the claim p95 with
history within 1.2x of the day-one claim p95 on each engine (normal minutes).

PostgreSQL comes from `--pg-url` (or BENCH_PG_URL), else `.ci/postgres.sh` starts one with a
database `mgbench_dispatch`; the copies are databases beside it (`<db>_claim`, `<db>_floor`,
`<db>_history`, `<db>_history_floor`), loaded with COPY and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import time as clock
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench import datagen
from bench.common import ROOT, finish, percentile, say, sqlite_url, table, workdir
from bot.config import Settings
from bot.db.session import make_engine, make_sessions
from bot.delivery.dispatcher import claim_due
from bot.domain.schedule import is_expired, local_date_of, next_due_utc

# A fixed winter date: Berlin is UTC+1, so the 09:00 peak is due at 08:00 UTC. Every row's
# next_due_utc is its first occurrence after REFERENCE; the rows due before the peak are
# claimed untimed, then the peak, then the normal minutes that follow it.
REFERENCE = datetime(2026, 1, 12, 7, 50, tzinfo=UTC)
PEAK_UTC = datetime(2026, 1, 12, 8, 0, tzinfo=UTC)
NORMAL_START = datetime(2026, 1, 12, 8, 1, 0, tzinfo=UTC)


class Floor:
    """The same claim in plain SQL through the standard library's sqlite3."""

    def __init__(self, path: Path) -> None:
        self.con = sqlite3.connect(path, isolation_level=None, timeout=30)
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
            self.con.execute(f"PRAGMA {pragma}")
        self.zones: dict[str, ZoneInfo] = {}

    def claim(self, now: datetime, limit: int) -> int:
        con = self.con
        at = datagen.db_time(now)
        next_cache: dict[tuple[str, str], datetime] = {}
        date_cache: dict[tuple[datetime, str, str], date] = {}
        claimed = 0
        con.execute("BEGIN IMMEDIATE")
        snoozes = con.execute(
            "SELECT d.id FROM deliveries d LEFT JOIN users u ON u.id = d.user_id"
            " WHERE d.status = 'scheduled' AND d.due_utc <= ? AND d.kind = 'snooze'"
            " ORDER BY d.due_utc LIMIT ?",
            (at, limit),
        ).fetchall()
        room = limit - len(snoozes)
        for kind, table_name in (("reminder", "reminders"), ("tip", "tip_subscriptions")):
            label = "s.label" if kind == "reminder" else "''"
            rows = (
                con.execute(
                    f"SELECT s.id, s.user_id, s.local_time, s.next_due_utc, s.active, {label},"
                    f" u.chat_id, u.time_zone, u.blocked_at FROM {table_name} s"
                    " JOIN users u ON u.id = s.user_id WHERE s.next_due_utc <= ?"
                    " ORDER BY s.next_due_utc LIMIT ?",
                    (at, room),
                ).fetchall()
                if room > 0
                else []
            )
            room -= len(rows)
            moves: list[tuple[str, int]] = []
            values: list[Any] = []
            for item_id, user_id, local, due_text, active, text, chat, zone, blocked in rows:
                tz = self.zones.setdefault(zone, ZoneInfo(zone))
                hour, minute = map(int, local.split(":"))
                wall = time(hour, minute)
                key = (local, zone)
                upcoming = next_cache.get(key)
                if upcoming is None:
                    upcoming = next_cache[key] = next_due_utc(wall, tz, now)
                moves.append((datagen.db_time(upcoming), item_id))
                if not active or blocked is not None:
                    continue
                due = datetime.fromisoformat(due_text).replace(tzinfo=UTC)
                dkey = (due, local, zone)
                day = date_cache.get(dkey)
                if day is None:
                    day = date_cache[dkey] = local_date_of(due, tz, wall)
                status = "expired" if is_expired(kind, due, now) else "claimed"
                values += [
                    kind,
                    item_id,
                    user_id,
                    chat,
                    day.isoformat(),
                    due_text,
                    due_text,
                    status,
                    at,
                    item_id if kind == "reminder" else None,
                    text,
                ]
            if values:
                count = len(values) // 11
                marks = ",".join(["(?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)"] * count)
                inserted = con.execute(
                    "INSERT INTO deliveries (kind, item_id, user_id, chat_id, local_date,"
                    " scheduled_utc, due_utc, status, attempts, claimed_at, reminder_id, label)"
                    " VALUES " + marks + " ON CONFLICT DO NOTHING RETURNING id, item_id, status",
                    values,
                ).fetchall()
                claimed += sum(1 for row in inserted if row[2] == "claimed")
            con.executemany(f"UPDATE {table_name} SET next_due_utc = ? WHERE id = ?", moves)
        con.execute("COMMIT")
        return claimed

    def close(self) -> None:
        self.con.close()


class PgFloor:
    """The same claim in plain SQL through asyncpg: the same queries, one transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.con: Any = None
        self.zones: dict[str, ZoneInfo] = {}

    async def open(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        self.con = await asyncpg.connect(datagen.asyncpg_dsn(self.url))

    async def claim(self, now: datetime, limit: int) -> int:
        con = self.con
        next_cache: dict[tuple[str, str], datetime] = {}
        date_cache: dict[tuple[datetime, str, str], date] = {}
        claimed = 0
        async with con.transaction():
            snoozes = await con.fetch(
                "SELECT d.id, d.kind, d.item_id, d.user_id, d.chat_id, d.due_utc, d.status,"
                " d.label, d.tip_id, u.time_zone, u.blocked_at FROM deliveries d"
                " LEFT JOIN users u ON u.id = d.user_id"
                " WHERE d.status = 'scheduled' AND d.due_utc <= $1 AND d.kind = 'snooze'"
                " ORDER BY d.due_utc LIMIT $2 FOR UPDATE OF d SKIP LOCKED",
                now,
                limit,
            )
            room = limit - len(snoozes)
            for kind, table_name in (("reminder", "reminders"), ("tip", "tip_subscriptions")):
                label = "s.label" if kind == "reminder" else "''"
                rows = (
                    await con.fetch(
                        f"SELECT s.id, s.user_id, s.local_time, s.next_due_utc, s.active,"
                        f" {label}, u.chat_id, u.time_zone, u.blocked_at FROM {table_name} s"
                        " JOIN users u ON u.id = s.user_id WHERE s.next_due_utc <= $1"
                        " ORDER BY s.next_due_utc LIMIT $2 FOR UPDATE OF s SKIP LOCKED",
                        now,
                        room,
                    )
                    if room > 0
                    else []
                )
                room -= len(rows)
                moves: list[tuple[datetime, int]] = []
                values: list[Any] = []
                for item_id, user_id, local, due, active, text, chat, zone, blocked in rows:
                    tz = self.zones.setdefault(zone, ZoneInfo(zone))
                    hour, minute = map(int, local.split(":"))
                    wall = time(hour, minute)
                    key = (local, zone)
                    upcoming = next_cache.get(key)
                    if upcoming is None:
                        upcoming = next_cache[key] = next_due_utc(wall, tz, now)
                    moves.append((upcoming, item_id))
                    if not active or blocked is not None:
                        continue
                    dkey = (due, local, zone)
                    day = date_cache.get(dkey)
                    if day is None:
                        day = date_cache[dkey] = local_date_of(due, tz, wall)
                    status = "expired" if is_expired(kind, due, now) else "claimed"
                    values += [
                        kind,
                        item_id,
                        user_id,
                        chat,
                        day,
                        due,
                        due,
                        status,
                        "bench",
                        item_id if kind == "reminder" else None,
                        text,
                    ]
                # 1000 rows per INSERT, as SQLAlchemy's insertmanyvalues pages them.
                for start in range(0, len(values), 11 * 1000):
                    page = values[start : start + 11 * 1000]
                    marks = ",".join(
                        "({})".format(
                            ", ".join(
                                [f"${11 * n + i + 1}" for i in range(8)]
                                + ["0", f"${11 * n + 9}", "now()"]
                                + [f"${11 * n + i + 1}" for i in range(9, 11)]
                            )
                        )
                        for n in range(len(page) // 11)
                    )
                    inserted = await con.fetch(
                        "INSERT INTO deliveries (kind, item_id, user_id, chat_id, local_date,"
                        " scheduled_utc, due_utc, status, attempts, claimed_by, claimed_at,"
                        " reminder_id, label) VALUES " + marks + " ON CONFLICT DO NOTHING"
                        " RETURNING id, item_id, status",
                        *page,
                    )
                    claimed += sum(1 for row in inserted if row[2] == "claimed")
                if moves:
                    await con.executemany(
                        f"UPDATE {table_name} SET next_due_utc = $1 WHERE id = $2", moves
                    )
        return claimed

    async def close(self) -> None:
        if self.con is not None:
            await self.con.close()


class Engine:
    """The bot's claim, as the dispatcher job runs it (one session transaction per claim)."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = make_sessions(self.engine)

    async def claim(self, now: datetime, limit: int) -> int:
        async with self.sessions() as session, session.begin():
            result = await claim_due(session, now, limit, owner="bench")
        return len(result.claimed)

    async def close(self) -> None:
        await self.engine.dispose()


Claim = Callable[[datetime, int], Awaitable[int]]


@dataclass
class Sample:
    """One side's claim times (ms), split by whether the claim found due rows."""

    due_ms: list[float] = field(default_factory=list)
    empty_ms: list[float] = field(default_factory=list)
    rows: int = 0


async def measure(
    sides: dict[str, Claim], ticks: list[datetime], limit: int, *, drain: bool
) -> dict[str, Sample]:
    """Run every side's claim at each tick (rotating which goes first); return their times."""
    names = list(sides)
    samples = {name: Sample() for name in names}
    turn = 0
    for now in ticks:
        while True:
            order = names[turn % len(names) :] + names[: turn % len(names)]
            turn += 1
            got: dict[str, int] = {}
            took: dict[str, float] = {}
            for name in order:
                started = clock.perf_counter()
                got[name] = await sides[name](now, limit)
                took[name] = (clock.perf_counter() - started) * 1000
            found = any(got.values())
            for name in names:
                (samples[name].due_ms if found else samples[name].empty_ms).append(took[name])
                samples[name].rows += got[name]
            if not drain or max(got.values()) < limit:
                break
    return samples


@dataclass
class Phase:
    """What one engine's sides did: the peak minute and the normal minutes."""

    peak: dict[str, Sample]
    normal: dict[str, Sample]


async def run_phase(sides: dict[str, Claim], limit: int, every: float, minutes: float) -> Phase:
    """Warm up, catch up to the peak, then time the peak minute and the normal minutes."""
    # Warm up every side (connections, statement caches, zone data): nothing is due yet.
    await measure(sides, [REFERENCE] * 5, limit, drain=False)
    # Catch every copy up to just before the peak, untimed.
    catch_up = PEAK_UTC - timedelta(seconds=1)
    for claim in sides.values():
        while await claim(catch_up, 5000):
            pass
    say(f"  peak minute: batches of {limit}")
    peak = await measure(sides, [PEAK_UTC], limit, drain=True)
    normal_ticks = [
        NORMAL_START + timedelta(seconds=every * i) for i in range(int(minutes * 60 / every))
    ]
    say(f"  normal minutes: {len(normal_ticks)} ticks, one every {every:g} s")
    # The first tick also takes what fell due during the peak minute: untimed.
    await measure(sides, [NORMAL_START - timedelta(seconds=every)], limit, drain=True)
    normal = await measure(sides, normal_ticks, limit, drain=True)
    return Phase(peak, normal)


def sqlite_sides(paths: dict[str, Path]) -> tuple[dict[str, Claim], list[Any]]:
    """The claims on SQLite copies: "claim"/"floor" and "history claim"/"history floor"."""
    sides: dict[str, Claim] = {}
    closers: list[Any] = []
    for name, path in paths.items():
        if name.endswith("floor"):
            floor = Floor(path)
            closers.append(floor)

            async def claim(now: datetime, limit: int, floor: Floor = floor) -> int:
                return floor.claim(now, limit)

            sides[name] = claim
        else:
            engine = Engine(sqlite_url(path))
            closers.append(engine)
            sides[name] = engine.claim
    return sides, closers


async def close_all(closers: list[Any]) -> None:
    for item in closers:
        done = item.close()
        if asyncio.iscoroutine(done):
            await done


async def sqlite_run(args: argparse.Namespace, tmp: Path, limit: int, every: float) -> Phase:
    """Generate the SQLite copies (day one and with history) and time their claims."""
    source = tmp / "subscribers.sqlite3"
    plan = datagen.Plan(args.subscribers, REFERENCE)
    args.generate_s = await asyncio.to_thread(datagen.create, source, plan)  # alembic's loop
    paths = {"claim": tmp / "engine.sqlite3", "floor": tmp / "floor.sqlite3"}
    shutil.copy(source, paths["claim"])
    shutil.copy(source, paths["floor"])
    if args.history_days:
        args.history_s, args.history_rows = await asyncio.to_thread(
            datagen.add_history, source, args.history_days, REFERENCE
        )
        paths["history floor"] = tmp / "history-floor.sqlite3"
        shutil.copy(source, paths["history floor"])
        paths["history claim"] = source
    else:
        source.unlink()
    sides, closers = sqlite_sides(paths)
    say("SQLite:")
    try:
        return await run_phase(sides, limit, every, args.minutes)
    finally:
        await close_all(closers)


def postgres_url() -> str:
    """A PostgreSQL server and a database of this benchmark's own, started by .ci/postgres.sh."""
    env = {**os.environ, "PGTEST_DB": "mgbench_dispatch"}
    done = subprocess.run(
        ["bash", str(ROOT / ".ci" / "postgres.sh")],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1]


async def postgres_run(args: argparse.Namespace, limit: int, every: float) -> Phase:
    """Load PostgreSQL copies (day one and with history) and time their claims."""
    admin = args.pg_url
    base = admin.rpartition("/")[2]
    names = {"claim": f"{base}_claim", "floor": f"{base}_floor"}
    if args.history_days:
        names |= {"history claim": f"{base}_history", "history floor": f"{base}_history_floor"}
    plan = datagen.Plan(args.subscribers, REFERENCE)
    closers: list[Any] = []
    try:
        url = await datagen.pg_recreate(admin, names["claim"])
        args.pg_generate_s = await datagen.pg_create(url, plan)
        urls = {"claim": url}
        urls["floor"] = await datagen.pg_recreate(admin, names["floor"], template=names["claim"])
        if args.history_days:
            urls["history claim"] = await datagen.pg_recreate(
                admin, names["history claim"], template=names["claim"]
            )
            args.pg_history_s, args.pg_history_rows = await datagen.pg_add_history(
                urls["history claim"], args.history_days, REFERENCE
            )
            urls["history floor"] = await datagen.pg_recreate(
                admin, names["history floor"], template=names["history claim"]
            )
        sides: dict[str, Claim] = {}
        for name, side_url in urls.items():
            if name.endswith("floor"):
                floor = PgFloor(side_url)
                await floor.open()
                closers.append(floor)
                sides[name] = floor.claim
            else:
                engine = Engine(side_url)
                closers.append(engine)
                sides[name] = engine.claim
        say("PostgreSQL:")
        return await run_phase(sides, limit, every, args.minutes)
    finally:
        await close_all(closers)
        if not args.keep_pg:
            for name in names.values():
                await datagen.pg_drop(admin, name)


def ms(values: list[float], pct: float) -> float:
    return round(percentile(values, pct), 2)


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b and not math.isnan(a) and not math.isnan(b) else math.nan


def figures(phase: Phase, prefix: str) -> dict[str, Any]:
    """The JSON keys of one engine's phase (prefix "" for SQLite, "pg_" for PostgreSQL)."""
    n, p = phase.normal, phase.peak
    out: dict[str, Any] = {}
    for side, key in (("claim", "claim"), ("floor", "floor")):
        out[f"{prefix}{key}_p50_ms"] = ms(n[side].due_ms, 50)
        out[f"{prefix}{key}_p95_ms"] = ms(n[side].due_ms, 95)
    out[f"{prefix}ratio"] = ratio(ms(n["claim"].due_ms, 95), ms(n["floor"].due_ms, 95))
    for side, key in (("claim", "peak_claim"), ("floor", "peak_floor")):
        out[f"{prefix}{key}_p50_ms"] = ms(p[side].due_ms, 50)
        out[f"{prefix}{key}_p95_ms"] = ms(p[side].due_ms, 95)
    out[f"{prefix}peak_ratio"] = ratio(ms(p["claim"].due_ms, 95), ms(p["floor"].due_ms, 95))
    for side, key in (("claim", "empty_claim"), ("floor", "empty_floor")):
        out[f"{prefix}{key}_p50_ms"] = ms(n[side].empty_ms, 50)
        out[f"{prefix}{key}_p95_ms"] = ms(n[side].empty_ms, 95)
    if "history claim" in n:
        h, hp = n["history claim"], p["history claim"]
        hf, hpf = n["history floor"], p["history floor"]
        out[f"{prefix}history_claim_p50_ms"] = ms(h.due_ms, 50)
        out[f"{prefix}history_claim_p95_ms"] = ms(h.due_ms, 95)
        out[f"{prefix}history_floor_p95_ms"] = ms(hf.due_ms, 95)
        out[f"{prefix}history_ratio"] = ratio(ms(h.due_ms, 95), ms(hf.due_ms, 95))
        out[f"{prefix}history_vs_day_one"] = ratio(ms(h.due_ms, 95), ms(n["claim"].due_ms, 95))
        out[f"{prefix}history_peak_claim_p95_ms"] = ms(hp.due_ms, 95)
        out[f"{prefix}history_peak_floor_p95_ms"] = ms(hpf.due_ms, 95)
        out[f"{prefix}history_peak_vs_day_one"] = ratio(
            ms(hp.due_ms, 95), ms(p["claim"].due_ms, 95)
        )
        out[f"{prefix}history_empty_claim_p95_ms"] = ms(h.empty_ms, 95)
    rows = {(s.rows, phase.peak[name].rows) for name, s in n.items()}
    out[f"{prefix}same_rows"] = len(rows) == 1
    return out


def phase_table(title: str, phase: Phase) -> str:
    """One engine's table: normal minutes (due / nothing due) and the peak, per database."""
    lines = []
    databases = [("day one", "claim", "floor")]
    if "history claim" in phase.normal:
        databases.append(("7 days history", "history claim", "history floor"))
    for label, claim, floor in databases:
        for what, samples, due in (
            ("normal minutes, due rows", phase.normal, True),
            ("normal minutes, nothing due", phase.normal, False),
            ("peak minute (09:00 Berlin)", phase.peak, True),
        ):
            c, f = samples[claim], samples[floor]
            cm, fm = (c.due_ms, f.due_ms) if due else (c.empty_ms, f.empty_ms)
            lines.append(
                [
                    f"{label}: {what}",
                    len(cm),
                    round(c.rows / max(1, len(cm)), 1) if due else 0.0,
                    ms(cm, 50),
                    ms(cm, 95),
                    ms(fm, 50),
                    ms(fm, 95),
                    ratio(ms(cm, 95), ms(fm, 95)),
                ]
            )
    header = ["claims", "count", "rows/claim", "claim p50", "claim p95", "floor p50"]
    return table(title, [*header, "floor p95", "p95 ratio"], lines)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(_env_file=None)
    limit = args.batch or settings.dispatch_batch
    every = settings.dispatch_every
    args.history_s = args.history_rows = args.pg_generate_s = None
    args.pg_history_s = args.pg_history_rows = None
    with workdir() as tmp:
        lite = await sqlite_run(args, tmp, limit, every)
    pg = None if args.sqlite_only else await postgres_run(args, limit, every)

    result: dict[str, Any] = {"bench": "dispatch", "subscribers": args.subscribers}
    day_one = figures(lite, "")
    same = day_one.pop("same_rows")
    result |= {k: v for k, v in day_one.items() if not k.startswith("history")}
    result |= {
        "normal_claims": len(lite.normal["claim"].due_ms),
        "normal_rows": lite.normal["claim"].rows,
        "empty_claims": len(lite.normal["claim"].empty_ms),
        "peak_claims": len(lite.peak["claim"].due_ms),
        "peak_rows": lite.peak["claim"].rows,
        "batch": limit,
        "tick_every_s": every,
        "generate_s": round(args.generate_s, 1),
        "same_rows": same,
    }
    result |= {k: v for k, v in day_one.items() if k.startswith("history")}
    result |= {"history_days": args.history_days, "history_rows": args.history_rows}
    result["history_generate_s"] = round(args.history_s, 1) if args.history_s else None
    if pg is not None:
        result |= figures(pg, "pg_")
        result["pg_history_rows"] = args.pg_history_rows
        result["pg_generate_s"] = round(args.pg_generate_s, 1)
        result["pg_history_generate_s"] = (
            round(args.pg_history_s, 1) if args.pg_history_s else None
        )

    scope = f"{args.subscribers:,} subscribers, one tick every {every:g} s, up to {limit} rows"
    print(phase_table(f"Dispatcher claim on SQLite, {scope} per claim, ms", lite))
    if pg is not None:
        print()
        print(phase_table(f"Dispatcher claim on PostgreSQL, {scope} per claim, ms", pg))
    targets = [
        ("SQLite: normal-minute claim p95 / floor p95", result["ratio"], 2.0),
        ("SQLite: history claim p95 / day-one claim p95", result.get("history_vs_day_one"), 1.2),
    ]
    if pg is not None:
        targets += [
            ("PostgreSQL: normal-minute claim p95 / floor p95", result["pg_ratio"], 2.0),
            (
                "PostgreSQL: history claim p95 / day-one claim p95",
                result.get("pg_history_vs_day_one"),
                1.2,
            ),
        ]
    rows = []
    met: dict[str, bool] = {}
    for name, value, limit_value in targets:
        if value is None:
            continue
        ok = not math.isnan(value) and value <= limit_value
        met[name] = ok
        rows.append([name, value, f"<= {limit_value:g}", "met" if ok else "MISSED"])
    print()
    print(table("Targets", ["target", "measured", "limit", ""], rows))
    result["targets_met"] = all(met.values())
    for key in ("same_rows", "pg_same_rows"):
        if result.get(key) is False:
            print(f"warning: the sides took different numbers of rows ({key})")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="100 000 subscribers, 20 normal minutes"
    )
    parser.add_argument("--subscribers", type=int)
    parser.add_argument("--minutes", type=float, help="normal minutes to simulate (default 60)")
    parser.add_argument("--batch", type=int, help="rows per claim (default DISPATCH_BATCH)")
    parser.add_argument(
        "--history-days",
        type=int,
        default=7,
        help="days of delivery history in the history copies (default 7; 0: none)",
    )
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", ""),
        help="PostgreSQL server to use, as postgresql+asyncpg://user:pw@host/db (default:"
        " BENCH_PG_URL, else .ci/postgres.sh); databases <db>_claim, <db>_floor, ... are"
        " created beside <db> and dropped afterwards",
    )
    parser.add_argument("--sqlite-only", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--keep-pg", action="store_true", help="keep the PostgreSQL databases (for EXPLAIN)"
    )
    args = parser.parse_args()
    args.subscribers = args.subscribers or (100_000 if args.quick else 1_000_000)
    args.minutes = args.minutes or (20 if args.quick else 60)
    if not args.sqlite_only and not args.pg_url:
        args.pg_url = postgres_url()
    finish(asyncio.run(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
