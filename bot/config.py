"""Settings read from environment variables (or a local `.env` file)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///bot.sqlite3"
# Telegram's rule for setWebhook's secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -.
WEBHOOK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
FREE_MAX_PER_SECOND = 30  # Telegram's broadcast limit per token
PAID_MAX_PER_SECOND = 1000  # the limit with allow_paid_broadcast (Stars per message over 30/s)


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    telegram_bot_token: SecretStr | None = None  # unset: offline console mode
    telegram_base_url: str | None = None  # any Bot API-compatible server; the token is appended
    database_url: str = DEFAULT_DATABASE_URL
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    log_level: str = "INFO"
    # Messages a second the bot sends in total. Telegram's free limit is about 30; with
    # PAID_BROADCAST on, scheduled sends may go up to 1000 a second and Telegram charges Stars.
    send_rate: float = Field(default=28.0, gt=0)
    paid_broadcast: bool = False
    dispatch_every: float = Field(default=5.0, gt=0)  # seconds between dispatcher ticks
    dispatch_batch: int = Field(default=500, gt=0)  # rows claimed per transaction
    sender_workers: int = Field(default=8, gt=0)  # concurrent HTTP sends under the rate limit
    # Finished deliveries older than this are deleted (a few at a time, when the dispatcher
    # is idle); /stats needs 30 days of them.
    delivery_retention_days: int = Field(default=60, ge=31)
    # Webhook mode (several workers behind a load balancer); unset: long polling.
    webhook_url: str | None = None  # the public address Telegram posts updates to
    webhook_secret: SecretStr | None = None  # checked on every webhook request
    listen: str = "127.0.0.1"  # the webhook server's address (0.0.0.0: every interface)
    port: int = Field(default=8080, gt=0, lt=65536)  # the webhook server's port
    # Seconds between a follower's tries for the delivery lock (and the leader's checks of it).
    leader_retry: float = Field(default=5.0, gt=0, le=10)
    chart_workers: int = Field(default=1, ge=0, le=8)  # chart processes; 0: a thread instead

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: object) -> object:
        """Accept `1,2,3` or `1 2 3` from the environment."""
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
            return frozenset(int(part) for part in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("telegram_bot_token", "webhook_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        """Treat an empty TELEGRAM_BOT_TOKEN or WEBHOOK_URL like an unset one."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        """Accept https://host/path, or http:// only for this machine (a local Bot API server)."""
        if value is None:
            return None
        url = value.strip()
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(
                "WEBHOOK_URL must be a full address such as https://bot.example.org/telegram"
            )
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ValueError(
                "WEBHOOK_URL must start with https:// (Telegram only calls HTTPS webhooks);"
                " http:// is accepted only for this machine (127.0.0.1, ::1, localhost)"
            )
        if parts.query or parts.fragment:
            raise ValueError("WEBHOOK_URL must not have a query (?...) or a fragment (#...)")
        return url

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _check_webhook_secret(cls, value: object) -> object:
        """Apply Telegram's rule for secret tokens (never echo the value: it is a secret)."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str) and not value.strip():
            return None  # empty: unset
        if isinstance(value, str) and not WEBHOOK_SECRET_PATTERN.fullmatch(value):
            raise ValueError(
                "WEBHOOK_SECRET must be 1-256 characters, each a letter (A-Z, a-z), a digit,"
                " '_' or '-' (Telegram's rule for secret tokens)"
            )
        return value

    @model_validator(mode="after")
    def _webhook_needs_a_secret(self) -> Self:
        """Refuse a webhook without a secret: anyone who found the address could post updates."""
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "WEBHOOK_SECRET is required with WEBHOOK_URL: the bot refuses every webhook"
                " request without it, so forged updates are never handled"
            )
        return self

    @model_validator(mode="after")
    def _rate_fits_the_limit(self) -> Self:
        """Refuse a SEND_RATE that Telegram would answer with 429s (or charge for unasked)."""
        if self.paid_broadcast and self.send_rate > PAID_MAX_PER_SECOND:
            raise ValueError(
                f"SEND_RATE must be at most {PAID_MAX_PER_SECOND} messages a second: that is"
                " Telegram's limit even for paid broadcasts"
            )
        if not self.paid_broadcast and self.send_rate > FREE_MAX_PER_SECOND:
            raise ValueError(
                f"SEND_RATE must be at most {FREE_MAX_PER_SECOND} messages a second (Telegram's"
                " free limit); set PAID_BROADCAST=true to send up to"
                f" {PAID_MAX_PER_SECOND} a second, paid in Telegram Stars"
            )
        return self

    @property
    def base_url(self) -> str:
        """Return the Bot API base URL in PTB's form (the token is appended to it)."""
        if not self.telegram_base_url:
            return "https://api.telegram.org/bot"
        url = self.telegram_base_url.strip()
        if "{token}" in url or url.endswith("/bot"):
            return url
        return f"{url.rstrip('/')}/bot"

    @property
    def base_file_url(self) -> str:
        """Return the file download base URL matching `base_url`."""
        url = self.base_url
        if url.endswith("/bot"):
            return url[: -len("/bot")] + "/file/bot"
        return url

    @property
    def webhook_path(self) -> str:
        """Return the path the webhook server answers on: that of WEBHOOK_URL ("/" if none)."""
        return urlsplit(self.webhook_url or "").path or "/"

    @property
    def is_sqlite(self) -> bool:
        """Return True when the database is SQLite (one bot process per file)."""
        return self.database_url.startswith("sqlite")


def _is_loopback(host: str) -> bool:
    """Return True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
