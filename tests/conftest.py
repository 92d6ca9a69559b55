"""Shared test configuration."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"

# The user-facing fake_gladia fixture, exercised the way users enable it.
pytest_plugins = ["gladia_async.testing.pytest_plugin"]
