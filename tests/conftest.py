"""Shared test configuration."""

from __future__ import annotations

# The user-facing fake_gladia fixture, exercised the way users enable it.
pytest_plugins = ["gladia_async.testing.pytest_plugin"]
