"""Engines, migrations and retries: the one place that knows SQLite from PostgreSQL.

SQLite runs in WAL mode with a busy timeout; write transactions start with ``BEGIN IMMEDIATE`` so two
writers queue on the busy timeout instead of deadlocking on a read-to-write lock upgrade (the source of
"database is locked" errors in naive setups). PostgreSQL serializes writers per user with
``SELECT ... FOR UPDATE`` on the user row. Both retry transient failures with jittered backoff and wrap
whatever remains in ``MemoryStoreError``, so no raw driver error reaches the caller.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, func, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from memory.errors import MemoryStoreError

log = logging.getLogger("memory")

T = TypeVar("T")

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "memory_alembic_version"
HEAD_REVISION = "0006"
WRITE = {"memory_write": True}  # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)


def autocommit_options(dialect: str) -> dict[str, Any]:
    """Execution options for single-statement reads: no BEGIN/COMMIT round trip. SQLite gets no BEGIN (the
    statement is its own transaction; SQLAlchemy's isolation-level switch would undo the pysqlite recipe
    below), PostgreSQL the AUTOCOMMIT isolation level."""
    return {"isolation_level": "AUTOCOMMIT"} if dialect == "postgresql" else {"memory_autocommit": True}


SQLITE_BUSY_TIMEOUT_MS = 30_000
_PG_MIGRATION_LOCK = 0x5041_444D  # "PADM": advisory lock id serializing concurrent migrations
# SQLSTATEs worth another try: serialization failure, deadlock, lock not available, unique race,
# connection exceptions (the server restarted or dropped an idle connection).
_PG_RETRY_STATES = {"40001", "40P01", "55P03", "23505", "08000", "08003", "08006", "57P01"}


def default_url() -> str:
    """PAD_MEMORY_URL, else a SQLite file in the user's data directory (created on first use)."""
    env = os.environ.get("PAD_MEMORY_URL")
    if env:
        return env
    import platformdirs

    path = Path(platformdirs.user_data_dir("pad-integrations")) / "memory.sqlite3"
    return f"sqlite:///{path}"


def create_store_engine(url: str | URL, **engine_kwargs: Any) -> Engine:
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with the URL in the message
        raise ValueError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, **engine_kwargs)
    if backend == "postgresql":
        engine_kwargs.setdefault("pool_pre_ping", True)
        engine_kwargs.setdefault("pool_size", 10)
        engine_kwargs.setdefault("max_overflow", 20)
        return create_engine(parsed, **engine_kwargs)
    raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://")


def _sqlite_engine(url: URL, **engine_kwargs: Any) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    connect_args = engine_kwargs.pop("connect_args", {})
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    if in_memory:
        # One shared connection, or every pooled connection would see its own empty database.
        engine_kwargs.setdefault("poolclass", StaticPool)
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args=connect_args, **engine_kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN IMMEDIATE can be issued (SQLAlchemy recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable with WAL except on power loss
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get("memory_write", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif not options.get("memory_autocommit", False):
            conn.exec_driver_sql("BEGIN")

    return engine


_SHARED_CONNECTION_LOCKS: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_LOCK = threading.Lock()


def shared_connection_lock(engine: Engine) -> AbstractContextManager[Any]:
    """A lock every user of an in-memory SQLite engine takes around its work (its one connection is shared
    by every thread: the store, the server's key table); a no-op context for pooled engines."""
    if not isinstance(engine.pool, StaticPool):
        return nullcontext()
    with _LOCKS_LOCK:
        lock = _SHARED_CONNECTION_LOCKS.get(engine)
        if lock is None:
            lock = _SHARED_CONNECTION_LOCKS[engine] = threading.RLock()
        return lock


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` under a lock, so concurrent openers migrate once."""
    from alembic import command
    from alembic.config import Config

    if revision == "head" and current_revision(engine) == HEAD_REVISION:
        return
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        # A concurrent writer created the same user or active preference first; the retry sees it.
        message = str(exc.orig).lower()
        return "unique" in message or getattr(exc.orig, "sqlstate", None) == "23505"
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _PG_RETRY_STATES
    message = str(exc.orig).lower()
    return isinstance(exc, OperationalError) and ("locked" in message or "busy" in message)


def with_retries(operation: Callable[[], T], *, what: str, attempts: int = 12) -> T:
    """Run a whole transaction, retrying transient failures; wrap what is left in MemoryStoreError."""
    delay = 0.005
    for attempt in range(1, attempts + 1):
        try:
            return operation()
        except DBAPIError as exc:
            if attempt == attempts or not _retryable(exc):
                raise MemoryStoreError(f"{what} failed: {exc.orig!r}") from exc
            log.debug("retrying %s after %s (attempt %d)", what, type(exc.orig).__name__, attempt)
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.5)
        except SQLAlchemyError as exc:
            raise MemoryStoreError(f"{what} failed: {exc}") from exc
    raise AssertionError("unreachable")
