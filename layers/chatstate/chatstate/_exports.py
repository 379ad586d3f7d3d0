"""The one rule of every ``chatstate`` package ``__init__``: public names listed once, imported on first use.

A package lists its public API once, as the ``from ... import Name as Name`` lines of its ``if TYPE_CHECKING:``
block (what type checkers and IDEs read; ``as Name`` marks an explicit re-export). At run time those lines are
read back from the package's source on first use and each name is imported on first access (PEP 562), so
importing a package costs nothing until a name is used (``__all__`` and ``dir()`` come from the same lines)::

    TYPE_CHECKING = False  # what typing.TYPE_CHECKING is, without importing typing
    if TYPE_CHECKING:
        from chatstate.models import SessionRef as SessionRef

    __getattr__, __dir__ = lazy_exports(__name__, __file__)
"""

from __future__ import annotations

TYPE_CHECKING = False  # without importing typing: this module runs when ``import chatstate`` does
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def _declared(source: str) -> dict[str, tuple[str, str]]:
    """``{exported name: (module, name)}`` from the ``if TYPE_CHECKING:`` block of a package's source."""
    _, found, rest = source.partition("\nif TYPE_CHECKING:\n")
    if not found:
        raise ImportError("a chatstate package __init__ lists its exports in an `if TYPE_CHECKING:` block")
    exports: dict[str, tuple[str, str]] = {}
    for line in rest.splitlines():
        if line.strip() and not line[:1].isspace():
            break  # the end of the block
        words = line.split()
        if not words:
            continue
        if len(words) != 6 or words[0] != "from" or words[2] != "import" or words[4] != "as":
            raise ImportError(f"write one `from module import Name as Name` per line, not {line.strip()!r}")
        exports[words[5]] = (words[1], words[3])
    return exports


def lazy_exports(package: str, file: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The PEP 562 ``__getattr__`` and ``__dir__`` of ``package`` (its ``__init__`` at ``file``).

    The source is read on the first lookup of a public name (or of ``__all__``), not at import.
    """
    exports: dict[str, tuple[str, str]] = {}

    def declared() -> dict[str, tuple[str, str]]:
        if not exports:
            with open(file, encoding="utf-8") as source:
                exports.update(_declared(source.read()))
        return exports

    def __getattr__(name: str) -> Any:  # the PEP 562 hook
        if name == "__all__":
            return sorted(declared())
        where = declared().get(name) if not name.startswith("__") else None
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(where[0]), where[1])
        setattr(importlib.import_module(package), name, value)  # the next lookup is a plain attribute
        return value

    def __dir__() -> list[str]:  # the PEP 562 hook
        return sorted(declared())

    return __getattr__, __dir__
