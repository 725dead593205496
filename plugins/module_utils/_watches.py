# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: a watch is a metric filter on the trail's log group plus the alarm on its metric.

This file is the watch itself, without AWS calls: its schema (the fields, types and defaults every entry point uses),
its validation and the filter and alarm it stands for. It imports no boto3, so the filter plugin that checks the roles'
input on the controller stays cheap to load; _watch_sync.py reads and converges the watches in AWS.
"""

import re
from copy import deepcopy
from typing import Any
from typing import Dict
from typing import List
from typing import Optional

from ansible.module_utils.parsing.convert_bool import boolean

from ._filter_pattern import pattern_error
from ._filter_pattern import regex_count

# Matched with fullmatch: `$` alone would let a final newline through ("x1\n").
WATCH_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
# CloudWatch Logs API Reference, MetricTransformation: metricName at most 255 characters, pattern [^:*$]*;
# CloudWatch API Reference, PutMetricAlarm: MetricName 1-255, AlarmDescription 0-1024 characters (botocore's models
# say the same). botocore does not check either before sending, so a watch past them would fail at
# PutMetricFilter/PutMetricAlarm, after the trail was built.
METRIC_NAME = re.compile(r"[^:*$\x00-\x1f]{1,255}")
MAX_ALARM_DESCRIPTION = 1024
# CloudWatch Logs quotas per log group, all watches going to one (PutMetricFilter API reference): "The maximum
# number of metric filters that can be associated with a log group is 100" and "a quota of five regular expression
# patterns per log group" (filter patterns holding a regular expression, metric and subscription filters together).
MAX_METRIC_FILTERS = 100
MAX_REGEX_PATTERNS = 5


# The watch schema, the one definition of a watch's fields: the metric_watches module's argument spec is built from it
# (watch_options()), the roles' input is checked with it (watch_input_options(), by the trailwatch.aws.checked_input
# filter) and desired_watches() fills in its defaults. The roles' meta/argument_specs.yml must declare the same fields,
# types, defaults and choices (tests/unit/plugins/module_utils/test_watch_schema.py compares them).
WATCH_OPTIONS: Dict[str, Dict[str, Any]] = {
    "name": {"type": "str", "required": True},
    "pattern": {"type": "str", "required": True},
    "description": {"type": "str"},
    "metric_name": {"type": "str"},
    "threshold": {"type": "float", "default": 1},
    "period": {"type": "int", "default": 60},
    "evaluation_periods": {"type": "int", "default": 1},
    "accept_blind_spots": {"type": "bool", "default": False},
}
# A watch of the roles' input (trailwatch_watches) may only override a preset's watch of the same name, so its pattern
# is not required there, and `enabled: false` drops a watch (a preset's too): effective_watches() in the filter plugin
# merges them into WATCH_OPTIONS' shape.
WATCH_INPUT_ONLY: Dict[str, Dict[str, Any]] = {"enabled": {"type": "bool", "default": True}}
WATCH_INPUT_OPTIONAL = ("pattern",)


def watch_options() -> Dict[str, Dict[str, Any]]:
    """The sub-options of a watch in the metric_watches module's argument spec (a fresh copy)."""
    return deepcopy(WATCH_OPTIONS)


def watch_input_options(with_defaults: bool = True) -> Dict[str, Dict[str, Any]]:
    """The sub-options of an entry of trailwatch_watches, the roles' input (a fresh copy).

    ``with_defaults=False`` leaves the defaults out: that is how the input is checked, because a field the user does
    not set must stay unset, so that a preset's value for it is kept when the two are merged.
    """
    options = dict(deepcopy(WATCH_OPTIONS), **deepcopy(WATCH_INPUT_ONLY))
    for name in WATCH_INPUT_OPTIONAL:
        options[name].pop("required")
    if not with_defaults:
        for option in options.values():
            option.pop("default", None)
    return options


def _field(watch: Dict[str, Any], name: str) -> Any:
    """The watch's value of ``name``, or the schema's default when it is unset (None)."""
    value = watch.get(name)
    return WATCH_OPTIONS[name].get("default") if value is None else value


