"""Lists the metric filters of a log group and the alarms of the account, or plants someone else's.

    watch_inventory.py show --log-group NAME [--region R]
    watch_inventory.py plant-foreign --log-group NAME [--region R]

`show` prints {"filters": {name: {pattern, namespace, metric, count}}, "alarms": {name: {namespace, metric,
threshold, actions}}}. `plant-foreign` adds, once, a filter and an alarm that are not TrailWatch's although
they look close: same name prefix but another namespace, and our namespace but another prefix.
"""

import argparse
import json
import sys

import boto3

FOREIGN_FILTERS = [
    ("trailwatch-foreign-filter", "OtherTeam"),  # our prefix, someone else's namespace
    ("someone-elses-filter", "TrailWatch"),  # our namespace, someone else's prefix
]
FOREIGN_ALARM = "trailwatch-foreign-alarm"


def show(logs, cloudwatch, group):
    filters = {}
    for page in logs.get_paginator("describe_metric_filters").paginate(logGroupName=group):
        for found in page["metricFilters"]:
            t = found["metricTransformations"][0]
            entry = filters.setdefault(
                found["filterName"],
                {"pattern": found["filterPattern"], "namespace": t["metricNamespace"], "metric": t["metricName"]},
            )
            entry["count"] = entry.get("count", 0) + 1
    alarms = {}
    for page in cloudwatch.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"]):
        for alarm in page["MetricAlarms"]:
            alarms[alarm["AlarmName"]] = {
                "namespace": alarm.get("Namespace"),
                "metric": alarm.get("MetricName"),
                "threshold": alarm.get("Threshold"),
                "actions": alarm.get("AlarmActions", []),
            }
    return {"filters": filters, "alarms": alarms}


def plant_foreign(logs, cloudwatch, group):
    existing = show(logs, cloudwatch, group)
    for name, namespace in FOREIGN_FILTERS:
        if name not in existing["filters"]:
            logs.put_metric_filter(
                logGroupName=group,
                filterName=name,
                filterPattern='{ $.eventName = "DeleteObject" }',
                metricTransformations=[{"metricName": "Deletes", "metricNamespace": namespace, "metricValue": "1"}],
            )
    if FOREIGN_ALARM not in existing["alarms"]:
        cloudwatch.put_metric_alarm(
            AlarmName=FOREIGN_ALARM,
            MetricName="Deletes",
            Namespace="OtherTeam",
            Statistic="Sum",
            Period=300,
            EvaluationPeriods=1,
            Threshold=10,
            ComparisonOperator="GreaterThanThreshold",
        )
    return show(logs, cloudwatch, group)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("action", choices=["show", "plant-foreign"])
    parser.add_argument("--log-group", required=True)
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    session = boto3.session.Session(region_name=args.region)
    logs, cloudwatch = session.client("logs"), session.client("cloudwatch")
    action = show if args.action == "show" else plant_foreign
    json.dump(action(logs, cloudwatch, args.log_group), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
