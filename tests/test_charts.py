"""The chart renderer: a valid PNG of sensible size that draws what the numbers say."""

from __future__ import annotations

import io
import os
import signal
from datetime import date, timedelta

import pytest
from PIL import Image

from bot.charts import (
    ABOVE_LIMIT_COLOR,
    FOOD_COLOR,
    SUPPLEMENT_COLOR,
    ChartLabels,
    ChartRenderer,
    render_png,
)
from bot.domain.chart import MONTH_DAYS, WEEK_DAYS, ChartData, chart_data
from bot.domain.diary import EntryKind, Logged

TODAY = date(2026, 3, 2)


def labels(days: int) -> ChartLabels:
    return ChartLabels(
        title="Your magnesium, Tue 24 Feb – Mon 2 Mar",
        total_title="Food and supplements per day",
        supplement_title="Supplements alone",
        doses_title="Doses from your reminders",
        y_unit="mg",
        food="Food",
        supplements="Supplements",
        need_line="Your RDA: 320 mg",
        limit_line="Upper limit for supplements: 350 mg",
        taken="taken",
        skipped="skipped",
        nothing_logged="Nothing logged yet",
        days=tuple(f"D\n{n}" for n in range(days)),
    )


def data(*entries: Logged, days: int = WEEK_DAYS) -> ChartData:
    answers = [(TODAY, "taken"), (TODAY - timedelta(days=1), "skipped")]
    return chart_data(entries, answers, TODAY, days, need_mg=320, limit_mg=350)


def pixels_of(png: bytes, color: str) -> int:
    """How many pixels of the image have exactly this color."""
    wanted = tuple(int(color[i : i + 2], 16) for i in (1, 3, 5))
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(count for count, rgb in image.getcolors(maxcolors=1 << 20) or [] if rgb == wanted)


def check_png(png: bytes, width_range: range, height_range: range) -> None:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.verify()  # a truncated or corrupt file raises here
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    width, height = image.size
    assert width in width_range, image.size
    assert height in height_range, image.size
    assert 5_000 < len(png) < 500_000  # drawn, and small enough for a quick upload


def test_a_week_chart_is_a_valid_png_of_sensible_size() -> None:
    png = render_png(data(Logged(TODAY, EntryKind.FOOD, 141)), labels(WEEK_DAYS))
    check_png(png, range(700, 1300), range(500, 900))


def test_a_month_chart_is_wider() -> None:
    week = Image.open(io.BytesIO(render_png(data(), labels(WEEK_DAYS))))
    month = Image.open(io.BytesIO(render_png(data(days=MONTH_DAYS), labels(MONTH_DAYS))))
    assert month.size[0] > week.size[0]
    assert month.size[1] == week.size[1]


def test_the_bars_show_food_supplements_and_doses_above_the_limit() -> None:
    empty = render_png(data(), labels(WEEK_DAYS))
    legend = {c: pixels_of(empty, c) for c in (FOOD_COLOR, SUPPLEMENT_COLOR, ABOVE_LIMIT_COLOR)}
    assert all(0 < n < 500 for n in legend.values())  # swatches and the limit line only
    food_only = render_png(data(Logged(TODAY, EntryKind.FOOD, 300)), labels(WEEK_DAYS))
    assert pixels_of(food_only, FOOD_COLOR) > legend[FOOD_COLOR] + 5000
    assert pixels_of(food_only, SUPPLEMENT_COLOR) == legend[SUPPLEMENT_COLOR]
    within = render_png(data(Logged(TODAY, EntryKind.SUPPLEMENT, 200)), labels(WEEK_DAYS))
    assert pixels_of(within, SUPPLEMENT_COLOR) > legend[SUPPLEMENT_COLOR] + 5000
    assert pixels_of(within, ABOVE_LIMIT_COLOR) == legend[ABOVE_LIMIT_COLOR]
    above = render_png(data(Logged(TODAY, EntryKind.SUPPLEMENT, 400)), labels(WEEK_DAYS))
    assert pixels_of(above, ABOVE_LIMIT_COLOR) > legend[ABOVE_LIMIT_COLOR] + 3000  # the red bar
    # Below the lines the scale stays put: a second bar twice as tall adds twice the area.
    one = render_png(data(Logged(TODAY, EntryKind.FOOD, 100)), labels(WEEK_DAYS))
    two = render_png(
        data(
            Logged(TODAY, EntryKind.FOOD, 100),
            Logged(TODAY - timedelta(days=3), EntryKind.FOOD, 200),
        ),
        labels(WEEK_DAYS),
    )
    first_bar = pixels_of(one, FOOD_COLOR) - legend[FOOD_COLOR]
    second_bar = pixels_of(two, FOOD_COLOR) - pixels_of(one, FOOD_COLOR)
    assert second_bar == pytest.approx(2 * first_bar, rel=0.05)


def test_a_tick_label_per_day_is_required() -> None:
    with pytest.raises(ValueError, match="one tick label per day"):
        render_png(data(), labels(3))


async def test_the_thread_renderer_caches_what_it_drew() -> None:
    renderer = ChartRenderer(workers=0)
    chart = data(Logged(TODAY, EntryKind.FOOD, 141))
    first = await renderer.render(chart, labels(WEEK_DAYS))
    again = await renderer.render(chart, labels(WEEK_DAYS))
    other = await renderer.render(data(Logged(TODAY, EntryKind.FOOD, 142)), labels(WEEK_DAYS))
    assert (first.cached, again.cached, other.cached) == (False, True, False)
    assert again.png == first.png
    assert other.png != first.png
    assert first.seconds > 0
    await renderer.close()


async def test_the_process_renderer_draws_in_another_process_and_survives_its_death() -> None:
    renderer = ChartRenderer(workers=1, cache_size=0)
    try:
        chart = data(Logged(TODAY, EntryKind.FOOD, 141))
        first = await renderer.render(chart, labels(WEEK_DAYS))
        check_png(first.png, range(700, 1300), range(500, 900))
        pool = renderer._pool
        assert pool is not None
        pids = [w.pid for w in pool._processes.values() if w.pid is not None]
        assert pids
        assert os.getpid() not in pids
        for worker in list(pool._processes.values()):  # as if the OOM killer took them
            assert worker.pid is not None
            os.kill(worker.pid, signal.SIGKILL)
            worker.join(timeout=10)
        again = await renderer.render(chart, labels(WEEK_DAYS))
        assert again.png == first.png
        assert renderer._pool is not pool
    finally:
        await renderer.close()
    assert renderer._pool is None
