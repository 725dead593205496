# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: the resource policy documents of docs/aws-policies.md, as pure functions.

Every statement carries a Sid ``TrailWatch<Role>`` so that TrailWatch's statements can be told apart from anyone
else's in a shared policy. The statements merged into a bring-your-own bucket, key or topic also name the install
they belong to, ``TrailWatch<Role>For<Install>`` (:func:`sid`), so that several TrailWatch installs can share one
resource without taking each other's statements away (docs/aws-policies.md, "Shared resources").

The notifier's documents (pure functions, no AWS call) are here too: the execution roles of the notifier and lock
functions (trust and least-privilege permissions, as roles/notifier/README-lambda.md lists them) and the
failed-events queue's policy. The roles themselves are managed by ``_iam``, the queue by ``_sqs``.
"""

from typing import Optional
from typing import Any
from typing import Dict
from typing import List
from typing import Union

from ._common import INSTALL_SEPARATOR
from ._common import ROLES
from ._common import SID_PREFIX
from ._common import install_token
from ._common import is_install_sid
from ._common import log_group_arn
from ._common import log_prefix
from ._common import sid

# Re-exported: the policy builders' callers name them from here.
__all__ = [
    "INSTALL_SEPARATOR",
    "ROLES",
    "SID_PREFIX",
    "install_token",
    "is_install_sid",
    "log_group_arn",
    "log_prefix",
    "sid",
]

# What each kind of bring-your-own statement set holds (the roles an install owns there) and, for the migration
# from versions before per-install Sids, the roles whose unsuffixed statements (``TrailWatchCloudTrailWrite``) it
# takes over. CloudWatchAlarms left the trail's key statements: the topic's key gets it from sns_topic now.
BYO_BUCKET_ROLES = ("CloudTrailAclCheck", "CloudTrailWrite")
BYO_KEY_ROLES = ("CloudTrailEncrypt", "CloudTrailDescribe", "AccountReadersDecrypt", "CloudWatchLogs")
BYO_KEY_LEGACY_ROLES = BYO_KEY_ROLES + ("CloudWatchAlarms",)
TOPIC_ROLES = ("CloudWatchAlarmsPublish",)
TOPIC_KEY_ROLES = ("CloudWatchAlarms",)


def _for_install(statements: list, install: str) -> list:
    """The statements with their Sids naming the install: TrailWatchCloudTrailWrite -> ...WriteFor<Install>."""
    return [dict(s, Sid=sid(s["Sid"][len(SID_PREFIX) :], install)) for s in statements]


def trail_arn(partition: str, region: str, account: str, trail_name: str) -> str:
    """CloudTrail always names a trail by its home-region ARN, also for multi-region trails."""
    return f"arn:{partition}:cloudtrail:{region}:{account}:trail/{trail_name}"


def topic_arn(partition: str, region: str, account: str, topic_name: str) -> str:
    return f"arn:{partition}:sns:{region}:{account}:{topic_name}"


def _document(statements: List[Any]) -> Dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def _service(name: str) -> Dict[str, Any]:
    return {"Service": name}


def kms_key_policy(partition: str, region: str, account: str, trail: str, log_group_name: str) -> Dict[str, Any]:
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


def _alarms_key_statement(partition: str, region: str, account: str) -> Dict[str, Any]:
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


def log_bucket_policy(
    partition: str,
    region: str,
    account: str,
    trail: str,
    bucket: str,
    key_prefix: Optional[str] = None,
    org_id: Optional[str] = None,
) -> Dict[str, Any]:
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


def cloudtrail_role_trust_policy() -> Dict[str, Any]:
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


def cloudtrail_role_permissions_policy(
    partition: str, region: str, account: str, log_group_name: str, org_id: Optional[str] = None
) -> Dict[str, Any]:
    """CloudTrail may only create and write its own log streams in the one log group."""
    group = log_group_arn(partition, region, account, log_group_name)
    own = f"{group}:log-stream:{account}_CloudTrail_{region}*"
    # An organization trail names the streams of member accounts o-ORGID_<account>_CloudTrail_<region>.
    streams: Union[str, List[str]] = [own, f"{group}:log-stream:{org_id}_*"] if org_id else own
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


# What a topic's owner may do: the actions of SNS's own default topic policy.
SNS_OWNER_ACTIONS = (
    "GetTopicAttributes",
    "SetTopicAttributes",
    "AddPermission",
    "RemovePermission",
    "DeleteTopic",
    "Subscribe",
    "ListSubscriptionsByTopic",
    "Publish",
)


def sns_owner_actions(prefix: str = "sns") -> List[str]:
    """SNS_OWNER_ACTIONS as policy actions. SNS writes its default policy with ``SNS:``, TrailWatch its own with
    ``sns:``; IAM reads both alike, but each policy keeps its spelling so that a re-run compares equal."""
    return [f"{prefix}:{action}" for action in SNS_OWNER_ACTIONS]


def topic_policy(partition: str, region: str, account: str, topic: str) -> Dict[str, Any]:
    """The owner keeps managing the topic; CloudWatch alarms of this account may publish."""
    arn = topic_arn(partition, region, account, topic)
    return _document(
        [
            {
                "Sid": "TrailWatchOwnerManage",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": sns_owner_actions(),
                "Resource": arn,
            },
            _alarms_publish_statement(partition, region, account, arn),
        ]
    )


def _alarms_publish_statement(partition: str, region: str, account: str, arn: str) -> Dict[str, Any]:
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


def byo_bucket_statements(
    partition: str,
    region: str,
    account: str,
    trail: str,
    bucket: str,
    key_prefix: Optional[str] = None,
    org_id: Optional[str] = None,
) -> List[Dict[str, Any]]:
    policy = log_bucket_policy(partition, region, account, trail, bucket, key_prefix, org_id)
    wanted = {sid(role) for role in BYO_BUCKET_ROLES}
    return _for_install([s for s in policy["Statement"] if s["Sid"] in wanted], trail)


def byo_key_statements(
    partition: str, region: str, account: str, trail: str, log_group_name: str
) -> List[Dict[str, Any]]:
    policy = kms_key_policy(partition, region, account, trail, log_group_name)
    wanted = {sid(role) for role in BYO_KEY_ROLES}
    return _for_install([s for s in policy["Statement"] if s["Sid"] in wanted], trail)


def byo_topic_statements(
    partition: str, region: str, account: str, existing_topic_arn: str, install: str
) -> List[Dict[str, Any]]:
    """The CloudWatch publish statement for an existing topic (its owner statement is the owner's business)."""
    return _for_install([_alarms_publish_statement(partition, region, account, existing_topic_arn)], install)


def topic_key_statements(partition: str, region: str, account: str, install: str) -> List[Dict[str, Any]]:
    """What the customer managed key of an encrypted topic needs so that the alarms can publish to the topic."""
    return _for_install([_alarms_key_statement(partition, region, account)], install)


# --- the notifier ------------------------------------------------------------------------------------------------

NOTIFIER_POLICY_NAME = "trailwatch-notifier"
LOCK_POLICY_NAME = "trailwatch-lock"

# Buckets are not known in advance: the functions act on whichever bucket was just created. The statements are
# scoped to the buckets of this account with aws:ResourceAccount, and every S3 call of theirs passes
# ExpectedBucketOwner too, so a bucket of the same name in another account is never touched.
ANY_BUCKET = "arn:{partition}:s3:::*"

# The state table's partition keys: each function reaches only its own items (dynamodb:LeadingKeys).
ANNOUNCED_KEYS = "event#*"
TOKEN_KEYS = "token#*"


def lambda_trust_policy(account: str) -> Dict[str, Any]:
    """Lambda may assume the role, on behalf of this account's functions only (confused deputy)."""
    return _document(
        [
            {
                "Sid": "TrailWatchLambdaAssume",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ]
    )


def function_log_group_name(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def _own_logs_statement(partition: str, region: str, account: str, function_name: str) -> Dict[str, Any]:
    group = f"arn:{partition}:logs:{region}:{account}:log-group:{function_log_group_name(function_name)}"
    return {
        "Sid": "TrailWatchOwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"{group}:*",
    }


def parameter_arn(partition: str, region: str, account: str, parameter_name: str) -> str:
    return f"arn:{partition}:ssm:{region}:{account}:parameter/{parameter_name.lstrip('/')}"


def _own_buckets(partition: str, account: str, sid: str, actions: List[str]) -> Dict[str, Any]:
    """S3 bucket actions on any bucket of this account only (aws:ResourceAccount: the bucket owner's account)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": ANY_BUCKET.format(partition=partition),
        "Condition": {"StringEquals": {"aws:ResourceAccount": account}},
    }


def _state_statement(table_arn: str, sid: str, actions: List[str], keys: str) -> Dict[str, Any]:
    """Item actions on the state table, limited to the items whose partition key matches ``keys``."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": table_arn,
        "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [keys]}},
    }


def _secret_statements(
    partition: str, region: str, account: str, parameter_name: str, parameter_key_arn: Optional[str]
) -> List[Dict[str, Any]]:
    statements = [
        {
            "Sid": "TrailWatchReadLockSecret",
            "Effect": "Allow",
            "Action": "ssm:GetParameter",
            "Resource": parameter_arn(partition, region, account, parameter_name),
        }
    ]
    if parameter_key_arn:
        statements.append(
            {
                "Sid": "TrailWatchDecryptLockSecret",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": parameter_key_arn,
            }
        )
    return statements


def notifier_permissions_policy(
    partition: str,
    region: str,
    account: str,
    function_name: str,
    topic_arn: str,
    table_arn: str,
    queue_arn: str,
    topic_key_arn: Optional[str] = None,
    tag_new_buckets: bool = False,
    secret_parameter: Any = None,
    secret_key_arn: Optional[str] = None,
) -> Dict[str, Any]:
    """Logs to its own group, publishes to the topic, remembers announced events in the state table, sends failed
    events to the failed-events queue (Lambda does that with this role); tags buckets and reads the lock secret only
    when enabled."""
    statements = [
        _own_logs_statement(partition, region, account, function_name),
        {"Sid": "TrailWatchPublish", "Effect": "Allow", "Action": "sns:Publish", "Resource": topic_arn},
        _state_statement(
            table_arn, "TrailWatchAnnouncedEvents", ["dynamodb:GetItem", "dynamodb:PutItem"], ANNOUNCED_KEYS
        ),
        {"Sid": "TrailWatchFailedEvents", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn},
    ]
    if topic_key_arn:
        statements.append(
            {
                "Sid": "TrailWatchEncryptedTopic",
                "Effect": "Allow",
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": topic_key_arn,
            }
        )
    if tag_new_buckets:
        statements.append(
            _own_buckets(partition, account, "TrailWatchTagNewBuckets", ["s3:GetBucketTagging", "s3:PutBucketTagging"])
        )
    if secret_parameter:
        statements.extend(_secret_statements(partition, region, account, secret_parameter, secret_key_arn))
    return _document(statements)


def lock_permissions_policy(
    partition: str,
    region: str,
    account: str,
    function_name: str,
    secret_parameter: Any,
    table_arn: str,
    secret_key_arn: Optional[str] = None,
) -> Dict[str, Any]:
    """Logs to its own group, reads the secret, consumes tokens in the state table (claim, read, release after a
    failed lock), turns on versioning and Object Lock on this account's buckets."""
    return _document(
        [
            _own_logs_statement(partition, region, account, function_name),
            *_secret_statements(partition, region, account, secret_parameter, secret_key_arn),
            _state_statement(
                table_arn,
                "TrailWatchUsedLinks",
                ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
                TOKEN_KEYS,
            ),
            _own_buckets(
                partition,
                account,
                "TrailWatchLockBuckets",
                [
                    "s3:GetBucketVersioning",
                    "s3:PutBucketVersioning",
                    "s3:GetBucketObjectLockConfiguration",
                    "s3:PutBucketObjectLockConfiguration",
                ],
            ),
        ]
    )


def failed_events_queue_policy(queue_arn: str) -> Dict[str, Any]:
    """The failed-events queue refuses every request not made over TLS; access itself comes from IAM (the
    notifier's role sends, the account's principals read)."""
    return _document(
        [
            {
                "Sid": "TrailWatchDenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": queue_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    )
