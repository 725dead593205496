# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: CloudWatch Logs for the notifier: the functions' own log groups and the
subscription filter that feeds the trail's log group to the notifier function.

The wrappers of ``_logs`` are reused for retention, tags and deletion; the groups here are not encrypted with
the trail key (the key policy admits the logs service for the trail's log group only).
"""

from ._common import retry
from ._lambda import retry_while_message
from ._logs import LogsErrorHandler
from ._logs import _group_arn
from ._logs import delete_log_group
from ._logs import get_tags

__all__ = ["delete_log_group"]

# CloudWatch Logs allows at most this many subscription filters on one log group.
MAX_SUBSCRIPTION_FILTERS = 2

# PutSubscriptionFilter checks that CloudWatch Logs may invoke the function; a grant added a moment ago may not be
# visible yet, and the answer is then InvalidParameterException "Could not execute the lambda function. Make sure
# you have given CloudWatch Logs permission to execute your function." Retried for a minute.
PERMISSION_CODE = "InvalidParameterException"
PERMISSION_TEXT = "could not execute the lambda function"
PERMISSION_TIMEOUT = 60


@LogsErrorHandler.common_error_handler("describe the functions' log groups")
@retry()
def describe_log_groups(client, prefix):
    pages = client.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix)
    return pages.build_full_result().get("logGroups", [])


@LogsErrorHandler.list_error_handler("describe the subscription filters of the trail's log group")
@retry()
def describe_subscription_filters(client, log_group_name):
    """The group's subscription filters; None when the log group does not exist."""
    pages = client.get_paginator("describe_subscription_filters").paginate(logGroupName=log_group_name)
    return pages.build_full_result().get("subscriptionFilters", [])


@LogsErrorHandler.common_error_handler(
    "put the subscription filter (CloudWatch Logs must be allowed to invoke the function)"
)
def _put_subscription_filter(client, log_group_name, name, pattern, destination_arn, timeout=PERMISSION_TIMEOUT):
    def put():
        return retry()(client.put_subscription_filter)(
            logGroupName=log_group_name, filterName=name, filterPattern=pattern, destinationArn=destination_arn
        )

    return retry_while_message(put, PERMISSION_CODE, PERMISSION_TEXT, timeout)


@LogsErrorHandler.deletion_error_handler("delete the subscription filter")
@retry()
def delete_subscription_filter(client, log_group_name, name):
    client.delete_subscription_filter(logGroupName=log_group_name, filterName=name)
    return True


def read_log_groups(client, names, prefix):
    """{name: state or None} for the given log groups, found with one DescribeLogGroups by their common prefix."""
    found = {g["logGroupName"]: g for g in describe_log_groups(client, prefix) if g["logGroupName"] in names}
    result = {}
    for name in names:
        group = found.get(name)
        result[name] = (
            None
            if group is None
            else {
                "name": name,
                "arn": _group_arn(group),
                "kms_key_id": group.get("kmsKeyId"),
                "retention_in_days": group.get("retentionInDays"),
                "tags": get_tags(client, _group_arn(group)),
            }
        )
    return result


def subscription_filter(filters, name):
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


def subscription_filter_room(filters, name):
    """None when the filter can be put, else why not (CloudWatch Logs allows two filters per log group)."""
    others = [f["filterName"] for f in filters or [] if f["filterName"] != name]
    if len(others) >= MAX_SUBSCRIPTION_FILTERS:
        return (
            f"the log group already has {len(others)} subscription filters ({', '.join(others)}) and CloudWatch Logs "
            f"allows {MAX_SUBSCRIPTION_FILTERS}: remove one of them or let the notifier share it"
        )
    return None


def put_subscription_filter(client, log_group_name, name, pattern, destination_arn, replacing):
    """Puts (or replaces) the filter. Replacing in place is what AWS does; an endpoint that counts the filter being
    replaced against the limit of two gets it deleted and put again."""
    try:
        _put_subscription_filter(client, log_group_name, name, pattern, destination_arn)
    except LogsErrorHandler._CUSTOM_EXCEPTION as e:
        if not replacing or _error_code(e) != "LimitExceededException":
            raise
        delete_subscription_filter(client, log_group_name, name)
        _put_subscription_filter(client, log_group_name, name, pattern, destination_arn)


def _error_code(error):
    response = getattr(getattr(error, "exception", None), "response", None) or {}
    return response.get("Error", {}).get("Code")


def ensure_subscription_filter_present(client, current, log_group_name, name, pattern, destination_arn, check_mode):
    """Returns (changed, predicted state)."""
    desired = {
        "name": name,
        "log_group_name": log_group_name,
        "filter_pattern": pattern,
        "destination_arn": destination_arn,
    }
    if current is not None and (current["filter_pattern"], current["destination_arn"]) == (pattern, destination_arn):
        return False, current
    if not check_mode:
        put_subscription_filter(client, log_group_name, name, pattern, destination_arn, replacing=current is not None)
    return True, desired


def ensure_subscription_filter_absent(client, current, log_group_name, name, check_mode):
    if current is None:
        return False
    if not check_mode:
        delete_subscription_filter(client, log_group_name, name)
    return True
