"""Locks that say which process may do what with the database.

* SQLite: exactly one bot process per database file. `SqliteFileLock` holds an exclusive
  lock on `<database>.lock` for as long as the process runs; a second process on the same
  file is refused with `DatabaseInUse`. The operating system drops the lock when the process
  ends, however it ends (SIGKILL included), so a crash never leaves a stale lock behind.
* PostgreSQL: `AdvisoryLock` is a session-level advisory lock (`pg_try_advisory_lock`) on a
  connection of its own. The server releases it when that session ends: the process died,
  the connection broke, or the session sat idle for longer than `idle_timeout` (the holder
  checks it more often than that, so a holder that stops checking, frozen or cut off, loses
  it). `bot/delivery/leader.py` uses it to elect the one delivery leader of a token.
"""

from __future__ import annotations

import logging
import os
from io import TextIOWrapper
from pathlib import Path

from sqlalchemy import BigInteger, bindparam, make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)


class DatabaseInUse(RuntimeError):
    """Another bot process already runs on this SQLite database file."""


def sqlite_file_of(database_url: str) -> Path | None:
    """Return the database file of a SQLite URL (None for an in-memory database)."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        return None
    name = url.database or ""
    if not name or name == ":memory:" or name.startswith("file::memory:"):
        return None
    return Path(name)


class SqliteFileLock:
    """An exclusive lock on the file `<database>.lock` beside a SQLite database."""

    def __init__(self, database_url: str) -> None:
        """Lock nothing yet: `acquire` does, at start-up."""
        database = sqlite_file_of(database_url)
        self.database = database
        self.path = None if database is None else database.with_name(database.name + ".lock")
        self._file: TextIOWrapper | None = None

    @property
    def held(self) -> bool:
        """Return True while this process holds the lock."""
        return self._file is not None

    def acquire(self) -> None:
        """Take the lock, or raise `DatabaseInUse` naming the process that holds it.

        Raises:
            DatabaseInUse: Another process (or another application in this one) holds it.
        """
        if self.path is None or self._file is not None:
            return
        try:
            import fcntl
        except ModuleNotFoundError:  # not a POSIX system: nothing to lock with
            log.warning("Cannot lock %s on this platform: run one bot process only", self.path)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_file = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock_file.seek(0)
            holder = lock_file.read().strip() or "unknown"
            lock_file.close()
            raise DatabaseInUse(
                f"Another bot process (pid {holder}) is already using the SQLite database"
                f" {self.database}. On SQLite exactly one bot process may run per database"
                " file: stop the other one first, or use PostgreSQL"
                " (DATABASE_URL=postgresql+asyncpg://...) to run several workers."
            ) from None
        lock_file.seek(0)
        lock_file.truncate()
        lock_file.write(f"{os.getpid()}\n")
        lock_file.flush()
        self._file = lock_file

    def release(self) -> None:
        """Let the lock go (the file stays: removing it could race with a starting process)."""
        lock_file, self._file = self._file, None
        if lock_file is not None:
            lock_file.close()  # closing the file releases the flock


class AdvisoryLock:
    """A PostgreSQL session-level advisory lock on `key`, held on a connection of its own."""

    def __init__(self, database_url: str, key: int, *, idle_timeout: float) -> None:
        """Connect lazily; `idle_timeout` (seconds) ends the session if it goes quiet."""
        self.key = key
        self.idle_timeout = idle_timeout
        self._engine: AsyncEngine = create_async_engine(
            database_url,
            poolclass=NullPool,  # one connection, opened and closed here, never shared
            connect_args={
                "server_settings": {
                    "application_name": "bot delivery lock",
                    "idle_session_timeout": str(int(idle_timeout * 1000)),  # milliseconds
                }
            },
        )
        self._conn: AsyncConnection | None = None
        self.held = False
        self.backend_pid: int | None = None  # the server process of the lock's session

    async def _connection(self) -> AsyncConnection:
        if self._conn is None:
            conn = await self._engine.connect()
            # No transaction is left open between statements: an idle session, not an idle
            # transaction, and each statement is on its own.
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            self.backend_pid = int(
                (await self._conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            )
        return self._conn

    async def try_acquire(self) -> bool:
        """Try to take the lock without waiting; return True if this session holds it now."""
        conn = await self._connection()
        stmt = text("SELECT pg_try_advisory_lock(:key)").bindparams(
            bindparam("key", type_=BigInteger)
        )
        self.held = bool((await conn.execute(stmt, {"key": self.key})).scalar_one())
        return self.held

    async def check(self) -> None:
        """Run a statement on the lock's session; raise if the session is gone.

        A session-level advisory lock lasts as long as its session: if the session answers,
        the lock is still ours.
        """
        if self._conn is None:
            raise ConnectionError("the delivery lock has no connection")
        await self._conn.execute(text("SELECT 1"))

    async def release(self) -> None:
        """Unlock and close the connection; on a broken connection just drop it."""
        conn, self._conn = self._conn, None
        held, self.held = self.held, False
        self.backend_pid = None
        if conn is None:
            return
        try:
            if held:
                unlock = text("SELECT pg_advisory_unlock(:key)").bindparams(
                    bindparam("key", type_=BigInteger)
                )
                await conn.execute(unlock, {"key": self.key})
            await conn.close()
        except Exception as exc:  # the session is gone or going: the server frees the lock
            log.debug("Dropping the delivery lock's connection: %r", exc)
            await self.drop(conn)

    async def drop(self, conn: AsyncConnection | None = None) -> None:
        """Abandon the connection without talking to the server (it may not answer)."""
        conn = conn or self._conn
        self._conn = None
        self.held = False
        self.backend_pid = None
        if conn is not None:
            try:
                await conn.invalidate()  # asyncpg: terminate(), no round trip
                await conn.close()
            except Exception as exc:
                log.debug("Closing the delivery lock's connection: %r", exc)

    async def dispose(self) -> None:
        """Release the lock if held and close the engine."""
        await self.release()
        await self._engine.dispose()
