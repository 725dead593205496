# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: reads and writes the resource policy of an existing bucket, KMS key or SNS topic.

The API wrappers are those of _s3, _kms and _sns; this file adds what a shared policy needs on top of them:
which policy stands for "no statements left" on each service, and a key policy writer that never sends a
policy locking the account out of its key (real KMS refuses one, moto accepts it).
"""

import json
from typing import Any
from typing import Callable
from typing import Dict
from typing import List
from typing import Optional
from typing import Tuple
from typing import Union

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code

from . import _kms
from . import _s3
from . import _sns
from ._common import TrailWatchError
from ._policies import sns_owner_actions
from ._policy_merge import Ownership
from ._policy_merge import account_root_arn
from ._policy_merge import granted_elsewhere
from ._policy_merge import merge_kms_statements
from ._policy_merge import merge_statements
from ._policy_merge import policy_grants_account_root
from ._policy_merge import statements_of

RESOURCE_TYPES = ("s3_bucket", "kms_key", "sns_topic")


class ResourcePolicyError(TrailWatchError):
    pass


def bucket_name(resource: str) -> str:
    """A bucket name, also from an S3 bucket ARN (arn:aws:s3:::NAME)."""
    if resource.startswith("arn:") and ":s3:::" in resource:
        return resource.split(":::", 1)[1].split("/", 1)[0]
    return resource


def parse_topic_arn(resource: str) -> Optional[Tuple[str, str, str]]:
    """(partition, region, account) of a topic ARN; None when resource is not one."""
    parts = resource.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sns" or not all(parts[1:]):
        return None
    return parts[1], parts[3], parts[4]


def key_region(resource: str) -> Optional[str]:
    """The region of a key or alias ARN; None for a key id or alias name (the module's region applies)."""
    parts = resource.split(":")
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "kms" and parts[3]:
        return parts[3]
    return None


def _topic_arn_parts(topic_arn: str) -> Tuple[str, str, str]:
    """parse_topic_arn of an ARN the caller has already checked (the modules validate a given ARN first)."""
    parts = parse_topic_arn(topic_arn)
    if parts is None:
        raise ResourcePolicyError(message=f"{topic_arn!r} is not an SNS topic ARN")
    return parts


def default_topic_policy(topic_arn: str) -> Dict[str, Any]:
    """What a new topic is allowed by default (SNS spells its actions SNS:...), granted to the account root instead of
    SNS's Principal "*" with an AWS:SourceOwner condition: the same account keeps managing, subscribing and
    publishing, with no wildcard."""
    partition, _region, account = _topic_arn_parts(topic_arn)
    return {
        "Version": "2012-10-17",
        "Id": "__default_policy_ID",
        "Statement": [
            {
                "Sid": "__default_statement_ID",
                "Effect": "Allow",
                "Principal": {"AWS": account_root_arn(account, partition)},
                "Action": sns_owner_actions("SNS"),
                "Resource": topic_arn,
            }
        ],
    }


# --- reading ----------------------------------------------------------------------------------------------


def read_bucket(client: Any, bucket: str) -> Optional[Dict[str, Any]]:
    """{resource_id, policy (None when the bucket has none)}, or None when there is no such bucket."""
    found = _s3.get_bucket_policy(client, bucket)
    if found is None:
        return None
    return {"resource_id": bucket, "policy": found[1]}


def read_topic(client: Any, topic_arn: str) -> Optional[Dict[str, Any]]:
    attributes = _sns.get_topic_attributes(client, topic_arn)
    if attributes is None:
        return None
    partition, _region, account = _topic_arn_parts(topic_arn)
    return {
        "resource_id": topic_arn,
        "account": account,
        "partition": partition,
        "policy": json.loads(attributes["Policy"]) if attributes.get("Policy") else None,
    }


def read_resource(client: Any, resource_type: str, resource: str) -> Optional[Dict[str, Any]]:
    if resource_type == "s3_bucket":
        return read_bucket(client, bucket_name(resource))
    if resource_type == "kms_key":
        key = _kms.read_key(client, resource)
        return None if key is None else dict(key, resource_id=key["key_arn"])
    return read_topic(client, resource)


# --- writing ----------------------------------------------------------------------------------------------


def write_key_policy(client: Any, key_id: str, policy: Optional[Dict[str, Any]], account: str, partition: str) -> None:
    """PutKeyPolicy, but only for a policy that lets the account root manage the key.

    KMS refuses a policy that would lock the caller out (MalformedPolicyDocumentException) unless told to
    bypass the check, which TrailWatch never does; moto accepts anything, so the check is made here.
    """
    if policy is None or not policy_grants_account_root(policy, account, partition):
        raise ResourcePolicyError(
            message=f"Refusing to write a key policy for {key_id} that does not allow"
            f" {account_root_arn(account, partition)} kms:* on '*': nobody could manage the key any more"
        )
    _kms.put_key_policy(client, key_id, policy)


def write_policy(
    client: Any,
    resource_type: str,
    current: Dict[str, Any],
    before: Optional[Dict[str, Any]],
    after: Optional[Dict[str, Any]],
) -> None:
    """Writes after; for S3, after None deletes the bucket policy."""
    if resource_type == "s3_bucket":
        if after is not None:
            _s3.put_bucket_policy(client, current["resource_id"], after)
        elif before is not None:
            _s3.delete_bucket_policy(client, current["resource_id"])
    elif resource_type == "kms_key":
        write_key_policy(client, current["key_id"], after, current["account"], current["partition"])
    else:
        _sns.set_topic_attribute(client, current["resource_id"], "Policy", json.dumps(after))


def ensure_statements(
    client: Any,
    resource_type: str,
    current: Dict[str, Any],
    statements: List[Dict[str, Any]],
    prefix: Ownership,
    check_mode: bool,
) -> Dict[str, Any]:
    """Merges statements (ours; [] removes all of ours) into the resource's policy; writes only on a change.

    Returns {changed, policy (after; None when an S3 bucket is left without policy), statements_added,
    statements_updated, statements_removed, root_statement_guarded}.
    """
    before = current["policy"]
    guarded = False
    if resource_type == "kms_key":
        after, added, updated, removed, guarded = merge_kms_statements(
            before, statements, current["account"], current["partition"], prefix
        )
    else:
        after, added, updated, removed = merge_statements(before, statements, prefix)
    changed = bool(added or updated or removed)
    if not changed:
        after = before
    elif not statements_of(after):
        # S3 takes no empty policy: delete it. A topic always has one: give it back its owner's default.
        after = None if resource_type == "s3_bucket" else default_topic_policy(current["resource_id"])
    if changed and not check_mode:
        write_policy(client, resource_type, current, before, after)
    return {
        "changed": changed,
        "policy": after,
        "statements_added": added,
        "statements_updated": updated,
        "statements_removed": removed,
        "root_statement_guarded": guarded,
    }


# --- the key of an encrypted topic ------------------------------------------------------------------------------

_ACCESS_DENIED = ("AccessDeniedException", "AccessDenied")


def ensure_topic_key(
    client: Any,
    key_id: str,
    statements: Union[List[Dict[str, Any]], Callable[[Optional[str]], List[Dict[str, Any]]]],
    owner: Ownership,
    check_mode: bool,
) -> Optional[Dict[str, Any]]:
    """The key that encrypts a topic lets CloudWatch alarms use it (statements; [] takes ours out again).

    CloudWatch alarms publish to an encrypted topic only when the topic's key allows the CloudWatch service
    principal kms:GenerateDataKey* and kms:Decrypt; an AWS managed key (``alias/aws/sns``) cannot, and the alarms
    then fail silently (docs/aws-rules.md, SNS). So:

    - no key answers to key_id: None (the caller decides: an error, or a prediction in check mode);
    - an AWS managed key (KeyManager AWS): ResourcePolicyError naming it, when statements are wanted;
    - a customer managed key: the statements are merged in as the owner's (an install's Sids), unless a statement
      no install may take away already grants as much (the key policy TrailWatch writes whole, the owner's own);
      when the key policy cannot be read or written, ResourcePolicyError naming the statement to add by hand.

    statements may also be a function of the key's ARN (None when the key could not be read) returning them: the
    caller can then learn its account from the key first (ModuleRun.learn_identity).

    Returns {key_arn, key_manager, changed, policy, statements_added, statements_updated, statements_removed}.
    """
    try:
        meta = _kms.describe_key(client, key_id)
        if meta is None:
            return None
        if callable(statements):
            statements = statements(meta["Arn"])
        unchanged = {"key_arn": meta["Arn"], "key_manager": meta.get("KeyManager"), "changed": False, "policy": None}
        unchanged.update(statements_added=[], statements_updated=[], statements_removed=[])
        reason = _kms.unusable({"key_manager": meta.get("KeyManager"), "key_state": meta.get("KeyState")})
        if reason == "aws_managed":
            if statements:
                raise ResourcePolicyError(
                    message=f"the topic is encrypted with {key_id} ({meta['Arn']}), an AWS managed key (such as"
                    " alias/aws/sns): its key policy cannot let CloudWatch alarms use it, so they could never publish"
                    " to the topic; encrypt the topic with a customer managed key instead"
                )
            return unchanged
        if reason == "pending_deletion":
            if statements:
                raise ResourcePolicyError(
                    message=f"the topic's KMS key {meta['Arn']} is pending deletion: nothing can publish to the topic;"
                    " cancel the key deletion or encrypt the topic with another key"
                )
            return unchanged
        current = dict(_kms.key_view(client, meta), resource_id=meta["Arn"])
        if statements and all(granted_elsewhere(current["policy"], wanted) for wanted in statements):
            statements = []
        result = ensure_statements(client, "kms_key", current, statements, owner, check_mode)
    except ResourcePolicyError:
        raise
    except TrailWatchError as e:
        if callable(statements):
            statements = statements(None)
        if statements and is_ansible_aws_error_code(list(_ACCESS_DENIED), e):
            raise ResourcePolicyError(
                message=f"{e}; CloudWatch alarms can only publish to the topic when its key {key_id} lets them: add"
                f" this statement to the key policy yourself: {json.dumps(statements[0], sort_keys=True)}"
            ) from e
        raise
    return dict(result, key_arn=current["resource_id"], key_manager=current["key_manager"])
