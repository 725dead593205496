# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: the execution roles of the notifier and lock functions, and their policies.

The IAM wrappers are those of ``_iam`` (same retries and error messages); this file adds a role whose inline
policy name and description are the caller's, and the least-privilege documents of roles/notifier/README-lambda.md.
"""

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ._common import converge_tags
from ._iam import _document
from ._iam import create_role
from ._iam import delete_role
from ._iam import delete_role_policy
from ._iam import get_role
from ._iam import get_role_policy
from ._iam import put_role_policy
from ._iam import tag_role
from ._iam import untag_role
from ._iam import update_trust

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


def read_role(client, name, policy_name):
    """The role with its trust policy and the one inline policy TrailWatch manages; None when it does not exist."""
    role = get_role(client, name)
    if role is None:
        return None
    return {
        "name": name,
        "arn": role["Arn"],
        "trust_policy": _document(role.get("AssumeRolePolicyDocument")),
        "permissions_policy": get_role_policy(client, name, policy_name),
        "tags": {t["Key"]: t["Value"] for t in role.get("Tags", [])},
    }


def ensure_role_present(
    client, current, name, arn, trust, permissions, policy_name, description, tags, purge_tags, check_mode
):
    """Returns (changed, predicted state, created). A created role needs seconds before Lambda can assume it."""
    desired = {"name": name, "arn": arn, "trust_policy": trust, "permissions_policy": permissions, "tags": dict(tags)}
    if current is None:
        if not check_mode:
            desired["arn"] = create_role(client, name, trust, description, tags)["Arn"]
            put_role_policy(client, name, policy_name, permissions)
        return True, desired, True

    changed = False
    desired["arn"] = current["arn"]
    if compare_policies(current["trust_policy"], trust, default_version=None):
        changed = True
        if not check_mode:
            update_trust(client, name, trust)
    if current["permissions_policy"] is None or compare_policies(
        current["permissions_policy"], permissions, default_version=None
    ):
        changed = True
        if not check_mode:
            put_role_policy(client, name, policy_name, permissions)
    tags_changed, desired["tags"] = converge_tags(
        current["tags"],
        tags,
        purge_tags,
        lambda t: tag_role(client, name, t),
        lambda k: untag_role(client, name, k),
        check_mode,
    )
    return changed or tags_changed, desired, False


def ensure_role_absent(client, current, name, policy_name, check_mode):
    if current is None:
        return False
    if not check_mode:
        delete_role_policy(client, name, policy_name)
        delete_role(client, name)
    return True
