# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: IAM wrappers and the role CloudTrail assumes to write to CloudWatch Logs."""

import json
from typing import Optional
from typing import Any
from typing import Dict
from typing import List
from urllib.parse import unquote

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ._common import Ensured
from ._common import TrailWatchError
from ._common import converge_tags
from ._common import converged
from ._common import created
from ._common import deleted
from ._common import retry
from ._common import tag_dict

INLINE_POLICY_NAME = "trailwatch-cloudtrail-to-logs"
CLOUDTRAIL_ROLE_DESCRIPTION = "CloudTrail delivers the TrailWatch trail to CloudWatch Logs"


class IamError(TrailWatchError):
    pass


class IamErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = IamError

    @classmethod
    def _is_missing(cls) -> Any:
        return is_boto3_error_code("NoSuchEntity")


def _document(value: Any) -> Any:
    # boto3 decodes IAM policy documents into dicts; raw API answers are URL-encoded JSON.
    return json.loads(unquote(value)) if isinstance(value, str) else value


@IamErrorHandler.list_error_handler("read the IAM role")
@retry()
def get_role(client: Any, name: str) -> Any:
    return client.get_role(RoleName=name)["Role"]


@IamErrorHandler.list_error_handler("read the IAM role's inline policy")
@retry()
def get_role_policy(client: Any, role: str, policy_name: str) -> Any:
    return _document(client.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"])


@IamErrorHandler.common_error_handler("list the IAM role's inline policies")
@retry()
def list_role_policies(client: Any, role: str) -> List[str]:
    return client.get_paginator("list_role_policies").paginate(RoleName=role).build_full_result()["PolicyNames"]


@IamErrorHandler.common_error_handler("list the IAM role's attached policies")
@retry()
def list_attached_role_policies(client: Any, role: str) -> List[str]:
    """The ARNs of the managed policies attached to the role."""
    pages = client.get_paginator("list_attached_role_policies").paginate(RoleName=role).build_full_result()
    return [p["PolicyArn"] for p in pages.get("AttachedPolicies", [])]


@IamErrorHandler.common_error_handler("read a managed IAM policy")
@retry()
def get_managed_policy_document(client: Any, arn: str) -> Dict[str, Any]:
    """The default version's document of a managed policy (GetPolicy, then GetPolicyVersion)."""
    version = client.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return _document(client.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])


@IamErrorHandler.common_error_handler("create the IAM role")
@retry()
def create_role(client: Any, name: str, trust: Any, description: str, tags: Dict[str, Any]) -> Any:
    return client.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust),
        Description=description,
        Tags=ansible_dict_to_boto3_tag_list(tags),
    )["Role"]


@IamErrorHandler.common_error_handler("update the IAM role's trust policy")
@retry()
def update_trust(client: Any, name: str, trust: Any) -> None:
    client.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))


@IamErrorHandler.common_error_handler("set the IAM role's inline policy")
@retry()
def put_role_policy(client: Any, role: str, policy_name: str, document: Dict[str, Any]) -> None:
    client.put_role_policy(RoleName=role, PolicyName=policy_name, PolicyDocument=json.dumps(document))


@IamErrorHandler.common_error_handler("tag the IAM role")
@retry()
def tag_role(client: Any, name: str, tags: Dict[str, Any]) -> None:
    client.tag_role(RoleName=name, Tags=ansible_dict_to_boto3_tag_list(tags))


@IamErrorHandler.common_error_handler("untag the IAM role")
@retry()
def untag_role(client: Any, name: str, keys: List[Any]) -> None:
    client.untag_role(RoleName=name, TagKeys=keys)


@IamErrorHandler.deletion_error_handler("delete the IAM role's inline policy")
@retry()
def delete_role_policy(client: Any, role: str, policy_name: str) -> bool:
    client.delete_role_policy(RoleName=role, PolicyName=policy_name)
    return True


@IamErrorHandler.deletion_error_handler("delete the IAM role")
@retry()
def delete_role(client: Any, name: str) -> bool:
    client.delete_role(RoleName=name)
    return True


def read_role(client: Any, name: str, policy_name: str = INLINE_POLICY_NAME) -> Optional[Dict[str, Any]]:
    """The role with its trust policy and the one inline policy TrailWatch manages; None when it does not exist."""
    role = get_role(client, name)
    if role is None:
        return None
    return {
        "name": name,
        "arn": role["Arn"],
        "trust_policy": _document(role.get("AssumeRolePolicyDocument")),
        "permissions_policy": get_role_policy(client, name, policy_name),
        "tags": tag_dict(role.get("Tags", [])),
    }


def ensure_role_present(
    client: Any,
    current: Optional[Dict[str, Any]],
    name: str,
    arn: str,
    trust: Any,
    permissions: Any,
    tags: Dict[str, Any],
    purge_tags: bool,
    check_mode: bool,
    policy_name: str = INLINE_POLICY_NAME,
    description: str = CLOUDTRAIL_ROLE_DESCRIPTION,
) -> Ensured:
    """Ensured with the parts trust_policy, permissions_policy, tags, or created (a created role needs time
    before CloudTrail or Lambda can assume it)."""
    desired = {"name": name, "arn": arn, "trust_policy": trust, "permissions_policy": permissions, "tags": dict(tags)}
    if current is None:
        if not check_mode:
            desired["arn"] = create_role(client, name, trust, description, tags)["Arn"]
            put_role_policy(client, name, policy_name, permissions)
        return created(desired)

    parts = []
    desired["arn"] = current["arn"]
    if compare_policies(current["trust_policy"], trust, default_version=None):
        parts.append("trust_policy")
        if not check_mode:
            update_trust(client, name, trust)
    if current["permissions_policy"] is None or compare_policies(
        current["permissions_policy"], permissions, default_version=None
    ):
        parts.append("permissions_policy")
        if not check_mode:
            put_role_policy(client, name, policy_name, permissions)
    tags_changed, desired["tags"] = converge_tags(
        current["tags"],
        tags,
        purge_tags,
        lambda t: tag_role(client, name, t),
        lambda k: untag_role(client, name, k),
        check_mode,
    )
    if tags_changed:
        parts.append("tags")
    return converged(desired, parts)


def ensure_role_absent(
    client: Any, current: Optional[Dict[str, Any]], name: str, check_mode: bool, policy_name: str = INLINE_POLICY_NAME
) -> Ensured:
    if current is None:
        return deleted(False)
    if not check_mode:
        delete_role_policy(client, name, policy_name)
        delete_role(client, name)
    return deleted()
