"""Reads a deployed TrailWatch stack back with boto3 and checks every property, one named check each.

    stack_checks.py --expect present|kept|purged [--name trailwatch] [--region R] [--email a@b ...]

Prints a JSON list of {"check": name, "ok": bool, "detail": str}; exits 0 (the verify playbook asserts each
check by name, so a failure says exactly what is wrong). Uses AWS_ENDPOINT_URL and the usual credentials.
"""

import argparse
import json
import sys

import boto3
from botocore.exceptions import ClientError


class Checks:
    def __init__(self):
        self.results = []

    def add(self, name, ok, detail=""):
        self.results.append({"check": name, "ok": bool(ok), "detail": str(detail)[:500]})

    def equal(self, name, actual, expected):
        self.add(name, actual == expected, f"expected {expected!r}, found {actual!r}")


def _code(error):
    return error.response["Error"]["Code"]


def _statement(policy, sid):
    for statement in (policy or {}).get("Statement", []):
        if statement.get("Sid") == sid:
            return statement
    return {}


def _as_list(value):
    return value if isinstance(value, list) else [value]


class Stack:
    """Names and clients of one TrailWatch deployment."""

    def __init__(self, name, region, emails, assume_role=None):
        session = boto3.session.Session(region_name=region)
        if assume_role:
            creds = session.client("sts").assume_role(RoleArn=assume_role, RoleSessionName="stack-checks")[
                "Credentials"
            ]
            session = boto3.session.Session(
                region_name=region,
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
            )
        self.c = {s: session.client(s) for s in ("sts", "kms", "s3", "logs", "iam", "cloudtrail", "sns", "cloudwatch")}
        self.account = self.c["sts"].get_caller_identity()["Account"]
        self.region = region
        self.name = name
        self.emails = emails
        self.alias = f"alias/{name}"
        self.bucket = f"{name}-logs-{self.account}-{region}"
        self.log_group = f"aws-cloudtrail-logs-{name}"
        self.role = f"{name}-cloudtrail-to-logs"
        self.trail_arn = f"arn:aws:cloudtrail:{region}:{self.account}:trail/{name}"
        self.log_group_arn = f"arn:aws:logs:{region}:{self.account}:log-group:{self.log_group}"
        self.topic_arn = f"arn:aws:sns:{region}:{self.account}:{name}-alerts"
        self.watch = f"{name}-s3-bucket-created"

    def key(self):
        try:
            return self.c["kms"].describe_key(KeyId=self.alias)["KeyMetadata"]
        except ClientError as e:
            if _code(e) == "NotFoundException":
                return None
            raise

    def bucket_exists(self):
        try:
            self.c["s3"].head_bucket(Bucket=self.bucket)
            return True
        except ClientError:
            return False

    def log_group_entry(self):
        groups = self.c["logs"].describe_log_groups(logGroupNamePrefix=self.log_group)["logGroups"]
        return next((g for g in groups if g["logGroupName"] == self.log_group), None)

    def trail(self):
        try:
            return self.c["cloudtrail"].get_trail(Name=self.name)["Trail"]
        except ClientError as e:
            if _code(e) == "TrailNotFoundException":
                return None
            raise

    def role_entry(self):
        try:
            return self.c["iam"].get_role(RoleName=self.role)["Role"]
        except ClientError as e:
            if _code(e) == "NoSuchEntity":
                return None
            raise

    def topic_attributes(self):
        try:
            return self.c["sns"].get_topic_attributes(TopicArn=self.topic_arn)["Attributes"]
        except ClientError as e:
            if _code(e) == "NotFound":
                return None
            raise

    def filters(self):
        try:
            found = self.c["logs"].describe_metric_filters(logGroupName=self.log_group)["metricFilters"]
        except ClientError:
            return []
        return [f for f in found if f["filterName"] == self.watch]

    def alarms(self):
        return self.c["cloudwatch"].describe_alarms(AlarmNames=[self.watch])["MetricAlarms"]


