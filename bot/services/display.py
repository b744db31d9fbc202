"""How times are shown to people: always in their own zone, with the zone's name."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.content import Texts


def local_when(texts: Texts, moment: datetime, zone: ZoneInfo) -> str:
    """Return e.g. "Tue 25 Nov, 09:00 Europe/Berlin" as plain text.

    Plain, not HTML: it is meant to be a value inside another template, which escapes it.

    Raises:
        ValueError: If `moment` is naive.
    """
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    local = moment.astimezone(zone)
    weekdays = texts.raw("timezone.weekdays").split()
    months = texts.raw("timezone.months").split()
    return html.unescape(
        texts.get(
            "timezone.when",
            weekday=weekdays[local.weekday()],
            day=local.day,
            month=months[local.month - 1],
            time=f"{local.hour:02d}:{local.minute:02d}",
            zone=zone.key,
        )
    )
