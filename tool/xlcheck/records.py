"""``@record``: how xlcheck declares its values (specs, layouts, findings, results, options).

A record is made once and never changed. To the type checker ``@record`` is
``@dataclass(frozen=True)`` (``dataclass_transform(frozen_default=True)``): assigning to a field is
a type error, and ``mypy --strict`` runs with the tests. At run time it is a dataclass that
compares, hashes and shows itself by its fields exactly as a frozen one does, without the
run-time guard against assignment.

Why not ``@dataclass(frozen=True)`` itself: Python 3.11 compiles every method a dataclass
generates from source, each time its module is imported, a fifth of a millisecond a method. A
frozen class has six (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``,
``__delattr__``) and sets each field through ``object.__setattr__`` when it is made. A
one-workbook ``verify`` defines about 85 records: they were a quarter of its instructions
(callgrind, 928 M before ``@record``, 680 M after). Here only ``__init__`` is compiled per
class; comparing, hashing and showing are shared functions that read the class's field names,
kept on the class when it is declared.
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any, TypeVar, cast, dataclass_transform, overload

Record = TypeVar("Record")


@overload
def record(cls: type[Record], /) -> type[Record]: ...


@overload
def record(
    *, eq: bool = True, order: bool = False, slots: bool = False
) -> Callable[[type[Record]], type[Record]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(
    cls: type[Record] | None = None,
    /,
    *,
    eq: bool = True,
    order: bool = False,
    slots: bool = False,
) -> type[Record] | Callable[[type[Record]], type[Record]]:
    """Declare ``cls`` a record. ``eq=False`` compares and hashes by identity; ``order=True``
    orders by the compared fields, as the dataclass options of those names do."""

    def declare(cls: type[Record]) -> type[Record]:
        if order:  # rare: the ordering methods are left to dataclasses to write
            return dataclasses.dataclass(cls, eq=eq, order=True, unsafe_hash=eq, slots=slots)
        declared: Any = dataclasses.dataclass(cls, eq=False, repr=False, slots=slots)
        fields = dataclasses.fields(declared)
        own = declared.__dict__
        if "__repr__" not in own:
            declared.__record_shown__ = tuple(f.name for f in fields if f.repr)
            declared.__repr__ = _shown
        if eq and "__eq__" not in own:
            declared.__record_compared__ = _values_of(f.name for f in fields if f.compare)
            declared.__record_hashed__ = _values_of(
                f.name for f in fields if (f.compare if f.hash is None else f.hash)
            )
            declared.__eq__ = _equal
            if "__hash__" not in own:
                declared.__hash__ = _hashed
        return cast(type[Record], declared)

    return declare if cls is None else declare(cls)


def _values_of(names: Iterable[str]) -> staticmethod[[object], tuple[Any, ...]]:
    """A record's values of ``names`` as a tuple, as the dataclass methods compare and hash them
    (kept on the class, so a static method)."""
    named = tuple(names)
    if len(named) > 1:
        return staticmethod(attrgetter(*named))  # a tuple, made in C
    if named:
        only = named[0]
        return staticmethod(lambda value: (getattr(value, only),))
    return staticmethod(lambda value: ())


@reprlib.recursive_repr()
def _shown(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in type(self).__record_shown__)
    return f"{type(self).__qualname__}({shown})"


def _equal(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    compared = self.__record_compared__
    return compared(self) == compared(other)


def _hashed(self: Any) -> int:
    return hash(self.__record_hashed__(self))
