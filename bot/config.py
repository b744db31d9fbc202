"""Settings read from environment variables (or a local `.env` file)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///bot.sqlite3"


class Settings(BaseSettings):
    """Everything the bot reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    telegram_bot_token: SecretStr | None = None  # unset: offline console mode
    telegram_base_url: str | None = None  # any Bot API-compatible server; the token is appended
    database_url: str = DEFAULT_DATABASE_URL
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    log_level: str = "INFO"
    send_rate: float = Field(default=28.0, gt=0, le=30)
    dispatch_every: float = Field(default=5.0, gt=0)  # seconds between dispatcher ticks
    dispatch_batch: int = Field(default=500, gt=0)  # rows claimed per transaction
    sender_workers: int = Field(default=8, gt=0)  # concurrent HTTP sends under the rate limit
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

    @field_validator("telegram_bot_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        """Treat an empty TELEGRAM_BOT_TOKEN like an unset one."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

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
    def is_sqlite(self) -> bool:
        """Return True when the database is SQLite (one bot process per file)."""
        return self.database_url.startswith("sqlite")
