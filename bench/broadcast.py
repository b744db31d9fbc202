"""100 000 tips due at once, sent as paid broadcasts at 1000 a second, against a floor.

    python -m bench.broadcast            # 100 000 tips (about 4 minutes: the bot, then the floor)
    python -m bench.broadcast --quick    # 20 000 tips

`python -m bot` runs with `PAID_BROADCAST=true` and `SEND_RATE=1000` against a local fake Bot
API on one event loop (`bench/asyncapi.py`: the threaded one cannot serve 1000 a second on two
cores), which answers every message call after `--latency` (200 ms) and
answers 429 when more than 1000 messages arrive within one second. While the bot drains, a
simulated user sends `/food almonds` every half second (each from a new account) and the time
to the reply is measured: replies must keep their priority over the broadcast.

The floor, in the same run and against a fresh fake API with the same limits: a minimal
`httpx` client in its own process that sends the same 100 000 `sendMessage` requests with the
same number of requests in flight as the bot (`workers_for`), spaced by the same simple pacer
(SEND_RATE, never more than the cap within 1.05 s), and nothing else: no database, no PTB, no
priorities. `ratio_to_floor` says how much of what this machine can push the bot achieves.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import math
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import datagen
from bench.asyncapi import AsyncBenchApi
from bench.common import (
    ROOT,
    TOKEN,
    BotProcess,
    bot_env,
    check_log,
    finish,
    max_in_window,
    percentile,
    say,
    table,
    workdir,
)
from bench.fakeapi import Call
from bench.fanout import USER_BASE, ask_food, statuses
from bot.http import POOL_SIZE

RATE = 1000  # SEND_RATE, and the fake API's limit per second
WINDOW = 1.05  # the bot's limiter checks its cap over this long (bot/delivery/ratelimit.py)
SENDER_WORKERS = 8  # the SENDER_WORKERS default


def in_flight(rate: float) -> int:
    """The number of sends the bot lets be under way at once (bot.delivery.sender)."""
    from bot.delivery.sender import workers_for

    return workers_for(rate, SENDER_WORKERS)


# -- the bot ------------------------------------------------------------------------------------


def run_bot(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    db = tmp / "broadcast.sqlite3"
    due = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    datagen.create(db, datagen.Plan(args.deliveries, due, all_due_at=due))
    replies: dict[int, float] = {}
    delivered = [0]  # tips accepted so far

    def on_call(call: Call) -> None:
        if call.chat_id < USER_BASE:
            delivered[0] += call.status == 200
        elif call.chat_id not in replies:
            replies[call.chat_id] = call.at

    with AsyncBenchApi(TOKEN, limit=RATE, latency=args.latency) as api:
        api.on_call = on_call
        env = bot_env(api.base_url, db, PAID_BROADCAST="true", SEND_RATE=str(RATE))
        bot = BotProcess(env, tmp / "bot.log")
        try:
            polled = api.wait_polling(timeout=120)
            if polled is None:
                raise SystemExit(f"the bot did not start:\n{bot.log()[-3000:]}")
            say(f"bot polling after {polled - bot.started:.1f} s; draining {args.deliveries:,}")
            asked = ask_food(
                api,
                args.timeout,
                every=0.5,
                done=lambda: delivered[0] >= args.deliveries,
                tail=2.0,
            )
        finally:
            code = bot.stop()
        calls = api.snapshot()
        log = bot.log()
    rows = statuses(db)
    problems = check_log(log)
    if code != 0:
        problems.append(f"the bot exited with code {code}")
    tips = [c for c in calls if c.chat_id < USER_BASE]
    paid = sum(1 for c in tips if c.paid_broadcast)
    if paid != len(tips):
        problems.append(f"{len(tips) - paid} scheduled sends without allow_paid_broadcast")
    latencies = [replies[u] - t for u, t in asked.items() if u in replies]
    return {
        "figures": rate_figures(tips, args.warmup),
        "http_429": sum(1 for c in calls if c.status == 429),
        "max_in_1s_window": max_in_window([c.at for c in calls], 1.0),
        "reply_p50_s": round(percentile(latencies, 50), 3),
        "reply_p99_s": round(percentile(latencies, 99), 3),
        "replies": len(latencies),
        "unanswered": sum(1 for u in asked if u not in replies),
        "row_statuses": rows,
        "problems": problems,
    }


# -- the floor ----------------------------------------------------------------------------------


def run_floor(args: argparse.Namespace) -> dict[str, Any]:
    with AsyncBenchApi(TOKEN, limit=RATE, latency=args.latency) as api:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.broadcast",
                "--floor-client",
                api.base_url + TOKEN,
                "--deliveries",
                str(args.deliveries),
                "--workers",
                str(in_flight(RATE)),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=args.timeout + 60,
            check=False,
        )
        calls = api.snapshot()
    if proc.returncode != 0:
        raise SystemExit(f"the floor client failed:\n{proc.stderr[-3000:]}")
    return {
        "figures": rate_figures(calls, args.warmup),
        "http_429": sum(1 for c in calls if c.status == 429),
        "max_in_1s_window": max_in_window([c.at for c in calls], 1.0),
    }


async def floor_client(url: str, total: int, workers: int) -> None:
    """Send `total` sendMessage calls, `workers` at a time, paced like the bot's limiter."""
    import httpx

    recent: collections.deque[float] = collections.deque()
    interval = 1.0 / RATE
    next_slot = time.monotonic()
    lock = asyncio.Lock()
    ids = iter(range(total))

    async def slot() -> None:
        nonlocal next_slot
        async with lock:
            while True:
                now = time.monotonic()
                while recent and recent[0] <= now - WINDOW:
                    recent.popleft()
                ready = max(next_slot, recent[0] + WINDOW if len(recent) >= RATE else now)
                if ready <= now:
                    break
                await asyncio.sleep(ready - now)
            next_slot = max(next_slot + interval, now - 3 * interval)
            recent.append(now)

    # Pools of POOL_SIZE connections, as the bot's (bot/http.py): one large httpx pool spends
    # more time choosing a connection than sending.
    shards = max(1, math.ceil(workers / POOL_SIZE))
    size = math.ceil(workers / shards)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    clients = [httpx.AsyncClient(limits=limits, timeout=30) for _ in range(shards)]

    async def work(client: httpx.AsyncClient) -> None:
        for n in ids:
            await slot()
            body = {"chat_id": datagen.USER_ID_BASE + n, "text": f"Tip {n}"}
            response = await client.post(f"{url}/sendMessage", data=body)
            response.json()

    try:
        await asyncio.gather(*(work(clients[i % shards]) for i in range(workers)))
    finally:
        for client in clients:
            await client.aclose()


