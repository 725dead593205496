"""The policy documents of _policies.py, checked literally against docs/aws-policies.md."""

import json

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _policies

ACCOUNT = "123456789012"
TRAIL = "trailwatch"
BUCKET = "trailwatch-logs-123456789012-us-east-1"
LOG_GROUP = "aws-cloudtrail-logs-trailwatch"
TOPIC = "trailwatch-alerts"

# (partition, region): the commercial, China and GovCloud partitions.
PARTITIONS = [("aws", "us-east-1"), ("aws-cn", "cn-north-1"), ("aws-us-gov", "us-gov-west-1")]


def trail_arn(partition, region):
    return f"arn:{partition}:cloudtrail:{region}:{ACCOUNT}:trail/{TRAIL}"


def statement(document, sid):
    found = [s for s in document["Statement"] if s.get("Sid") == sid]
    assert len(found) == 1, f"expected exactly one statement {sid}, found {len(found)}"
    return found[0]


def as_set(value):
    return {value} if isinstance(value, str) else set(value)


def all_documents(partition="aws", region="us-east-1", key_prefix=None):
    return {
        "kms_key_policy": _policies.kms_key_policy(partition, region, ACCOUNT, TRAIL, LOG_GROUP),
        "log_bucket_policy": _policies.log_bucket_policy(partition, region, ACCOUNT, TRAIL, BUCKET, key_prefix),
        "cloudtrail_role_trust_policy": _policies.cloudtrail_role_trust_policy(),
        "cloudtrail_role_permissions_policy": _policies.cloudtrail_role_permissions_policy(
            partition, region, ACCOUNT, LOG_GROUP
        ),
        "topic_policy": _policies.topic_policy(partition, region, ACCOUNT, TOPIC),
    }


# --- ARN helpers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("partition, region", PARTITIONS)
def test_arn_helpers(partition, region):
    assert _policies.trail_arn(partition, region, ACCOUNT, TRAIL) == trail_arn(partition, region)
    assert (
        _policies.log_group_arn(partition, region, ACCOUNT, LOG_GROUP)
        == f"arn:{partition}:logs:{region}:{ACCOUNT}:log-group:{LOG_GROUP}"
    )
    assert _policies.topic_arn(partition, region, ACCOUNT, TOPIC) == f"arn:{partition}:sns:{region}:{ACCOUNT}:{TOPIC}"


# --- properties of every document ----------------------------------------------------------------------------


@pytest.mark.parametrize("partition, region", PARTITIONS)
@pytest.mark.parametrize("name", sorted(all_documents()))
def test_every_statement_has_a_unique_trailwatch_sid(name, partition, region):
    document = all_documents(partition, region)[name]
    assert document["Version"] == "2012-10-17"
    sids = [s.get("Sid") for s in document["Statement"]]
    assert all(isinstance(sid, str) and sid.startswith("TrailWatch") for sid in sids), sids
    assert len(sids) == len(set(sids))
    assert all(s["Sid"].startswith(_policies.SID_PREFIX) for s in document["Statement"])


@pytest.mark.parametrize("partition, region", PARTITIONS[1:])
@pytest.mark.parametrize("name", sorted(set(all_documents()) - {"cloudtrail_role_trust_policy"}))
def test_partition_propagates_to_every_arn(name, partition, region):
    text = json.dumps(all_documents(partition, region)[name])
    assert "arn:aws:" not in text
    assert f"arn:{partition}:" in text


@pytest.mark.parametrize("name", sorted(all_documents()))
def test_documents_are_plain_json(name):
    document = all_documents()[name]
    assert json.loads(json.dumps(document)) == document


# --- KMS key policy ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("partition, region", PARTITIONS)
def test_kms_policy_keeps_the_account_root_statement(partition, region):
    policy = _policies.kms_key_policy(partition, region, ACCOUNT, TRAIL, LOG_GROUP)
    root = [s for s in policy["Statement"] if s.get("Principal") == {"AWS": f"arn:{partition}:iam::{ACCOUNT}:root"}]
    assert len(root) == 1
    assert root[0]["Effect"] == "Allow"
    assert root[0]["Action"] == "kms:*"
    assert root[0]["Resource"] == "*"
    assert "Condition" not in root[0]


@pytest.mark.parametrize("partition, region", PARTITIONS)
def test_kms_policy_cloudtrail_encrypt(partition, region):
    policy = _policies.kms_key_policy(partition, region, ACCOUNT, TRAIL, LOG_GROUP)
    s = statement(policy, "TrailWatchCloudTrailEncrypt")
    assert s["Effect"] == "Allow"
    assert s["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert as_set(s["Action"]) == {"kms:GenerateDataKey*"}
    assert s["Resource"] == "*"
    assert s["Condition"] == {
        "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{partition}:cloudtrail:*:{ACCOUNT}:trail/*"},
        "StringEquals": {"aws:SourceArn": trail_arn(partition, region)},
    }


