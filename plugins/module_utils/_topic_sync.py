# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: converges the SNS topic CloudWatch alarms publish to, with its subscriptions and the
key that encrypts it (the sns_topic module, and metric_watches' ``topic`` option: one implementation for both).

``TOPIC_OPTIONS`` is the topic's argument spec, ``topic_problems`` what it cannot check, ``converge_topic`` the run.
"""

import json
from copy import deepcopy
from typing import Any
from typing import Dict
from typing import List
from typing import Optional
from typing import Tuple

from ._common import Ensured
from ._common import converged
from ._kms import resolve_key_arn
from ._policies import TOPIC_KEY_ROLES
from ._policies import TOPIC_ROLES
from ._policies import byo_topic_statements
from ._policies import topic_arn
from ._policies import topic_key_statements
from ._policies import topic_policy
from ._policy_merge import InstallOwnership
from ._resource_policies import ensure_statements
from ._resource_policies import ensure_topic_key
from ._resource_policies import read_resource
from ._run import TAG_OPTIONS
from ._run import ModuleRun
from ._run import UsageError
from ._sns import ensure_subscriptions
from ._sns import ensure_topic_absent
from ._sns import ensure_topic_present
from ._sns import read_topic

PROTOCOLS = ["email", "email-json", "sqs", "https", "http", "lambda", "sms", "application", "firehose"]

# The topic's options (sns_topic's argument spec without state, and metric_watches' topic sub-options).
TOPIC_OPTIONS: Dict[str, Dict[str, Any]] = {
    "name": {"type": "str"},
    "arn": {"type": "str"},
    "display_name": {"type": "str", "default": ""},
    "kms_master_key_id": {"type": "str", "default": "", "no_log": False},
    "install_name": {"type": "str", "default": "trailwatch"},
    "subscriptions": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "protocol": {"type": "str", "required": True, "choices": PROTOCOLS},
            "endpoint": {"type": "str", "required": True},
        },
    },
    "purge_subscriptions": {"type": "bool", "default": True},
    **TAG_OPTIONS,
}
TOPIC_MUTUALLY_EXCLUSIVE = [["name", "arn"]]
TOPIC_REQUIRED_ONE_OF = [["name", "arn"]]
MERGE_FAILURE = "Cannot merge this install's statements into a policy it shares"


def topic_options() -> Dict[str, Dict[str, Any]]:
    """The topic's options for an argument spec (a fresh copy)."""
    return deepcopy(TOPIC_OPTIONS)


def topic_problems(p: Dict[str, Any], where: str = "") -> List[str]:
    """What the argument spec cannot check of the topic's options p, one message each, before any AWS call.

    where prefixes the option names in the messages (``topic.`` for metric_watches' sub-options).
    """
    problems = []
    if p["arn"] and not (p["arn"].startswith("arn:") and p["arn"].split(":")[2:3] == ["sns"]):
        problems.append(f"{where}arn: '{p['arn']}' is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
    # The AWS managed key by its alias is refused before any call; by its id or ARN, after DescribeKey.
    if p["kms_master_key_id"] == "alias/aws/sns" or p["kms_master_key_id"].endswith(":alias/aws/sns"):
        problems.append(
            f"{where}kms_master_key_id: alias/aws/sns cannot grant CloudWatch access, so alarms would fail silently; "
            "use a customer managed key"
        )
    if not p["install_name"]:
        problems.append(f"{where}install_name: give the TrailWatch install's name (trailwatch_name)")
    return problems


class _Topic:
    """The topic's part of one invocation: its options p (sns_topic's parameters, or metric_watches' topic)."""

    def __init__(self, run: ModuleRun, p: Dict[str, Any], where: str) -> None:
        self.run = run
        self.p = p
        self.where = where

    @property
    def sns(self) -> Any:
        return self.run.clients["sns"]

    @property
    def kms(self) -> Any:
        return self.run.clients["kms"]

    def topic_key(self, key_id: str, present: bool) -> Optional[Dict[str, Any]]:
        """The topic's key lets the alarms use it (present) or no longer holds this install's statement.

        Returns ensure_topic_key's result, or None when no key answers to key_id. A key named by an alias name or
        a key ID is the caller's own account's (KMS resolves those in the caller's account only), so its ARN
        tells the account and partition the statements need without sts:GetCallerIdentity; a key ARN or alias
        ARN may be another account's and teaches nothing (docs/aws-rules.md).
        """
        run, install = self.run, self.p["install_name"]
        own = not key_id.startswith("arn:")

        def statements(key_arn: Optional[str]) -> List[Dict[str, Any]]:
            if own:
                run.learn_identity(key_arn)
            return topic_key_statements(run.partition, run.region, run.account, install) if present else []

        owner = InstallOwnership(install, TOPIC_KEY_ROLES)
        return ensure_topic_key(self.kms, key_id, statements, owner, run.check)


def _with_pending(topic: Optional[Dict[str, Any]], wanted: Optional[List[Dict[str, Any]]] = None) -> Any:
    """The topic with its derived lists: endpoints pending confirmation, and endpoints not in O(subscriptions)."""
    if topic is not None:
        topic["pending_confirmations"] = sorted(
            s["endpoint"] for s in topic["subscriptions"] if s["pending_confirmation"]
        )
        topic["unlisted_subscriptions"] = sorted(
            s["endpoint"] for s in topic["subscriptions"] if not _listed(s, wanted or [])
        )
    return topic


def _listed(subscription: Dict[str, Any], wanted: List[Dict[str, Any]]) -> bool:
    return any(
        w["protocol"] == subscription["protocol"] and w["endpoint"].lower() == subscription["endpoint"].lower()
        for w in wanted
    )


def _existing_topic(topic: _Topic, present: bool) -> Tuple[Any, Ensured]:
    """Someone else's topic: merge our publish statement and our subscriptions in, or take them out again."""
    run, p, sns = topic.run, topic.p, topic.sns
    arn = p["arn"]
    missing = (
        f"{topic.where}arn: topic {arn} does not exist or is not readable; create it first or let "
        "TrailWatch create one (give name instead of arn)"
    )
    before = _with_pending(read_topic(sns, arn), p["subscriptions"])
    if before is None:
        raise UsageError(missing)
    parts = []
    if before["kms_master_key_id"]:
        key = topic.topic_key(before["kms_master_key_id"], present)
        if key is None and present:
            raise UsageError(
                f"{topic.where}arn: topic {arn} is encrypted with KMS key {before['kms_master_key_id']}, which does"
                " not exist or is not readable: nothing can publish to the topic; fix its encryption first"
            )
        if key and key["changed"]:
            parts.append("key")
    install = p["install_name"]
    statements = byo_topic_statements(run.partition, run.region, run.account, arn, install) if present else []
    owner = InstallOwnership(install, TOPIC_ROLES, TOPIC_ROLES)
    current = read_resource(sns, "sns_topic", arn)
    if current is None:
        raise UsageError(missing)
    merged = ensure_statements(sns, "sns_topic", current, statements, owner, run.check)
    if merged["changed"]:
        parts.append("policy")
    if present:
        subs = ensure_subscriptions(sns, arn, before["subscriptions"], p["subscriptions"], False, run.check)
    else:
        # Only the listed subscriptions go; the topic's other subscribers are its owner's.
        listed = before["subscriptions"]
        keep = [s for s in listed if not _listed(s, p["subscriptions"])]
        subs = ensure_subscriptions(sns, arn, listed, keep, True, run.check)
    parts.extend(subs.parts)
    after: Optional[Dict[str, Any]] = dict(before, policy=merged["policy"], subscriptions=subs.after)
    if parts and not run.check:
        after = read_topic(sns, arn)
    return before, converged(_with_pending(after, p["subscriptions"]), parts)


def _managed_topic_key(topic: _Topic, key: Optional[Dict[str, Any]], before: Any) -> Tuple[str, bool]:
    """The KmsMasterKeyId to set on the topic TrailWatch manages, its key (key: topic_key's result for the wanted
    key, already made usable by the alarms) and whether a key changed."""
    run, wanted = topic.run, topic.p["kms_master_key_id"]
    current = (before or {}).get("kms_master_key_id") or ""
    if not wanted:
        # An encryption given up: the former key no longer needs this install's statement.
        return "", bool(current) and bool((topic.topic_key(current, False) or {}).get("changed"))
    if key is None:
        if not run.check:
            raise UsageError(
                f"{topic.where}kms_master_key_id: no KMS key answers to '{wanted}' in {run.region}; give an existing"
                " customer managed key (TrailWatch's own key exists once the trail role ran), or '' for none"
            )
        return wanted, True  # check mode before the key exists: the trail role creates it first
    if current in (wanted, key["key_arn"]):
        return current, key["changed"]
    # SNS returns the key as it was set (alias, id or ARN): the same key by another name is no change.
    if current and resolve_key_arn(topic.kms, current) == key["key_arn"]:
        return current, key["changed"]
    if current:
        # Another key encrypted the topic so far: it no longer needs this install's statement.
        topic.topic_key(current, False)
    return key["key_arn"], key["changed"]


def _managed_topic(topic: _Topic, present: bool) -> Tuple[Any, Ensured]:
    run, p, sns = topic.run, topic.p, topic.sns
    # The wanted key first: found by its alias or ID, it tells the account the topic's ARN needs (no STS call).
    key = topic.topic_key(p["kms_master_key_id"], True) if present and p["kms_master_key_id"] else None
    arn = topic_arn(run.partition, run.region, run.account, p["name"])
    before = _with_pending(read_topic(sns, arn), p["subscriptions"])
    if not present:
        parts = []
        if before is not None and before["kms_master_key_id"]:
            former = topic.topic_key(before["kms_master_key_id"], False)
            if former and former["changed"]:
                parts.append("key")
        removed = ensure_topic_absent(sns, before, run.check)
        return before, Ensured(removed.changed or bool(parts), None, list(removed.parts) + parts)
    key_id, key_changed = _managed_topic_key(topic, key, before)
    attributes = {
        "DisplayName": p["display_name"],
        "KmsMasterKeyId": key_id,
        "Policy": json.dumps(topic_policy(run.partition, run.region, run.account, p["name"])),
    }
    result = ensure_topic_present(
        sns,
        before,
        arn,
        p["name"],
        attributes,
        p["tags"] or {},
        p["purge_tags"] if p["tags"] is not None else False,
        p["subscriptions"],
        p["purge_subscriptions"],
        run.check,
    )
    after = result.after
    if result.changed and not run.check:
        # Whether SNS holds a new subscription as pending is only known by asking it.
        after = read_topic(sns, arn)
    parts = list(result.parts) + (["key"] if key_changed else [])
    return before, Ensured(bool(parts), _with_pending(after, p["subscriptions"]), parts)


def converge_topic(run: ModuleRun, p: Dict[str, Any], present: bool, where: str = "") -> Tuple[Any, Ensured]:
    """Converges the topic of options p (TOPIC_OPTIONS) to present or absent: (before, Ensured).

    before and after are read_topic's shape plus ``pending_confirmations`` and ``unlisted_subscriptions`` (None when
    absent); parts: ``created``, ``deleted``, ``attributes``, ``policy``, ``subscriptions``, ``key`` (the key's policy
    statement). A topic given by ARN (someone else's) only gets this install's statement and subscriptions merged in
    or taken out. Raises UsageError (messages name the option, prefixed with where) for a topic or key AWS does not
    know, the service errors otherwise.
    """
    topic = _Topic(run, p, where)
    return _existing_topic(topic, present) if p["arn"] else _managed_topic(topic, present)
