# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: CloudWatch alarm wrappers."""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ._common import TrailWatchError
from ._common import retry
from ._common import tag_dict


class CloudWatchError(TrailWatchError):
    pass


class CloudWatchErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = CloudWatchError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFound")


@CloudWatchErrorHandler.common_error_handler("describe the alarms")
@retry()
def describe_alarms(client, names):
    """All metric alarms of the given names, 100 names per request (the API's limit)."""
    alarms = []
    for start in range(0, len(names), 100):
        pages = client.get_paginator("describe_alarms").paginate(
            AlarmNames=names[start : start + 100], AlarmTypes=["MetricAlarm"]
        )
        alarms.extend(pages.build_full_result().get("MetricAlarms", []))
    return alarms


@CloudWatchErrorHandler.common_error_handler("describe the alarms")
@retry()
def describe_alarms_by_prefix(client, prefix):
    """All metric alarms whose name starts with the prefix: one request for all of them."""
    pages = client.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"])
    return pages.build_full_result().get("MetricAlarms", [])


@CloudWatchErrorHandler.list_error_handler("read the alarm tags", {})
@retry()
def get_tags(client, arn):
    return tag_dict(client.list_tags_for_resource(ResourceARN=arn).get("Tags", []))


@CloudWatchErrorHandler.common_error_handler("create or update the alarm")
@retry()
def put_metric_alarm(client, spec, tags):
    params = dict(spec)
    if tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    client.put_metric_alarm(**params)


@CloudWatchErrorHandler.common_error_handler("tag the alarm")
@retry()
def tag_alarm(client, arn, tags):
    client.tag_resource(ResourceARN=arn, Tags=ansible_dict_to_boto3_tag_list(tags))


@CloudWatchErrorHandler.common_error_handler("untag the alarm")
@retry()
def untag_alarm(client, arn, keys):
    client.untag_resource(ResourceARN=arn, TagKeys=keys)


@CloudWatchErrorHandler.deletion_error_handler("delete the alarms")
@retry()
def delete_alarms(client, names):
    for start in range(0, len(names), 100):
        client.delete_alarms(AlarmNames=names[start : start + 100])
    return True


# The fields of PutMetricAlarm that TrailWatch sets, as DescribeAlarms reports them.
ALARM_FIELDS = (
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "AlarmActions",
    "OKActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
)


def alarm_spec(alarm):
    """Reduces a DescribeAlarms entry to the comparable PutMetricAlarm fields."""
    spec = {field: alarm.get(field) for field in ALARM_FIELDS}
    for field in ("AlarmActions", "OKActions", "InsufficientDataActions"):
        spec[field] = sorted(spec[field] or [])
    spec["AlarmDescription"] = spec["AlarmDescription"] or ""
    if spec["Threshold"] is not None:
        spec["Threshold"] = float(spec["Threshold"])
    return spec


# --- read-only helpers of the doctor (alert_chain_info) ---------------------------------------------------------


@CloudWatchErrorHandler.common_error_handler("read a metric's statistics")
@retry()
def metric_sum(client, namespace, metric, dimensions, start, end, period):
    """The Sum of a metric between start and end (datetimes), over one period of ``period`` seconds; 0 without data."""
    points = client.get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in sorted(dimensions.items())],
        StartTime=start,
        EndTime=end,
        Period=period,
        Statistics=["Sum"],
    ).get("Datapoints", [])
    return sum(p.get("Sum", 0) for p in points)
