"""Draw the /week and /month charts with matplotlib (Agg), away from the event loop.

`render_png` draws what `bot.domain.chart.chart_data` worked out; every word on the chart comes
in `ChartLabels`, filled from `content/texts/`. It uses matplotlib's object API and the Agg
canvas directly (no pyplot, so no global figure state).

`ChartRenderer` runs it in a pool of worker processes (`CHART_WORKERS`, default 1): drawing a
chart is CPU work that holds the GIL, and in another process it cannot slow anyone else's
reply. With `CHART_WORKERS=0` charts are drawn in a thread of the bot's own process instead
(no extra process; other replies then share the CPU with the drawing). Finished charts are
kept in a small cache keyed by their numbers and words, so asking again costs nothing.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
import multiprocessing
import threading
import time
from collections import OrderedDict
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain.chart import ChartData

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
from bot.domain.diary import above_limit

log = logging.getLogger(__name__)

CACHE_SIZE = 64  # charts; a week chart is about 25 KB
DPI = 100
HEIGHT_IN = 6.4
FOOD_COLOR = "#4f9d5d"
SUPPLEMENT_COLOR = "#3f6fb5"
ABOVE_LIMIT_COLOR = "#c8423b"
NEED_COLOR = "#2d6a36"
LIMIT_COLOR = "#c8423b"
TAKEN_COLOR = "#2f8f46"
SKIPPED_COLOR = "#8a8a8a"
MAX_TICK_LABELS = 12  # a month labels every few days

# matplotlib's text layout caches are not safe to share between threads: one drawing at a time
# per process (each worker process has its own). `render_timed` holds it.
_DRAWING = threading.Lock()


@dataclass(frozen=True)
class ChartLabels:
    """Every word drawn on a chart (plain text, not HTML), from the texts files."""

    title: str
    total_title: str
    supplement_title: str
    doses_title: str
    y_unit: str
    food: str
    supplements: str
    need_line: str
    limit_line: str
    taken: str
    skipped: str
    nothing_logged: str
    days: tuple[str, ...]  # one tick label per day, oldest first


def width_of(days: int) -> float:
    """Return the figure width in inches for a chart of `days` days."""
    return 8.0 if days <= 7 else 10.5  # a month needs room for 30 bars


def render_png(data: ChartData, labels: ChartLabels) -> bytes:
    """Draw the chart and return it as PNG bytes.

    Three panels share the days: food and supplements stacked against the RDA line (the RDA
    counts both); supplements alone against the upper limit (bars above it in red); and the
    reminder doses taken and skipped each day.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    if len(labels.days) != len(data.days):
        raise ValueError("one tick label per day is needed")
    count = len(data.days)
    xs = list(range(count))
    food = [d.food_mg for d in data.days]
    supplement = [d.supplement_mg for d in data.days]
    figure = Figure(figsize=(width_of(count), HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    total_ax, supplement_ax, doses_ax = figure.subplots(
        3, 1, sharex=True, gridspec_kw={"height_ratios": [3.2, 1.9, 0.9]}
    )
    # Fixed margins: an automatic layout would draw the whole figure twice.
    figure.subplots_adjust(left=0.09, right=0.98, top=0.9, bottom=0.09, hspace=0.42)
    figure.suptitle(labels.title, fontsize=13)
    bar_width = 0.7 if count <= 7 else 0.8

    # 1. Food and supplements together, against the RDA.
    total_ax.set_title(labels.total_title, fontsize=10, loc="left")
    _bars(total_ax, food, [0.0] * count, bar_width, [FOOD_COLOR] * count)
    _bars(total_ax, supplement, food, bar_width, [SUPPLEMENT_COLOR] * count)
    total_ax.axhline(data.need_mg, color=NEED_COLOR, linestyle="--", linewidth=1.6)
    top = data.highest_mg * 1.22 or 1.0
    total_ax.set_ylim(0, top)
    total_ax.set_ylabel(labels.y_unit)
    if count <= 14:
        for x, day in zip(xs, data.days, strict=True):
            if day.total_mg > 0:
                total_ax.text(
                    x,
                    day.total_mg,
                    f"{day.total_mg:.0f}",
                    ha="center",
                    va="bottom",
                    fontsize=8,
                )
    if not data.logged_days:
        total_ax.text(
            0.5, 0.55, labels.nothing_logged, transform=total_ax.transAxes, ha="center",
            fontsize=12, color=SKIPPED_COLOR,
        )  # fmt: skip
    _legend(
        total_ax,
        [
            Patch(color=FOOD_COLOR, label=labels.food),
            Patch(color=SUPPLEMENT_COLOR, label=labels.supplements),
            Line2D([], [], color=NEED_COLOR, linestyle="--", label=labels.need_line),
        ],
    )

    # 2. Supplements alone, against the upper limit.
    supplement_ax.set_title(labels.supplement_title, fontsize=10, loc="left")
    colors = [
        ABOVE_LIMIT_COLOR if above_limit(mg, data.limit_mg) else SUPPLEMENT_COLOR
        for mg in supplement
    ]
    _bars(supplement_ax, supplement, [0.0] * count, bar_width, colors)
    supplement_top = max([*supplement, 1.0])
    if data.limit_mg is not None:
        supplement_ax.axhline(data.limit_mg, color=LIMIT_COLOR, linestyle=":", linewidth=1.8)
        limit = Line2D([], [], color=LIMIT_COLOR, linestyle=":", label=labels.limit_line)
        _legend(supplement_ax, [limit])
        supplement_top = max(supplement_top, data.limit_mg)
    supplement_ax.set_ylim(0, supplement_top * 1.35)
    supplement_ax.set_ylabel(labels.y_unit)

    # 3. Doses from reminders: a mark per day, with the count when there were several.
    doses_ax.set_title(labels.doses_title, fontsize=10, loc="left")
    for row, attr, color, marker in (
        (1, "taken", TAKEN_COLOR, "o"),
        (0, "skipped", SKIPPED_COLOR, "X"),
    ):
        days = [(x, getattr(d, attr)) for x, d in zip(xs, data.days, strict=True)]
        marked = [(x, n) for x, n in days if n > 0]
        if marked:
            doses_ax.scatter(
                [x for x, _ in marked], [row] * len(marked), s=70, color=color, marker=marker
            )
        for x, n in marked:
            if n > 1:
                doses_ax.text(x + 0.18, row, f"×{n}", va="center", fontsize=8)
    doses_ax.set_yticks([0, 1], [labels.skipped, labels.taken], fontsize=8)
    doses_ax.set_ylim(-0.6, 1.6)
    doses_ax.set_xlim(-0.6, count - 0.4)
    step = max(1, math.ceil(count / MAX_TICK_LABELS))
    shown = [x for x in xs if (count - 1 - x) % step == 0]  # always label today
    doses_ax.set_xticks(shown, [labels.days[x] for x in shown], fontsize=8)
    for ax in (total_ax, supplement_ax):
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4))  # fewer labels to lay out
    for ax in (total_ax, supplement_ax, doses_ax):
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", alpha=0.25)
    doses_ax.grid(False)
    buffer = io.BytesIO()
    # Light compression: a third of the encoding time for a file twice as large (~60 KB).
    figure.savefig(
        buffer,
        format="png",
        dpi=DPI,
        metadata={"Software": None},
        pil_kwargs={"compress_level": 1},
    )
    return buffer.getvalue()