# -- figures ------------------------------------------------------------------------------------


def rate_figures(calls: list[Call], warmup: float) -> dict[str, float]:
    """The sustained rate after `warmup` s (accepted messages only) and the drain time."""
    accepted = sorted(c.at for c in calls if c.status == 200)
    if len(accepted) < 2:
        return {"sustained": 0.0, "resolution": float("nan"), "drain_s": float("nan")}
    steady = [t for t in accepted if t >= accepted[0] + warmup] or accepted
    span = max(1e-9, steady[-1] - steady[0])
    return {
        "sustained": (len(steady) - 1) / span,
        "resolution": 1 / span,
        "drain_s": accepted[-1] - accepted[0],
    }


def report(args: argparse.Namespace, bot: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    sustained = bot["figures"]["sustained"]
    floor_rate = floor["figures"]["sustained"]
    ratio = sustained / floor_rate if floor_rate else float("nan")
    result = {
        "bench": "broadcast",
        "deliveries": args.deliveries,
        "send_rate": RATE,
        "api_latency_s": args.latency,
        "in_flight": in_flight(RATE),
        "sustained_msgs_per_s": round(sustained, 1),
        "floor_msgs_per_s": round(floor_rate, 1),
        "ratio_to_floor": round(ratio, 3),
        "max_in_1s_window": bot["max_in_1s_window"],
        "http_429": bot["http_429"],
        "reply_p50_s": bot["reply_p50_s"],
        "reply_p99_s": bot["reply_p99_s"],
        "replies": bot["replies"],
        "unanswered": bot["unanswered"],
        "drain_s": round(bot["figures"]["drain_s"], 1),
        "floor_drain_s": round(floor["figures"]["drain_s"], 1),
        "floor_http_429": floor["http_429"],
        "floor_max_in_1s_window": floor["max_in_1s_window"],
        "row_statuses": bot["row_statuses"],
        "problems": bot["problems"],
    }
    print(
        table(
            f"Paid broadcast: {args.deliveries:,} tips due at once, SEND_RATE {RATE},"
            f" fake Bot API limited to {RATE}/s ({args.latency * 1000:g} ms per call),"
            f" {in_flight(RATE)} in flight",
            ["figure", "bot", "floor (httpx only)", "target"],
            [
                [
                    "sustained msgs/s",
                    f"{sustained:.1f}",
                    f"{floor_rate:.1f}",
                    f">= 0.8 x floor ({0.8 * floor_rate:.0f})",
                ],
                ["ratio to floor", result["ratio_to_floor"], "", ">= 0.8"],
                ["drain (s)", result["drain_s"], result["floor_drain_s"], ""],
                [
                    "max messages in any 1 s",
                    result["max_in_1s_window"],
                    result["floor_max_in_1s_window"],
                    f"<= {RATE}",
                ],
                ["HTTP 429 answers", result["http_429"], result["floor_http_429"], "0"],
                ["/food reply p50 (s)", result["reply_p50_s"], "", ""],
                ["/food reply p99 (s)", result["reply_p99_s"], "", "<= 1"],
                ["/food asked / unanswered", f"{bot['replies']} / {bot['unanswered']}", "", ""],
            ],
        )
    )
    print(f"deliveries rows by status when stopped: {bot['row_statuses']}")
    checks = {
        "ratio to floor >= 0.8": ratio >= 0.8,
        f"never > {RATE} in a 1-s window": result["max_in_1s_window"] <= RATE,
        "0 x 429": result["http_429"] == 0,
        "reply p99 <= 1 s": result["reply_p99_s"] <= 1 and not bot["unanswered"],
        "every tip sent": bot["row_statuses"].get("sent", 0) == args.deliveries,
    }
    print()
    for name, ok in checks.items():
        print(f"target {name}: {'met' if ok else 'MISSED'}")
    for problem in bot["problems"]:
        print(f"problem: {problem}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 000 tips")
    parser.add_argument("--deliveries", type=int)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per API call")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before steady state")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after (s)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the log")
    parser.add_argument("--floor-client", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.deliveries = args.deliveries or (20_000 if args.quick else 100_000)
    if args.floor_client:
        asyncio.run(floor_client(args.floor_client, args.deliveries, args.workers))
        return 0
    with workdir(keep=args.keep) as tmp:
        bot = run_bot(args, tmp)
    say("floor: the same requests from a bare httpx client")
    floor = run_floor(args)
    result = report(args, bot, floor)
    finish(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
