"""Shared pytest setup for unit tests."""

import sys
from pathlib import Path

HELPERS_DIR = Path(__file__).resolve().parent.parent / "helpers"
if str(HELPERS_DIR) not in sys.path:
    sys.path.insert(0, str(HELPERS_DIR))


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "integration: starts real local processes (e.g. moto_server); runs by default, "
        "deselect with -m 'not integration'",
    )
