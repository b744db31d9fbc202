"""How long one dispatcher claim takes with a million subscribers, against a plain-SQL floor.

    python -m bench.dispatch            # 1 000 000 subscribers, about 2 minutes
    python -m bench.dispatch --quick    # 100 000 subscribers, about 20 s

One SQLite database with the subscribers (local times spread over the day in 13 zones, plus
10 % at 09:00 Europe/Berlin) is copied twice. On one copy the bot's own claim runs
(`bot.delivery.dispatcher.claim_due` in one session transaction, as the dispatcher job does);
on the other, the floor: the same claim written with the standard library's `sqlite3` (one
transaction of plain SQL that reads the same due rows, inserts their deliveries rows and
advances their next_due_utc, computing the next occurrence with the same function). A fake
clock moves both through

* normal minutes: one tick every DISPATCH_EVERY seconds (5 s), as the repeating job runs;
* the peak minute (100 000 due at 09:00 Berlin): batch after batch of DISPATCH_BATCH rows.

The two sides alternate tick by tick, so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import sys
import time as clock
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench import datagen
from bench.common import finish, percentile, say, sqlite_url, table, workdir
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


class Engine:
    """The bot's claim, as the dispatcher job runs it (one session transaction per claim)."""

    def __init__(self, path: Path) -> None:
        self.engine = make_engine(sqlite_url(path))
        self.sessions = make_sessions(self.engine)

    async def claim(self, now: datetime, limit: int) -> int:
        async with self.sessions() as session, session.begin():
            result = await claim_due(session, now, limit, owner="bench")
        return len(result.claimed)

    async def close(self) -> None:
        await self.engine.dispose()


@dataclass
class Sample:
    """Claim times (ms) of both sides, split by whether the claim found due rows."""

    engine_ms: list[float] = field(default_factory=list)
    floor_ms: list[float] = field(default_factory=list)
    empty_engine_ms: list[float] = field(default_factory=list)
    empty_floor_ms: list[float] = field(default_factory=list)
    engine_rows: int = 0
    floor_rows: int = 0


async def measure(
    engine: Engine, floor: Floor, ticks: list[datetime], limit: int, *, drain: bool
) -> Sample:
    """Run both claims at each tick (alternating which goes first); return their times."""
    sample = Sample()
    for n, now in enumerate(ticks):
        while True:
            order = ("engine", "floor") if n % 2 == 0 else ("floor", "engine")
            got: dict[str, int] = {}
            took: dict[str, float] = {}
            for side in order:
                started = clock.perf_counter()
                if side == "engine":
                    got[side] = await engine.claim(now, limit)
                else:
                    got[side] = floor.claim(now, limit)
                took[side] = (clock.perf_counter() - started) * 1000
            if got["engine"] or got["floor"]:
                sample.engine_ms.append(took["engine"])
                sample.floor_ms.append(took["floor"])
            else:
                sample.empty_engine_ms.append(took["engine"])
                sample.empty_floor_ms.append(took["floor"])
            sample.engine_rows += got["engine"]
            sample.floor_rows += got["floor"]
            if not drain or got["engine"] < limit:
                break
    return sample


