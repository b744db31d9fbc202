from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

import pytest

from bot.content import CONTENT_DIR, ContentError, load_content, normalize_place, read_cities
from bot.domain.timezones import (
    COMMON_ZONES,
    MAX_SUGGESTIONS,
    Places,
    ZoneResolution,
    format_utc_offset,
    is_known_zone,
    zone_from_location,
    zone_label,
)

CITIES_FILE = CONTENT_DIR / "cities.toml"
PLACES = Places(read_cities(CITIES_FILE))

JANUARY = datetime(2025, 1, 15, 12, tzinfo=UTC)
JULY = datetime(2025, 7, 15, 12, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Exact zone names


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("  EUROPE/BERLIN ", "Europe/Berlin"),
        ("america/new_york", "America/New_York"),
        ("America/New York", "America/New_York"),
        ("america / argentina / buenos aires", "America/Argentina/Buenos_Aires"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("GMT", "GMT"),
        ("Z", "UTC"),
        ("z", "UTC"),
        ("Etc/GMT-2", "Etc/GMT-2"),  # an exact name keeps its (POSIX) meaning
        ("asia/kolkata", "Asia/Kolkata"),
    ],
)
def test_exact_zone_names(text: str, zone: str) -> None:
    assert PLACES.resolve(text) == ZoneResolution("zone", zone)


# --------------------------------------------------------------------------------------------
# Offsets


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("UTC+2", "Etc/GMT-2"),
        ("utc+2", "Etc/GMT-2"),
        ("UTC +2", "Etc/GMT-2"),
        ("UTC + 02", "Etc/GMT-2"),
        ("UTC+02:00", "Etc/GMT-2"),
        ("GMT-5", "Etc/GMT+5"),
        ("gmt−5", "Etc/GMT+5"),  # U+2212 minus sign
        ("+3", "Etc/GMT-3"),
        ("-3", "Etc/GMT+3"),
        ("+14", "Etc/GMT-14"),
        ("-12", "Etc/GMT+12"),
        ("UTC+0", "UTC"),
        ("UTC-00:00", "UTC"),
        ("UTC+05:30", "Asia/Kolkata"),
        ("+0530", "Asia/Kolkata"),
        ("+5:30", "Asia/Kolkata"),
        ("UTC+05:45", "Asia/Kathmandu"),
        ("+04:30", "Asia/Kabul"),
        ("+03:30", "Asia/Tehran"),
        ("-09:30", "Pacific/Marquesas"),
    ],
)
def test_offsets(text: str, zone: str) -> None:
    assert PLACES.resolve(text, at=JANUARY) == ZoneResolution("offset", zone)


@pytest.mark.parametrize("text", ["UTC+15", "-13", "UTC+2:60", "+99", "+07:15"])
def test_impossible_offsets(text: str) -> None:
    assert PLACES.resolve(text, at=JANUARY) == ZoneResolution("none")


def test_whole_hour_offsets_match_their_etc_zone() -> None:
    for hours in range(-12, 15):
        resolution = PLACES.resolve(f"UTC{hours:+d}")
        assert resolution.zone is not None
        assert ZoneInfo(resolution.zone).utcoffset(JANUARY) == timedelta(hours=hours)


def test_an_offset_two_clocks_share_gives_suggestions() -> None:
    # In July (southern winter) Darwin and Adelaide are both +09:30, but Adelaide will move
    # to +10:30 in October: ask which.
    july = PLACES.resolve("+09:30", at=JULY)
    assert july.kind == "suggestions"
    assert july.zone is None
    assert set(july.suggestions) == {"Australia/Darwin", "Australia/Adelaide"}
    # In January only Darwin is at +09:30.
    assert PLACES.resolve("+09:30", at=JANUARY) == ZoneResolution("offset", "Australia/Darwin")


def test_an_offset_that_only_holds_in_another_season_is_suggested() -> None:
    # Chatham is +12:45 in winter and +13:45 in summer (January).
    assert PLACES.resolve("+12:45", at=JULY) == ZoneResolution("offset", "Pacific/Chatham")
    january = PLACES.resolve("+12:45", at=JANUARY)
    assert january == ZoneResolution("suggestions", suggestions=("Pacific/Chatham",))