@pytest.mark.parametrize("partition, region", PARTITIONS)
def test_kms_policy_cloudtrail_describe(partition, region):
    policy = _policies.kms_key_policy(partition, region, ACCOUNT, TRAIL, LOG_GROUP)
    s = statement(policy, "TrailWatchCloudTrailDescribe")
    assert s["Effect"] == "Allow"
    assert s["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert as_set(s["Action"]) == {"kms:DescribeKey"}
    assert s["Resource"] == "*"
    assert s["Condition"] == {"StringEquals": {"aws:SourceArn": trail_arn(partition, region)}}


@pytest.mark.parametrize("partition, region", PARTITIONS)
def test_kms_policy_readers_decrypt(partition, region):
    policy = _policies.kms_key_policy(partition, region, ACCOUNT, TRAIL, LOG_GROUP)
    s = statement(policy, "TrailWatchAccountReadersDecrypt")
    assert s["Effect"] == "Allow"
    assert s["Principal"] == {"AWS": "*"}
    assert as_set(s["Action"]) == {"kms:Decrypt", "kms:ReEncryptFrom"}
    assert s["Resource"] == "*"
    assert s["Condition"] == {
        "StringEquals": {"kms:CallerAccount": ACCOUNT},
        "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{partition}:cloudtrail:*:{ACCOUNT}:trail/*"},
    }


@pytest.mark.parametrize("partition, region", PARTITIONS)
def test_kms_policy_cloudwatch_logs(partition, region):
    policy = _policies.kms_key_policy(partition, region, ACCOUNT, TRAIL, LOG_GROUP)
    s = statement(policy, "TrailWatchCloudWatchLogs")
    assert s["Effect"] == "Allow"
    assert s["Principal"] == {"Service": f"logs.{region}.amazonaws.com"}
    assert as_set(s["Action"]) == {
        "kms:Encrypt*",
        "kms:Decrypt*",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:Describe*",
    }
    assert s["Resource"] == "*"
    group_arn = f"arn:{partition}:logs:{region}:{ACCOUNT}:log-group:{LOG_GROUP}"
    assert s["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": group_arn}}
    # The encryption context names the group itself: the ':*' form would never match.
    assert not s["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"].endswith(":*")


@pytest.mark.parametrize("partition, region", PARTITIONS)
def test_kms_policy_cloudwatch_alarms_for_an_encrypted_topic(partition, region):
    policy = _policies.kms_key_policy(partition, region, ACCOUNT, TRAIL, LOG_GROUP)
    s = statement(policy, "TrailWatchCloudWatchAlarms")
    assert s["Effect"] == "Allow"
    assert s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert as_set(s["Action"]) == {"kms:GenerateDataKey*", "kms:Decrypt"}
    assert s["Resource"] == "*"
    assert s["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{ACCOUNT}:alarm:*"},
    }


def test_kms_policy_grants_nothing_else():
    policy = _policies.kms_key_policy("aws", "us-east-1", ACCOUNT, TRAIL, LOG_GROUP)
    assert {s["Sid"] for s in policy["Statement"]} == {
        "TrailWatchAccountRoot",
        "TrailWatchCloudTrailEncrypt",
        "TrailWatchCloudTrailDescribe",
        "TrailWatchAccountReadersDecrypt",
        "TrailWatchCloudWatchLogs",
        "TrailWatchCloudWatchAlarms",
    }
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])


# --- S3 log bucket policy ------------------------------------------------------------------------------------


