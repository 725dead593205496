# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: a watch is a metric filter on the trail's log group plus the alarm on its metric."""

import re
from typing import Any
from typing import Dict
from typing import List

from ansible.module_utils.parsing.convert_bool import boolean

from ._cloudwatch import alarm_spec
from ._cloudwatch import delete_alarms
from ._cloudwatch import describe_alarms
from ._cloudwatch import describe_alarms_by_prefix
from ._cloudwatch import get_tags as get_alarm_tags
from ._cloudwatch import put_metric_alarm
from ._cloudwatch import tag_alarm
from ._cloudwatch import untag_alarm
from ._common import converge_tags
from ._filter_pattern import pattern_error
from ._filter_pattern import regex_count
from ._logs import delete_metric_filter
from ._logs import describe_metric_filters
from ._logs import put_metric_filter

WATCH_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# CloudWatch Logs quotas per log group, all watches going to one (PutMetricFilter API reference): "The maximum
# number of metric filters that can be associated with a log group is 100" and "a quota of five regular expression
# patterns per log group" (filter patterns holding a regular expression, metric and subscription filters together).
MAX_METRIC_FILTERS = 100
MAX_REGEX_PATTERNS = 5


def metric_name_for(watch_name):
    """s3-bucket-created -> S3BucketCreated: a metric name that says what it counts."""
    return "".join(part[:1].upper() + part[1:] for part in watch_name.split("-") if part)


def validation_errors(watches):
    """Every problem in the watch list, each naming the watch; empty when the list is usable."""
    errors = []
    seen = set()
    for index, watch in enumerate(watches):
        name = watch.get("name") or ""
        label = f"watch {index} ({name or 'no name'})"
        if not WATCH_NAME.match(name):
            errors.append(f"{label}: name must match {WATCH_NAME.pattern}")
        if name in seen:
            errors.append(f"{label}: name is used twice")
        seen.add(name)
        problem = pattern_error(watch.get("pattern"))
        if problem:
            errors.append(f"{label}: pattern: {problem}")
        for field in ("threshold", "period", "evaluation_periods"):
            value = watch.get(field)
            if value is not None and value <= 0:
                errors.append(f"{label}: {field} must be positive")
        period = watch.get("period")
        if period is not None and period not in (10, 20, 30) and period % 60:
            errors.append(f"{label}: period must be 10, 20, 30 or a multiple of 60 seconds")
        if not _is_bool(watch.get("accept_blind_spots", False)):
            errors.append(f"{label}: accept_blind_spots must be true or false")
    return errors + _log_group_quota_errors(watches)


def _log_group_quota_errors(watches: List[Dict[str, Any]]) -> List[str]:
    """The watches past a per-log-group quota of CloudWatch Logs, each named; PutMetricFilter would refuse them."""
    errors = []
    if len(watches) > MAX_METRIC_FILTERS:
        first = watches[MAX_METRIC_FILTERS].get("name") or "no name"
        errors.append(
            f"watch {MAX_METRIC_FILTERS} ({first}): a log group holds at most {MAX_METRIC_FILTERS} metric filters "
            f"(CloudWatch Logs quota) and there are {len(watches)} watches; drop or disable "
            f"{len(watches) - MAX_METRIC_FILTERS}"
        )
    with_regex = [(i, w.get("name") or "no name") for i, w in enumerate(watches) if regex_count(w.get("pattern"))]
    allowed = ", ".join(entry[1] for entry in with_regex[:MAX_REGEX_PATTERNS])
    for index, name in with_regex[MAX_REGEX_PATTERNS:]:
        errors.append(
            f"watch {index} ({name}): pattern: a log group holds at most {MAX_REGEX_PATTERNS} filter patterns with "
            f"a regular expression (CloudWatch Logs quota) and {allowed} already have one; "
            "use terms or * wildcards instead of %regex%"
        )
    return errors


def _is_bool(value):
    try:
        boolean(value, strict=True)
    except TypeError:
        return False
    return True


def desired_watches(watches, name_prefix, namespace, alarm_actions):
    """The filter and alarm each watch stands for."""
    result = []
    for watch in watches:
        full_name = f"{name_prefix}{watch['name']}"
        metric = watch.get("metric_name") or metric_name_for(watch["name"])
        periods = watch.get("evaluation_periods") or 1
        result.append(
            {
                "name": watch["name"],
                "filter": {
                    "filterName": full_name,
                    "filterPattern": watch["pattern"],
                    "metricTransformations": [
                        {"metricName": metric, "metricNamespace": namespace, "metricValue": "1", "unit": "Count"}
                    ],
                },
                "alarm": {
                    "AlarmName": full_name,
                    "AlarmDescription": watch.get("description") or f"TrailWatch: {watch['name']}",
                    "ActionsEnabled": True,
                    "AlarmActions": sorted(alarm_actions),
                    "OKActions": [],
                    "InsufficientDataActions": [],
                    "MetricName": metric,
                    "Namespace": namespace,
                    "Statistic": "Sum",
                    "Period": watch.get("period") or 60,
                    "EvaluationPeriods": periods,
                    "DatapointsToAlarm": periods,
                    "Threshold": float(watch.get("threshold") or 1),
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    # Back to OK when no event arrives, so the next event alarms again.
                    "TreatMissingData": "notBreaching",
                },
            }
        )
    return result


