# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: DynamoDB wrappers: the notifier's state table.

One table per install, ``<name>-notifier-state``: partition key ``id`` (String), on-demand capacity, encrypted at
rest with the AWS managed key ``aws/dynamodb`` (``SSEType: KMS``: every use of the key shows in CloudTrail, and its
key policy admits every principal of the account that calls through DynamoDB, so the functions' roles need no KMS
statement), and Time to Live on ``expires_at`` (Unix seconds). The notifier remembers there the CloudTrail events it
announced (``event#<eventID>``), the lock function the links that were used (``token#<token id>``); TTL deletes
both once they can no longer matter. The table holds nothing else and is deleted with the notifier.
"""

from typing import Any
from typing import Dict
from typing import List
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ._common import Ensured
from ._common import TrailWatchError
from ._common import deleted
from ._common import converged
from ._common import created
from ._common import converge_tags
from ._common import retry
from ._common import tag_dict

KEY = "id"
EXPIRES = "expires_at"
BILLING_MODE = "PAY_PER_REQUEST"
SSE_TYPE = "KMS"
# DescribeTable's SSEDescription.Status while the key is (being) applied.
_SSE_ON = ("ENABLED", "ENABLING", "UPDATING")
# DescribeTimeToLive's TimeToLiveStatus once UpdateTimeToLive turned TTL on.
_TTL_ON = ("ENABLED", "ENABLING")


class DynamoDbError(TrailWatchError):
    pass


class DynamoDbErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = DynamoDbError

    @classmethod
    def _is_missing(cls) -> Any:
        return is_boto3_error_code("ResourceNotFoundException")


def state_table_spec(name: str) -> Dict[str, Any]:
    """CreateTable's parameters for the state table (without tags)."""
    return {
        "TableName": name,
        "AttributeDefinitions": [{"AttributeName": KEY, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": KEY, "KeyType": "HASH"}],
        "BillingMode": BILLING_MODE,
        "SSESpecification": {"Enabled": True, "SSEType": SSE_TYPE},
    }


# --- API wrappers -----------------------------------------------------------------------------------------------


@DynamoDbErrorHandler.list_error_handler("describe the DynamoDB table")
@retry()
def describe_table(client: Any, name: str) -> Optional[Dict[str, Any]]:
    return client.describe_table(TableName=name)["Table"]


@DynamoDbErrorHandler.common_error_handler("read the DynamoDB table's Time to Live")
@retry()
def describe_ttl(client: Any, name: str) -> Dict[str, Any]:
    return client.describe_time_to_live(TableName=name).get("TimeToLiveDescription") or {}


@DynamoDbErrorHandler.list_error_handler("read the DynamoDB table's tags", {})
@retry()
def get_tags(client: Any, arn: str) -> Dict[str, str]:
    tags: Dict[str, str] = {}
    kwargs = {"ResourceArn": arn}
    while True:
        response = client.list_tags_of_resource(**kwargs)
        tags.update(tag_dict(response.get("Tags", [])))
        if not response.get("NextToken"):
            return tags
        kwargs["NextToken"] = response["NextToken"]


@DynamoDbErrorHandler.common_error_handler("create the DynamoDB table")
@retry()
def create_table(client: Any, params: Dict[str, Any]) -> Dict[str, Any]:
    return client.create_table(**params)["TableDescription"]


@DynamoDbErrorHandler.common_error_handler("wait for the DynamoDB table to become active")
def wait_active(client: Any, name: str) -> None:
    # DescribeTable every 5 s for up to 5 minutes: an on-demand table with no index is ACTIVE within seconds.
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 60})


@DynamoDbErrorHandler.common_error_handler("turn on the DynamoDB table's Time to Live")
@retry()
def enable_ttl(client: Any, name: str, attribute: str) -> None:
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute})


@DynamoDbErrorHandler.common_error_handler("update the DynamoDB table")
@retry()
def update_table(client: Any, name: str, **params: Any) -> None:
    client.update_table(TableName=name, **params)