def metric_name_for(watch_name: str) -> str:
    """s3-bucket-created -> S3BucketCreated: a metric name that says what it counts."""
    return "".join(part[:1].upper() + part[1:] for part in watch_name.split("-") if part)


def validation_errors(watches: List[Any], places: Optional[List[Any]] = None) -> List[str]:
    """Every problem in the watch list, each naming the watch; empty when the list is usable.

    A problem starts with ``watch PLACE (NAME)``: PLACE is the watch's index in ``watches``, or ``places[index]``
    when given (the roles merge presets and trailwatch_watches, and name the place in what the user wrote).
    """
    errors = []
    seen = set()
    labels = []
    for index, watch in enumerate(watches):
        name = watch.get("name") or ""
        shown = name if str(name).isprintable() else str(name).encode("unicode_escape").decode("ascii")
        label = f"watch {index if places is None else places[index]} ({shown or 'no name'})"
        labels.append(label)
        if not WATCH_NAME.fullmatch(name):
            errors.append(
                f"{label}: name must match {WATCH_NAME.pattern} (1-63 lowercase letters, digits or hyphens, the first"
                " a letter or digit)"
            )
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
        metric = watch.get("metric_name")
        if metric is not None and not (isinstance(metric, str) and METRIC_NAME.fullmatch(metric)):
            errors.append(
                f"{label}: metric_name must be 1-255 characters without ':', '*', '$' or control characters"
                f" (CloudWatch MetricName), got {str(metric)[:40]!r}{'...' if len(str(metric)) > 40 else ''}"
            )
        description = watch.get("description")
        if description is not None and len(str(description)) > MAX_ALARM_DESCRIPTION:
            errors.append(
                f"{label}: description has {len(str(description))} characters; an alarm description holds at most"
                f" {MAX_ALARM_DESCRIPTION} (CloudWatch AlarmDescription): shorten it"
            )
        if not _is_bool(_field(watch, "accept_blind_spots")):
            errors.append(f"{label}: accept_blind_spots must be true or false")
    return errors + _log_group_quota_errors(watches, labels)


def _log_group_quota_errors(watches: List[Dict[str, Any]], labels: List[str]) -> List[str]:
    """The watches past a per-log-group quota of CloudWatch Logs, each named; PutMetricFilter would refuse them."""
    errors = []
    if len(watches) > MAX_METRIC_FILTERS:
        errors.append(
            f"{labels[MAX_METRIC_FILTERS]}: a log group holds at most {MAX_METRIC_FILTERS} metric filters "
            f"(CloudWatch Logs quota) and there are {len(watches)} watches; drop or disable "
            f"{len(watches) - MAX_METRIC_FILTERS}"
        )
    with_regex = [(i, w.get("name") or "no name") for i, w in enumerate(watches) if regex_count(w.get("pattern") or "")]
    allowed = ", ".join(entry[1] for entry in with_regex[:MAX_REGEX_PATTERNS])
    for index, _name in with_regex[MAX_REGEX_PATTERNS:]:
        errors.append(
            f"{labels[index]}: pattern: a log group holds at most {MAX_REGEX_PATTERNS} filter patterns with "
            f"a regular expression (CloudWatch Logs quota) and {allowed} already have one; "
            "use terms or * wildcards instead of %regex%"
        )
    return errors


def _is_bool(value: Any) -> bool:
    try:
        boolean(value, strict=True)
    except TypeError:
        return False
    return True


def desired_watches(watches: List[Any], name_prefix: str, namespace: str, alarm_actions: Any) -> List[Dict[str, Any]]:
    """The filter and alarm each watch stands for."""
    result = []
    for watch in watches:
        full_name = f"{name_prefix}{watch['name']}"
        metric = watch.get("metric_name") or metric_name_for(watch["name"])
        periods = _field(watch, "evaluation_periods")
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
                    "Period": _field(watch, "period"),
                    "EvaluationPeriods": periods,
                    "DatapointsToAlarm": periods,
                    "Threshold": float(_field(watch, "threshold")),
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    # Back to OK when no event arrives, so the next event alarms again.
                    "TreatMissingData": "notBreaching",
                },
            }
        )
    return result
