"""Parse and format the local wall-clock times people type, such as "9:30 am" or "21h"."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

LABEL_MAX_CHARS = 100
"""Reminder labels are cut to this many characters."""

_WORDS = {"noon": time(12, 0), "midday": time(12, 0), "midnight": time(0, 0)}

# hour, then optional ":MM" / ".MM" / "hMM" / "h", then optional am/pm (with or without dots).
_TIME_RE = re.compile(
    r"""
    (?P<hour>[0-9]{1,2})
    (?:
        (?P<sep>[:.h])(?P<minute>[0-9]{2})?
    )?
    \s*
    (?P<meridiem>[ap])?(?(meridiem)\.?m\.?)
    """,
    re.VERBOSE,
)


def _to_24h(hour: int, meridiem: str | None) -> int | None:
    """Convert a 12-hour clock hour to 0-23, or check a 24-hour one; None if out of range."""
    if meridiem is None:
        return hour if 0 <= hour <= 23 else None
    if not 1 <= hour <= 12:
        return None
    return hour % 12 + (12 if meridiem == "p" else 0)


@lru_cache(maxsize=4096)  # the dispatcher reads every due row's stored time through it
def parse_local_time(text: str) -> time | None:
    """Parse a wall-clock time typed by a person.

    Accepted: "9:00", "09:00", "21:00", "9.30", "21h", "21h30", "9pm", "9 pm", "9:30 am",
    "9:30 a.m.", "noon", "midday", "midnight". A bare hour ("9") is rejected because it is
    ambiguous, as are out-of-range values such as "24:00", "12:60", "25:99" and "13pm".

    Args:
        text: The text to parse (case, surrounding whitespace and full-width characters
            are ignored).

    Returns:
        The time, or None if the text is not a valid time.
    """
    cleaned = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    if cleaned in _WORDS:
        return _WORDS[cleaned]
    match = _TIME_RE.fullmatch(cleaned)
    if match is None:
        return None
    sep, minute_text, meridiem = match["sep"], match["minute"], match["meridiem"]
    if sep is None and meridiem is None:
        return None  # a bare number
    if sep is not None and minute_text is None and sep != "h":
        return None  # "9:" or "9."
    hour = _to_24h(int(match["hour"]), meridiem)
    minute = int(minute_text) if minute_text else 0
    if hour is None or minute > 59:
        return None
    return time(hour, minute)


def stored_time(value: str) -> time:
    """Parse an "HH:MM" this bot stored (with `format_local_time`), as `parse_local_time` does.

    Raises:
        ValueError: If the stored value is not a time (a row written by hand).
    """
    parsed = parse_local_time(value)
    if parsed is None:
        raise ValueError(f"not a stored local time: {value!r}")
    return parsed


def format_local_time(value: time) -> str:
    """Format a time as zero-padded 24-hour "HH:MM" (seconds are dropped)."""
    return f"{value.hour:02d}:{value.minute:02d}"


def clean_label(text: str, max_chars: int = LABEL_MAX_CHARS) -> str:
    """Collapse whitespace in a label and cut it to `max_chars` characters."""
    return " ".join(text.split())[:max_chars].rstrip()


def local_clock(moment: datetime, zone: ZoneInfo) -> str:
    """Return the wall-clock "HH:MM" in `zone` at `moment`.

    Raises:
        ValueError: If `moment` is naive.
    """
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return format_local_time(moment.astimezone(zone).time())
