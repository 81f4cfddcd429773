"""The roster as a read-only look-up in a SQLite file, for a batch's worker processes.

A worker looks people up by ID only (each file's dozen employees: their role,
team and name); the roster's walks (members missing from every file of their
team) are made once for the batch, in the calling process. Each worker used to
unpickle the whole roster: 112 MB in every worker for 97,000 people, so a
batch's memory grew with the company. The batch now writes the roster once
into a SQLite file in a private temporary folder; a worker opens it read-only
and asks for the IDs its files hold, so its memory does not depend on the
roster's size. SQLite, not a hand-made index: it is in the standard library,
reads a page at a time, and several processes may read one file at once.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Mapping

from kpisheet.validators.roster import DATE_FIELDS, Employee

_FIELDS = tuple(f.name for f in fields(Employee))
_COLUMNS = ", ".join(_FIELDS)
_SELECT = f"SELECT {_COLUMNS} FROM roster"
_DATE_POSITIONS = tuple(_FIELDS.index(name) for name in DATE_FIELDS)
_CACHED_PEOPLE = 512  # a few files' people: a worker's files each hold their own team


class RosterIndex(Mapping[str, Employee]):
    """Employee ID -> :class:`Employee`, read from the SQLite file :meth:`write` made.

    Pickles as its path: each process opens the file itself, read-only, on first use.
    """

    def __init__(self, path: str | Path, size: int):
        self._path = str(path)
        self._size = size  # asked often (``roster or {}``); counting 100,000 rows took 0.7 ms each time
        self._connection: sqlite3.Connection | None = None
        # a file's dozen people are each looked up by several checks and again for the findings' names
        self._person = lru_cache(maxsize=_CACHED_PEOPLE)(self._fetch)

    @classmethod
    def write(cls, roster: Mapping[str, Employee], path: str | Path) -> RosterIndex:
        """Write ``roster`` into a new SQLite file at ``path`` and return its index."""
        with sqlite3.connect(path) as connection:
            # a rowid table: walked in rowid order, people come back in the roster's order
            connection.execute(f"CREATE TABLE roster ({_COLUMNS}, PRIMARY KEY (employee_id))")
            connection.executemany(f"INSERT INTO roster VALUES ({', '.join('?' * len(_FIELDS))})",
                                   (_row(person) for person in roster.values()))
        connection.close()
        return cls(path, len(roster))

    def __reduce__(self):
        return (type(self), (self._path, self._size))

    def _rows(self, sql: str, parameters: tuple = ()) -> sqlite3.Cursor:
        if self._connection is None:
            uri = f"{Path(self._path).resolve().as_uri()}?mode=ro"
            self._connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        return self._connection.execute(sql, parameters)

    def __getitem__(self, employee_id: str) -> Employee:
        person = self._person(employee_id)
        if person is None:
            raise KeyError(employee_id)
        return person

    def _fetch(self, employee_id: str) -> Employee | None:
        row = self._rows(f"{_SELECT} WHERE employee_id = ?", (employee_id,)).fetchone()
        return None if row is None else _employee(row)

    def __iter__(self) -> Iterator[str]:
        return (row[0] for row in self._rows("SELECT employee_id FROM roster ORDER BY rowid"))

    def __len__(self) -> int:
        return self._size

    def values(self) -> Iterator[Employee]:  # one query, not one per person
        return (_employee(row) for row in self._rows(f"{_SELECT} ORDER BY rowid"))

    def names(self) -> RosterNames:
        """Employee ID -> name, for the people the roster names (as finding names want them)."""
        return RosterNames(self)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class RosterNames(Mapping[str, str]):
    """The names of a :class:`RosterIndex`'s people: only those with a name, as ``finding_names`` keeps them."""

    def __init__(self, index: RosterIndex):
        self._index = index

    def __getitem__(self, employee_id: str) -> str:
        person = self._index.get(employee_id)
        if person is None or not person.name:
            raise KeyError(employee_id)
        return person.name

    def __iter__(self) -> Iterator[str]:  # not on a check's path: walked by tests and tools only
        return (person.employee_id for person in self._index.values() if person.name)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _row(person: Employee) -> tuple:
    return tuple(value.isoformat() if isinstance(value, dt.date) else value
                 for value in (getattr(person, name) for name in _FIELDS))


def _employee(row: tuple) -> Employee:
    values = list(row)
    for position in _DATE_POSITIONS:
        if values[position] is not None:
            values[position] = dt.date.fromisoformat(values[position])
    return Employee(*values)
