"""trailwatch.aws.resource_policy_statements run in-process against moto's mock_aws.

For a bucket, a key and a topic that already carry someone else's statement: present (changed, ours added,
foreign kept), present again (no change), check mode (no write), absent (only ours removed), absent again.
"""

import json
import runpy
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

# tests/unit/plugins/conftest.py makes ansible_collections.trailwatch importable; pytest skips it when started from
# inside this directory, so run it here too (it is idempotent).
runpy.run_path(str(Path(__file__).resolve().parent.parent / "conftest.py"))

from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule
from ansible_collections.trailwatch.aws.plugins.modules import resource_policy_statements

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
BUCKET = "corp-audit-logs"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/trailwatch"


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def run(run_module):
    """run(args, check_mode=False) -> the module's JSON result (failed results included)."""
    return lambda args, check_mode=False: run_module(resource_policy_statements.main, args, check_mode)


@pytest.fixture
def writes(module_calls):
    """Names of the policy-writing operations the clients perform."""
    return module_calls({"PutBucketPolicy", "DeleteBucketPolicy", "PutKeyPolicy", "SetTopicAttributes"})


def warnings(result):
    """Warning texts: ansible-core 2.19 reports each as a WarningSummary dict, older ones as a string."""
    return [w if isinstance(w, str) else w["event"]["msg"] for w in result.get("warnings", [])]


def sids(policy):
    return [s.get("Sid") for s in (policy or {}).get("Statement", [])]


# --- one existing resource per type, each with a foreign statement ------------------------------------------

AUDITORS = {
    "Sid": "ReadOnlyForAuditors",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/auditor"},
    "Action": ["s3:GetObject", "s3:ListBucket"],
    "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
}
BUCKET_STATEMENTS = [
    {
        "Sid": "TrailWatchCloudTrailAclCheck",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:GetBucketAcl",
        "Resource": BUCKET_ARN,
        "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}},
    },
    {
        "Sid": "TrailWatchCloudTrailWrite",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"{BUCKET_ARN}/AWSLogs/{ACCOUNT}/*",
        "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": TRAIL_ARN}},
    },
]

KEY_ADMINS = {
    "Sid": "Allow access for Key Administrators",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/key-admin"},
    "Action": ["kms:Describe*", "kms:PutKeyPolicy"],
    "Resource": "*",
}
KMS_DEFAULT_ROOT = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": ROOT},
    "Action": "kms:*",
    "Resource": "*",
}
KEY_STATEMENTS = [
    {
        "Sid": "TrailWatchCloudWatchAlarms",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"},
        },
    }
]


def topic_statements(topic):
    return [
        {
            "Sid": "TrailWatchCloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"},
            },
        }
    ]


def make_bucket():
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [AUDITORS]}))

    def read():
        return json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])

    return BUCKET, BUCKET_STATEMENTS, read, [AUDITORS]


def make_key():
    kms = boto3.client("kms", region_name=REGION)
    policy = {"Version": "2012-10-17", "Id": "corp-key", "Statement": [KMS_DEFAULT_ROOT, KEY_ADMINS]}
    key_id = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/corp-security", TargetKeyId=key_id)

    def read():
        return json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])

    return "alias/corp-security", KEY_STATEMENTS, read, [KMS_DEFAULT_ROOT, KEY_ADMINS]


def make_topic():
    sns = boto3.client("sns", region_name=REGION)
    arn = sns.create_topic(Name="security-alerts")["TopicArn"]

    def read():
        return json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])

    # moto, like SNS, gives a new topic the default policy (Sid __default_statement_ID): the foreign statement.
    return arn, topic_statements(arn), read, read()["Statement"]


RESOURCES = {"s3_bucket": make_bucket, "kms_key": make_key, "sns_topic": make_topic}


@pytest.mark.parametrize("resource_type", list(RESOURCES))
def test_lifecycle_keeps_the_foreign_statements(aws, run, writes, resource_type):
    resource, statements, read, foreign = RESOURCES[resource_type]()
    ours = [s["Sid"] for s in statements]
    args = {"resource_type": resource_type, "resource": resource, "statements": statements}

    # Check mode predicts the change and writes nothing.
    result = run(args, check_mode=True)
    assert result["changed"] and result["statements_added"] == ours
    assert writes == []
    assert sids(read()) == [s["Sid"] for s in foreign]

    result = run(args)
    assert result["changed"]
    assert result["statements_added"] == ours
    assert result["statements_updated"] == [] and result["statements_removed"] == []
    assert writes == [
        {"s3_bucket": "PutBucketPolicy", "kms_key": "PutKeyPolicy", "sns_topic": "SetTopicAttributes"}[resource_type]
    ]
    stored = read()
    assert stored["Statement"][: len(foreign)] == foreign
    assert sids(stored)[len(foreign) :] == ours
    assert result["policy"] == stored
    assert result["diff"]["after"] == stored
    assert result["root_statement_guarded"] is False  # the key's own root statement is foreign and kept
    assert warnings(result) == []

    writes.clear()
    result = run(args)
    assert not result["changed"]
    assert (result["statements_added"], result["statements_updated"], result["statements_removed"]) == ([], [], [])
    assert writes == []
    result = run(args, check_mode=True)
    assert not result["changed"]

    # A changed statement of ours is updated in place.
    altered = [dict(statements[0], Effect="Deny")] + statements[1:]
    result = run(dict(args, statements=altered), check_mode=True)
    assert result["changed"] and result["statements_updated"] == [ours[0]]
    assert writes == []

    result = run({"state": "absent", "resource_type": resource_type, "resource": resource}, check_mode=True)
    assert result["changed"] and result["statements_removed"] == ours
    assert writes == []
    assert sids(read())[len(foreign) :] == ours

    result = run({"state": "absent", "resource_type": resource_type, "resource": resource})
    assert result["changed"] and result["statements_removed"] == ours
    assert read()["Statement"] == foreign
    assert result["diff"]["before"] == stored

    writes.clear()
    result = run({"state": "absent", "resource_type": resource_type, "resource": resource})
    assert not result["changed"] and result["statements_removed"] == []
    assert writes == []


def test_kms_key_id_and_arn_name_the_same_key(aws, run):
    resource, statements, read, _foreign = make_key()
    key = boto3.client("kms", region_name=REGION).describe_key(KeyId=resource)["KeyMetadata"]
    assert run({"resource_type": "kms_key", "resource": resource, "statements": statements})["changed"]
    for name in (key["KeyId"], key["Arn"]):
        result = run({"resource_type": "kms_key", "resource": name, "statements": statements})
        assert not result["changed"]
        assert result["resource_id"] == key["Arn"]


def test_kms_key_without_root_grant_gets_our_root_statement(aws, run):
    kms = boto3.client("kms", region_name=REGION)
    # moto accepts a policy that locks the account out; real KMS would not.
    key_id = kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [KEY_ADMINS]}))["KeyMetadata"][
        "KeyId"
    ]
    result = run({"resource_type": "kms_key", "resource": key_id, "statements": KEY_STATEMENTS})
    assert result["changed"] and result["root_statement_guarded"]
    assert result["statements_added"] == ["TrailWatchCloudWatchAlarms", "TrailWatchAccountRoot"]
    assert any("TrailWatchAccountRoot was added" in w for w in warnings(result))
    stored = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert sids(stored) == [
        "Allow access for Key Administrators",
        "TrailWatchCloudWatchAlarms",
        "TrailWatchAccountRoot",
    ]

    # absent keeps the root statement: it is the only one that lets the account manage the key.
    result = run({"state": "absent", "resource_type": "kms_key", "resource": key_id})
    assert result["changed"] and result["statements_removed"] == ["TrailWatchCloudWatchAlarms"]
    stored = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert sids(stored) == ["Allow access for Key Administrators", "TrailWatchAccountRoot"]
    assert not run({"state": "absent", "resource_type": "kms_key", "resource": key_id})["changed"]


def test_bucket_left_without_statements_has_no_policy(aws, run):
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    args = {"resource_type": "s3_bucket", "resource": BUCKET, "statements": BUCKET_STATEMENTS}
    assert run(args)["statements_added"] == [s["Sid"] for s in BUCKET_STATEMENTS]
    result = run({"state": "absent", "resource_type": "s3_bucket", "resource": BUCKET})
    assert result["changed"] and result["policy"] is None
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket=BUCKET)
    assert not run({"state": "absent", "resource_type": "s3_bucket", "resource": BUCKET})["changed"]


def test_topic_left_without_statements_gets_the_owner_default(aws, run):
    sns = boto3.client("sns", region_name=REGION)
    arn = sns.create_topic(Name="only-ours")["TopicArn"]
    sns.set_topic_attributes(
        TopicArn=arn,
        AttributeName="Policy",
        AttributeValue=json.dumps({"Version": "2012-10-17", "Statement": topic_statements(arn)}),
    )
    result = run({"state": "absent", "resource_type": "sns_topic", "resource": arn})
    assert result["changed"] and result["statements_removed"] == ["TrailWatchCloudWatchAlarmsPublish"]
    stored = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    assert sids(stored) == ["__default_statement_ID"]
    assert stored["Statement"][0]["Principal"] == {"AWS": ROOT}
    assert not run({"state": "absent", "resource_type": "sns_topic", "resource": arn})["changed"]


@pytest.mark.parametrize(
    "resource_type, resource, message",
    [
        ("s3_bucket", "no-such-bucket", "bucket no-such-bucket does not exist or is not yours: create it first"),
        ("kms_key", "alias/no-such-key", "KMS key alias/no-such-key does not exist"),
        ("sns_topic", f"arn:aws:sns:{REGION}:{ACCOUNT}:no-such-topic", "does not exist in this account and region"),
    ],
)
def test_missing_resource_fails_with_advice(aws, run, resource_type, resource, message):
    result = run({"resource_type": resource_type, "resource": resource, "statements": []})
    assert result["failed"]
    assert message in result["msg"]


@pytest.fixture
def no_aws(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("no AWS client may be created")

    monkeypatch.setattr(TrailWatchModule, "client", refuse)


@pytest.mark.parametrize(
    "args, message",
    [
        (
            {"statements": [dict(BUCKET_STATEMENTS[0], Sid="CloudTrailAclCheck")]},
            "statement 1 has Sid 'CloudTrailAclCheck', which does not start with 'TrailWatch'",
        ),
        (
            {"statements": [BUCKET_STATEMENTS[0], {k: v for k, v in BUCKET_STATEMENTS[1].items() if k != "Sid"}]},
            "statement 2 has no Sid",
        ),
        (
            {"statements": BUCKET_STATEMENTS, "statement_prefix": "TrailWatchBucket"},
            "'TrailWatchCloudTrailAclCheck', which does not start with 'TrailWatchBucket'",
        ),
        ({"statements": [BUCKET_STATEMENTS[0], BUCKET_STATEMENTS[0]]}, "is given twice"),
        ({"resource_type": "sns_topic", "resource": "security-alerts", "statements": []}, "is not a topic ARN"),
    ],
)
def test_bad_input_fails_before_any_aws_call(run, no_aws, args, message):
    result = run({"resource_type": "s3_bucket", "resource": BUCKET, **args})
    assert result["failed"]
    assert message in result["msg"]


def test_statements_are_required_with_present(run, no_aws):
    result = run({"resource_type": "s3_bucket", "resource": BUCKET})
    assert result["failed"] and "statements" in result["msg"]
