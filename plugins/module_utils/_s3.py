# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: S3 wrappers and the hardened CloudTrail log bucket."""

from typing import Any
from typing import Tuple
from typing import Dict
from typing import Optional

import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ._common import Ensured
from ._common import TrailWatchError
from ._common import deleted
from ._common import created
from ._common import converged
from ._common import retry
from ._common import retry_while
from ._common import tag_dict
from ._common import text_tags

PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


class S3Error(TrailWatchError):
    pass


class S3ErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = S3Error

    @classmethod
    def _is_missing(cls) -> Any:
        return is_boto3_error_code(["NoSuchBucket", "404", "NotFound"])


def _optional(codes: Any, call: Any) -> Any:
    """Runs call(); None when S3 answers that this optional bucket setting is not configured."""
    try:
        return call()
    except is_boto3_error_code(codes):
        return None


@S3ErrorHandler.list_error_handler("read the bucket policy")
@retry()
def get_bucket_policy(client: Any, bucket: str) -> Any:
    """(exists, policy): NoSuchBucket means no bucket, NoSuchBucketPolicy an empty policy."""
    raw = _optional("NoSuchBucketPolicy", lambda: client.get_bucket_policy(Bucket=bucket)["Policy"])
    return True, (json.loads(raw) if raw else None)


@S3ErrorHandler.common_error_handler("read the bucket's public access block")
@retry()
def get_public_access_block(client: Any, bucket: str) -> Any:
    conf = _optional(
        "NoSuchPublicAccessBlockConfiguration",
        lambda: client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
    )
    return conf or {}


@S3ErrorHandler.common_error_handler("read the bucket versioning")
@retry()
def get_versioning(client: Any, bucket: str) -> Any:
    return client.get_bucket_versioning(Bucket=bucket).get("Status", "Disabled")


@S3ErrorHandler.common_error_handler("read the bucket default encryption")
@retry()
def get_encryption(client: Any, bucket: str) -> Dict[str, Any]:
    conf = _optional(
        "ServerSideEncryptionConfigurationNotFoundError",
        lambda: client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"],
    )
    rules = (conf or {}).get("Rules") or [{}]
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
    return {
        "sse_algorithm": default.get("SSEAlgorithm"),
        "kms_key_id": default.get("KMSMasterKeyID"),
        "bucket_key_enabled": bool(rules[0].get("BucketKeyEnabled", False)),
    }


@S3ErrorHandler.common_error_handler("read the bucket's object ownership")
@retry()
def get_ownership(client: Any, bucket: str) -> Any:
    conf = _optional(
        "OwnershipControlsNotFoundError",
        lambda: client.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"],
    )
    return ((conf or {}).get("Rules") or [{}])[0].get("ObjectOwnership")


@S3ErrorHandler.common_error_handler("read the bucket tags")
@retry()
def get_tags(client: Any, bucket: str) -> Any:
    tags = _optional("NoSuchTagSet", lambda: client.get_bucket_tagging(Bucket=bucket)["TagSet"])
    return tag_dict(tags or [])


@S3ErrorHandler.common_error_handler("create the bucket (is the name taken by another account?)")
@retry()
def create_bucket(client: Any, bucket: str, region: str) -> None:
    params: Dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
    if region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(**params)
    # The new bucket may take a moment to answer everywhere; wait for it (throttled answers are retried too).
    retry_while(lambda: client.head_bucket(Bucket=bucket), ["404", "NoSuchBucket", "NotFound"], 60)


@S3ErrorHandler.common_error_handler("block public access to the bucket")
@retry()
def put_public_access_block(client: Any, bucket: str) -> None:
    client.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)


@S3ErrorHandler.common_error_handler("enable bucket versioning")
@retry()
def enable_versioning(client: Any, bucket: str) -> None:
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


@S3ErrorHandler.common_error_handler("set the bucket default encryption")
@retry()
def put_kms_encryption(client: Any, bucket: str, key_arn: str) -> None:
    rule = {
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
        "BucketKeyEnabled": True,
    }
    client.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})


@S3ErrorHandler.common_error_handler("enforce bucket owner object ownership")
@retry()
def put_ownership(client: Any, bucket: str) -> None:
    client.put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )


@S3ErrorHandler.common_error_handler("set the bucket policy")
@retry()
def put_bucket_policy(client: Any, bucket: str, policy: Dict[str, Any]) -> None:
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


@S3ErrorHandler.deletion_error_handler("delete the bucket policy")
@retry()
def delete_bucket_policy(client: Any, bucket: str) -> bool:
    client.delete_bucket_policy(Bucket=bucket)
    return True


@S3ErrorHandler.common_error_handler("tag the bucket")
@retry()
def put_tags(client: Any, bucket: str, tags: Dict[str, Any]) -> None:
    if tags:
        client.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": ansible_dict_to_boto3_tag_list(tags)})
    else:
        client.delete_bucket_tagging(Bucket=bucket)