@DynamoDbErrorHandler.common_error_handler("tag the DynamoDB table")
@retry()
def tag_table(client: Any, arn: str, tags: Dict[str, str]) -> None:
    client.tag_resource(ResourceArn=arn, Tags=ansible_dict_to_boto3_tag_list(tags))


@DynamoDbErrorHandler.common_error_handler("untag the DynamoDB table")
@retry()
def untag_table(client: Any, arn: str, keys: List[str]) -> None:
    client.untag_resource(ResourceArn=arn, TagKeys=keys)


@DynamoDbErrorHandler.deletion_error_handler("delete the DynamoDB table")
@retry()
def delete_table(client: Any, name: str) -> bool:
    client.delete_table(TableName=name)
    return True


# --- the state table --------------------------------------------------------------------------------------------


def read_state_table(client: Any, name: str) -> Optional[Dict[str, Any]]:
    """The table as TrailWatch compares it; None when it does not exist. Three reads."""
    table = describe_table(client, name)
    if table is None:
        return None
    sse = table.get("SSEDescription") or {}
    ttl = describe_ttl(client, name)
    return {
        "name": name,
        "arn": table["TableArn"],
        "status": table.get("TableStatus"),
        "billing_mode": (table.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED",
        "encryption": sse.get("SSEType") if sse.get("Status") in _SSE_ON else None,
        "kms_key_arn": sse.get("KMSMasterKeyArn"),
        "ttl_attribute": ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") in _TTL_ON else None,
        "tags": get_tags(client, table["TableArn"]),
    }


def ensure_state_table_present(
    client: Any,
    current: Optional[Dict[str, Any]],
    name: str,
    arn: str,
    tags: Dict[str, Any],
    purge_tags: bool,
    check_mode: bool,
) -> Ensured:
    """Creates the table (active, TTL on) or converges it. Returns an Ensured (parts:
    ``["created"]`` for a
    creation, else some of ``billing_mode``, ``encryption``, ``ttl``, ``tags``."""
    desired = {
        "name": name,
        "arn": arn,
        "status": "ACTIVE",
        "billing_mode": BILLING_MODE,
        "encryption": SSE_TYPE,
        "kms_key_arn": None,
        "ttl_attribute": EXPIRES,
        "tags": dict(tags),
    }
    if current is None:
        if not check_mode:
            params = state_table_spec(name)
            if tags:
                params["Tags"] = ansible_dict_to_boto3_tag_list(tags)
            desired["arn"] = create_table(client, params)["TableArn"]
            wait_active(client, name)  # UpdateTimeToLive refuses a table that is still being created
            enable_ttl(client, name, EXPIRES)
        return created(desired)

    parts = []
    after = dict(current)
    if current["ttl_attribute"] not in (None, EXPIRES):
        raise DynamoDbError(
            message=f"DynamoDB table {name} has Time to Live on attribute {current['ttl_attribute']}, not {EXPIRES}: "
            "it is not TrailWatch's state table as created. Delete it (it only holds TrailWatch's state) and run again."
        )
    if current["billing_mode"] != BILLING_MODE:
        parts.append("billing_mode")
        if not check_mode:
            update_table(client, name, BillingMode=BILLING_MODE)
            wait_active(client, name)
    if current["encryption"] != SSE_TYPE:
        parts.append("encryption")
        if not check_mode:
            update_table(client, name, SSESpecification={"Enabled": True, "SSEType": SSE_TYPE})
    if current["ttl_attribute"] is None:
        parts.append("ttl")
        if not check_mode:
            enable_ttl(client, name, EXPIRES)
    after.update(billing_mode=BILLING_MODE, encryption=SSE_TYPE, ttl_attribute=EXPIRES)
    tags_changed, after["tags"] = converge_tags(
        current["tags"],
        tags,
        purge_tags,
        lambda t: tag_table(client, current["arn"], t),
        lambda k: untag_table(client, current["arn"], k),
        check_mode,
    )
    if tags_changed:
        parts.append("tags")
    return converged(after, parts)


def ensure_state_table_absent(client: Any, current: Optional[Dict[str, Any]], name: str, check_mode: bool) -> Ensured:
    if current is None:
        return deleted(False)
    if not check_mode:
        delete_table(client, name)
    return deleted()