def test_zones_with_offset_merges_identical_clocks() -> None:
    # Kolkata, Colombo (and the old name Asia/Calcutta) share one clock.
    assert PLACES.zones_with_offset(timedelta(hours=5, minutes=30), JANUARY) == ("Asia/Kolkata",)
    whole_hour = PLACES.zones_with_offset(timedelta(hours=1), JANUARY)
    assert "Europe/Berlin" in whole_hour
    assert "Africa/Lagos" in whole_hour  # +01 all year: a different clock from Berlin's
    for zone in whole_hour:
        assert ZoneInfo(zone).utcoffset(JANUARY) == timedelta(hours=1)


# --------------------------------------------------------------------------------------------
# Cities


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("berlin", "Europe/Berlin"),
        ("Berlin", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("New-York", "America/New_York"),
        ("NEW  YORK", "America/New_York"),
        ("nyc", "America/New_York"),
        ("la", "America/Los_Angeles"),
        ("sf", "America/Los_Angeles"),
        ("são paulo", "America/Sao_Paulo"),
        ("Sao Paulo", "America/Sao_Paulo"),
        ("bombay", "Asia/Kolkata"),
        ("mumbai", "Asia/Kolkata"),
        ("kiev", "Europe/Kyiv"),
        ("kyiv", "Europe/Kyiv"),
        ("saint petersburg", "Europe/Moscow"),
        ("St. Petersburg", "Europe/Moscow"),
        ("Saint-Petersburg", "Europe/Moscow"),
        ("St. John's", "America/St_Johns"),
        ("München", "Europe/Berlin"),
        ("Berlin, Germany", "Europe/Berlin"),
        ("kathmandu", "Asia/Kathmandu"),
        # Not in the cities file, but the last part of a zone name:
        ("Ulan Bator", "Asia/Ulan_Bator"),
        ("Vladivostok", "Asia/Vladivostok"),
        ("Port Moresby", "Pacific/Port_Moresby"),
    ],
)
def test_cities(text: str, zone: str) -> None:
    assert PLACES.resolve(text) == ZoneResolution("city", zone)


# --------------------------------------------------------------------------------------------
# Suggestions


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("berln", "Europe/Berlin"),
        ("Berlni", "Europe/Berlin"),
        ("lodnon", "Europe/London"),
        ("new yrok", "America/New_York"),
        ("tokio", "Asia/Tokyo"),
        ("sydny", "Australia/Sydney"),
        ("kathmandoo", "Asia/Kathmandu"),
        ("moskow", "Europe/Moscow"),
        ("europe/berln", "Europe/Berlin"),
        ("america/new_yrok", "America/New_York"),
        ("paris france", "Europe/Paris"),
    ],
)
def test_suggestions(text: str, zone: str) -> None:
    resolution = PLACES.resolve(text)
    assert resolution.kind == "suggestions"
    assert not resolution.resolved
    assert resolution.zone is None
    assert resolution.suggestions[0] == zone
    assert len(resolution.suggestions) <= MAX_SUGGESTIONS
    assert len(set(resolution.suggestions)) == len(resolution.suggestions)
    assert all(is_known_zone(name) for name in resolution.suggestions)


@pytest.mark.parametrize("text", ["", "   ", "xyzzy", "qwerty", "asdf", "🙂", "+"])
def test_nothing_matches(text: str) -> None:
    assert PLACES.resolve(text) == ZoneResolution("none")


def test_naive_at_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        PLACES.resolve("+05:30", at=datetime(2025, 1, 1))  # noqa: DTZ001


def test_resolution_flags() -> None:
    assert PLACES.resolve("berlin").resolved
    assert not PLACES.resolve("xyzzy").resolved


# --------------------------------------------------------------------------------------------
# The cities file


def test_cities_file_is_complete_and_valid() -> None:
    index = PLACES.cities
    assert len(index) >= 150
    zones = available_timezones()
    assert all(zone in zones for zone in index.values())
    assert all(name == normalize_place(name) for name in index)
    for alias in ("new york", "nyc", "la", "sf", "bombay", "kiev", "kyiv", "saint petersburg"):
        assert alias in index
    assert CITIES_FILE.name == "cities.toml"


