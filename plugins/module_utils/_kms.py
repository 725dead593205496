# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: KMS wrappers and the customer managed key TrailWatch encrypts with."""

import json
from typing import List
from typing import Any
from typing import Dict
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ._common import Ensured
from ._common import TrailWatchError
from ._common import converge_tags
from ._common import deleted
from ._common import created
from ._common import converged
from ._common import retry
from ._common import text_tags


class KmsError(TrailWatchError):
    pass


class KmsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = KmsError

    @classmethod
    def _is_missing(cls) -> Any:
        return is_boto3_error_code("NotFoundException")


@KmsErrorHandler.list_error_handler("describe the KMS key")
@retry()
def describe_key(client: Any, key_id: str) -> Any:
    return client.describe_key(KeyId=key_id)["KeyMetadata"]


@KmsErrorHandler.common_error_handler("read the KMS key policy")
@retry()
def get_key_policy(client: Any, key_id: str) -> Any:
    return json.loads(client.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])


@KmsErrorHandler.common_error_handler("read the KMS key rotation status")
@retry()
def get_rotation_enabled(client: Any, key_id: str) -> Any:
    return client.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]


@KmsErrorHandler.common_error_handler("read the KMS key tags")
@retry()
def get_tags(client: Any, key_id: str) -> Dict[str, Any]:
    pages = client.get_paginator("list_resource_tags").paginate(KeyId=key_id).build_full_result()
    return {t["TagKey"]: t["TagValue"] for t in pages.get("Tags", [])}


@KmsErrorHandler.common_error_handler("create the KMS key (is kms:CreateKey allowed?)")
@retry()
def create_key(client: Any, description: str, policy: Dict[str, Any], tags: Dict[str, Any]) -> Any:
    return client.create_key(
        Description=description,
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
        Policy=json.dumps(policy),
        Tags=ansible_dict_to_boto3_tag_list(tags, "TagKey", "TagValue"),
    )["KeyMetadata"]


@KmsErrorHandler.common_error_handler("create the KMS alias")
@retry()
def create_alias(client: Any, alias: str, key_id: str) -> None:
    client.create_alias(AliasName=alias, TargetKeyId=key_id)


@KmsErrorHandler.common_error_handler("point the KMS alias at the new key")
@retry()
def update_alias(client: Any, alias: str, key_id: str) -> None:
    client.update_alias(AliasName=alias, TargetKeyId=key_id)


@KmsErrorHandler.deletion_error_handler("delete the KMS alias")
@retry()
def delete_alias(client: Any, alias: str) -> bool:
    client.delete_alias(AliasName=alias)
    return True


@KmsErrorHandler.common_error_handler("update the KMS key policy")
@retry()
def put_key_policy(client: Any, key_id: str, policy: Dict[str, Any]) -> None:
    client.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy))


@KmsErrorHandler.common_error_handler("enable KMS key rotation")
@retry()
def enable_rotation(client: Any, key_id: str) -> None:
    client.enable_key_rotation(KeyId=key_id)


@KmsErrorHandler.common_error_handler("tag the KMS key")
@retry()
def tag_key(client: Any, key_id: str, tags: Dict[str, Any]) -> None:
    client.tag_resource(KeyId=key_id, Tags=ansible_dict_to_boto3_tag_list(tags, "TagKey", "TagValue"))


@KmsErrorHandler.common_error_handler("untag the KMS key")
@retry()
def untag_key(client: Any, key_id: str, keys: List[Any]) -> None:
    client.untag_resource(KeyId=key_id, TagKeys=keys)


@KmsErrorHandler.common_error_handler("schedule the KMS key deletion")
@retry()
def schedule_deletion(client: Any, key_id: str, days: int) -> Any:
    return client.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=days)


# Every key TrailWatch creates carries its alias as a tag, so a key whose alias was never created (a run
# interrupted between CreateKey and CreateAlias) is found and adopted instead of being orphaned.
ALIAS_TAG = "trailwatch:alias"


@KmsErrorHandler.common_error_handler("look for a TrailWatch key that lost its alias (tag:GetResources)")
@retry()
def find_tagged_keys(tagging: Any, alias: str) -> List[Any]:
    pages = tagging.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": ALIAS_TAG, "Values": [alias]}], ResourceTypeFilters=["kms:key"]
    )
    return [m["ResourceARN"] for page in pages for m in page.get("ResourceTagMappingList", [])]


def _orphan(client: Any, tagging: Any, alias: str) -> Any:
    """A usable key tagged with the alias but without it, or None."""
    for arn in find_tagged_keys(tagging, alias) if tagging is not None else []:
        meta = describe_key(client, arn)
        if meta and meta.get("KeyState") == "Enabled":
            return meta
    return None


def resolve_key_arn(client: Any, key_id: str) -> Any:
    """The key ARN for a key id, key ARN, alias name or alias ARN; None when nothing answers to it.

    CloudTrail, S3 and CloudWatch Logs report the key ARN, so comparisons need the ARN, not the alias.
    """
    meta = describe_key(client, key_id)
    return meta["Arn"] if meta else None


