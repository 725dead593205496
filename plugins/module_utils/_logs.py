# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: CloudWatch Logs wrappers: the trail's log group and its metric filters."""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ._common import TrailWatchError
from ._common import converge_tags
from ._common import retry
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


class LogsError(TrailWatchError):
    pass


class LogsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = LogsError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


@LogsErrorHandler.common_error_handler("describe the log group")
@retry()
def describe_log_group(client, name):
    # The API filters by prefix only: pick the exact name (another group may share the prefix).
    pages = client.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name)
    for page in pages:
        for group in page.get("logGroups", []):
            if group["logGroupName"] == name:
                return group
    return None


@LogsErrorHandler.list_error_handler("read the log group tags", {})
@retry()
def get_tags(client, group_arn):
    return client.list_tags_for_resource(resourceArn=group_arn).get("tags", {})


@LogsErrorHandler.common_error_handler("create the log group")
@retry()
def create_log_group(client, name, key_arn, tags):
    params = {"logGroupName": name}
    if key_arn is not None:
        params["kmsKeyId"] = key_arn
    if tags:
        params["tags"] = text_tags(tags)
    client.create_log_group(**params)


@LogsErrorHandler.common_error_handler(
    "encrypt the log group with the KMS key (the key policy must allow the regional logs service principal)"
)
@retry()
def associate_kms_key(client, name, key_arn):
    client.associate_kms_key(logGroupName=name, kmsKeyId=key_arn)


@LogsErrorHandler.common_error_handler("set the log group retention")
@retry()
def put_retention(client, name, days):
    client.put_retention_policy(logGroupName=name, retentionInDays=days)


@LogsErrorHandler.common_error_handler("tag the log group")
@retry()
def tag_log_group(client, group_arn, tags):
    client.tag_resource(resourceArn=group_arn, tags=text_tags(tags))


@LogsErrorHandler.common_error_handler("untag the log group")
@retry()
def untag_log_group(client, group_arn, keys):
    client.untag_resource(resourceArn=group_arn, tagKeys=keys)


@LogsErrorHandler.deletion_error_handler("delete the log group")
@retry()
def delete_log_group(client, name):
    client.delete_log_group(logGroupName=name)
    return True


@LogsErrorHandler.list_error_handler("describe the metric filters", [])
@retry()
def describe_metric_filters(client, log_group_name):
    pages = client.get_paginator("describe_metric_filters").paginate(logGroupName=log_group_name)
    return pages.build_full_result().get("metricFilters", [])


@LogsErrorHandler.common_error_handler("create the metric filter (does the log group exist?)")
@retry()
def put_metric_filter(client, log_group_name, name, pattern, transformations):
    client.put_metric_filter(
        logGroupName=log_group_name, filterName=name, filterPattern=pattern, metricTransformations=transformations
    )


@LogsErrorHandler.deletion_error_handler("delete the metric filter")
@retry()
def delete_metric_filter(client, log_group_name, name):
    client.delete_metric_filter(logGroupName=log_group_name, filterName=name)
    return True


def _group_arn(group):
    # DescribeLogGroups reports the ARN with a trailing ':*'; the tagging API wants it without.
    return group["arn"][:-2] if group["arn"].endswith(":*") else group["arn"]


def read_log_group(client, name):
    group = describe_log_group(client, name)
    if group is None:
        return None
    return {
        "name": name,
        "arn": _group_arn(group),
        "kms_key_id": group.get("kmsKeyId"),
        "retention_in_days": group.get("retentionInDays"),
        "tags": get_tags(client, _group_arn(group)),
    }


def ensure_log_group_present(
    client, current, name, arn, key_arn, retention, tags, purge_tags, check_mode, encrypted=True
):
    """Creates the group encrypted with the key (moto cannot associate a key later), then converges it.

    encrypted=False is a group whose encryption TrailWatch leaves alone (a Lambda function's own logs).
    """
    desired = {"name": name, "arn": arn, "kms_key_id": key_arn, "retention_in_days": retention, "tags": dict(tags)}
    if current is None:
        if not check_mode:
            create_log_group(client, name, key_arn, tags)
            put_retention(client, name, retention)
        return True, desired

    changed = False
    if encrypted and current["kms_key_id"] != key_arn:
        changed = True
        if not check_mode:
            associate_kms_key(client, name, key_arn)
    if current["retention_in_days"] != retention:
        changed = True
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
    changed |= tags_changed
    return changed, desired
