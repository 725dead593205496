# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: the resource policy documents of docs/aws-policies.md, as pure functions.

Every statement carries a Sid ``TrailWatch<Role>`` so that TrailWatch's statements can be told apart from anyone
else's in a shared policy. The statements merged into a bring-your-own bucket, key or topic also name the install
they belong to, ``TrailWatch<Role>For<Install>`` (:func:`sid`), so that several TrailWatch installs can share one
resource without taking each other's statements away (docs/aws-policies.md, "Shared resources").
"""

import hashlib
import re
from typing import Optional

SID_PREFIX = "TrailWatch"
INSTALL_SEPARATOR = "For"

# Every role a TrailWatch statement has had, in any version: a Sid is TrailWatch + role (+ For + install).
# Never remove a role from this list (older stacks still carry it); no role may end with another role or contain
# INSTALL_SEPARATOR, so that a Sid names exactly one (role, install) pair (tests/unit/.../test_policies.py).
ROLES = (
    "AccountRoot",
    "CloudTrailEncrypt",
    "CloudTrailDescribe",
    "AccountReadersDecrypt",
    "CloudWatchLogs",
    "CloudWatchAlarms",
    "CloudTrailAclCheck",
    "CloudTrailWrite",
    "DenyInsecureTransport",
    "CloudTrailAssume",
    "WriteTrailLogStreams",
    "OwnerManage",
    "CloudWatchAlarmsPublish",
)

# What each kind of bring-your-own statement set holds (the roles an install owns there) and, for the migration
# from versions before per-install Sids, the roles whose unsuffixed statements (``TrailWatchCloudTrailWrite``) it
# takes over. CloudWatchAlarms left the trail's key statements: the topic's key gets it from sns_topic now.
BYO_BUCKET_ROLES = ("CloudTrailAclCheck", "CloudTrailWrite")
BYO_KEY_ROLES = ("CloudTrailEncrypt", "CloudTrailDescribe", "AccountReadersDecrypt", "CloudWatchLogs")
BYO_KEY_LEGACY_ROLES = BYO_KEY_ROLES + ("CloudWatchAlarms",)
TOPIC_ROLES = ("CloudWatchAlarmsPublish",)
TOPIC_KEY_ROLES = ("CloudWatchAlarms",)

_CANONICAL_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*")


def install_token(name: str) -> str:
    """The install's name as Sid characters (ASCII letters and digits only, valid in IAM, S3, KMS and SNS).

    ``trailwatch`` -> ``Trailwatch``, ``audit-logs`` -> ``AuditLogs``. Names that this CamelCase cannot spell back
    (upper case, ``_`` or ``.``, a part starting with a digit: ``team-1`` and ``team1`` would meet) get ``X`` and
    8 hex digits of their SHA-256 appended, so that two names never share a token.
    """
    token = "".join(part[:1].upper() + part[1:] for part in re.findall(r"[A-Za-z0-9]+", name))
    if not _CANONICAL_NAME.fullmatch(name):
        token += "X" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return token


def sid(role: str, install: Optional[str] = None) -> str:
    """``TrailWatch<Role>``, or ``TrailWatch<Role>For<Install>`` for the statements one install owns."""
    return f"{SID_PREFIX}{role}" + (f"{INSTALL_SEPARATOR}{install_token(install)}" if install else "")


def is_install_sid(value) -> bool:
    """Whether a Sid names an install (``TrailWatch<Role>For<Install>``): a statement one install may take away."""
    return isinstance(value, str) and any(value.startswith(f"{SID_PREFIX}{role}{INSTALL_SEPARATOR}") for role in ROLES)


def _for_install(statements: list, install: str) -> list:
    """The statements with their Sids naming the install: TrailWatchCloudTrailWrite -> ...WriteFor<Install>."""
    return [dict(s, Sid=sid(s["Sid"][len(SID_PREFIX) :], install)) for s in statements]


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
            _alarms_key_statement(partition, region, account),
        ]
    )


def _alarms_key_statement(partition, region, account):
    """Alarms of this account and region may use the key of an encrypted topic (alias/aws/sns cannot grant this).

    Amazon SNS Developer Guide, "Configure AWS KMS permissions" / the knowledge-center article on CloudWatch
    alarms not reaching an encrypted topic: the CloudWatch service principal needs kms:GenerateDataKey* and
    kms:Decrypt on the topic's customer managed key.
    """
    return {
        "Sid": "TrailWatchCloudWatchAlarms",
        "Effect": "Allow",
        "Principal": _service("cloudwatch.amazonaws.com"),
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account},
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account}:alarm:*"},
        },
    }


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


def cloudtrail_role_trust_policy():
    """CloudTrail may assume the role, without any condition.

    CloudTrail User Guide, "Role policy document for CloudTrail to use CloudWatch Logs for monitoring":
    confused-deputy prevention does not apply to this role, and its policy supports neither ``aws:SourceArn``
    nor ``aws:SourceAccount``; a condition here can break delivery to CloudWatch Logs. The permissions policy
    (:func:`cloudtrail_role_permissions_policy`) is what keeps the role narrow.
    """
    return _document(
        [
            {
                "Sid": "TrailWatchCloudTrailAssume",
                "Effect": "Allow",
                "Principal": _service("cloudtrail.amazonaws.com"),
                "Action": "sts:AssumeRole",
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


# Statements a bring-your-own resource receives: only what CloudTrail (or the alarms) need, never the owner's own
# controls (the TLS-only deny of our bucket, the root statement of our key: the key merge guards root separately),
# each with a Sid naming the install (the trail, or trailwatch_name for the topic), so that installs coexist.


def byo_bucket_statements(partition, region, account, trail, bucket, key_prefix=None, org_id=None):
    policy = log_bucket_policy(partition, region, account, trail, bucket, key_prefix, org_id)
    wanted = {sid(role) for role in BYO_BUCKET_ROLES}
    return _for_install([s for s in policy["Statement"] if s["Sid"] in wanted], trail)


def byo_key_statements(partition, region, account, trail, log_group_name):
    policy = kms_key_policy(partition, region, account, trail, log_group_name)
    wanted = {sid(role) for role in BYO_KEY_ROLES}
    return _for_install([s for s in policy["Statement"] if s["Sid"] in wanted], trail)


def byo_topic_statements(partition, region, account, existing_topic_arn, install):
    """The CloudWatch publish statement for an existing topic (its owner statement is the owner's business)."""
    return _for_install([_alarms_publish_statement(partition, region, account, existing_topic_arn)], install)


def topic_key_statements(partition, region, account, install):
    """What the customer managed key of an encrypted topic needs so that the alarms can publish to the topic."""
    return _for_install([_alarms_key_statement(partition, region, account)], install)
