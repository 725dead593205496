# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: reads and converges the metric filters and alarms of watches (_watches.py describes
them: desired_watches)."""

from typing import Any
from typing import Collection
from typing import Dict
from typing import List
from typing import Optional
from typing import Tuple

from ._cloudwatch import alarm_spec
from ._cloudwatch import delete_alarms
from ._cloudwatch import describe_alarms
from ._cloudwatch import describe_alarms_by_prefix
from ._cloudwatch import get_tags as get_alarm_tags
from ._cloudwatch import put_metric_alarm
from ._cloudwatch import tag_alarm
from ._cloudwatch import untag_alarm
from ._common import Ensured
from ._common import converge_tags
from ._logs import delete_metric_filter
from ._logs import describe_metric_filters
from ._logs import put_metric_filter


def _filter_spec(found: Dict[str, Any]) -> Dict[str, Any]:
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


def _empty() -> Dict[str, Any]:
    return {"filters": [], "alarm": None, "alarm_arn": None, "tags": {}}


def read_watches(
    logs: Any,
    cloudwatch: Any,
    log_group_name: str,
    names: Collection[str],
    owned: Optional[Tuple[str, str]] = None,
    with_tags: bool = True,
) -> Dict[str, Dict[str, Any]]:
    """{full name: {"filters": [...], "alarm": spec or None, "alarm_arn", "tags"}} for the given names.

    With owned=(name_prefix, namespace), also every filter and alarm TrailWatch created earlier: named with
    the prefix and counting into the namespace (a filter or alarm of someone else's never matches both).
    Two bulk reads for all watches (plus one tag read per existing alarm), not one call per watch.
    """
    state = {name: _empty() for name in names}

    def ours(name: str, namespace: Optional[str]) -> bool:
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


def ensure_watches_present(
    logs: Any,
    cloudwatch: Any,
    log_group_name: str,
    desired: List[Dict[str, Any]],
    current: Dict[str, Dict[str, Any]],
    tags: Dict[str, Any],
    purge_tags: bool,
    check_mode: bool,
) -> Ensured:
    """Converges every watch; an Ensured whose after is {watch name: {filter, alarm, tags}} (predicted in check mode)
    and whose parts are the names of the watches created or changed."""
    changed: List[str] = []
    after: Dict[str, Any] = {}
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
    return Ensured(bool(changed), after, changed)


def ensure_watches_absent(
    logs: Any,
    cloudwatch: Any,
    log_group_name: str,
    current: Dict[str, Dict[str, Any]],
    check_mode: bool,
    keep: Collection[str] = (),
) -> Ensured:
    """Deletes the filters and alarms in current except those named in keep.

    An Ensured whose parts are the full names removed (deleted, or to be deleted in check mode) and whose after is
    what remains of current (read_watches' shape).
    """
    removed = sorted(name for name, have in current.items() if name not in keep and (have["filters"] or have["alarm"]))
    if removed and not check_mode:
        for name in removed:
            if current[name]["filters"]:
                delete_metric_filter(logs, log_group_name, name)
        alarms = [name for name in removed if current[name]["alarm"]]
        if alarms:
            delete_alarms(cloudwatch, alarms)
    return Ensured(bool(removed), {name: have for name, have in current.items() if name not in removed}, removed)