def key_view(client: Any, meta: Dict[str, Any], details: bool = False) -> Dict[str, Any]:
    """The one shape of a KMS key, from its DescribeKey metadata.

    {key_id, key_arn, account, partition, description, key_manager (AWS or CUSTOMER), key_state, enabled, policy,
    rotation_enabled, tags}. The policy is read unless the key is pending deletion (then None); rotation and tags
    only with details (the key TrailWatch manages; someone else's key is read for its policy only), else None.
    """
    key_id = meta["KeyId"]
    pending = meta.get("KeyState") == "PendingDeletion"
    return {
        "key_id": key_id,
        "key_arn": meta["Arn"],
        "account": meta.get("AWSAccountId"),
        "partition": meta["Arn"].split(":")[1],
        "description": meta.get("Description", ""),
        "key_manager": meta.get("KeyManager"),
        "key_state": meta.get("KeyState"),
        "enabled": meta.get("Enabled"),
        "policy": None if pending else get_key_policy(client, key_id),
        "rotation_enabled": get_rotation_enabled(client, key_id) if details and not pending else None,
        "tags": get_tags(client, key_id) if details and not pending else None,
    }


def read_key(client: Any, key: str, details: bool = False) -> Optional[Dict[str, Any]]:
    """The key (key_view) behind a key id, key ARN, alias name or alias ARN; None when none answers."""
    meta = describe_key(client, key)
    return None if meta is None else key_view(client, meta, details)


def read_managed_key(client: Any, alias: str) -> Optional[Dict[str, Any]]:
    """The key TrailWatch manages behind the alias (key_view with details and the alias), or None.

    A key pending deletion counts as absent (and is not read further): a deploy makes a new key and moves the alias.
    """
    meta = describe_key(client, alias)
    if not meta or meta.get("KeyState") == "PendingDeletion":
        return None
    return dict(key_view(client, meta, details=True), alias=alias)


def unusable(key: Dict[str, Any]) -> Optional[str]:
    """Why statements cannot be merged into this key's policy (None when they can).

    An AWS managed key's policy cannot be changed (KeyManager AWS), and a key pending deletion encrypts nothing
    (docs/aws-rules.md, KMS).
    """
    if key.get("key_manager") == "AWS":
        return "aws_managed"
    if key.get("key_state") == "PendingDeletion":
        return "pending_deletion"
    return None


def ensure_key_present(
    client: Any,
    current: Optional[Dict[str, Any]],
    alias: str,
    description: str,
    policy: Dict[str, Any],
    tags: Dict[str, Any],
    purge_tags: bool,
    check_mode: bool,
    tagging: Any = None,
) -> Ensured:
    """Creates (or adopts an orphan of) the key and converges it: Ensured with the parts policy, rotation, tags."""
    tags = dict(tags, **{ALIAS_TAG: alias})
    if current is not None:
        return _converge_key(client, current, policy, tags, purge_tags, check_mode)
    orphan = _orphan(client, tagging, alias)
    if orphan is not None:
        current = dict(key_view(client, orphan, details=True), alias=alias)
    else:
        current = {
            "key_id": None,
            "key_arn": None,
            "account": None,
            "partition": None,
            "description": description,
            "key_manager": "CUSTOMER",
            "key_state": "Enabled",
            "enabled": True,
            "policy": policy,
            "rotation_enabled": False,
            "tags": text_tags(tags),
            "alias": alias,
        }
        if not check_mode:
            meta = create_key(client, description, policy, tags)
            current.update(key_id=meta["KeyId"], key_arn=meta["Arn"], account=meta.get("AWSAccountId"))
            current["partition"] = meta["Arn"].split(":")[1]
    if not check_mode:
        if describe_key(client, alias):
            # The alias still names a key that is pending deletion: move it to this key.
            update_alias(client, alias, current["key_id"])
        else:
            create_alias(client, alias, current["key_id"])
    return created(_converge_key(client, current, policy, tags, purge_tags, check_mode).after)


def _converge_key(
    client: Any,
    current: Dict[str, Any],
    policy: Dict[str, Any],
    tags: Dict[str, Any],
    purge_tags: bool,
    check_mode: bool,
) -> Ensured:
    after = dict(current)
    parts = []
    if compare_policies(current["policy"], policy, default_version=None):
        parts.append("policy")
        after["policy"] = policy
        if not check_mode:
            put_key_policy(client, current["key_id"], policy)
    if not current["rotation_enabled"]:
        parts.append("rotation")
        after["rotation_enabled"] = True
        if not check_mode:
            enable_rotation(client, current["key_id"])
    key_id = current["key_id"]
    tags_changed, after["tags"] = converge_tags(
        current["tags"],
        tags,
        purge_tags,
        lambda t: tag_key(client, key_id, t),
        lambda k: untag_key(client, key_id, k),
        check_mode,
    )
    if tags_changed:
        parts.append("tags")
    return converged(after, parts)


def ensure_key_absent(
    client: Any,
    current: Optional[Dict[str, Any]],
    alias: str,
    deletion_window_days: int,
    check_mode: bool,
    tagging: Any = None,
) -> Ensured:
    """Deleting a key is always a scheduled deletion; the alias goes at once so a new deploy makes a new key.

    Without a key behind the alias, a key of TrailWatch's that never got its alias is scheduled instead.
    """
    if current is None:
        orphan = _orphan(client, tagging, alias)
        if orphan is None:
            return deleted(False)
        if not check_mode:
            schedule_deletion(client, orphan["KeyId"], deletion_window_days)
        return deleted()
    if not check_mode:
        delete_alias(client, alias)
        schedule_deletion(client, current["key_id"], deletion_window_days)
    return deleted()