@pytest.mark.parametrize("partition, region", PARTITIONS)
def test_bucket_policy_acl_check(partition, region):
    policy = _policies.log_bucket_policy(partition, region, ACCOUNT, TRAIL, BUCKET)
    s = statement(policy, "TrailWatchCloudTrailAclCheck")
    assert s["Effect"] == "Allow"
    assert s["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert as_set(s["Action"]) == {"s3:GetBucketAcl"}
    assert s["Resource"] == f"arn:{partition}:s3:::{BUCKET}"
    assert s["Condition"] == {"StringEquals": {"aws:SourceArn": trail_arn(partition, region)}}


@pytest.mark.parametrize("partition, region", PARTITIONS)
def test_bucket_policy_cloudtrail_write(partition, region):
    policy = _policies.log_bucket_policy(partition, region, ACCOUNT, TRAIL, BUCKET)
    s = statement(policy, "TrailWatchCloudTrailWrite")
    assert s["Effect"] == "Allow"
    assert s["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert as_set(s["Action"]) == {"s3:PutObject"}
    assert s["Resource"] == f"arn:{partition}:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/*"
    assert s["Condition"] == {
        "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail_arn(partition, region)}
    }


@pytest.mark.parametrize(
    "key_prefix, resource_path",
    [
        (None, f"{BUCKET}/AWSLogs/{ACCOUNT}/*"),
        ("", f"{BUCKET}/AWSLogs/{ACCOUNT}/*"),
        ("audit", f"{BUCKET}/audit/AWSLogs/{ACCOUNT}/*"),
        ("audit/", f"{BUCKET}/audit/AWSLogs/{ACCOUNT}/*"),
        ("/audit", f"{BUCKET}/audit/AWSLogs/{ACCOUNT}/*"),
        ("/audit/", f"{BUCKET}/audit/AWSLogs/{ACCOUNT}/*"),
        ("org/audit", f"{BUCKET}/org/audit/AWSLogs/{ACCOUNT}/*"),
    ],
)
def test_bucket_policy_key_prefix(key_prefix, resource_path):
    policy = _policies.log_bucket_policy("aws", "us-east-1", ACCOUNT, TRAIL, BUCKET, key_prefix)
    assert statement(policy, "TrailWatchCloudTrailWrite")["Resource"] == f"arn:aws:s3:::{resource_path}"
    # The prefix narrows only the write: ACL check and TLS deny cover the whole bucket.
    assert statement(policy, "TrailWatchCloudTrailAclCheck")["Resource"] == f"arn:aws:s3:::{BUCKET}"
    assert statement(policy, "TrailWatchDenyInsecureTransport")["Resource"] == [
        f"arn:aws:s3:::{BUCKET}",
        f"arn:aws:s3:::{BUCKET}/*",
    ]


@pytest.mark.parametrize("partition, region", PARTITIONS)
def test_bucket_policy_denies_insecure_transport(partition, region):
    policy = _policies.log_bucket_policy(partition, region, ACCOUNT, TRAIL, BUCKET)
    s = statement(policy, "TrailWatchDenyInsecureTransport")
    assert s["Effect"] == "Deny"
    assert s["Principal"] == "*"
    assert as_set(s["Action"]) == {"s3:*"}
    assert sorted(s["Resource"]) == [f"arn:{partition}:s3:::{BUCKET}", f"arn:{partition}:s3:::{BUCKET}/*"]
    assert s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_bucket_policy_secure_transport_is_the_string_false():
    """Security Hub S3.5 and prowler read the string "false", not the JSON boolean."""
    policy = _policies.log_bucket_policy("aws", "us-east-1", ACCOUNT, TRAIL, BUCKET)
    value = statement(policy, "TrailWatchDenyInsecureTransport")["Condition"]["Bool"]["aws:SecureTransport"]
    assert isinstance(value, str)
    assert value is not False and value == "false"
    assert '"aws:SecureTransport": "false"' in json.dumps(policy)


def test_bucket_policy_has_exactly_three_statements():
    policy = _policies.log_bucket_policy("aws", "us-east-1", ACCOUNT, TRAIL, BUCKET)
    assert [s["Sid"] for s in policy["Statement"]] == [
        "TrailWatchCloudTrailAclCheck",
        "TrailWatchCloudTrailWrite",
        "TrailWatchDenyInsecureTransport",
    ]


# --- IAM role CloudTrail assumes -----------------------------------------------------------------------------


def test_role_trust_policy_has_no_condition():
    """CloudTrail User Guide, "Role policy document for CloudTrail to use CloudWatch Logs for monitoring": the trust
    of this role supports neither aws:SourceArn nor aws:SourceAccount (prowler issue 4714: delivery broke with it)."""
    policy = _policies.cloudtrail_role_trust_policy()
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TrailWatchCloudTrailAssume",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    assert "aws:Source" not in json.dumps(policy)


@pytest.mark.parametrize("partition, region", PARTITIONS)
def test_role_permissions_policy(partition, region):
    policy = _policies.cloudtrail_role_permissions_policy(partition, region, ACCOUNT, LOG_GROUP)
    assert len(policy["Statement"]) == 1
    s = policy["Statement"][0]
    assert s["Effect"] == "Allow"
    assert "Principal" not in s
    assert as_set(s["Action"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert s["Resource"] == (
        f"arn:{partition}:logs:{region}:{ACCOUNT}:log-group:{LOG_GROUP}:log-stream:{ACCOUNT}_CloudTrail_{region}*"
    )
    assert "Condition" not in s


# --- SNS topic policy ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("partition, region", PARTITIONS)
def test_topic_policy_lets_cloudwatch_alarms_publish(partition, region):
    policy = _policies.topic_policy(partition, region, ACCOUNT, TOPIC)
    s = statement(policy, "TrailWatchCloudWatchAlarmsPublish")
    assert s["Effect"] == "Allow"
    assert s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert as_set(s["Action"]) == {"sns:Publish"}
    assert s["Resource"] == f"arn:{partition}:sns:{region}:{ACCOUNT}:{TOPIC}"
    assert s["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{ACCOUNT}:alarm:*"},
    }


@pytest.mark.parametrize("partition, region", PARTITIONS)
def test_topic_policy_keeps_an_owner_statement(partition, region):
    policy = _policies.topic_policy(partition, region, ACCOUNT, TOPIC)
    s = statement(policy, "TrailWatchOwnerManage")
    assert s["Effect"] == "Allow"
    assert s["Principal"] == {"AWS": f"arn:{partition}:iam::{ACCOUNT}:root"}
    assert {"sns:Subscribe", "sns:Publish", "sns:GetTopicAttributes", "sns:SetTopicAttributes"} <= as_set(s["Action"])
    assert s["Resource"] == f"arn:{partition}:sns:{region}:{ACCOUNT}:{TOPIC}"


# --- statements for a bring-your-own resource: one set per install ---------------------------------------------


@pytest.mark.parametrize(
    "name, token",
    [
        ("trailwatch", "Trailwatch"),
        ("audit", "Audit"),
        ("audit-logs", "AuditLogs"),
        ("auditlogs", "Auditlogs"),
        ("a1-b2c", "A1B2c"),
    ],
)
def test_install_token_of_a_trailwatch_name(name, token):
    assert _policies.install_token(name) == token


@pytest.mark.parametrize(
    "a, b", [("team-1", "team1"), ("audit_logs", "audit-logs"), ("Audit", "audit"), ("a--b", "a-b"), ("ab-", "ab")]
)
def test_install_tokens_never_meet(a, b):
    assert _policies.install_token(a) != _policies.install_token(b)


@pytest.mark.parametrize("name", ["trailwatch", "audit-logs", "Corp_Trail.v2", "team-1", "x" * 128])
def test_install_sids_are_ascii_letters_and_digits(name):
    """IAM, S3, KMS and SNS all accept [A-Za-z0-9] in a Sid (IAM JSON policy elements: Sid)."""
    for role in _policies.ROLES:
        assert _policies.sid(role, name).isascii() and _policies.sid(role, name).isalnum()


def test_a_sid_names_one_role_and_one_install():
    """No role ends with another or holds the separator, so TrailWatch<Role>For<Install> parses one way only."""
    for role in _policies.ROLES:
        assert _policies.INSTALL_SEPARATOR not in role
        assert not [other for other in _policies.ROLES if other != role and role.endswith(other)]
    assert _policies.sid("CloudTrailWrite", "audit") == "TrailWatchCloudTrailWriteForAudit"
    assert _policies.sid("CloudTrailWrite") == "TrailWatchCloudTrailWrite"
    assert _policies.is_install_sid("TrailWatchCloudTrailWriteForAudit")
    assert not _policies.is_install_sid("TrailWatchCloudTrailWrite")
    assert not _policies.is_install_sid("TrailWatchCloudWatchAlarms")


def test_byo_statements_name_the_install():
    bucket = _policies.byo_bucket_statements("aws", "us-east-1", ACCOUNT, "audit", BUCKET)
    key = _policies.byo_key_statements("aws", "us-east-1", ACCOUNT, "audit", LOG_GROUP)
    topic = _policies.byo_topic_statements("aws", "us-east-1", ACCOUNT, f"arn:aws:sns:us-east-1:{ACCOUNT}:t", "audit")
    topic_key = _policies.topic_key_statements("aws", "us-east-1", ACCOUNT, "audit")
    assert [s["Sid"] for s in bucket] == ["TrailWatchCloudTrailAclCheckForAudit", "TrailWatchCloudTrailWriteForAudit"]
    assert [s["Sid"] for s in key] == [
        "TrailWatchCloudTrailEncryptForAudit",
        "TrailWatchCloudTrailDescribeForAudit",
        "TrailWatchAccountReadersDecryptForAudit",
        "TrailWatchCloudWatchLogsForAudit",
    ]
    assert [s["Sid"] for s in topic] == ["TrailWatchCloudWatchAlarmsPublishForAudit"]
    assert [s["Sid"] for s in topic_key] == ["TrailWatchCloudWatchAlarmsForAudit"]
    # Apart from the Sid, the statements are those of the documents TrailWatch writes whole.
    managed = _policies.kms_key_policy("aws", "us-east-1", ACCOUNT, "audit", LOG_GROUP)
    alarms = statement(managed, "TrailWatchCloudWatchAlarms")
    assert dict(topic_key[0], Sid=alarms["Sid"]) == alarms
    assert dict(key[0], Sid="TrailWatchCloudTrailEncrypt") == statement(managed, "TrailWatchCloudTrailEncrypt")