@S3ErrorHandler.deletion_error_handler("empty the bucket (all versions and delete markers)")
@retry()
def empty_bucket(client: Any, bucket: str) -> Any:
    """Deletes every object version and delete marker; returns how many were deleted."""
    deleted = 0
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        batch = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for start in range(0, len(batch), 1000):
            answer = client.delete_objects(
                Bucket=bucket, Delete={"Objects": batch[start : start + 1000], "Quiet": True}
            )
            # DeleteObjects answers 200 even when objects were refused: each refusal is in Errors.
            errors = answer.get("Errors") or []
            if errors:
                first = errors[0]
                raise S3Error(
                    message=f"Failed to empty the bucket: DeleteObjects refused {len(errors)} object version(s), "
                    f"e.g. {first.get('Key')}: {first.get('Code')} {first.get('Message')} "
                    "(is s3:DeleteObjectVersion allowed? is an Object Lock retention in force?)"
                )
        deleted += len(batch)
    return deleted


@S3ErrorHandler.deletion_error_handler("delete the bucket")
@retry()
def delete_bucket(client: Any, bucket: str) -> bool:
    client.delete_bucket(Bucket=bucket)
    return True


def read_bucket(client: Any, bucket: str) -> Optional[Dict[str, Any]]:
    """The hardened-bucket view of the bucket, or None if it does not exist."""
    found = get_bucket_policy(client, bucket)
    if found is None:
        return None
    return {
        "name": bucket,
        "policy": found[1],
        "public_access_block": get_public_access_block(client, bucket),
        "versioning": get_versioning(client, bucket),
        "encryption": get_encryption(client, bucket),
        "object_ownership": get_ownership(client, bucket),
        "tags": get_tags(client, bucket),
    }


def ensure_bucket_present(
    client: Any,
    current: Optional[Dict[str, Any]],
    bucket: str,
    region: str,
    key_arn: str,
    policy: Dict[str, Any],
    tags: Dict[str, Any],
    purge_tags: bool,
    check_mode: bool,
) -> Ensured:
    """Creates or hardens the log bucket: Ensured (parts: created, or the settings put)."""
    tags = text_tags(tags)
    encryption = {"sse_algorithm": "aws:kms", "kms_key_id": key_arn, "bucket_key_enabled": True}
    desired = {
        "name": bucket,
        "policy": policy,
        "public_access_block": dict(PUBLIC_ACCESS_BLOCK),
        "versioning": "Enabled",
        "encryption": encryption,
        "object_ownership": "BucketOwnerEnforced",
        "tags": dict(tags),
    }
    before = current or {
        "name": bucket,
        "policy": None,
        "public_access_block": {},
        "versioning": "Disabled",
        "encryption": {},
        "object_ownership": None,
        "tags": {},
    }
    if current is None and not check_mode:
        create_bucket(client, bucket, region)

    steps = []
    if before["public_access_block"] != PUBLIC_ACCESS_BLOCK:
        steps.append(("public_access_block", lambda: put_public_access_block(client, bucket)))
    if before["object_ownership"] != "BucketOwnerEnforced" and current is not None:
        steps.append(("object_ownership", lambda: put_ownership(client, bucket)))
    if before["versioning"] != "Enabled":
        steps.append(("versioning", lambda: enable_versioning(client, bucket)))
    if before["encryption"] != encryption:
        steps.append(("encryption", lambda: put_kms_encryption(client, bucket, key_arn)))
    if before["policy"] is None or compare_policies(before["policy"], policy, default_version=None):
        steps.append(("policy", lambda: put_bucket_policy(client, bucket, policy)))
    to_set, to_unset = compare_aws_tags(before["tags"], tags, purge_tags)
    after_tags = {k: v for k, v in {**before["tags"], **to_set}.items() if k not in to_unset}
    if to_set or to_unset:
        steps.append(("tags", lambda: put_tags(client, bucket, after_tags)))
    desired["tags"] = after_tags

    if not check_mode:
        for _part, step in steps:
            step()
    if current is None:
        return created(desired)
    return converged(desired, [part for part, _step in steps])


def ensure_bucket_absent(
    client: Any, current: Optional[Dict[str, Any]], bucket: str, check_mode: bool
) -> Tuple[Ensured, Optional[int]]:
    """Only called when the user asked to purge log data: empties the versioned bucket and deletes it.

    The TLS-only statement is removed first, so emptying works whatever the transport of the endpoint.
    Returns the Ensured and how many object versions and delete markers were deleted (None in check mode).
    """
    if current is None:
        return deleted(False), 0
    if check_mode:
        return deleted(), None
    delete_bucket_policy(client, bucket)
    count = empty_bucket(client, bucket) or 0
    delete_bucket(client, bucket)
    return deleted(), count
