"""`python -m bot [run|console]`: settings from the environment, then serve updates (long
polling, or a webhook when WEBHOOK_URL is set) or open the offline console."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys

from pydantic import ValidationError

from bot.config import Settings
from bot.content import ContentError
from bot.db.locks import DatabaseInUse


def setup_logging(level: str) -> None:
    """Log to stderr; keep the HTTP client quiet so the token (in its URLs) never appears."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for name in ("httpx", "httpcore", "apscheduler", "aiosqlite"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # PTB logs the API URL (with the token) at DEBUG.
    logging.getLogger("telegram").setLevel(max(logging.INFO, logging.getLogger().level))


def main(argv: list[str] | None = None) -> int:
    """Run the bot: polling or a webhook with a token, the offline console without one."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument(
        "mode",
        nargs="?",
        choices=("run", "console"),
        help="run: serve updates (needs TELEGRAM_BOT_TOKEN; a webhook when WEBHOOK_URL is set,"
        " else long polling); console: offline chat in the terminal",
    )
    args = parser.parse_args(argv)
    # PTB's RetryAfter gives retry_after as a timedelta with this set (the int form warns).
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    try:
        settings = Settings()
    except ValidationError as exc:
        print(settings_problems(exc), file=sys.stderr)
        return 2
    mode = args.mode or ("run" if settings.telegram_bot_token else "console")
    setup_logging(settings.log_level if mode == "run" else "WARNING")
    try:
        if mode == "console":
            from bot.console.terminal import run_console

            return run_console(settings)
        if settings.telegram_bot_token is None:
            print(
                "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and set it (or put it"
                " in .env), or run `python -m bot console` to try the bot offline.",
                file=sys.stderr,
            )
            return 2
        from bot.app import ALLOWED_UPDATES, build_application

        app = build_application(settings)
        # What start-up built (content, indexes, modules) lives as long as the process: keep it
        # out of every later collection, whose pauses would stall the event loop (and bunch
        # the rate-limited sends behind them).
        gc.collect()
        gc.freeze()
        if settings.webhook_url:
            from bot.webhook import run_webhook

            return run_webhook(app)
        app.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
        return 0
    except ContentError as exc:
        print(f"Content error: {exc}", file=sys.stderr)
        return 1
    except DatabaseInUse as exc:
        print(exc, file=sys.stderr)
        return 1


def settings_problems(exc: ValidationError) -> str:
    """Say which settings are wrong and why, without echoing their values (secrets)."""
    lines = ["The settings are not valid:"]
    for error in exc.errors():
        where = " ".join(str(part).upper() for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {where}: {message}" if where else f"  {message}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
