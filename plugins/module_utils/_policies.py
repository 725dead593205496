# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: the resource policy documents of docs aws-policies.md, as pure functions.

Every statement carries a Sid starting with ``TrailWatch`` so that TrailWatch's statements can be told
apart from anyone else's in a shared policy.
"""

SID_PREFIX = "TrailWatch"


def trail_arn(partition, region, account, trail_name):
    """CloudTrail always names a trail by its home-region ARN, also for multi-region trails."""
    return f"arn:{partition}:cloudtrail:{region}:{account}:trail/{trail_name}"


def log_group_arn(partition, region, account, log_group_name):
    return f"arn:{partition}:logs:{region}:{account}:log-group:{log_group_name}"


def topic_arn(partition, region, account, topic_name):
    return f"arn:{partition}:sns:{region}:{account}:{topic_name}"


def log_prefix(key_prefix):
    """The S3 key prefix as CloudTrail uses it: no leading or trailing slash; None when there is none."""
    prefix = (key_prefix or "").strip("/")
    return prefix or None


def _document(statements):
    return {"Version": "2012-10-17", "Statement": statements}


def _service(name):
    return {"Service": name}


def kms_key_policy(partition, region, account, trail, log_group_name):
    """Key policy for the key that encrypts the trail's log files, its log group and (optionally) the topic."""
    arn = trail_arn(partition, region, account, trail)
    any_trail = f"arn:{partition}:cloudtrail:*:{account}:trail/*"
    return _document(
        [
            {
                # Without the root statement the key is locked out; real KMS refuses such a policy.
                "Sid": "TrailWatchAccountRoot",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "TrailWatchCloudTrailEncrypt",
                "Effect": "Allow",
                "Principal": _service("cloudtrail.amazonaws.com"),
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": any_trail},
                    "StringEquals": {"aws:SourceArn": arn},
                },
            },
            {
                "Sid": "TrailWatchCloudTrailDescribe",
                "Effect": "Allow",
                "Principal": _service("cloudtrail.amazonaws.com"),
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": arn}},
            },
            {
                "Sid": "TrailWatchAccountReadersDecrypt",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:CallerAccount": account},
                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": any_trail},
                },
            },
            {
                "Sid": "TrailWatchCloudWatchLogs",
                "Effect": "Allow",
                "Principal": _service(f"logs.{region}.amazonaws.com"),
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {
                        "kms:EncryptionContext:aws:logs:arn": log_group_arn(partition, region, account, log_group_name)
                    }
                },
            },
            {
                # Lets alarms publish to a topic encrypted with this key (alias/aws/sns cannot grant this).
                "Sid": "TrailWatchCloudWatchAlarms",
                "Effect": "Allow",
                "Principal": _service("cloudwatch.amazonaws.com"),
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*"},
                },
            },
        ]
    )


def log_bucket_policy(partition, region, account, trail, bucket, key_prefix=None, org_id=None):
    """Bucket policy: CloudTrail may check the ACL and write under AWSLogs/ACCOUNT (and o-ORGID); TLS only."""
    arn = trail_arn(partition, region, account, trail)
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    prefix = f"{log_prefix(key_prefix)}/" if log_prefix(key_prefix) else ""
    writes = [f"{bucket_arn}/{prefix}AWSLogs/{account}/*"]
    if org_id:
        # An organization trail writes every member account's logs under AWSLogs/o-ORGID/.
        writes.append(f"{bucket_arn}/{prefix}AWSLogs/{org_id}/*")
    return _document(
        [
            {
                "Sid": "TrailWatchCloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": _service("cloudtrail.amazonaws.com"),
                "Action": "s3:GetBucketAcl",
                "Resource": bucket_arn,
                "Condition": {"StringEquals": {"aws:SourceArn": arn}},
            },
            {
                "Sid": "TrailWatchCloudTrailWrite",
                "Effect": "Allow",
                "Principal": _service("cloudtrail.amazonaws.com"),
                "Action": "s3:PutObject",
                "Resource": writes[0] if len(writes) == 1 else writes,
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": arn}},
            },
            {
                # "false" is a string on purpose: Security Hub and prowler read the string form.
                "Sid": "TrailWatchDenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ]
    )


def cloudtrail_role_trust_policy(partition, region, account, trail):
    return _document(
        [
            {
                "Sid": "TrailWatchCloudTrailAssume",
                "Effect": "Allow",
                "Principal": _service("cloudtrail.amazonaws.com"),
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceArn": trail_arn(partition, region, account, trail)}},
            }
        ]
    )


def cloudtrail_role_permissions_policy(partition, region, account, log_group_name, org_id=None):
    """CloudTrail may only create and write its own log streams in the one log group."""
    group = log_group_arn(partition, region, account, log_group_name)
    streams = f"{group}:log-stream:{account}_CloudTrail_{region}*"
    if org_id:
        # An organization trail names the streams of member accounts o-ORGID_<account>_CloudTrail_<region>.
        streams = [streams, f"{group}:log-stream:{org_id}_*"]
    return _document(
        [
            {
                "Sid": "TrailWatchWriteTrailLogStreams",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": streams,
            }
        ]
    )


def topic_policy(partition, region, account, topic):
    """The owner keeps managing the topic; CloudWatch alarms of this account may publish."""
    arn = topic_arn(partition, region, account, topic)
    return _document(
        [
            {
                "Sid": "TrailWatchOwnerManage",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": [
                    "sns:GetTopicAttributes",
                    "sns:SetTopicAttributes",
                    "sns:AddPermission",
                    "sns:RemovePermission",
                    "sns:DeleteTopic",
                    "sns:Subscribe",
                    "sns:ListSubscriptionsByTopic",
                    "sns:Publish",
                ],
                "Resource": arn,
            },
            _alarms_publish_statement(partition, region, account, arn),
        ]
    )


def _alarms_publish_statement(partition, region, account, arn):
    """CloudWatch alarms of this account and region may publish to the topic (the default policy does not allow it)."""
    return {
        "Sid": "TrailWatchCloudWatchAlarmsPublish",
        "Effect": "Allow",
        "Principal": _service("cloudwatch.amazonaws.com"),
        "Action": "sns:Publish",
        "Resource": arn,
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*"},
        },
    }


# Statements a bring-your-own resource receives: only what CloudTrail needs, never the owner's own controls
# (the TLS-only deny of our bucket, the root statement of our key: the key merge guards root separately).
BYO_BUCKET_SIDS = ("TrailWatchCloudTrailAclCheck", "TrailWatchCloudTrailWrite")
BYO_KEY_EXCLUDED_SIDS = ("TrailWatchAccountRoot",)


def byo_bucket_statements(partition, region, account, trail, bucket, key_prefix=None, org_id=None):
    policy = log_bucket_policy(partition, region, account, trail, bucket, key_prefix, org_id)
    return [s for s in policy["Statement"] if s["Sid"] in BYO_BUCKET_SIDS]


def byo_key_statements(partition, region, account, trail, log_group_name):
    policy = kms_key_policy(partition, region, account, trail, log_group_name)
    return [s for s in policy["Statement"] if s["Sid"] not in BYO_KEY_EXCLUDED_SIDS]


def byo_topic_statements(partition, region, account, existing_topic_arn):
    """The CloudWatch publish statement for an existing topic (its owner statement is the owner's business)."""
    return [_alarms_publish_statement(partition, region, account, existing_topic_arn)]