async def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(_env_file=None)
    limit = args.batch or settings.dispatch_batch
    every = settings.dispatch_every
    with workdir() as tmp:
        source = tmp / "subscribers.sqlite3"
        plan = datagen.Plan(args.subscribers, REFERENCE)
        gen_s = await asyncio.to_thread(datagen.create, source, plan)  # alembic runs its own loop
        engine_db, floor_db = tmp / "engine.sqlite3", tmp / "floor.sqlite3"
        shutil.copy(source, engine_db)
        shutil.copy(source, floor_db)
        source.unlink()
        engine, floor = Engine(engine_db), Floor(floor_db)
        try:
            # Warm up both (connections, statement caches, zone data): nothing is due yet.
            await measure(engine, floor, [REFERENCE] * 5, limit, drain=False)
            # Catch both copies up to just before the peak, untimed.
            catch_up = PEAK_UTC - timedelta(seconds=1)
            while await engine.claim(catch_up, 5000):
                pass
            while floor.claim(catch_up, 5000):
                pass
            say(f"peak minute: batches of {limit}")
            peak = await measure(engine, floor, [PEAK_UTC], limit, drain=True)
            normal_ticks = [
                NORMAL_START + timedelta(seconds=every * i)
                for i in range(int(args.minutes * 60 / every))
            ]
            say(f"normal minutes: {len(normal_ticks)} ticks, one every {every:g} s")
            # The first tick also takes what fell due during the peak minute: untimed.
            await measure(
                engine, floor, [NORMAL_START - timedelta(seconds=every)], limit, drain=True
            )
            normal = await measure(engine, floor, normal_ticks, limit, drain=True)
        finally:
            await engine.close()
            floor.close()

    def ms(values: list[float], pct: float) -> float:
        return round(percentile(values, pct), 2)

    result = {
        "bench": "dispatch",
        "subscribers": args.subscribers,
        "claim_p50_ms": ms(normal.engine_ms, 50),
        "claim_p95_ms": ms(normal.engine_ms, 95),
        "floor_p50_ms": ms(normal.floor_ms, 50),
        "floor_p95_ms": ms(normal.floor_ms, 95),
        "ratio": round(ms(normal.engine_ms, 95) / ms(normal.floor_ms, 95), 2),
        "peak_claim_p50_ms": ms(peak.engine_ms, 50),
        "peak_claim_p95_ms": ms(peak.engine_ms, 95),
        "peak_floor_p50_ms": ms(peak.floor_ms, 50),
        "peak_floor_p95_ms": ms(peak.floor_ms, 95),
        "peak_ratio": round(ms(peak.engine_ms, 95) / ms(peak.floor_ms, 95), 2),
        "empty_claim_p50_ms": ms(normal.empty_engine_ms, 50),
        "empty_claim_p95_ms": ms(normal.empty_engine_ms, 95),
        "empty_floor_p50_ms": ms(normal.empty_floor_ms, 50),
        "empty_floor_p95_ms": ms(normal.empty_floor_ms, 95),
        "normal_claims": len(normal.engine_ms),
        "normal_rows": normal.engine_rows,
        "empty_claims": len(normal.empty_engine_ms),
        "peak_claims": len(peak.engine_ms),
        "peak_rows": peak.engine_rows,
        "batch": limit,
        "tick_every_s": every,
        "generate_s": round(gen_s, 1),
        "same_rows": normal.engine_rows == normal.floor_rows
        and peak.engine_rows == peak.floor_rows,
    }

    def line(name: str, s: Sample, engine: list[float], floor: list[float]) -> list[Any]:
        rows = s.engine_rows if engine is s.engine_ms else 0
        p95 = ms(floor, 95)
        return [
            name,
            len(engine),
            round(rows / max(1, len(engine)), 1),
            ms(engine, 50),
            ms(engine, 95),
            ms(floor, 50),
            p95,
            round(ms(engine, 95) / p95, 2) if p95 else float("nan"),
        ]

    print(
        table(
            f"Dispatcher claim, {args.subscribers:,} subscribers (SQLite), ms per claim"
            f" (one tick every {every:g} s, up to {limit} rows per claim)",
            [
                "claims",
                "count",
                "rows/claim",
                "claim p50",
                "claim p95",
                "floor p50",
                "floor p95",
                "p95 ratio",
            ],
            [
                line("normal minutes, due rows", normal, normal.engine_ms, normal.floor_ms),
                line(
                    "normal minutes, nothing due",
                    normal,
                    normal.empty_engine_ms,
                    normal.empty_floor_ms,
                ),
                line("peak minute (09:00 Berlin)", peak, peak.engine_ms, peak.floor_ms),
            ],
        )
    )
    target = "met" if result["ratio"] <= 2 else "MISSED"
    print(
        f"\ntarget: normal-minute claim p95 within 2x of the floor: {result['ratio']}x ({target})"
    )
    if not result["same_rows"]:
        print(f"warning: claim and floor took different rows: {normal} {peak}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 000 subscribers, 10 minutes")
    parser.add_argument("--subscribers", type=int)
    parser.add_argument("--minutes", type=float, help="normal minutes to simulate (default 60)")
    parser.add_argument("--batch", type=int, help="rows per claim (default DISPATCH_BATCH)")
    args = parser.parse_args()
    args.subscribers = args.subscribers or (100_000 if args.quick else 1_000_000)
    args.minutes = args.minutes or (10 if args.quick else 60)
    finish(asyncio.run(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
