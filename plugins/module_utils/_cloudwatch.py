# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: CloudWatch: the alarm wrappers (the watches' alarms, ``_watch_sync``), the doctor's
metric read, and the notifier's own two alarms (``notifier_alarms``, ``read_alarms``, ``ensure_alarms_*``)."""

from typing import Any
from typing import Dict
from typing import List
from typing import Optional
from typing import Sequence
from typing import Tuple

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ._common import Ensured
from ._common import TrailWatchError
from ._common import converge_tags
from ._common import converged
from ._common import retry
from ._common import tag_dict


class CloudWatchError(TrailWatchError):
    pass


class CloudWatchErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = CloudWatchError

    @classmethod
    def _is_missing(cls) -> Any:
        return is_boto3_error_code("ResourceNotFound")


@CloudWatchErrorHandler.common_error_handler("describe the alarms")
@retry()
def describe_alarms(client: Any, names: Sequence[str]) -> List[Dict[str, Any]]:
    """All metric alarms of the given names, 100 names per request (the API's limit)."""
    alarms: List[Dict[str, Any]] = []
    for start in range(0, len(names), 100):
        pages = client.get_paginator("describe_alarms").paginate(
            AlarmNames=names[start : start + 100], AlarmTypes=["MetricAlarm"]
        )
        alarms.extend(pages.build_full_result().get("MetricAlarms", []))
    return alarms


@CloudWatchErrorHandler.common_error_handler("describe the alarms")
@retry()
def describe_alarms_by_prefix(client: Any, prefix: str) -> List[Dict[str, Any]]:
    """All metric alarms whose name starts with the prefix: one request for all of them."""
    pages = client.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"])
    return pages.build_full_result().get("MetricAlarms", [])


@CloudWatchErrorHandler.list_error_handler("read the alarm tags", {})
@retry()
def get_tags(client: Any, arn: str) -> Dict[str, str]:
    return tag_dict(client.list_tags_for_resource(ResourceARN=arn).get("Tags", []))


@CloudWatchErrorHandler.common_error_handler("create or update the alarm")
@retry()
def put_metric_alarm(client: Any, spec: Dict[str, Any], tags: Optional[Dict[str, Any]]) -> None:
    params = dict(spec)
    if tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    client.put_metric_alarm(**params)


@CloudWatchErrorHandler.common_error_handler("tag the alarm")
@retry()
def tag_alarm(client: Any, arn: str, tags: Dict[str, Any]) -> None:
    client.tag_resource(ResourceARN=arn, Tags=ansible_dict_to_boto3_tag_list(tags))


@CloudWatchErrorHandler.common_error_handler("untag the alarm")
@retry()
def untag_alarm(client: Any, arn: str, keys: List[str]) -> None:
    client.untag_resource(ResourceARN=arn, TagKeys=keys)


@CloudWatchErrorHandler.deletion_error_handler("delete the alarms")
@retry()
def delete_alarms(client: Any, names: Sequence[str]) -> bool:
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


def alarm_spec(alarm: Dict[str, Any]) -> Dict[str, Any]:
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
def metric_sum(
    client: Any,
    namespace: str,
    metric: str,
    dimensions: Dict[str, str],
    start: Any,
    end: Any,
    period: int,
) -> float:
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


# --- the notifier's own alarms, on AWS metrics, notifying the TrailWatch topic -----------------------------------
#
# - ``<name>-notifier-errors``: the notifier function's ``Errors`` (namespace ``AWS/Lambda``, dimension
#   ``FunctionName``), Sum over 5 minutes >= 1. A batch whose publish failed ends in an error (Lambda retries it), so
#   the first failed attempt already tells someone.
# - ``<name>-notifier-failed-events``: the failed-events queue's ``ApproximateNumberOfMessagesVisible`` (namespace
#   ``AWS/SQS``, dimension ``QueueName``), Maximum over 5 minutes >= 1: an event failed every attempt and waits there.
#
# Both treat missing data as not breaching (no invocation, an idle queue) and only notify on ALARM. The alarms count
# into AWS namespaces, never into the watches' namespace, so metric_watches never takes them for stale watches.

NOTIFIER_ALARM_PERIOD_SECONDS = 300


def alarm_names(name: str) -> Dict[str, str]:
    """{kind: alarm name} of an install."""
    return {"errors": f"{name}-notifier-errors", "failed_events": f"{name}-notifier-failed-events"}