def test_cities_are_loaded_with_the_content_and_a_broken_file_stops_it(tmp_path: Path) -> None:
    assert dict(load_content().cities) == dict(PLACES.cities)
    for item in CONTENT_DIR.rglob("*.toml"):
        target = tmp_path / item.relative_to(CONTENT_DIR)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.read_bytes())
    (tmp_path / "cities.toml").write_text('[cities]\n"atlantis" = "Ocean/Atlantis"\n')
    with pytest.raises(ContentError, match=r"cities\.toml.*atlantis"):
        load_content(tmp_path)


def test_read_cities_rejects_unknown_zones(tmp_path: Path) -> None:
    path = tmp_path / "cities.toml"
    path.write_text('[cities]\n"atlantis" = "Ocean/Atlantis"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="atlantis"):
        read_cities(path)


def test_read_cities_rejects_clashing_spellings(tmp_path: Path) -> None:
    path = tmp_path / "cities.toml"
    path.write_text(
        '[cities]\n"são paulo" = "America/Sao_Paulo"\n"Sao-Paulo" = "Europe/Lisbon"\n',
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="clashes"):
        read_cities(path)


def test_read_cities_needs_a_table(tmp_path: Path) -> None:
    path = tmp_path / "cities.toml"
    path.write_text('berlin = "Europe/Berlin"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[cities\]"):
        read_cities(path)


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("São Paulo", "sao paulo"),
        ("New-York", "new york"),
        ("St. John's", "st johns"),
        ("  Europe/Berlin ", "europe berlin"),
        ("Köln", "koln"),
        ("América/Port_au_Prince", "america port au prince"),
    ],
)
def test_normalize_place(text: str, normal: str) -> None:
    assert normalize_place(text) == normal


# --------------------------------------------------------------------------------------------
# Coordinates


@pytest.mark.parametrize(
    ("latitude", "longitude", "zone"),
    [
        (52.52, 13.405, "Europe/Berlin"),
        (40.7128, -74.006, "America/New_York"),
        (-33.8688, 151.2093, "Australia/Sydney"),
        (27.7172, 85.324, "Asia/Kathmandu"),
        (19.076, 72.8777, "Asia/Kolkata"),
    ],
)
def test_zone_from_location(latitude: float, longitude: float, zone: str) -> None:
    assert zone_from_location(latitude, longitude) == zone


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [(91.0, 0.0), (-91.0, 0.0), (0.0, 181.0), (0.0, -181.0), (float("nan"), 0.0)],
)
def test_zone_from_location_rejects_bad_coordinates(latitude: float, longitude: float) -> None:
    assert zone_from_location(latitude, longitude) is None


def test_zone_from_location_at_sea_is_a_known_zone() -> None:
    zone = zone_from_location(0.0, -30.0)
    assert zone is None or is_known_zone(zone)


# --------------------------------------------------------------------------------------------
# Buttons and labels


def test_common_zones() -> None:
    assert 6 <= len(COMMON_ZONES) <= 10
    assert len(set(COMMON_ZONES)) == len(COMMON_ZONES)
    assert all(is_known_zone(zone) for zone in COMMON_ZONES)


@pytest.mark.parametrize(
    ("zone", "at", "label"),
    [
        ("Europe/Berlin", JANUARY, "Europe/Berlin (UTC+01:00)"),
        ("Europe/Berlin", JULY, "Europe/Berlin (UTC+02:00)"),
        ("America/New_York", JANUARY, "America/New_York (UTC-05:00)"),
        ("Asia/Kathmandu", JANUARY, "Asia/Kathmandu (UTC+05:45)"),
        ("America/St_Johns", JANUARY, "America/St_Johns (UTC-03:30)"),
        ("UTC", JANUARY, "UTC (UTC+00:00)"),
    ],
)
def test_zone_label(zone: str, at: datetime, label: str) -> None:
    assert zone_label(zone, at) == label


def test_zone_label_needs_an_aware_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        zone_label("Europe/Berlin", datetime(2025, 1, 1))  # noqa: DTZ001


def test_format_utc_offset() -> None:
    assert format_utc_offset(timedelta(0)) == "UTC+00:00"
    assert format_utc_offset(timedelta(hours=-9, minutes=-30)) == "UTC-09:30"
    assert format_utc_offset(timedelta(hours=13, minutes=45)) == "UTC+13:45"
