"""Core statements compiled once per dialect, run straight on the driver's connection.

A webhook runs about eight short statements inside the write lock. Through a
SQLAlchemy Connection each one costs several times its own run time in execution
set-up (events, parameter and result wrapping), and the transaction's begin and
commit as much again: together, more than the rest of the request. Here a statement
is compiled once for the dialect, with SQLAlchemy's own bind and result processing
(so values are stored and read exactly as through SQLAlchemy), and executed on the
driver's cursor in a transaction the caller opens and commits on the driver.

Statements must be built once (module constants): they are cached by identity.
"""

from __future__ import annotations

import os
import threading
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, Insert, event
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from gateway.store.database import begin_immediate

Processor = Callable[[Any], Any] | None


class DriverStatement:
    def __init__(
        self, statement: ClauseElement, dialect: Dialect, columns: Sequence[str] | None
    ) -> None:
        # An INSERT's columns: those given, and those with defaults.
        compiled = statement.compile(dialect=dialect, column_keys=columns)
        self.sql = compiled.string
        if "POSTCOMPILE" in self.sql:
            raise ValueError(f"an IN list is rendered per execution; spell it out: {self.sql}")
        processors = {
            key: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for key, bind in compiled.binds.items()
        }
        self.positional = compiled.positional
        self.keys: list[str] = list(
            (compiled.positiontup or ()) if compiled.positional else compiled.binds
        )
        self.order = [(key, processors.get(key)) for key in self.keys]
        # Values the statement carries itself: literals in it, and an INSERT's column
        # defaults for the columns not given (which SQLAlchemy fills at execution).
        self.constants: dict[str, Any] = {
            key: bind.value for key, bind in compiled.binds.items() if not bind.required
        }
        for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
            default = column.default
            if default is None or not default.is_scalar:
                raise ValueError(f"column {column.key!r}: only scalar defaults can be filled in")
            self.constants[column.key] = default.arg  # type: ignore[attr-defined]
        selected = list(getattr(statement, "exported_columns", ()))
        self.results: list[Processor] = [
            c.type.dialect_impl(dialect).result_processor(dialect, None) for c in selected
        ]
        self.row = (
            namedtuple("Row", [c.key for c in selected], rename=True) if selected else None  # type: ignore[misc]
        )

    def parameters(self, given: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = {**self.constants, **given} if self.constants else given
        try:
            processed = [
                value if process is None or value is None else process(value)
                for key, process in self.order
                for value in (values[key],)
            ]
        except KeyError as missing:
            raise ValueError(f"no value given for {missing} in {self.sql}") from None
        return processed if self.positional else dict(zip(self.keys, processed, strict=True))

    def rows(self, fetched: list[tuple]) -> list[tuple]:
        if self.row is None:
            return fetched
        make, processors = self.row, self.results
        return [
            make(*(p(v) if p is not None else v for p, v in zip(processors, raw, strict=True)))
            for raw in fetched
        ]


class DriverResult:
    """The part of SQLAlchemy's Result the store uses."""

    def __init__(self, rows: list[tuple], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def scalar_one(self) -> Any:
        return self.one()[0]


class DriverExecutor:
    """Runs prebuilt statements on one driver connection, in its current transaction."""

    _compiled: dict[tuple, tuple[ClauseElement, DriverStatement]] = {}

    def __init__(self, connection: Any, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect

    def execute(
        self, statement: ClauseElement, params: Mapping[str, Any] | list[Mapping[str, Any]]
    ) -> DriverResult:
        first = params[0] if isinstance(params, list) else params
        columns = tuple(sorted(first)) if isinstance(statement, Insert) else None
        prepared = self._prepared(statement, columns)
        cursor = self.connection.cursor()
        try:
            if isinstance(params, list):
                cursor.executemany(prepared.sql, [prepared.parameters(p) for p in params])
                return DriverResult([], cursor.rowcount)
            cursor.execute(prepared.sql, prepared.parameters(params))
            fetched = cursor.fetchall() if cursor.description is not None else []
            return DriverResult(prepared.rows(fetched), cursor.rowcount)
        finally:
            cursor.close()

    def _prepared(
        self, statement: ClauseElement, columns: tuple[str, ...] | None
    ) -> DriverStatement:
        key = (id(statement), self.dialect.name, columns)
        known = self._compiled.get(key)
        if known is None or known[0] is not statement:
            known = (statement, DriverStatement(statement, self.dialect, columns))
            self._compiled[key] = known  # holds the statement, so its id stays its own
        return known[1]


class WriteTransactions:
    """Transactions on driver connections of one engine, committed when the block ends
    and rolled back if it raises. On SQLite each holds the write lock from the start, as
    every transaction of gateway/store/database.py's engines does.

    On SQLite a connection that committed is kept for the next transaction instead of
    going back to the engine's pool: the pool's check-out and check-in (with its reset)
    cost a webhook more than two of its statements, and a committed SQLite connection
    needs neither (it cannot go stale). At most `keep` are kept idle. They are closed
    when the engine is disposed, and left to the parent after a fork. PostgreSQL
    connections go back to the pool, which pings them at check-out.
    """

    def __init__(self, engine: Engine, keep: int = 2) -> None:
        self.engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._keep = keep if self._sqlite else 0
        self._idle: list[Any] = []
        self._inherited: list[Any] = []
        self._pid = os.getpid()
        self._guard = threading.Lock()
        if self._keep:
            event.listen(engine, "engine_disposed", self._close_idle)

    @contextmanager
    def __call__(self) -> Iterator[DriverExecutor]:
        pooled = self._check_out()
        kept = False
        try:
            driver = pooled.driver_connection
            if self._sqlite:
                begin_immediate(driver)
            try:
                yield DriverExecutor(driver, self.engine.dialect)
            except BaseException:
                driver.rollback()
                raise
            driver.commit()
            kept = self._keep_idle(pooled)
        finally:
            if not kept:
                pooled.close()  # back to the pool, whose reset rolls back what is left

    def _check_out(self) -> Any:
        with self._guard:
            idle = self._own_idle()
            if idle:
                return idle.pop()
        return self.engine.raw_connection()

    def _keep_idle(self, pooled: Any) -> bool:
        with self._guard:
            idle = self._own_idle()
            if len(idle) >= self._keep:
                return False
            idle.append(pooled)
            return True

    def _close_idle(self, _engine: Engine) -> None:
        with self._guard:
            idle, self._idle = self._own_idle(), []
        for pooled in idle:
            pooled.invalidate()  # closes the driver connection now

    def _own_idle(self) -> list[Any]:
        """This process's idle connections. After a fork the parent's are neither used
        nor closed here, but still held: dropped, they would go back to this process's
        copy of the pool."""
        if self._pid != os.getpid():
            self._inherited, self._idle, self._pid = self._idle, [], os.getpid()
        return self._idle
