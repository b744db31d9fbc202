"""Turn what people type ("berlin", "UTC+2", "Asia/Kolkata", "+05:30") into an IANA zone.

Nothing here talks to the network: city names come from `content/cities.toml` (read and
checked by the content loader at start-up; `Places` is built on them once), zone names from
the installed tz database, fuzzy matching from rapidfuzz, and coordinates are looked up with
timezonefinder's offline data.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rapidfuzz import fuzz, process

from bot.content import normalize_place

COMMON_ZONES: tuple[str, ...] = (
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
)
"""Zones offered as quick buttons."""

MAX_SUGGESTIONS = 3
FUZZY_CUTOFF = 70.0
"""Minimum rapidfuzz ratio (0-100) for a fuzzy suggestion."""

MatchKind = Literal["zone", "offset", "city", "suggestions", "none"]

# Geographic areas of the tz database; other names are legacy aliases or Etc/ zones.
_AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)
_NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})
_ALIASES = {"z": "UTC"}
_MAX_OFFSET = timedelta(hours=14)
_MIN_OFFSET = -timedelta(hours=12)
_OFFSET_RE = re.compile(
    r"(?:utc|gmt)?\s*(?P<sign>[+-])\s*(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?"
)
_MIN_PREFIX_CHARS = 4


@dataclass(frozen=True)
class ZoneResolution:
    """The outcome of `Places.resolve`.

    Attributes:
        kind: How the text matched: "zone" (an IANA name), "offset" (a UTC offset), "city"
            (a city name), "suggestions" (no exact match, see `suggestions`) or "none".
        zone: The IANA zone name when the text resolved to exactly one zone, else None.
        suggestions: Up to MAX_SUGGESTIONS IANA zone names to offer when `zone` is None.
    """

    kind: MatchKind
    zone: str | None = None
    suggestions: tuple[str, ...] = ()

    @property
    def resolved(self) -> bool:
        """True when the text resolved to exactly one zone."""
        return self.zone is not None


# --------------------------------------------------------------------------------------------
# Normalisation and data


@lru_cache(maxsize=1)
def _all_zones() -> frozenset[str]:
    """Every usable zone name in the installed tz database."""
    return frozenset(available_timezones() - _NOT_ZONES)


@lru_cache(maxsize=1)
def _zones_by_folded_name() -> Mapping[str, str]:
    """Case-folded zone name -> zone name."""
    return {name.casefold(): name for name in _all_zones()}


@lru_cache(maxsize=1)
def _area_zones() -> tuple[str, ...]:
    """Sorted zone names in a geographic area (no Etc/ or legacy top-level aliases)."""
    return tuple(sorted(name for name in _all_zones() if name.split("/", 1)[0] in _AREAS))


@lru_cache(maxsize=4096)  # the dispatcher looks up every due row's zone
def zone_named(name: str | None) -> ZoneInfo | None:
    """Return the zone for a stored IANA name; None when it is unset or unknown."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def is_known_zone(name: str) -> bool:
    """Return True if `name` is an exact zone name in the installed tz database."""
    return name in _all_zones()


# --------------------------------------------------------------------------------------------
# Offsets


def _parse_offset(text: str) -> timedelta | None:
    """Parse "UTC+2", "GMT-5", "UTC+05:30", "+3", "utc +0530"; None if not an offset."""
    cleaned = text.casefold().replace("\u2212", "-").replace("\u2013", "-")  # minus, en dash
    match = _OFFSET_RE.fullmatch(cleaned.strip())
    if match is None:
        return None
    minutes = int(match["minutes"] or 0)
    if minutes >= 60:
        return None
    size = timedelta(hours=int(match["hours"]), minutes=minutes)
    return -size if match["sign"] == "-" else size


def _etc_zone(offset: timedelta) -> str:
    """Return the Etc/ zone for a whole-hour offset (POSIX signs: UTC+2 is Etc/GMT-2)."""
    hours = int(offset / timedelta(hours=1))
    return "UTC" if hours == 0 else f"Etc/GMT{-hours:+d}"


@lru_cache(maxsize=4)
def _offset_signatures(year: int, month: int) -> Mapping[str, tuple[timedelta | None, ...]]:
    """Each area zone's UTC offsets on the 1st and 15th of 12 months from (year, month).

    Zones with equal signatures keep the same clock for the coming year, so one of them can
    stand for all.
    """
    samples = [
        datetime(year + (month - 1 + step) // 12, (month - 1 + step) % 12 + 1, day, tzinfo=UTC)
        for step in range(12)
        for day in (1, 15)
    ]
    return {
        zone: tuple(sample.astimezone(ZoneInfo(zone)).utcoffset() for sample in samples)
        for zone in _area_zones()
    }


# --------------------------------------------------------------------------------------------
# Resolution


def _exact_zone(text: str) -> str | None:
    """Return the zone named by `text` ignoring case and spaces ("europe/ new york")."""
    key = re.sub(r"\s*/\s*", "/", text.strip().casefold())
    key = re.sub(r"\s+", "_", key)
    return _ALIASES.get(key) or _zones_by_folded_name().get(key)


def _unique(zones: list[str]) -> tuple[str, ...]:
    """Drop repeated zones, keeping the first MAX_SUGGESTIONS in order."""
    return tuple(dict.fromkeys(zones))[:MAX_SUGGESTIONS]


class Places:
    """The city index of `content/cities.toml`, and zone lookups that need it.

    Built once by the content loader; the indexes below are made on first use.
    """

    def __init__(self, cities: Mapping[str, str]) -> None:
        """Use `cities`: normalised city name -> IANA zone (see `read_cities`)."""
        self.cities = cities

    @cached_property
    def _index(self) -> Mapping[str, str]:
        """Normalised place name -> zone: the cities file, then the last part of zone names."""
        index = dict(self.cities)
        for zone in _area_zones():
            index.setdefault(normalize_place(zone.rsplit("/", 1)[-1]), zone)
        return index

    @cached_property
    def _fuzzy(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Parallel tuples (normalised names, zones) to match misspellings against."""
        choices = dict(self._index)
        for zone in _area_zones():
            choices.setdefault(normalize_place(zone), zone)
        return tuple(choices), tuple(choices.values())

    @cached_property
    def _counts(self) -> Counter[str]:
        """How many city names point at each zone (a measure of how well known it is)."""
        return Counter(self.cities.values())

    def _prefix_matches(self, words: list[str]) -> list[str]:
        """Zones of places named by the leading words of the text ("paris france" -> Paris)."""
        index = self._index
        found: list[str] = []
        for count in range(len(words) - 1, 0, -1):
            prefix = " ".join(words[:count])
            if len(prefix) >= _MIN_PREFIX_CHARS and prefix in index:
                found.append(index[prefix])
        return found

    def _fuzzy_matches(self, query: str) -> list[str]:
        """Zones whose place or zone name is close to `query`, best first."""
        names, zones = self._fuzzy
        results = process.extract(
            query, names, scorer=fuzz.ratio, limit=4 * MAX_SUGGESTIONS, score_cutoff=FUZZY_CUTOFF
        )
        return [zones[position] for _name, _score, position in results]

    def resolve(self, text: str, *, at: datetime | None = None) -> ZoneResolution:
        """Resolve what a person typed to an IANA zone, or to suggestions.

        Tried in order: an IANA name in any case ("europe/berlin", "UTC", "Z"); a UTC offset
        ("UTC+2" -> "Etc/GMT-2", "+05:30" -> "Asia/Kolkata"); a city ("new york", "São Paulo",
        "Berlin, Germany"); and finally up to MAX_SUGGESTIONS fuzzy matches ("berln").

        Args:
            text: The text to resolve.
            at: When offsets should hold (only for offsets with minutes); defaults to now.

        Returns:
            The resolution; `zone` is set only for an unambiguous match.

        Raises:
            ValueError: If `at` is naive.
        """
        if at is not None and at.utcoffset() is None:
            raise ValueError("at must be timezone-aware")
        if not text.strip():
            return ZoneResolution("none")
        exact = _exact_zone(text)
        if exact is not None:
            return ZoneResolution("zone", exact)
        offset = _parse_offset(text)
        if offset is not None:
            return self._resolve_offset(offset, at if at is not None else datetime.now(UTC))
        index = self._index
        for candidate in (text, text.split(",", 1)[0]):
            zone = index.get(normalize_place(candidate))
            if zone is not None:
                return ZoneResolution("city", zone)
        query = normalize_place(text)
        suggestions = _unique(self._prefix_matches(query.split()) + self._fuzzy_matches(query))
        if suggestions:
            return ZoneResolution("suggestions", suggestions=suggestions)
        return ZoneResolution("none")

    def _representative(self, zones: list[str]) -> str:
        """Pick the best-known zone of a group: most city names, then shortest, then A-Z."""
        counts = self._counts
        return min(zones, key=lambda zone: (-counts[zone], len(zone), zone))

    def _one_per_clock(self, zones: list[str], year: int, month: int) -> tuple[str, ...]:
        """Merge zones that keep identical clocks for the next year; best-known groups first."""
        signatures = _offset_signatures(year, month)
        groups: dict[tuple[timedelta | None, ...], list[str]] = {}
        for zone in zones:
            groups.setdefault(signatures[zone], []).append(zone)
        representatives = [self._representative(group) for group in groups.values()]
        counts = self._counts
        return tuple(sorted(representatives, key=lambda zone: (-counts[zone], zone)))

    def zones_with_offset(self, offset: timedelta, at: datetime) -> tuple[str, ...]:
        """Return one zone per distinct clock that is at `offset` from UTC at `at`.

        Zones that keep identical clocks for the next year are merged and represented by their
        best-known member (most city names). Best-known zones come first.

        Args:
            offset: The UTC offset.
            at: An aware datetime: when the offset should hold.

        Returns:
            Zone names, possibly empty.
        """
        matching = [
            zone for zone in _area_zones() if at.astimezone(ZoneInfo(zone)).utcoffset() == offset
        ]
        return self._one_per_clock(matching, at.year, at.month)

    def _zones_with_offset_this_year(self, offset: timedelta, at: datetime) -> tuple[str, ...]:
        """Like `zones_with_offset`, for zones at `offset` at some time in the coming year."""
        signatures = _offset_signatures(at.year, at.month)
        matching = [zone for zone, signature in signatures.items() if offset in signature]
        return self._one_per_clock(matching, at.year, at.month)

    def _resolve_offset(self, offset: timedelta, at: datetime) -> ZoneResolution:
        """Map a UTC offset to an Etc/ zone, or to a real zone for offsets with minutes.

        An offset with minutes resolves when exactly one clock has it at `at`; several clocks
        (or only clocks that have it at another season) become suggestions.
        """
        if not _MIN_OFFSET <= offset <= _MAX_OFFSET:
            return ZoneResolution("none")
        if offset % timedelta(hours=1) == timedelta(0):
            return ZoneResolution("offset", _etc_zone(offset))
        current = self.zones_with_offset(offset, at)
        if len(current) == 1:
            return ZoneResolution("offset", current[0])
        candidates = current or self._zones_with_offset_this_year(offset, at)
        if candidates:
            return ZoneResolution("suggestions", suggestions=candidates[:MAX_SUGGESTIONS])
        return ZoneResolution("none")


# --------------------------------------------------------------------------------------------
# Coordinates and labels


@lru_cache(maxsize=1)
def _finder() -> Any:
    """Create the (offline) TimezoneFinder once, on first use."""
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def zone_from_location(latitude: float, longitude: float) -> str | None:
    """Return the zone at a point (for a shared Telegram location), or None.

    Args:
        latitude: Degrees north, -90 to 90.
        longitude: Degrees east, -180 to 180.

    Returns:
        The IANA zone name (an Etc/ zone at sea), or None for invalid coordinates or a zone
        the installed tz database does not know.
    """
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    zone = _finder().timezone_at(lng=longitude, lat=latitude)
    return zone if isinstance(zone, str) and is_known_zone(zone) else None


def format_utc_offset(offset: timedelta) -> str:
    """Format an offset as "UTC+05:30" / "UTC-05:00" (seconds are dropped)."""
    sign = "-" if offset < timedelta(0) else "+"
    minutes = int(abs(offset) / timedelta(minutes=1))
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def zone_label(name: str, at: datetime) -> str:
    """Return a button label such as "Europe/Berlin (UTC+01:00)" for the offset at `at`.

    Raises:
        ValueError: If `at` is naive.
        zoneinfo.ZoneInfoNotFoundError: If `name` is not a zone.
    """
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    offset = at.astimezone(ZoneInfo(name)).utcoffset() or timedelta(0)
    return f"{name} ({format_utc_offset(offset)})"
