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
from typing import Optional
from typing import Tuple
from typing import TypeVar
from typing import Union

try:
    import boto3
    import botocore.config
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import NoRegionError
except ImportError:
    pass  # AnsibleAWSModule reports the missing library

from ansible.module_utils.ansible_release import __version__ as _ANSIBLE_VERSION
from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

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


class TrailWatchModule(AnsibleAWSModule):
    """AnsibleAWSModule whose clients share one boto3 session.

    ``AnsibleAWSModule.client`` starts a new boto3 session for every client, and each session lists botocore's
    service data and parses the endpoint and service models again: about a third of a no-op ``trail`` invocation
    (6 clients) went there (docs/benchmarks.md). Here the connection settings are read the same way
    (``get_aws_connection_info``: profile, keys, endpoint, CA bundle, ``aws_config``) and every client of the
    invocation comes from the one session of its profile; the parsed models are then cached by that session.
    """

    _USER_AGENT = f"APN/1.0 Ansible/{_ANSIBLE_VERSION} trailwatch.aws"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sessions: Dict[Optional[str], Any] = {}

    def client(self, service: str, retry_decorator: Any = None, **extra_params: Any) -> Any:
        region, endpoint_url, params = get_aws_connection_info(self)
        params = dict(params, region=region, endpoint=endpoint_url)
        params.update(extra_params)
        profile = params.pop("profile_name", None)
        config = botocore.config.Config(user_agent_extra=self._USER_AGENT)
        for name in ("config", "aws_config"):
            extra = params.pop(name, None)
            if extra:
                config = config.merge(
                    extra if isinstance(extra, botocore.config.Config) else botocore.config.Config(**extra)
                )
        try:
            if profile not in self._sessions:
                self._sessions[profile] = boto3.session.Session(profile_name=profile)
            conn = self._sessions[profile].client(
                service,
                config=config,
                region_name=params.pop("region"),
                endpoint_url=params.pop("endpoint"),
                **params,
            )
        except NoRegionError:
            self.fail_json(
                msg=f"The {self._name} module requires a region and none was found in configuration, "
                "environment variables or module parameters"
            )
        except (ValueError, BotoCoreError) as e:
            self.fail_json_aws(e, msg="Couldn't connect to AWS")
        return conn if retry_decorator is None else RetryingBotoClientWrapper(conn, retry_decorator)


class Clients(Dict[str, Any]):
    """Clients made on first use: some runs never need some services."""

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
        self._identity: Optional[Tuple[str, str]] = None
        tags = self.p.get("tags")
        self.tags: Dict[str, Any] = tags or {}
        # Without tags given, the resource's tags are left alone.
        self.purge_tags: bool = bool(self.p.get("purge_tags")) if tags is not None else False
        self.changes: List[str] = []

    @property
    def account(self) -> str:
        """The caller's account ID: learned from an ARN a read returned (learn_identity), else sts:GetCallerIdentity."""
        return self._caller()[0]

    @property
    def partition(self) -> str:
        """The caller's partition (aws, aws-cn, aws-us-gov), found the same way as the account."""
        return self._caller()[1]

    def _caller(self) -> Tuple[str, str]:
        if self._identity is None:
            self._identity = caller_identity(self.clients["sts"])
        return self._identity

    def learn_identity(self, arn: Optional[str]) -> None:
        """Takes account and partition from the ARN of a resource the caller's own account holds, so that no
        GetCallerIdentity call is needed: a role read by name (IAM names are per account), a key found by an alias
        name or a key ID (KMS resolves those in the caller's account only; docs/aws-rules.md). None: nothing learned.
        """
        if self._identity is None and arn:
            parts = arn.split(":")
            if len(parts) > 4 and parts[0] == "arn" and parts[4]:
                self._identity = (parts[4], parts[1])

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
