"""An oracle for local wall-clock times, written without the bot's own schedule code."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def instants(naive: datetime, tz: ZoneInfo) -> list[datetime]:
    """The UTC instants at which a clock in `tz` shows `naive` (0, 1 or 2 of them)."""
    found = set()
    for fold in (0, 1):
        instant = naive.replace(tzinfo=tz, fold=fold).astimezone(UTC)
        if instant.astimezone(tz).replace(tzinfo=None) == naive:
            found.add(instant)
    return sorted(found)


def fires_at(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """When `wall` on local `day` fires: its first instant, or the first minute after a gap."""
    naive = datetime.combine(day, wall)
    while not (found := instants(naive, tz)):
        naive += timedelta(minutes=1)
    return found[0]