def check_key(chk, st):
    meta = st.key()
    chk.add("kms key exists behind the alias", meta is not None, st.alias)
    if not meta:
        return
    chk.equal("kms key is enabled", meta["KeyState"], "Enabled")
    chk.equal("kms key is customer managed", meta.get("KeyManager"), "CUSTOMER")
    chk.equal(
        "kms key rotation is enabled (KMS.4)",
        st.c["kms"].get_key_rotation_status(KeyId=meta["KeyId"])["KeyRotationEnabled"],
        True,
    )
    policy = json.loads(st.c["kms"].get_key_policy(KeyId=meta["KeyId"], PolicyName="default")["Policy"])
    root = _statement(policy, "TrailWatchAccountRoot")
    chk.equal(
        "kms policy keeps the account root statement",
        (root.get("Principal"), root.get("Action")),
        ({"AWS": f"arn:aws:iam::{st.account}:root"}, "kms:*"),
    )
    enc = _statement(policy, "TrailWatchCloudTrailEncrypt")
    chk.equal(
        "kms policy lets CloudTrail GenerateDataKey*",
        (enc.get("Principal"), enc.get("Action")),
        ({"Service": "cloudtrail.amazonaws.com"}, "kms:GenerateDataKey*"),
    )
    chk.equal(
        "kms policy CloudTrail encrypt is bound to the trail (SourceArn)",
        enc.get("Condition", {}).get("StringEquals", {}).get("aws:SourceArn"),
        st.trail_arn,
    )
    chk.equal(
        "kms policy CloudTrail encrypt requires the trail encryption context",
        enc.get("Condition", {}).get("StringLike", {}).get("kms:EncryptionContext:aws:cloudtrail:arn"),
        f"arn:aws:cloudtrail:*:{st.account}:trail/*",
    )
    desc = _statement(policy, "TrailWatchCloudTrailDescribe")
    chk.equal(
        "kms policy lets the trail DescribeKey",
        (desc.get("Action"), desc.get("Condition", {}).get("StringEquals", {}).get("aws:SourceArn")),
        ("kms:DescribeKey", st.trail_arn),
    )
    readers = _statement(policy, "TrailWatchAccountReadersDecrypt")
    chk.equal(
        "kms policy lets account principals decrypt trail logs",
        (
            sorted(_as_list(readers.get("Action"))),
            readers.get("Condition", {}).get("StringEquals", {}).get("kms:CallerAccount"),
        ),
        (["kms:Decrypt", "kms:ReEncryptFrom"], st.account),
    )
    logs = _statement(policy, "TrailWatchCloudWatchLogs")
    chk.equal(
        "kms policy lets the regional CloudWatch Logs principal use the key",
        logs.get("Principal"),
        {"Service": f"logs.{st.region}.amazonaws.com"},
    )
    chk.equal(
        "kms policy CloudWatch Logs use is bound to the log group (no :*)",
        logs.get("Condition", {}).get("ArnEquals", {}).get("kms:EncryptionContext:aws:logs:arn"),
        st.log_group_arn,
    )


