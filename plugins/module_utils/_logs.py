# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: CloudWatch Logs wrappers: the trail's log group, its metric filters, the notifier
functions' own log groups and the subscription filter that feeds the trail's log group to the notifier function.

The functions' log groups are not encrypted with the trail key (the key policy admits the logs service for the
trail's log group only): ensure_log_group_present(encrypted=False) leaves their encryption alone.
"""

from typing import Any
from typing import Dict
from typing import List
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ._common import Ensured
from ._common import TrailWatchError
from ._common import converge_tags
from ._common import converged
from ._common import created
from ._common import deleted
from ._common import error_code
from ._common import retry
from ._common import retry_while_message
from ._common import text_tags

# The values PutRetentionPolicy accepts.
RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def retention_problem(option: str, days: int) -> Optional[str]:
    """The message for a retention CloudWatch Logs would refuse (PutRetentionPolicy: retentionInDays), else None."""
    if days in RETENTION_DAYS:
        return None
    return f"{option}: {days} is not a value CloudWatch Logs accepts; use one of {', '.join(map(str, RETENTION_DAYS))}"


class LogsError(TrailWatchError):
    pass


class LogsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = LogsError

    @classmethod
    def _is_missing(cls) -> Any:
        return is_boto3_error_code("ResourceNotFoundException")


@LogsErrorHandler.common_error_handler("describe the log groups")
@retry()
def describe_log_groups(client: Any, prefix: str) -> Any:
    """Every log group whose name starts with prefix (the API filters by prefix only)."""
    pages = client.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix)
    return pages.build_full_result().get("logGroups", [])


def describe_log_group(client: Any, name: str) -> Any:
    """The DescribeLogGroups entry of exactly this group (another group may share the prefix), or None."""
    return next((group for group in describe_log_groups(client, name) if group["logGroupName"] == name), None)


@LogsErrorHandler.list_error_handler("read the log group tags", {})
@retry()
def get_tags(client: Any, group_arn: str) -> Any:
    return client.list_tags_for_resource(resourceArn=group_arn).get("tags", {})


@LogsErrorHandler.common_error_handler("create the log group")
@retry()
def create_log_group(client: Any, name: str, key_arn: Optional[str], tags: Dict[str, Any]) -> None:
    params: Dict[str, Any] = {"logGroupName": name}
    if key_arn is not None:
        params["kmsKeyId"] = key_arn
    if tags:
        params["tags"] = text_tags(tags)
    client.create_log_group(**params)


@LogsErrorHandler.common_error_handler(
    "encrypt the log group with the KMS key (the key policy must allow the regional logs service principal)"
)
@retry()
def associate_kms_key(client: Any, name: str, key_arn: str) -> None:
    client.associate_kms_key(logGroupName=name, kmsKeyId=key_arn)


@LogsErrorHandler.common_error_handler("set the log group retention")
@retry()
def put_retention(client: Any, name: str, days: int) -> None:
    client.put_retention_policy(logGroupName=name, retentionInDays=days)


@LogsErrorHandler.common_error_handler("tag the log group")
@retry()
def tag_log_group(client: Any, group_arn: str, tags: Dict[str, Any]) -> None:
    client.tag_resource(resourceArn=group_arn, tags=text_tags(tags))


@LogsErrorHandler.common_error_handler("untag the log group")
@retry()
def untag_log_group(client: Any, group_arn: str, keys: List[Any]) -> None:
    client.untag_resource(resourceArn=group_arn, tagKeys=keys)


@LogsErrorHandler.deletion_error_handler("delete the log group")
@retry()
def delete_log_group(client: Any, name: str) -> bool:
    client.delete_log_group(logGroupName=name)
    return True


@LogsErrorHandler.list_error_handler("describe the metric filters", [])
@retry()
def describe_metric_filters(client: Any, log_group_name: str) -> Any:
    pages = client.get_paginator("describe_metric_filters").paginate(logGroupName=log_group_name)
    return pages.build_full_result().get("metricFilters", [])


@LogsErrorHandler.common_error_handler("create the metric filter (does the log group exist?)")
@retry()
def put_metric_filter(client: Any, log_group_name: str, name: str, pattern: str, transformations: Any) -> None:
    client.put_metric_filter(
        logGroupName=log_group_name, filterName=name, filterPattern=pattern, metricTransformations=transformations
    )


@LogsErrorHandler.deletion_error_handler("delete the metric filter")
@retry()
def delete_metric_filter(client: Any, log_group_name: str, name: str) -> bool:
    client.delete_metric_filter(logGroupName=log_group_name, filterName=name)
    return True


def _group_arn(group: Dict[str, Any]) -> Any:
    # DescribeLogGroups reports the ARN with a trailing ':*'; the tagging API wants it without.
    return group["arn"][:-2] if group["arn"].endswith(":*") else group["arn"]


def _view(client: Any, group: Dict[str, Any]) -> Dict[str, Any]:
    """The one shape of a log group: {name, arn, kms_key_id, retention_in_days, tags}."""
    return {
        "name": group["logGroupName"],
        "arn": _group_arn(group),
        "kms_key_id": group.get("kmsKeyId"),
        "retention_in_days": group.get("retentionInDays"),
        "tags": get_tags(client, _group_arn(group)),
    }


def read_log_group(client: Any, name: str) -> Optional[Dict[str, Any]]:
    """The log group (see _view), or None."""
    group = describe_log_group(client, name)
    return None if group is None else _view(client, group)


def read_log_groups(client: Any, names: List[Any], prefix: str) -> Dict[str, Any]:
    """{name: state or None} for the given log groups, found with one DescribeLogGroups by their common prefix."""
    found = {g["logGroupName"]: g for g in describe_log_groups(client, prefix) if g["logGroupName"] in names}
    return {name: None if found.get(name) is None else _view(client, found[name]) for name in names}


def ensure_log_group_present(
    client: Any,
    current: Optional[Dict[str, Any]],
    name: str,
    arn: str,
    key_arn: str,
    retention: int,
    tags: Dict[str, Any],
    purge_tags: bool,
    check_mode: bool,
    encrypted: bool = True,
) -> Ensured:
    """Creates the group encrypted with the key (moto cannot associate a key later), then converges it.

    encrypted=False is a group whose encryption TrailWatch leaves alone (a Lambda function's own logs).
    """
    desired = {"name": name, "arn": arn, "kms_key_id": key_arn, "retention_in_days": retention, "tags": dict(tags)}
    if current is None:
        if not check_mode:
            create_log_group(client, name, key_arn, tags)
            put_retention(client, name, retention)
        return created(desired)

    parts = []
    if encrypted and current["kms_key_id"] != key_arn:
        parts.append("kms_key")
        if not check_mode:
            associate_kms_key(client, name, key_arn)
    if current["retention_in_days"] != retention:
        parts.append("retention")
        if not check_mode:
            put_retention(client, name, retention)
    group_arn = current["arn"]
    tags_changed, desired["tags"] = converge_tags(
        current["tags"],
        tags,
        purge_tags,
        lambda t: tag_log_group(client, group_arn, t),
        lambda k: untag_log_group(client, group_arn, k),
        check_mode,
    )
    if tags_changed:
        parts.append("tags")
    return converged(desired, parts)


# --- the notifier's subscription filter -------------------------------------------------------------------------

# CloudWatch Logs allows at most this many subscription filters on one log group.
MAX_SUBSCRIPTION_FILTERS = 2

# PutSubscriptionFilter checks that CloudWatch Logs may invoke the function; a grant added a moment ago may not be
# visible yet, and the answer is then InvalidParameterException "Could not execute the lambda function. Make sure
# you have given CloudWatch Logs permission to execute your function." Retried for a minute.
PERMISSION_CODE = "InvalidParameterException"
PERMISSION_TEXT = "could not execute the lambda function"
PERMISSION_TIMEOUT = 60


@LogsErrorHandler.list_error_handler("describe the subscription filters of the trail's log group")
@retry()
def describe_subscription_filters(client: Any, log_group_name: str) -> Any:
    """The group's subscription filters; None when the log group does not exist."""
    pages = client.get_paginator("describe_subscription_filters").paginate(logGroupName=log_group_name)
    return pages.build_full_result().get("subscriptionFilters", [])


@LogsErrorHandler.common_error_handler(
    "put the subscription filter (CloudWatch Logs must be allowed to invoke the function)"
)
def _put_subscription_filter(
    client: Any, log_group_name: str, name: str, pattern: str, destination_arn: str, timeout: int = PERMISSION_TIMEOUT
) -> Any:
    def put() -> Any:
        return client.put_subscription_filter(
            logGroupName=log_group_name, filterName=name, filterPattern=pattern, destinationArn=destination_arn
        )

    return retry_while_message(put, PERMISSION_CODE, PERMISSION_TEXT, timeout)


@LogsErrorHandler.deletion_error_handler("delete the subscription filter")
@retry()
def delete_subscription_filter(client: Any, log_group_name: str, name: str) -> bool:
    client.delete_subscription_filter(logGroupName=log_group_name, filterName=name)
    return True


def subscription_filter(filters: List[Any], name: str) -> Optional[Dict[str, Any]]:
    """Our filter ({name, log_group_name, filter_pattern, destination_arn}) among the group's, or None."""
    for f in filters or []:
        if f["filterName"] == name:
            return {
                "name": name,
                "log_group_name": f["logGroupName"],
                "filter_pattern": f.get("filterPattern", ""),
                "destination_arn": f["destinationArn"],
            }
    return None


def subscription_filter_room(filters: List[Any], name: str) -> Optional[str]:
    """None when the filter can be put, else why not (CloudWatch Logs allows two filters per log group)."""
    others = [f["filterName"] for f in filters or [] if f["filterName"] != name]
    if len(others) >= MAX_SUBSCRIPTION_FILTERS:
        return (
            f"the log group already has {len(others)} subscription filters ({', '.join(others)}) and CloudWatch Logs "
            f"allows {MAX_SUBSCRIPTION_FILTERS}: remove one of them or let the notifier share it"
        )
    return None


def put_subscription_filter(
    client: Any, log_group_name: str, name: str, pattern: str, destination_arn: str, replacing: Any
) -> None:
    """Puts (or replaces) the filter. Replacing in place is what AWS does; an endpoint that counts the filter being
    replaced against the limit of two gets it deleted and put again."""
    try:
        _put_subscription_filter(client, log_group_name, name, pattern, destination_arn)
    except LogsError as e:
        if not replacing or error_code(e) != "LimitExceededException":
            raise
        delete_subscription_filter(client, log_group_name, name)
        _put_subscription_filter(client, log_group_name, name, pattern, destination_arn)


def ensure_subscription_filter_present(
    client: Any,
    current: Optional[Dict[str, Any]],
    log_group_name: str,
    name: str,
    pattern: str,
    destination_arn: str,
    check_mode: bool,
) -> Ensured:
    """Ensured: created, or the part filter when the pattern or destination changed."""
    desired = {
        "name": name,
        "log_group_name": log_group_name,
        "filter_pattern": pattern,
        "destination_arn": destination_arn,
    }
    if current is not None and (current["filter_pattern"], current["destination_arn"]) == (pattern, destination_arn):
        return converged(current, [])
    if not check_mode:
        put_subscription_filter(client, log_group_name, name, pattern, destination_arn, replacing=current is not None)
    return created(desired) if current is None else converged(desired, ["filter"])


def ensure_subscription_filter_absent(
    client: Any, current: Optional[Dict[str, Any]], log_group_name: str, name: str, check_mode: bool
) -> Ensured:
    if current is None:
        return deleted(False)
    if not check_mode:
        delete_subscription_filter(client, log_group_name, name)
    return deleted()
