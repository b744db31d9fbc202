"""Helpers every benchmark shares: paths, RSS, percentiles, the table and the JSON line.

Stdlib only, so that a benchmark measures the bot and not its harness.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.bot_process import bot_env as shared_bot_env

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"  # git-ignored: bot logs and raw figures of the last runs
TOKEN = "424242:BENCH-secret-token"
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


# -- memory ------------------------------------------------------------------------------------


def rss_bytes(pid: int | None = None) -> int:
    """Return the resident set size of a process (default: this one), from /proc."""
    path = Path(f"/proc/{pid or 'self'}/statm")
    return int(path.read_text().split()[1]) * PAGE_SIZE


def mb(value: float) -> float:
    """Bytes to MiB, rounded for printing (never "-0.0")."""
    return round(value / (1024 * 1024), 1) + 0.0


# -- statistics --------------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Return the pct-th percentile (nearest rank) of `values`; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def max_in_window(times: Sequence[float], window: float = 1.0) -> int:
    """Return the largest number of events inside any window of `window` seconds.

    Every window that holds a maximum can be slid so that it starts at an event, so checking
    the windows that start at each event is exact.
    """
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while t - ordered[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


# -- output ------------------------------------------------------------------------------------


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Return a plain-text table (columns padded to their widest cell)."""
    cells = [[str(h) for h in header], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [title, ""]
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def finish(result: dict[str, Any]) -> None:
    """Save the result under bench/results/ and print it as the last line, one JSON object."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in result.items()}
    (RESULTS / f"{result['bench']}.json").write_text(json.dumps(clean, indent=2) + "\n")
    sys.stdout.flush()
    print(json.dumps(clean), flush=True)


def say(message: str) -> None:
    """Progress on stderr, so stdout holds only the table and the JSON line."""
    print(message, file=sys.stderr, flush=True)


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """`with stopwatch() as elapsed: ...; elapsed()` -> seconds since the block started."""
    start = time.perf_counter()
    yield lambda: time.perf_counter() - start


@contextmanager
def workdir(keep: bool = False) -> Iterator[Path]:
    """A temporary directory for databases and logs (kept with `keep`)."""
    path = Path(tempfile.mkdtemp(prefix="mgbench-"))
    try:
        yield path
    finally:
        if not keep:
            for child in sorted(path.rglob("*"), reverse=True):
                child.unlink() if child.is_file() else child.rmdir()
            path.rmdir()


# -- running the bot ---------------------------------------------------------------------------


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def bot_env(base_url: str, db_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a benchmarked `python -m bot` run against a local fake Bot API."""
    return shared_bot_env(base_url, sqlite_url(db_path), TOKEN, **extra)


class BotProcess:
    """`python -m bot` as a child process; its output goes to a log file."""

    def __init__(self, env: dict[str, str], log_path: Path, module: str = "bot") -> None:
        """Start `python -m <module> run` (`bot`, or a bench module that runs it)."""
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, "run"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss(self) -> int:
        return rss_bytes(self.proc.pid)

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing; what a crash or an OOM kill does."""
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM and wait (SIGKILL after `timeout`); return the exit code."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
        return int(self.proc.returncode)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")


def check_log(log: str) -> list[str]:
    """Return problems in a bot log: the token, or a traceback."""
    problems = []
    if TOKEN in log or TOKEN.split(":")[1] in log:
        problems.append("the token appears in the bot's log")
    if "Traceback" in log:
        problems.append("the bot logged a traceback")
    return problems
