"""Group commit for the webhook view: many deliveries, one transaction."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine, create_engine, event

from storage import inbox
from storage.db import SessionFactory
from storage.models import Delivery

log = logging.getLogger(__name__)

MAX_BATCH = 512
Flush = Callable[[list[inbox.NewDelivery]], Awaitable[list[bool]]]
Waiter = tuple[inbox.NewDelivery, "asyncio.Future[bool]"]


class InboxWriter:
    """Each caller waits for the commit holding its row, so a 202 is durable.

    Requests that arrive while a commit runs share the next one instead of
    queueing one by one for the database's write lock.
    """

    def __init__(self, flush: Flush, close: Callable[[], None] = lambda: None) -> None:
        self._flush = flush
        self._close = close
        self._waiting: list[Waiter] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._close()

    async def store(self, delivery: inbox.NewDelivery) -> bool:
        if self._task is None:
            return (await self._flush([delivery]))[0]
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((delivery, answer))
        self._wake.set()
        return await answer

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._waiting:
                batch = self._waiting[:MAX_BATCH]
                del self._waiting[:MAX_BATCH]
                await self._write(batch)

    async def _write(self, batch: list[Waiter]) -> None:
        try:
            results = await self._flush([delivery for delivery, _ in batch])
        except Exception as exc:  # every waiter hears of it and answers 5xx
            log.exception("inbox write failed", extra={"batch": len(batch)})
            for _, answer in batch:
                if not answer.done():
                    answer.set_exception(exc)
            return
        for (_, answer), new in zip(batch, results, strict=True):
            if not answer.done():
                answer.set_result(new)


def session_writer(sessions: SessionFactory) -> InboxWriter:
    """PostgreSQL: the asyncio driver is quick; batch through the session."""

    async def flush(deliveries: list[inbox.NewDelivery]) -> list[bool]:
        async with sessions.begin() as session:
            return await inbox.store_many(session, deliveries)

    return InboxWriter(flush)


def sqlite_writer(async_url: str) -> InboxWriter:
    """SQLite: plain DB-API connections skip the asyncio adapter's thread hops
    and SQLAlchemy's per-statement overhead, nearly all of an insert's cost.

    A batch is first written on the event loop with no busy wait: a WAL commit
    without fsync takes well under a millisecond. When a worker holds the
    write lock, the batch goes to a thread that may wait for it instead, so
    the loop never blocks on a lock.
    """
    inline = SqliteInbox(async_url, busy_timeout=0.0)
    waiting = SqliteInbox(async_url, busy_timeout=30.0)
    thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inbox-writer")

    async def flush(deliveries: list[inbox.NewDelivery]) -> list[bool]:
        try:
            return inline.write(deliveries)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        return await asyncio.get_running_loop().run_in_executor(
            thread, waiting.write, deliveries
        )

    def close() -> None:
        thread.shutdown(wait=True)
        inline.close()
        waiting.close()

    return InboxWriter(flush, close)


class SqliteInbox:
    """Inserts delivery rows with the DB-API directly.

    Values pass through the columns' own SQLAlchemy bind processors, so the
    rows read back through the ORM exactly as if the ORM had written them.
    """

    def __init__(self, async_url: str, *, busy_timeout: float) -> None:
        self.engine = _sync_sqlite_engine(async_url, busy_timeout)
        self.connection = self.engine.raw_connection()
        dialect = self.engine.dialect
        table = Delivery.__table__
        names = list(inbox.row_columns())
        self.processors = [
            (name, table.c[name].type.bind_processor(dialect)) for name in names
        ]
        columns = ", ".join(names)
        marks = ", ".join("?" for _ in names)
        self.sql = (
            f"INSERT INTO {Delivery.__tablename__} ({columns}) VALUES ({marks}) "
            "ON CONFLICT (delivery_id) DO NOTHING"
        )

    def write(self, deliveries: list[inbox.NewDelivery]) -> list[bool]:
        cursor = self.connection.cursor()
        try:
            results = [self._insert(cursor, d) for d in deliveries]
            self.connection.commit()
        except BaseException:
            self.connection.rollback()
            raise
        finally:
            cursor.close()
        return results

    def _insert(self, cursor: Any, delivery: inbox.NewDelivery) -> bool:
        row = inbox.row_values(delivery)
        values = [
            process(row[name]) if process else row[name]
            for name, process in self.processors
        ]
        cursor.execute(self.sql, values)
        # rowcount is 0 when the delivery id was already stored.
        return bool(cursor.rowcount == 1)

    def close(self) -> None:
        self.connection.close()
        self.engine.dispose()


def _sync_sqlite_engine(async_url: str, busy_timeout: float) -> Engine:
    engine = create_engine(
        async_url.replace("sqlite+aiosqlite:", "sqlite:", 1),
        connect_args={"timeout": busy_timeout, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine
