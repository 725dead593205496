"""No file under plugins/ uses a private (underscore) name of another file (docs/architecture.md, "Layers").

The module_utils files themselves are private to the collection (``_kms``): importing them is how the layers meet.
What a file keeps to itself is its underscore names (``_logs._group_arn``, an error handler's ``_CUSTOM_EXCEPTION``):
another file importing or reaching into one of them is coupled to a detail its owner may change. ``self._x`` and
``cls._x`` (a class's own private names) are fine; dunder names (``__init__``) are not private.
"""

import ast
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
FILES = sorted(PLUGINS.rglob("*.py"))


def _private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _module_utils_names(tree):
    """Local names bound to one of our module_utils files (``from . import _kms``, ``import ... as x``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or "trailwatch" in (node.module or "")):
            for alias in node.names:
                if (node.module or "").endswith("module_utils") or node.level and not node.module:
                    names.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if "trailwatch" in alias.name:
                    names.add(alias.asname or alias.name.split(".")[0])
    return names


def private_uses(path):
    """(line, text) of every use of another file's private name in path."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    modules = _module_utils_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = "." * node.level + (node.module or "")
            imports_files = source.endswith("module_utils") or source in (".", "")
            for alias in node.names:
                if _private(alias.name) and not imports_files:
                    found.append((node.lineno, f"from {source} import {alias.name}"))
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            base = node.value
            # A module_utils file's private name (_logs._group_arn) or a private class attribute reached from
            # outside the class (LogsErrorHandler._CUSTOM_EXCEPTION); self._x and cls._x are the class's own.
            if isinstance(base, ast.Name) and base.id not in ("self", "cls"):
                if base.id in modules or base.id[:1].isupper():
                    found.append((node.lineno, f"{base.id}.{node.attr}"))
    return found


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PLUGINS)))
def test_no_private_name_of_another_file_is_used(path):
    assert private_uses(path) == []


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from ._logs import _group_arn\n", [(1, "from ._logs import _group_arn")]),
        (
            "from ._logs import LogsErrorHandler\nLogsErrorHandler._CUSTOM_EXCEPTION\n",
            [(2, "LogsErrorHandler._CUSTOM_EXCEPTION")],
        ),
        ("from . import _logs\n_logs._group_arn({})\n", [(2, "_logs._group_arn")]),
        (
            "from ansible_collections.trailwatch.aws.plugins.module_utils._kms import _orphan\n",
            [(1, "from ansible_collections.trailwatch.aws.plugins.module_utils._kms import _orphan")],
        ),
        ("from . import _kms\nfrom ._common import retry\n_kms.read_key\n", []),
        ("class A:\n    def f(self):\n        return self._x, cls._y\n", []),
        ("from ansible_collections.trailwatch.aws.plugins.module_utils import _common\n", []),
        ("x = (1, 2)\nx.__len__()\n", []),
    ],
)
def test_the_scan_finds_what_it_must(tmp_path, source, expected):
    """The scan itself: a private import or attribute of another file is found, the sanctioned uses are not."""
    path = tmp_path / "sample.py"
    path.write_text(source)
    assert private_uses(path) == expected