def _alarm(
    alarm_name: str,
    description: str,
    namespace: str,
    metric: str,
    statistic: str,
    dimension: Tuple[str, str],
    topic_arn: str,
) -> Dict[str, Any]:
    return {
        "AlarmName": alarm_name,
        "AlarmDescription": description,
        "ActionsEnabled": True,
        "AlarmActions": [topic_arn],
        "OKActions": [],
        "InsufficientDataActions": [],
        "MetricName": metric,
        "Namespace": namespace,
        "Statistic": statistic,
        "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}],
        "Period": NOTIFIER_ALARM_PERIOD_SECONDS,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": None,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
    }


def notifier_alarms(name: str, function_name: str, queue_name: str, topic_arn: str) -> Dict[str, Dict[str, Any]]:
    """{kind: PutMetricAlarm spec} of the notifier's alarms (the fields alarm_spec compares, plus Dimensions)."""
    names = alarm_names(name)
    return {
        "errors": _alarm(
            names["errors"],
            f"TrailWatch notifier: {function_name} failed; a CreateBucket notification is being retried "
            f"(log group /aws/lambda/{function_name})",
            "AWS/Lambda",
            "Errors",
            "Sum",
            ("FunctionName", function_name),
            topic_arn,
        ),
        "failed_events": _alarm(
            names["failed_events"],
            f"TrailWatch notifier: events that failed every attempt wait in SQS queue {queue_name}; "
            "redrive them (roles/notifier/README-lambda.md)",
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "Maximum",
            ("QueueName", queue_name),
            topic_arn,
        ),
    }


def _spec(alarm: Dict[str, Any]) -> Dict[str, Any]:
    spec = alarm_spec(alarm)
    spec["Dimensions"] = sorted(
        ({"Name": d["Name"], "Value": d["Value"]} for d in alarm.get("Dimensions") or []), key=lambda d: d["Name"]
    )
    return spec


def read_alarms(client: Any, name: str) -> Dict[str, Optional[Dict[str, Any]]]:
    """{kind: {"spec", "arn", "tags"} or None}: one DescribeAlarms, plus one tag read per existing alarm."""
    names = alarm_names(name)
    found = {alarm["AlarmName"]: alarm for alarm in describe_alarms(client, list(names.values()))}
    result: Dict[str, Optional[Dict[str, Any]]] = {}
    for kind, alarm_name in names.items():
        alarm = found.get(alarm_name)
        result[kind] = (
            None
            if alarm is None
            else {"spec": _spec(alarm), "arn": alarm["AlarmArn"], "tags": get_tags(client, alarm["AlarmArn"])}
        )
    return result


def _put_params(spec: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in spec.items() if value is not None}


def ensure_alarms_present(
    client: Any,
    current: Dict[str, Optional[Dict[str, Any]]],
    desired: Dict[str, Dict[str, Any]],
    arns: Dict[str, str],
    tags: Dict[str, Any],
    purge_tags: bool,
    check_mode: bool,
) -> Ensured:
    """Puts each alarm that is missing or differs (PutMetricAlarm replaces an alarm whole) and converges tags.
    ``arns``: {kind: predicted ARN}. Returns an Ensured whose parts are the changed alarm kinds."""
    changed = []
    after = {}
    for kind, spec in desired.items():
        have = current.get(kind)
        if have is None:
            changed.append(kind)
            if not check_mode:
                put_metric_alarm(client, _put_params(spec), tags)
            after[kind] = {"spec": spec, "arn": arns[kind], "tags": dict(tags)}
            continue
        entry = dict(have)
        if have["spec"] != spec:
            changed.append(kind)
            entry["spec"] = spec
            if not check_mode:
                put_metric_alarm(client, _put_params(spec), {})
        tags_changed, entry["tags"] = converge_tags(
            have["tags"],
            tags,
            purge_tags,
            lambda t, arn=entry["arn"]: tag_alarm(client, arn, t),
            lambda k, arn=entry["arn"]: untag_alarm(client, arn, k),
            check_mode,
        )
        if tags_changed and kind not in changed:
            changed.append(kind)
        after[kind] = entry
    return converged(after, changed)


def ensure_alarms_absent(client: Any, current: Dict[str, Optional[Dict[str, Any]]], check_mode: bool) -> Ensured:
    """Deletes the alarms that exist; the Ensured's parts are their kinds."""
    existing = {kind: state for kind, state in current.items() if state is not None}
    if existing and not check_mode:
        delete_alarms(client, [state["spec"]["AlarmName"] for state in existing.values()])
    return Ensured(bool(existing), None, sorted(existing))
