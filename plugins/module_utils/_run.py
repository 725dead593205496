# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: what every module invocation shares (docs/architecture.md, "How a run flows").

:class:`ModuleRun` holds one invocation's parameters, lazily made clients, the caller's account and partition, the
tags to converge and the parts that changed. :func:`run_module` runs the module's work and turns what the layers
below raise into one ``fail_json``: helpers never exit the module themselves, they raise

- :class:`UsageError` for input only AWS's answer shows to be wrong (a key that does not exist, a topic of another
  account): the message names the parameter, the value and the fix;
- ``PolicyMergeError`` when statements cannot be merged into a shared policy;
- ``TrailWatchError`` (the service utils' errors) for an AWS error, reported with ``fail_json_aws_error``.
"""

from typing import Any
from typing import Callable
from typing import Dict
from typing import Iterable
from typing import List
from typing import Tuple
from typing import TypeVar
from typing import Union

from ._common import Ensured
from ._common import TrailWatchError
from ._common import caller_identity
from ._policy_merge import PolicyMergeError

T = TypeVar("T")


# The tags and purge_tags options of every module that tags what it manages (amazon.aws.tags.modules documents them).
TAG_OPTIONS: Dict[str, Dict[str, Any]] = {
    "tags": {"type": "dict", "aliases": ["resource_tags"]},
    "purge_tags": {"type": "bool", "default": True},
}


class UsageError(Exception):
    """The module's input cannot work with what AWS answered; the message says which parameter and what to do."""


class Clients(Dict[str, Any]):
    """Clients made on first use: each costs a fresh botocore session, and some runs never need some services."""

    def __init__(self, module: Any) -> None:
        super().__init__()
        self.module = module

    def __missing__(self, name: str) -> Any:
        self[name] = self.module.client(name)
        return self[name]


class ModuleRun:
    """One invocation: the module's parameters, clients, identity, tags and the parts that changed."""

    def __init__(self, module: Any) -> None:
        self.module = module
        self.p: Dict[str, Any] = module.params
        self.check: bool = module.check_mode
        self.region: str = module.region
        self.clients = Clients(module)
        self.account, self.partition = caller_identity(self.clients["sts"])
        tags = self.p.get("tags")
        self.tags: Dict[str, Any] = tags or {}
        # Without tags given, the resource's tags are left alone.
        self.purge_tags: bool = bool(self.p.get("purge_tags")) if tags is not None else False
        self.changes: List[str] = []

    def changed(self, part: str, result: Union[bool, Ensured]) -> None:
        """Records part as changed when result (an ensure_* helper's Ensured, or a bool) says so."""
        if result.changed if isinstance(result, Ensured) else result:
            self.changes.append(part)

    def changed_parts(self, resource: str, parts: Iterable[str]) -> None:
        """The parts an ensure_* helper reports: ``created`` and ``deleted`` name the resource itself."""
        self.changes.extend(resource if part in ("created", "deleted") else f"{resource}:{part}" for part in parts)


def converge_module(
    module: Any,
    make_run: Callable[[Any], ModuleRun],
    read: Callable[[Any], Any],
    present: Callable[[Any, Any], Dict[str, Any]],
    absent: Callable[[Any, Any], Dict[str, Any]],
    merge_failure: str = "Cannot merge the statements into a policy it shares",
    result: Callable[[Dict[str, Any]], Dict[str, Any]] = dict,
) -> None:
    """The flow of a module that manages a group of resources: read everything, converge it to state present or
    absent, exit with changed, the changed parts, the diff and result(after) (plus run.extra, if any)."""

    def work() -> Tuple[Any, Any, Dict[str, Any]]:
        run = make_run(module)
        before = read(run)
        after = present(run, before) if module.params["state"] == "present" else absent(run, before)
        return run, before, after

    run, before, after = run_module(module, work, merge_failure)
    module.exit_json(
        changed=bool(run.changes),
        changes=run.changes,
        diff={"before": before, "after": after},
        **result(after),
        **getattr(run, "extra", {}),
    )


def run_module(
    module: Any, work: Callable[[], T], merge_failure: str = "Cannot merge the statements into a policy it shares"
) -> T:
    """work()'s result; any error the layers below raise ends the module with one clear fail_json."""
    try:
        return work()
    except UsageError as e:
        module.fail_json(msg=str(e))
    except PolicyMergeError as e:
        module.fail_json(msg=f"{merge_failure}: {e}")
    except TrailWatchError as e:
        module.fail_json_aws_error(e)
    raise AssertionError("not reached: fail_json exits")  # pragma: no cover
