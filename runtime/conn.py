"""`Conn`: what the code asks of a PostgreSQL connection, typed. asyncpg ships no type hints, so
a connection (or a pool, which answers the same queries) would otherwise travel as `Any` and a
misspelt method would pass the type checker. The rows it returns stay `Row` (asyncpg's Record,
read by column name). A pool answers the same queries but opens no transaction: pass it only
where none is opened."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

Row = Any
"""An asyncpg Record: `row["column"]`, `dict(row)`, `tuple(row)`."""


class Conn(Protocol):
    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str: ...

    async def executemany(
        self, command: str, args: Iterable[Sequence[Any]], *, timeout: float | None = None
    ) -> None: ...

    async def fetch(self, query: str, *args: Any, timeout: float | None = None) -> list[Row]: ...

    async def fetchrow(self, query: str, *args: Any, timeout: float | None = None) -> Row | None: ...

    async def fetchval(self, query: str, *args: Any, column: int = 0, timeout: float | None = None) -> Any: ...

    def transaction(
        self, *, isolation: str | None = None, readonly: bool = False, deferrable: bool = False
    ) -> AbstractAsyncContextManager[Any]: ...