def _legend(ax: Axes, handles: list[Artist]) -> None:
    """Put a legend on the right, on the line of the panel's title."""
    ax.legend(
        handles=handles,
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=8,
        frameon=False,
        ncols=len(handles),
        borderaxespad=0.1,
    )


def _bars(
    ax: Axes, heights: list[float], bottoms: list[float], width: float, colors: list[str]
) -> None:
    """Draw one bar per day as a single collection (much cheaper than one patch per bar)."""
    from matplotlib.collections import PolyCollection

    half = width / 2
    boxes = [
        [(x - half, low), (x + half, low), (x + half, low + h), (x - half, low + h)]
        for x, (h, low) in enumerate(zip(heights, bottoms, strict=True))
        if h > 0
    ]
    shown = [c for c, h in zip(colors, heights, strict=True) if h > 0]
    if boxes:
        ax.add_collection(PolyCollection(boxes, facecolors=shown, edgecolors="none"))


def render_timed(data: ChartData, labels: ChartLabels) -> tuple[bytes, float]:
    """Draw the chart; return the PNG and the seconds the drawing took (runs in a worker).

    One drawing at a time per process; the time is the drawing's, not the wait before it.
    """
    with _DRAWING:
        started = time.perf_counter()
        png = render_png(data, labels)
        return png, time.perf_counter() - started


@dataclass(frozen=True)
class Rendered:
    """A finished chart: the PNG, how long drawing it took, and whether it came from the cache."""

    png: bytes
    seconds: float
    cached: bool = False


class ChartRenderer:
    """Draws charts off the event loop, in worker processes (or a thread), with a small cache."""

    def __init__(self, workers: int, cache_size: int = CACHE_SIZE) -> None:
        """Use `workers` processes (0: a thread of this process); start them on first use."""
        self.workers = workers
        self.cache_size = cache_size
        self._pool: ProcessPoolExecutor | None = None
        self._cache: OrderedDict[tuple[ChartData, ChartLabels], bytes] = OrderedDict()

    def _executor(self) -> Executor | None:
        """Return the process pool (started on first use), or None for the loop's threads."""
        if self.workers == 0:
            return None
        if self._pool is None:
            # spawn, not fork: the bot process has threads (database, HTTP) a fork would copy.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self._pool

    async def render(self, data: ChartData, labels: ChartLabels) -> Rendered:
        """Return the chart as PNG, drawn by a worker (or from the cache)."""
        key = (data, labels)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return Rendered(cached, 0.0, cached=True)
        loop = asyncio.get_running_loop()
        try:
            png, seconds = await loop.run_in_executor(self._executor(), render_timed, data, labels)
        except BrokenProcessPool:  # a worker died (killed, out of memory): start afresh once
            log.warning("The chart worker stopped; starting a new one")
            await self.close()
            png, seconds = await loop.run_in_executor(self._executor(), render_timed, data, labels)
        log.info("Rendered a %d-day chart in %.3f s", len(data.days), seconds)
        self._cache[key] = png
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return Rendered(png, seconds)

    async def close(self) -> None:
        """Stop the worker processes (the next render starts new ones)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)
