"""Settings for tests that inject their stores into a function's composition root (no environment needed)."""

from __future__ import annotations

from chatstate.settings import Settings

TEST_SETTINGS = Settings(table_name="unit-sessions")
"""The functions' defaults with a table name that no injected store uses."""
