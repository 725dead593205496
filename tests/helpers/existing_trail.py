"""An account that already has someone else's multi-region trail delivering to its own log group.

existing_trail.py create --out FILE [--region R]     creates it; writes its description
existing_trail.py check --state FILE [--region R]     JSON list of {"check", "ok", "detail"}
"""

import argparse
import json
import sys

import boto3

TRAIL = "org-baseline-trail"
BUCKET = "org-baseline-cloudtrail"
LOG_GROUP = "org-baseline/cloudtrail"
ROLE = "org-baseline-cloudtrail-logs"


def _clients(region):
    session = boto3.session.Session(region_name=region)
    return {n: session.client(n) for n in ("sts", "s3", "logs", "iam", "cloudtrail", "kms", "sns", "cloudwatch")}


def _trail_view(c):
    trail = c["cloudtrail"].get_trail(Name=TRAIL)["Trail"]
    selectors = c["cloudtrail"].get_event_selectors(TrailName=TRAIL).get("EventSelectors")
    status = c["cloudtrail"].get_trail_status(Name=TRAIL).get("IsLogging")
    return {"trail": trail, "selectors": selectors, "logging": status}


def create(region):
    c = _clients(region)
    account = c["sts"].get_caller_identity()["Account"]
    params = {"Bucket": BUCKET}
    if region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    c["s3"].create_bucket(**params)
    c["logs"].create_log_group(logGroupName=LOG_GROUP)
    group_arn = c["logs"].describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"][0]["arn"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role_arn = c["iam"].create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    c["cloudtrail"].create_trail(
        Name=TRAIL,
        S3BucketName=BUCKET,
        IsMultiRegionTrail=True,
        IncludeGlobalServiceEvents=True,
        CloudWatchLogsLogGroupArn=group_arn,
        CloudWatchLogsRoleArn=role_arn,
    )
    c["cloudtrail"].put_event_selectors(
        TrailName=TRAIL, EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    c["cloudtrail"].start_logging(Name=TRAIL)
    return {"account": account, "log_group": LOG_GROUP, "view": _trail_view(c)}


def check(state, region):
    c = _clients(region)
    results = []

    def add(name, ok, detail=""):
        results.append({"check": name, "ok": bool(ok), "detail": str(detail)[:400]})

    # moto's describe_trails ignores trailNameList: list them all and count.
    trails = c["cloudtrail"].describe_trails()["trailList"]
    add("no second trail was created", [t["Name"] for t in trails] == [TRAIL], [t["Name"] for t in trails])
    add(
        "the existing trail is untouched (settings, selectors, logging)",
        json.dumps(_trail_view(c), sort_keys=True, default=str)
        == json.dumps(state["view"], sort_keys=True, default=str),
        _trail_view(c),
    )
    filters = c["logs"].describe_metric_filters(logGroupName=LOG_GROUP)["metricFilters"]
    add(
        "the watch's filter is on the existing trail's log group",
        [f["filterName"] for f in filters] == ["trailwatch-s3-bucket-created"],
        [f["filterName"] for f in filters],
    )
    alarms = c["cloudwatch"].describe_alarms(AlarmNamePrefix="trailwatch-")["MetricAlarms"]
    add("the watch's alarm exists", [a["AlarmName"] for a in alarms] == ["trailwatch-s3-bucket-created"], alarms)
    topics = [t["TopicArn"] for t in c["sns"].list_topics()["Topics"]]
    add("the TrailWatch topic exists", any(t.endswith(":trailwatch-alerts") for t in topics), topics)
    aliases = [a["AliasName"] for a in c["kms"].list_aliases()["Aliases"]]
    add("no TrailWatch key was created", "alias/trailwatch" not in aliases, aliases)
    buckets = [b["Name"] for b in c["s3"].list_buckets()["Buckets"]]
    add("no TrailWatch bucket was created", buckets == [BUCKET], buckets)
    roles = [r["RoleName"] for r in c["iam"].list_roles()["Roles"]]
    add("no TrailWatch role was created", not any(r.startswith("trailwatch") for r in roles), roles)
    groups = [g["logGroupName"] for g in c["logs"].describe_log_groups()["logGroups"]]
    add("no TrailWatch log group was created", groups == [LOG_GROUP], groups)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("action", choices=["create", "check", "survivors"])
    parser.add_argument("--out")
    parser.add_argument("--state")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    if args.action == "create":
        text = json.dumps(create(args.region), default=str)
        if args.out:
            with open(args.out, "w") as out:
                out.write(text)
        print(text)
    elif args.action == "survivors":
        c = _clients(args.region)
        print(c["cloudtrail"].get_trail(Name=TRAIL)["Trail"]["Name"])
        print(c["logs"].describe_log_groups(logGroupNamePrefix=LOG_GROUP)["logGroups"][0]["logGroupName"])
    else:
        with open(args.state) as handle:
            json.dump(check(json.load(handle), args.region), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
