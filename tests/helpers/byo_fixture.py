"""An account that already has a log bucket, a KMS key and an SNS topic, each with someone else's policy.

    byo_fixture.py create --out FILE [--region R]     prints and writes the names/ARNs and foreign statements
    byo_fixture.py check --state FILE --phase deployed|removed [--region R]

`check` prints a JSON list of {"check", "ok", "detail"}: every foreign statement is semantically unchanged,
TrailWatch's statements are present (deployed) or gone (removed), nothing of the owner's was deleted.
"""

import argparse
import json
import sys

import boto3

BUCKET = "corp-audit-logs"
ALIAS = "alias/corp-audit"
TOPIC = "corp-alerts"
# TrailWatch's statements name the install (trailwatch_name "trailwatch"): TrailWatch<Role>For<Install>. The key
# gets no CloudWatchAlarms statement: the owner's topic is not encrypted with it.
OURS = {
    "bucket": {"TrailWatchCloudTrailAclCheckForTrailwatch", "TrailWatchCloudTrailWriteForTrailwatch"},
    "key": {
        "TrailWatchCloudTrailEncryptForTrailwatch",
        "TrailWatchCloudTrailDescribeForTrailwatch",
        "TrailWatchAccountReadersDecryptForTrailwatch",
        "TrailWatchCloudWatchLogsForTrailwatch",
    },
    "topic": {"TrailWatchCloudWatchAlarmsPublishForTrailwatch"},
}


def _foreign(account, region):
    root = f"arn:aws:iam::{account}:root"
    return {
        "bucket": [
            {
                "Sid": "AuditorsRead",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:role/auditor"},
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:DeleteBucket",
                "Resource": f"arn:aws:s3:::{BUCKET}",
            },
        ],
        "key": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "BackupServiceUse",
                "Effect": "Allow",
                "Principal": {"Service": "backup.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
            },
        ],
        "topic": [
            {
                "Sid": "OpsPublish",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:role/ops"},
                "Action": "sns:Publish",
                "Resource": f"arn:aws:sns:{region}:{account}:{TOPIC}",
            },
        ],
    }


def _clients(region):
    session = boto3.session.Session(region_name=region)
    return {name: session.client(name) for name in ("sts", "s3", "kms", "sns", "sqs")}


def create(region):
    c = _clients(region)
    account = c["sts"].get_caller_identity()["Account"]
    foreign = _foreign(account, region)
    params = {"Bucket": BUCKET}
    if region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    c["s3"].create_bucket(**params)
    c["s3"].put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    for key in ("reports/2026-q3.csv", "reports/2026-q4.csv"):
        c["s3"].put_object(Bucket=BUCKET, Key=key, Body=b"owner data")
    c["s3"].put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": foreign["bucket"]})
    )

    key = c["kms"].create_key(
        Description="corp audit key", Policy=json.dumps({"Version": "2012-10-17", "Statement": foreign["key"]})
    )["KeyMetadata"]
    c["kms"].create_alias(AliasName=ALIAS, TargetKeyId=key["KeyId"])

    topic_arn = c["sns"].create_topic(Name=TOPIC)["TopicArn"]
    c["sns"].set_topic_attributes(
        TopicArn=topic_arn,
        AttributeName="Policy",
        AttributeValue=json.dumps({"Version": "2012-10-17", "Statement": foreign["topic"]}),
    )
    queue_url = c["sqs"].create_queue(QueueName="corp-ops")["QueueUrl"]
    queue_arn = c["sqs"].get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    c["sns"].subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return {
        "account": account,
        "bucket": BUCKET,
        "key_arn": key["Arn"],
        "topic_arn": topic_arn,
        "queue_arn": queue_arn,
        "objects": 2,
        "foreign": foreign,
    }


def _statements(policy):
    statements = (policy or {}).get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _normal(value):
    """Order-insensitive form of a statement (lists sorted, one-element lists as scalars)."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        items = sorted((_normal(v) for v in value), key=json.dumps)
        return items[0] if len(items) == 1 else items
    return value


def check(state, phase, region):
    c = _clients(region)
    results = []

    def add(name, ok, detail=""):
        results.append({"check": name, "ok": bool(ok), "detail": str(detail)[:400]})

    policies = {
        "bucket": json.loads(c["s3"].get_bucket_policy(Bucket=state["bucket"])["Policy"]),
        "key": json.loads(c["kms"].get_key_policy(KeyId=state["key_arn"], PolicyName="default")["Policy"]),
        "topic": json.loads(c["sns"].get_topic_attributes(TopicArn=state["topic_arn"])["Attributes"]["Policy"]),
    }
    for resource, policy in policies.items():
        found = [_normal(s) for s in _statements(policy)]
        for statement in state["foreign"][resource]:
            add(
                f"{resource} policy keeps foreign statement {statement.get('Sid', '(no Sid)')} unchanged",
                _normal(statement) in found,
                json.dumps(policy),
            )
        sids = {s.get("Sid") for s in _statements(policy)}
        if phase == "deployed":
            add(f"{resource} policy holds TrailWatch's statements", OURS[resource] <= sids, sorted(map(str, sids)))
        else:
            add(
                f"{resource} policy holds no TrailWatch statement any more",
                not any(str(s).startswith("TrailWatch") for s in sids),
                sorted(map(str, sids)),
            )
        add(
            f"{resource} policy has no statement but the foreign ones and TrailWatch's",
            all(s in OURS[resource] or any(s == f.get("Sid") for f in state["foreign"][resource]) for s in sids if s),
            sorted(s for s in sids if s),
        )

    versions = c["s3"].list_object_versions(Bucket=state["bucket"]).get("Versions", [])
    add("bucket keeps the owner's objects", len(versions) == state["objects"], len(versions))
    key = c["kms"].describe_key(KeyId=state["key_arn"])["KeyMetadata"]
    add("key is still enabled (never scheduled for deletion)", key["KeyState"] == "Enabled", key["KeyState"])
    subs = c["sns"].list_subscriptions_by_topic(TopicArn=state["topic_arn"])["Subscriptions"]
    add("topic keeps the owner's queue subscription", any(s["Endpoint"] == state["queue_arn"] for s in subs), subs)
    emails = [s["Endpoint"] for s in subs if s["Protocol"] == "email"]
    if phase == "deployed":
        add("topic has TrailWatch's e-mail subscription", emails == ["security@example.com"], emails)
    else:
        add("topic has no TrailWatch e-mail subscription any more", emails == [], emails)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("action", choices=["create", "check"])
    parser.add_argument("--out")
    parser.add_argument("--state")
    parser.add_argument("--phase", choices=["deployed", "removed"])
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    if args.action == "create":
        state = create(args.region)
        text = json.dumps(state)
        if args.out:
            with open(args.out, "w") as out:
                out.write(text)
        print(text)
    else:
        with open(args.state) as handle:
            state = json.load(handle)
        json.dump(check(state, args.phase, args.region), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