def check_bucket(chk, st, key_arn):
    chk.add("log bucket exists", st.bucket_exists(), st.bucket)
    s3 = st.c["s3"]
    pab = s3.get_public_access_block(Bucket=st.bucket)["PublicAccessBlockConfiguration"]
    for flag in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"):
        chk.equal(f"log bucket public access block {flag} (CloudTrail.6)", pab.get(flag), True)
    chk.equal("log bucket versioning is enabled", s3.get_bucket_versioning(Bucket=st.bucket).get("Status"), "Enabled")
    rule = s3.get_bucket_encryption(Bucket=st.bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    chk.equal(
        "log bucket default encryption is SSE-KMS",
        rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "aws:kms",
    )
    chk.equal(
        "log bucket default encryption uses the trail key",
        rule["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID"),
        key_arn,
    )
    chk.equal(
        "log bucket object ownership is BucketOwnerEnforced",
        s3.get_bucket_ownership_controls(Bucket=st.bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
        "BucketOwnerEnforced",
    )
    policy = json.loads(s3.get_bucket_policy(Bucket=st.bucket)["Policy"])
    acl = _statement(policy, "TrailWatchCloudTrailAclCheck")
    chk.equal(
        "log bucket policy lets the trail GetBucketAcl",
        (
            acl.get("Principal"),
            acl.get("Action"),
            acl.get("Resource"),
            acl.get("Condition", {}).get("StringEquals", {}).get("aws:SourceArn"),
        ),
        ({"Service": "cloudtrail.amazonaws.com"}, "s3:GetBucketAcl", f"arn:aws:s3:::{st.bucket}", st.trail_arn),
    )
    put = _statement(policy, "TrailWatchCloudTrailWrite")
    chk.equal(
        "log bucket policy lets the trail PutObject under AWSLogs/ACCOUNT only",
        (put.get("Action"), put.get("Resource")),
        ("s3:PutObject", f"arn:aws:s3:::{st.bucket}/AWSLogs/{st.account}/*"),
    )
    chk.equal(
        "log bucket policy PutObject requires bucket-owner-full-control and the trail ARN",
        put.get("Condition", {}).get("StringEquals"),
        {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": st.trail_arn},
    )
    tls = _statement(policy, "TrailWatchDenyInsecureTransport")
    chk.equal(
        "log bucket policy denies non-TLS requests (S3.5)",
        (tls.get("Effect"), tls.get("Principal"), tls.get("Action"), sorted(_as_list(tls.get("Resource")))),
        ("Deny", "*", "s3:*", sorted([f"arn:aws:s3:::{st.bucket}", f"arn:aws:s3:::{st.bucket}/*"])),
    )
    chk.equal(
        'log bucket TLS condition is the string "false"',
        tls.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport"),
        "false",
    )


def check_log_group(chk, st, key_arn):
    group = st.log_group_entry()
    chk.add("log group exists", group is not None, st.log_group)
    if group:
        chk.equal("log group is encrypted with the trail key", group.get("kmsKeyId"), key_arn)
        chk.equal("log group retention is 365 days (CloudWatch.16)", group.get("retentionInDays"), 365)


def check_role(chk, st):
    role = st.role_entry()
    chk.add("cloudtrail role exists", role is not None, st.role)
    if not role:
        return
    trust = role["AssumeRolePolicyDocument"]
    statement = trust["Statement"][0]
    chk.equal(
        "cloudtrail role trusts cloudtrail.amazonaws.com only",
        (statement.get("Principal"), statement.get("Action")),
        ({"Service": "cloudtrail.amazonaws.com"}, "sts:AssumeRole"),
    )
    chk.equal(
        "cloudtrail role trust has no condition (its trust supports neither aws:SourceArn nor aws:SourceAccount)",
        statement.get("Condition"),
        None,
    )
    names = st.c["iam"].list_role_policies(RoleName=st.role)["PolicyNames"]
    chk.equal("cloudtrail role has exactly the TrailWatch inline policy", names, ["trailwatch-cloudtrail-to-logs"])
    doc = st.c["iam"].get_role_policy(RoleName=st.role, PolicyName="trailwatch-cloudtrail-to-logs")["PolicyDocument"]
    perm = doc["Statement"][0]
    chk.equal(
        "cloudtrail role may only CreateLogStream and PutLogEvents",
        sorted(_as_list(perm.get("Action"))),
        ["logs:CreateLogStream", "logs:PutLogEvents"],
    )
    chk.equal(
        "cloudtrail role permissions are scoped to the trail's log streams",
        perm.get("Resource"),
        f"{st.log_group_arn}:log-stream:{st.account}_CloudTrail_{st.region}*",
    )
    chk.equal(
        "cloudtrail role has no attached managed policies",
        st.c["iam"].list_attached_role_policies(RoleName=st.role)["AttachedPolicies"],
        [],
    )


def check_trail(chk, st, key_arn, read_write_type, excluded):
    trail = st.trail()
    chk.add("trail exists", trail is not None, st.name)
    if not trail:
        return
    chk.equal("trail is multi-region (CIS 3.1)", trail.get("IsMultiRegionTrail"), True)
    chk.equal("trail includes global service events", trail.get("IncludeGlobalServiceEvents"), True)
    chk.equal("trail validates log files (CloudTrail.4)", trail.get("LogFileValidationEnabled"), True)
    chk.equal("trail is encrypted with the customer key (CloudTrail.2)", trail.get("KmsKeyId"), key_arn)
    chk.equal("trail delivers to the log bucket", trail.get("S3BucketName"), st.bucket)
    chk.equal(
        "trail delivers to the log group (CloudTrail.5)",
        trail.get("CloudWatchLogsLogGroupArn"),
        f"{st.log_group_arn}:*",
    )
    chk.equal(
        "trail uses the TrailWatch role",
        trail.get("CloudWatchLogsRoleArn"),
        f"arn:aws:iam::{st.account}:role/{st.role}",
    )
    chk.equal("trail lives in the home region", trail.get("TrailARN"), st.trail_arn)
    chk.equal("trail is logging", st.c["cloudtrail"].get_trail_status(Name=st.name).get("IsLogging"), True)
    selectors = st.c["cloudtrail"].get_event_selectors(TrailName=st.name).get("EventSelectors") or []
    chk.equal("trail has exactly one event selector", len(selectors), 1)
    selector = selectors[0] if selectors else {}
    chk.equal(f"trail records {read_write_type} management events", selector.get("ReadWriteType"), read_write_type)
    chk.equal("trail includes management events", selector.get("IncludeManagementEvents"), True)
    chk.equal(
        "trail excludes exactly the requested event sources",
        sorted(selector.get("ExcludeManagementEventSources") or []),
        sorted(excluded),
    )
    chk.equal("trail records no data events", selector.get("DataResources") or [], [])


def check_watch(chk, st):
    filters = st.filters()
    chk.equal("exactly one metric filter for the watch (no duplicates)", len(filters), 1)
    if filters:
        f = filters[0]
        chk.equal(
            "metric filter pattern is the CreateBucket pattern",
            f.get("filterPattern"),
            '{ ($.eventName = "CreateBucket") }',
        )
        t = f["metricTransformations"][0]
        chk.equal(
            "metric filter counts into TrailWatch/S3BucketCreated",
            (t.get("metricNamespace"), t.get("metricName")),
            ("TrailWatch", "S3BucketCreated"),
        )
        chk.equal("metric filter emits value 1", t.get("metricValue"), "1")
    alarms = st.alarms()
    chk.equal("exactly one alarm for the watch", len(alarms), 1)
    if not alarms:
        return
    a = alarms[0]
    expected = {
        "Namespace": "TrailWatch",
        "MetricName": "S3BucketCreated",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "ActionsEnabled": True,
        "AlarmActions": [st.topic_arn],
        "OKActions": [],
        "InsufficientDataActions": [],
    }
    for field, value in expected.items():
        chk.equal(f"alarm {field} is {value!r}", a.get(field), value)


def check_topic(chk, st, key_arn=None):
    attributes = st.topic_attributes()
    chk.add("topic exists", attributes is not None, st.topic_arn)
    if not attributes:
        return
    if key_arn:
        chk.equal("topic is encrypted with the TrailWatch key (SNS.1)", attributes.get("KmsMasterKeyId"), key_arn)
    policy = json.loads(attributes["Policy"])
    publish = _statement(policy, "TrailWatchCloudWatchAlarmsPublish")
    chk.equal(
        "topic policy lets CloudWatch publish",
        (publish.get("Effect"), publish.get("Principal"), publish.get("Action")),
        ("Allow", {"Service": "cloudwatch.amazonaws.com"}, "sns:Publish"),
    )
    chk.equal(
        "topic policy publish is limited to this account's alarms",
        (
            publish.get("Condition", {}).get("StringEquals", {}).get("aws:SourceAccount"),
            publish.get("Condition", {}).get("ArnLike", {}).get("aws:SourceArn"),
        ),
        (st.account, f"arn:aws:cloudwatch:{st.region}:{st.account}:alarm:*"),
    )
    owner = _statement(policy, "TrailWatchOwnerManage")
    chk.equal(
        "topic policy keeps the owner statement", owner.get("Principal"), {"AWS": f"arn:aws:iam::{st.account}:root"}
    )
    subs = st.c["sns"].list_subscriptions_by_topic(TopicArn=st.topic_arn)["Subscriptions"]
    for email in st.emails:
        chk.equal(
            f"topic has exactly one e-mail subscription for {email}",
            sum(1 for s in subs if s["Protocol"] == "email" and s["Endpoint"] == email),
            1,
        )


def check_removed_parts(chk, st):
    chk.add("trail is gone", st.trail() is None)
    chk.add("cloudtrail role is gone", st.role_entry() is None)
    chk.add("topic is gone", st.topic_attributes() is None)
    chk.equal("watch alarm is gone", st.alarms(), [])
    chk.equal("watch metric filter is gone", st.filters(), [])


def check_kept(chk, st, objects, events):
    meta = st.key()
    chk.add(
        "kms key is kept and usable (not scheduled for deletion)",
        meta and meta["KeyState"] == "Enabled",
        meta and meta["KeyState"],
    )
    chk.add("log bucket is kept", st.bucket_exists())
    if st.bucket_exists():
        found = st.c["s3"].list_object_versions(Bucket=st.bucket)
        count = len(found.get("Versions", [])) + len(found.get("DeleteMarkers", []))
        chk.equal("log bucket keeps every object version and delete marker", count, objects)
    chk.add("log group is kept", st.log_group_entry() is not None)
    if st.log_group_entry():
        stored = st.c["logs"].filter_log_events(logGroupName=st.log_group).get("events", [])
        chk.equal("log group keeps its log events", len(stored), events)


def check_purged(chk, st):
    chk.add("log bucket is deleted (purge)", not st.bucket_exists())
    chk.add("log group is deleted (purge)", st.log_group_entry() is None)
    try:
        st.c["kms"].describe_key(KeyId=st.alias)
        alias_gone = False
    except ClientError:
        alias_gone = True
    chk.add("kms alias is deleted (purge)", alias_gone)
    keys = [st.c["kms"].describe_key(KeyId=k["KeyId"])["KeyMetadata"] for k in st.c["kms"].list_keys()["Keys"]]
    ours = [k for k in keys if k.get("Description", "").startswith("TrailWatch")]
    chk.add(
        "kms key is scheduled for deletion, not deleted (purge)",
        ours and all(k["KeyState"] == "PendingDeletion" for k in ours),
        [k["KeyState"] for k in ours],
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--expect", choices=["present", "kept", "purged"], required=True)
    parser.add_argument("--name", default="trailwatch")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--email", action="append", default=[])
    parser.add_argument("--read-write-type", default="WriteOnly")
    parser.add_argument("--exclude", action="append", default=None)
    parser.add_argument("--objects", type=int, default=0, help="object versions + delete markers seeded")
    parser.add_argument("--events", type=int, default=0, help="log events seeded")
    parser.add_argument("--assume-role", help="check the account of this role (multi-account tests)")
    parser.add_argument("--account", help="fail unless the checked account is this one")
    args = parser.parse_args(argv)

    st = Stack(args.name, args.region, args.email, args.assume_role)
    chk = Checks()
    if args.account:
        chk.equal("the checked account is the expected one", st.account, args.account)
    if args.expect == "present":
        check_key(chk, st)
        key = st.key()
        key_arn = key["Arn"] if key else None
        check_bucket(chk, st, key_arn)
        check_log_group(chk, st, key_arn)
        check_role(chk, st)
        excluded = ["kms.amazonaws.com", "rdsdata.amazonaws.com"] if args.exclude is None else args.exclude
        check_trail(chk, st, key_arn, args.read_write_type, [e for e in excluded if e])
        check_watch(chk, st)
        check_topic(chk, st, key_arn)
    else:
        check_removed_parts(chk, st)
        if args.expect == "kept":
            check_kept(chk, st, args.objects, args.events)
        else:
            check_purged(chk, st)
    json.dump(chk.results, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