def _filter_spec(found):
    transformations = [
        {
            "metricName": t.get("metricName"),
            "metricNamespace": t.get("metricNamespace"),
            "metricValue": t.get("metricValue"),
            "unit": t.get("unit", "None"),
        }
        for t in found.get("metricTransformations", [])
    ]
    return {
        "filterName": found["filterName"],
        "filterPattern": found.get("filterPattern", ""),
        "metricTransformations": transformations,
    }


def _empty():
    return {"filters": [], "alarm": None, "alarm_arn": None, "tags": {}}


def read_watches(logs, cloudwatch, log_group_name, names, owned=None, with_tags=True):
    """{full name: {"filters": [...], "alarm": spec or None, "alarm_arn", "tags"}} for the given names.

    With owned=(name_prefix, namespace), also every filter and alarm TrailWatch created earlier: named with
    the prefix and counting into the namespace (a filter or alarm of someone else's never matches both).
    Two bulk reads for all watches (plus one tag read per existing alarm), not one call per watch.
    """
    state = {name: _empty() for name in names}

    def ours(name, namespace):
        return name in state or (owned is not None and name.startswith(owned[0]) and namespace == owned[1])

    for found in describe_metric_filters(logs, log_group_name):
        namespaces = {t.get("metricNamespace") for t in found.get("metricTransformations", [])}
        if any(ours(found["filterName"], namespace) for namespace in namespaces or {None}):
            state.setdefault(found["filterName"], _empty())["filters"].append(_filter_spec(found))
    if owned is not None and owned[0]:
        alarms = describe_alarms_by_prefix(cloudwatch, owned[0])
    else:
        alarms = describe_alarms(cloudwatch, list(names)) if names else []
    for alarm in alarms:
        if ours(alarm["AlarmName"], alarm.get("Namespace")):
            entry = state.setdefault(alarm["AlarmName"], _empty())
            entry["alarm"] = alarm_spec(alarm)
            entry["alarm_arn"] = alarm["AlarmArn"]
            entry["tags"] = get_alarm_tags(cloudwatch, alarm["AlarmArn"]) if with_tags else {}
    return state


def ensure_watches_present(logs, cloudwatch, log_group_name, desired, current, tags, purge_tags, check_mode):
    """Converges every watch; returns (changed names, after view)."""
    changed = []
    after = {}
    for watch in desired:
        name = watch["filter"]["filterName"]
        have = current[name]
        filter_ok = have["filters"] == [watch["filter"]]
        alarm_ok = have["alarm"] == watch["alarm"]
        if not filter_ok and not check_mode:
            # PutMetricFilter creates or replaces the filter of that name in place (CloudWatch Logs API Reference,
            # PutMetricFilter): never delete first, which would leave the log group without the watch, and lose it
            # if the put is refused. (moto 5.2.5 appends a duplicate instead; tests/helpers/moto_patches.py.)
            put_metric_filter(
                logs, log_group_name, name, watch["filter"]["filterPattern"], watch["filter"]["metricTransformations"]
            )
        tags_ok = True
        after_tags = dict(tags)
        if not alarm_ok:
            if not check_mode:
                # PutMetricAlarm only applies Tags on creation; existing alarms get them below.
                put_metric_alarm(cloudwatch, watch["alarm"], tags if have["alarm"] is None else {})
        if have["alarm"] is not None:
            arn = have["alarm_arn"]
            tags_changed, after_tags = converge_tags(
                have["tags"],
                tags,
                purge_tags,
                lambda t, a=arn: tag_alarm(cloudwatch, a, t),
                lambda k, a=arn: untag_alarm(cloudwatch, a, k),
                check_mode,
            )
            tags_ok = not tags_changed
        if not (filter_ok and alarm_ok and tags_ok):
            changed.append(watch["name"])
        after[watch["name"]] = {"filter": watch["filter"], "alarm": watch["alarm"], "tags": after_tags}
    return changed, after


def ensure_watches_absent(logs, cloudwatch, log_group_name, current, check_mode, keep=()):
    """Deletes the filters and alarms in current except those named in keep; returns the full names removed."""
    removed = sorted(name for name, have in current.items() if name not in keep and (have["filters"] or have["alarm"]))
    if removed and not check_mode:
        for name in removed:
            if current[name]["filters"]:
                delete_metric_filter(logs, log_group_name, name)
        alarms = [name for name in removed if current[name]["alarm"]]
        if alarms:
            delete_alarms(cloudwatch, alarms)
    return removed
