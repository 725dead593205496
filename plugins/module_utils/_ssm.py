# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: SSM Parameter Store wrappers: the lock links' HMAC secret.

The secret is a SecureString created once with a random value and never rewritten by later runs (rotating it
would invalidate every lock link already mailed). Nothing here ever reads the value: the parameter is found with
DescribeParameters, which returns metadata only, so deploying needs no ssm:GetParameter nor kms:Decrypt.
"""

from typing import Any
from typing import Dict
from typing import List
from typing import Optional

import secrets

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ._common import TrailWatchError
from ._common import deleted
from ._common import Ensured
from ._common import created
from ._common import converge_tags
from ._common import retry
from ._common import tag_dict

SECURE_STRING = "SecureString"
# 48 random bytes, URL-safe base64 (64 characters): well above the 16 bytes the lock code requires.
SECRET_BYTES = 48


class SsmError(TrailWatchError):
    pass


class SsmErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = SsmError

    @classmethod
    def _is_missing(cls) -> Any:
        return is_boto3_error_code(["ParameterNotFound", "InvalidResourceId"])


@SsmErrorHandler.common_error_handler("describe the SSM parameter")
@retry()
def describe_parameter(client: Any, name: str) -> Any:
    """The parameter's metadata (Name, Type, KeyId, Version, ...), without its value; None when missing."""
    pages = client.get_paginator("describe_parameters").paginate(
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
    )
    for page in pages:
        for parameter in page.get("Parameters", []):
            if parameter["Name"] == name:
                return parameter
    return None


@SsmErrorHandler.list_error_handler("read the SSM parameter's tags", {})
@retry()
def get_tags(client: Any, name: str) -> Any:
    response = client.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)
    return tag_dict(response.get("TagList", []))


@SsmErrorHandler.common_error_handler("create the SSM SecureString parameter")
@retry()
def create_secure_parameter(
    client: Any, name: str, value: str, description: str, tags: Dict[str, Any], key_id: Optional[str] = None
) -> Any:
    params = {"Name": name, "Value": value, "Type": SECURE_STRING, "Description": description, "Overwrite": False}
    if key_id:
        params["KeyId"] = key_id
    if tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return client.put_parameter(**params)


@SsmErrorHandler.common_error_handler("tag the SSM parameter")
@retry()
def tag_parameter(client: Any, name: str, tags: Dict[str, Any]) -> None:
    client.add_tags_to_resource(ResourceType="Parameter", ResourceId=name, Tags=ansible_dict_to_boto3_tag_list(tags))


@SsmErrorHandler.common_error_handler("untag the SSM parameter")
@retry()
def untag_parameter(client: Any, name: str, keys: List[Any]) -> None:
    client.remove_tags_from_resource(ResourceType="Parameter", ResourceId=name, TagKeys=keys)


@SsmErrorHandler.deletion_error_handler("delete the SSM parameter")
@retry()
def delete_parameter(client: Any, name: str) -> bool:
    client.delete_parameter(Name=name)
    return True


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def read_secret_parameter(client: Any, name: str) -> Optional[Dict[str, Any]]:
    """The parameter's name, type, key and tags (never its value); None when it does not exist."""
    parameter = describe_parameter(client, name)
    if parameter is None:
        return None
    return {
        "name": name,
        "type": parameter.get("Type"),
        "key_id": parameter.get("KeyId"),
        "version": parameter.get("Version"),
        "tags": get_tags(client, name),
    }


def ensure_secret_present(
    client: Any,
    current: Optional[Dict[str, Any]],
    name: str,
    description: str,
    tags: Dict[str, Any],
    purge_tags: bool,
    check_mode: bool,
    key_id: Optional[str] = None,
) -> Ensured:
    """Creates the SecureString with a random value once; later runs only converge its tags.

    Returns (changed, predicted state). A parameter of that name that is not a SecureString is refused: its value
    has been readable as plain text, so it cannot serve as the secret, and it may not be TrailWatch's to replace.
    """
    if current is None:
        if not check_mode:
            create_secure_parameter(client, name, new_secret(), description, tags, key_id)
        return created({"name": name, "type": SECURE_STRING, "key_id": key_id, "version": 1, "tags": dict(tags)})
    if current["type"] != SECURE_STRING:
        raise SsmError(
            message=f"SSM parameter {name} exists as a {current['type']}, not a SecureString: its value is not "
            "secret. Delete it (or choose another name) and run again; TrailWatch then creates a SecureString."
        )
    changed, after_tags = converge_tags(
        current["tags"],
        tags,
        purge_tags,
        lambda t: tag_parameter(client, name, t),
        lambda k: untag_parameter(client, name, k),
        check_mode,
    )
    return Ensured(changed, dict(current, tags=after_tags), ["tags"] if changed else [])


def ensure_secret_absent(client: Any, current: Optional[Dict[str, Any]], name: str, check_mode: bool) -> Ensured:
    if current is None:
        return deleted(False)
    if not check_mode:
        delete_parameter(client, name)
    return deleted()
