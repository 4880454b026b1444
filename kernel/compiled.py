"""ORM queries compiled to SQL once per process, then run with each call's values.

Django turns a queryset into SQL on every evaluation. For the booking path's queries, with
their subqueries, that costs several times what PostgreSQL takes to run them (about 5 ms of
Python against 0.3 ms of SQL each on the benchmark machine: `bench/api.py --profile`). A
`CompiledQuery` keeps the query written once with the ORM — the rules stay spelled where
they live — and compiles it the first time it meets each shape: it builds the queryset
with stand-in values, finds those stand-ins among the compiled parameters, and from then
on runs the same SQL with the call's values in their places.

A stand-in must pass through the ORM unchanged, as the values of the query's kind do: ids
(ints), instants (aware datetimes) and dates. Anything that changes the SQL itself (an
optional filter, the length of an `__in` list) belongs in the shape, not in the values.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import QuerySet

_FIRST_ID = -(10**15)  # no row has a negative id
_FIRST_INSTANT = datetime(2, 1, 1, tzinfo=UTC)  # nor a session in the year 2
_FIRST_DATE = date(2, 1, 1)


class _Name:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class CompiledQuery:
    """`build(shape, **values)` returns a `values_list` queryset; `rows(shape, **values)` runs
    it as SQL compiled once per shape (a hashable that picks the query's form)."""

    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self._build = build
        self._compiled: dict[Hashable, tuple[str, list[Any]]] = {}

    def rows(self, shape: Hashable, **values: Any) -> list[tuple]:
        compiled = self._compiled.get(shape)
        if compiled is None:
            compiled = self._compiled[shape] = self._compile(shape, values)
        sql, slots = compiled
        params = [values[slot.name] if isinstance(slot, _Name) else slot for slot in slots]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _compile(self, shape: Hashable, values: dict[str, Any]) -> tuple[str, list[Any]]:
        stand_ins = {name: _stand_in(value, n) for n, (name, value) in enumerate(values.items())}
        sql, params = self._build(shape, **stand_ins).query.sql_with_params()
        names = {(type(v), v): name for name, v in stand_ins.items()}
        slots = [_Name(names[type(p), p]) if (type(p), p) in names else p for p in params]
        missing = set(values) - {slot.name for slot in slots if isinstance(slot, _Name)}
        if missing:
            raise ValueError(f"the query does not use {', '.join(sorted(missing))}")
        return sql, slots


def _stand_in(value: Any, n: int) -> Any:
    if isinstance(value, datetime):
        return _FIRST_INSTANT + timedelta(seconds=n)
    if isinstance(value, date):
        return _FIRST_DATE + timedelta(days=n)
    if isinstance(value, int) and not isinstance(value, bool):
        return _FIRST_ID - n
    raise TypeError(f"no stand-in for a {type(value).__name__}: make it part of the shape")
