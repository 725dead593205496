"""Makes ``ansible_collections.trailwatch.aws`` and ``ansible_collections.amazon.aws`` importable in pytest.

amazon.aws lives in site-packages (``ansible_collections`` there has no ``__init__.py``, so it is an implicit
namespace package); this checkout is linked into ``<repo>/.venv/collections/ansible_collections/trailwatch/aws``
by the Makefile. Putting ``<repo>/.venv/collections`` on ``sys.path`` lets the namespace package span both.
Should that not be enough (a regular ``ansible_collections`` package shadowing the namespace), fall back to
ansible's own collection loader.
"""

import importlib
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
COLLECTIONS_DIR = REPO_ROOT / ".venv" / "collections"


def _importable(name):
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def _setup_collection_imports():
    if _importable("ansible_collections.trailwatch.aws.plugins.module_utils"):
        return
    if str(COLLECTIONS_DIR) not in sys.path:
        sys.path.insert(0, str(COLLECTIONS_DIR))
    importlib.invalidate_caches()
    if _importable("ansible_collections.trailwatch.aws.plugins.module_utils"):
        return
    # Last resort: ansible's collection finder merges every collections path (and site-packages).
    for name in [m for m in sys.modules if m == "ansible_collections" or m.startswith("ansible_collections.")]:
        del sys.modules[name]
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    _AnsibleCollectionFinder(paths=[str(COLLECTIONS_DIR)])._install()


_setup_collection_imports()
