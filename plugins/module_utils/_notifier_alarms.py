# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: the notifier's own alarms, on AWS metrics, notifying the TrailWatch topic.

- ``<name>-notifier-errors``: the notifier function's ``Errors`` (namespace ``AWS/Lambda``, dimension
  ``FunctionName``), Sum over 5 minutes >= 1. A batch whose publish failed ends in an error (Lambda retries it), so
  the first failed attempt already tells someone.
- ``<name>-notifier-failed-events``: the failed-events queue's ``ApproximateNumberOfMessagesVisible`` (namespace
  ``AWS/SQS``, dimension ``QueueName``), Maximum over 5 minutes >= 1: an event failed every attempt and waits there.

Both treat missing data as not breaching (no invocation, an idle queue) and only notify on ALARM. The alarms count
into AWS namespaces, never into the watches' namespace, so metric_watches never takes them for stale watches.
The CloudWatch wrappers are ``_cloudwatch``'s.
"""

from typing import Any
from typing import Dict
from typing import Optional
from typing import Tuple

from ._cloudwatch import alarm_spec
from ._cloudwatch import delete_alarms
from ._cloudwatch import describe_alarms
from ._cloudwatch import get_tags
from ._cloudwatch import put_metric_alarm
from ._cloudwatch import tag_alarm
from ._cloudwatch import untag_alarm
from ._common import Ensured
from ._common import converge_tags
from ._common import converged

PERIOD_SECONDS = 300


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
        "Period": PERIOD_SECONDS,
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


def read_alarms(client, name: str) -> Dict[str, Optional[Dict[str, Any]]]:
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
    client,
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


def ensure_alarms_absent(client, current: Dict[str, Optional[Dict[str, Any]]], check_mode: bool) -> Ensured:
    """Deletes the alarms that exist; the Ensured's parts are their kinds."""
    existing = {kind: state for kind, state in current.items() if state is not None}
    if existing and not check_mode:
        delete_alarms(client, [state["spec"]["AlarmName"] for state in existing.values()])
    return Ensured(bool(existing), None, sorted(existing))
