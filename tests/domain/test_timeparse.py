from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.timeparse import (
    LABEL_MAX_CHARS,
    clean_label,
    format_local_time,
    parse_local_time,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9:00", time(9, 0)),
        ("09:00", time(9, 0)),
        ("0:05", time(0, 5)),
        ("00:00", time(0, 0)),
        ("21:00", time(21, 0)),
        ("23:59", time(23, 59)),
        ("9.30", time(9, 30)),
        ("21h", time(21, 0)),
        ("21h30", time(21, 30)),
        ("9h", time(9, 0)),
        ("9pm", time(21, 0)),
        ("9 pm", time(21, 0)),
        ("9PM", time(21, 0)),
        ("9 p.m.", time(21, 0)),
        ("9:30 am", time(9, 30)),
        ("9:30am", time(9, 30)),
        ("9:30 a.m.", time(9, 30)),
        ("12am", time(0, 0)),
        ("12:15 am", time(0, 15)),
        ("12pm", time(12, 0)),
        ("12:45 pm", time(12, 45)),
        ("1 am", time(1, 0)),
        ("11:59 pm", time(23, 59)),
        ("noon", time(12, 0)),
        ("Midnight", time(0, 0)),
        ("midday", time(12, 0)),
        ("  9:00  ", time(9, 0)),
        ("９：３０", time(9, 30)),  # full-width digits and colon
    ],
)
def test_accepted(text: str, expected: time) -> None:
    assert parse_local_time(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "9",  # a bare hour is ambiguous
        "21",
        "25:99",
        "24:00",
        "12:60",
        "13pm",
        "0am",
        "0 pm",
        "9:",
        "9.",
        "9:5",
        "9:300",
        "123:00",
        "-1:00",
        "9 : 30",
        "9 p",
        "9pm pm",
        "9amx",
        "9:30 magnesium",
        "noonish",
        "21h pm",
    ],
)
def test_rejected(text: str) -> None:
    assert parse_local_time(text) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [(time(9, 0), "09:00"), (time(0, 5), "00:05"), (time(23, 59, 30), "23:59")],
)
def test_format(value: time, text: str) -> None:
    assert format_local_time(value) == text


@settings(max_examples=200)
@given(st.integers(0, 23), st.integers(0, 59))
def test_format_then_parse_round_trips(hour: int, minute: int) -> None:
    value = time(hour, minute)
    assert parse_local_time(format_local_time(value)) == value


@settings(max_examples=200)
@given(st.integers(0, 23), st.integers(0, 59), st.sampled_from(["am", "pm", " AM", " p.m."]))
def test_twelve_hour_clock(hour: int, minute: int, suffix: str) -> None:
    twelve = hour % 12 or 12
    meridiem_is_pm = "p" in suffix.lower()
    parsed = parse_local_time(f"{twelve}:{minute:02d}{suffix}")
    expected_hour = twelve % 12 + (12 if meridiem_is_pm else 0)
    assert parsed == time(expected_hour, minute)


@settings(max_examples=200)
@given(st.text(max_size=12))
def test_never_raises(text: str) -> None:
    result = parse_local_time(text)
    assert result is None or isinstance(result, time)


def test_clean_label() -> None:
    assert clean_label("  a\tb\n\nc  ") == "a b c"
    assert clean_label("x" * 150) == "x" * LABEL_MAX_CHARS
    assert clean_label("abc def", max_chars=4) == "abc"
