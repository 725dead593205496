# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: the policy documents of the notifier (pure functions, no AWS call).

The execution roles of the notifier and lock functions (trust and least-privilege permissions, as
roles/notifier/README-lambda.md lists them) and the failed-events queue's policy. The roles themselves are managed by
``_iam`` (read_role, ensure_role_present, ensure_role_absent, with the inline policy name and description of each
function's role), the queue by ``_sqs``.
"""

from typing import Any
from typing import Dict
from typing import List

NOTIFIER_POLICY_NAME = "trailwatch-notifier"
LOCK_POLICY_NAME = "trailwatch-lock"

# Buckets are not known in advance: the functions act on whichever bucket was just created. The statements are
# scoped to the buckets of this account with aws:ResourceAccount, and every S3 call of theirs passes
# ExpectedBucketOwner too, so a bucket of the same name in another account is never touched.
ANY_BUCKET = "arn:{partition}:s3:::*"

# The state table's partition keys: each function reaches only its own items (dynamodb:LeadingKeys).
ANNOUNCED_KEYS = "event#*"
TOKEN_KEYS = "token#*"


def _document_of(statements):
    return {"Version": "2012-10-17", "Statement": statements}


def lambda_trust_policy(account):
    """Lambda may assume the role, on behalf of this account's functions only (confused deputy)."""
    return _document_of(
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


def function_log_group_name(function_name):
    return f"/aws/lambda/{function_name}"


def _own_logs_statement(partition, region, account, function_name):
    group = f"arn:{partition}:logs:{region}:{account}:log-group:{function_log_group_name(function_name)}"
    return {
        "Sid": "TrailWatchOwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"{group}:*",
    }


def parameter_arn(partition, region, account, parameter_name):
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


def _secret_statements(partition, region, account, parameter_name, parameter_key_arn):
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
    partition,
    region,
    account,
    function_name,
    topic_arn,
    table_arn,
    queue_arn,
    topic_key_arn=None,
    tag_new_buckets=False,
    secret_parameter=None,
    secret_key_arn=None,
):
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
    return _document_of(statements)


def lock_permissions_policy(
    partition, region, account, function_name, secret_parameter, table_arn, secret_key_arn=None
):
    """Logs to its own group, reads the secret, consumes tokens in the state table (claim, read, release after a
    failed lock), turns on versioning and Object Lock on this account's buckets."""
    return _document_of(
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
    return _document_of(
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
