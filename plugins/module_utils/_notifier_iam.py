# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: the execution roles of the notifier and lock functions, and their policies.

The roles themselves are managed by ``_iam`` (read_role, ensure_role_present, ensure_role_absent, with the inline
policy name and description of each function's role); this file holds the least-privilege documents of
roles/notifier/README-lambda.md.
"""

NOTIFIER_POLICY_NAME = "trailwatch-notifier"
LOCK_POLICY_NAME = "trailwatch-lock"

# Buckets are not known in advance: the functions act on whichever bucket was just created. Every S3 call of
# theirs passes ExpectedBucketOwner, so a bucket of the same name in another account is never touched.
ANY_BUCKET = "arn:{partition}:s3:::*"


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
    topic_key_arn=None,
    tag_new_buckets=False,
    secret_parameter=None,
    secret_key_arn=None,
):
    """Logs to its own group, publishes to the topic; tags buckets and reads the lock secret only when enabled."""
    statements = [
        _own_logs_statement(partition, region, account, function_name),
        {"Sid": "TrailWatchPublish", "Effect": "Allow", "Action": "sns:Publish", "Resource": topic_arn},
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
            {
                "Sid": "TrailWatchTagNewBuckets",
                "Effect": "Allow",
                "Action": ["s3:GetBucketTagging", "s3:PutBucketTagging"],
                "Resource": ANY_BUCKET.format(partition=partition),
            }
        )
    if secret_parameter:
        statements.extend(_secret_statements(partition, region, account, secret_parameter, secret_key_arn))
    return _document_of(statements)


def lock_permissions_policy(partition, region, account, function_name, secret_parameter, secret_key_arn=None):
    """Logs to its own group, reads the secret, turns on versioning and Object Lock, marks used tokens in tags."""
    return _document_of(
        [
            _own_logs_statement(partition, region, account, function_name),
            *_secret_statements(partition, region, account, secret_parameter, secret_key_arn),
            {
                "Sid": "TrailWatchLockBuckets",
                "Effect": "Allow",
                "Action": [
                    "s3:GetBucketVersioning",
                    "s3:PutBucketVersioning",
                    "s3:GetBucketObjectLockConfiguration",
                    "s3:PutBucketObjectLockConfiguration",
                    "s3:GetBucketTagging",
                    "s3:PutBucketTagging",
                ],
                "Resource": ANY_BUCKET.format(partition=partition),
            },
        ]
    )
