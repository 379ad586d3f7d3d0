"""The layer's public surface: ``from chatstate import ...`` and one rule for every package ``__init__``."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.template import REPO_ROOT

LAYER = REPO_ROOT / "layers" / "chatstate"
PACKAGES = sorted(".".join(path.parent.relative_to(LAYER).parts) for path in (LAYER / "chatstate").rglob("__init__.py"))


def test_a_layer_user_needs_one_import():
    from chatstate import (  # noqa: F401 - the names a README example uses
        NEW_SESSION,
        ConflictError,
        DynamoDBSessionStore,
        InMemorySessionStore,
        NewMessage,
        ServerOnly,
        SessionAttributes,
        SessionNotFound,
        SessionRef,
        Shared,
        StaleState,
        StatePatch,
        StorePolicy,
    )

    assert issubclass(StaleState, ConflictError)


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_lists_its_exports_once_and_each_resolves(package):
    module = importlib.import_module(package)
    source = Path(module.__file__).read_text()
    assert "__getattr__, __dir__ = lazy_exports(__name__, __file__)" in source
    assert module.__all__ == sorted(module.__all__)
    assert dir(module) == module.__all__
    for name in module.__all__:
        assert getattr(module, name) is not None
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


def test_importing_the_packages_imports_none_of_their_modules():
    code = (
        "import sys, " + ", ".join(PACKAGES) + "; "
        "heavy = [m for m in sys.modules if m.startswith(('pydantic', 'boto3', 'typing'))]; "
        "sys.exit(1 if heavy else 0)"
    )
    env = {"PYTHONPATH": str(LAYER), "PATH": ""}
    assert subprocess.run([sys.executable, "-c", code], env=env, check=False).returncode == 0
