"""Scanner kinds register here by name (``@SCANNERS.register("em")``).

``scanners`` never imports ``pretty_printer``, so it carries its own tiny registry with the same
rules: a duplicate name is an error, an unknown name lists the valid ones.
"""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class UnknownScannerError(KeyError, ValueError):
    """A scanner kind or preset name that does not exist (a ``KeyError`` and a ``ValueError``)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Name -> object; ``@registry.register("name")`` adds one."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers ``obj`` under ``name``; a duplicate name raises ValueError."""

        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return deco

    def get(self, name: str) -> T:
        """The object registered as ``name``; an unknown name lists the valid ones."""
        try:
            return self._items[name]
        except KeyError:
            raise UnknownScannerError(
                f"unknown {self.kind} {name!r}; expected one of: {', '.join(sorted(self._items))}"
            ) from None

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)


SCANNERS: Registry = Registry("scanner kind")
