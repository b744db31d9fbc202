"""The environment of a `python -m bot` process run against a local fake Bot API."""

from __future__ import annotations

import os

# Settings of the parent's environment that must not leak into the bot under test.
_NOT_INHERITED = (
    *("TELEGRAM_", "DATABASE_", "CONSOLE_", "SEND_", "DISPATCH_", "ADMIN_"),
    *("WEBHOOK_", "LISTEN", "PORT", "LEADER_"),
)


def bot_env(base_url: str, database_url: str, token: str, **extra: str) -> dict[str, str]:
    """Return the environment for a bot that talks to `base_url` only (never through a proxy).

    Args:
        base_url: The fake Bot API's base URL (TELEGRAM_BASE_URL).
        database_url: The bot's database (DATABASE_URL).
        token: The bot token the fake server expects.
        extra: More variables, e.g. LOG_LEVEL="DEBUG"; they win over the defaults.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_NOT_INHERITED) and "proxy" not in k.lower()
    }
    env.update(
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_BASE_URL=base_url,
        DATABASE_URL=database_url,
        LOG_LEVEL="INFO",
        NO_PROXY="127.0.0.1,localhost",
        PYTHONIOENCODING="utf-8",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env
