"""_s3 with botocore's Stubber: reading the hardened bucket, its optional settings, and the purge order."""

import json
from pathlib import Path

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _policies
from ansible_collections.trailwatch.aws.plugins.module_utils import _s3

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = f"trailwatch-logs-{ACCOUNT}-{REGION}"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b5f3c9e-1111-2222-3333-444455556666"
POLICY = _policies.log_bucket_policy("aws", REGION, ACCOUNT, "trailwatch", BUCKET)
TAGS = {"team": "security"}
B = {"Bucket": BUCKET}


@pytest.fixture
def s3(stubbed):
    return stubbed("s3")


def stub_hardened_read(stub, tags=None):
    tags = TAGS if tags is None else tags
    stub.add_response("get_bucket_policy", {"Policy": json.dumps(POLICY)}, B)
    stub.add_response("get_public_access_block", {"PublicAccessBlockConfiguration": dict(_s3.PUBLIC_ACCESS_BLOCK)}, B)
    stub.add_response("get_bucket_versioning", {"Status": "Enabled"}, B)
    stub.add_response(
        "get_bucket_encryption",
        {
            "ServerSideEncryptionConfiguration": {
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ARN},
                        "BucketKeyEnabled": True,
                    }
                ]
            }
        },
        B,
    )
    stub.add_response(
        "get_bucket_ownership_controls",
        {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}},
        B,
    )
    stub.add_response("get_bucket_tagging", {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}, B)


# --- read_bucket ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code, status", [("NoSuchBucket", 404), ("404", 404), ("NotFound", 404)])
def test_read_bucket_of_a_missing_bucket_is_none(s3, code, status):
    client, stub = s3
    stub.add_client_error("get_bucket_policy", code, "The specified bucket does not exist", status, expected_params=B)
    assert _s3.read_bucket(client, BUCKET) is None


def test_read_bucket_maps_missing_optional_settings_to_empty_values(s3):
    client, stub = s3
    stub.add_client_error(
        "get_bucket_policy", "NoSuchBucketPolicy", "The bucket policy does not exist", 404, expected_params=B
    )
    stub.add_client_error(
        "get_public_access_block",
        "NoSuchPublicAccessBlockConfiguration",
        "The public access block configuration was not found",
        404,
        expected_params=B,
    )
    stub.add_response("get_bucket_versioning", {}, B)
    stub.add_client_error(
        "get_bucket_encryption",
        "ServerSideEncryptionConfigurationNotFoundError",
        "The server side encryption configuration was not found",
        404,
        expected_params=B,
    )
    stub.add_client_error(
        "get_bucket_ownership_controls",
        "OwnershipControlsNotFoundError",
        "The bucket ownership controls were not found",
        404,
        expected_params=B,
    )
    stub.add_client_error("get_bucket_tagging", "NoSuchTagSet", "The TagSet does not exist", 404, expected_params=B)
    assert _s3.read_bucket(client, BUCKET) == {
        "name": BUCKET,
        "policy": None,
        "public_access_block": {},
        "versioning": "Disabled",
        "encryption": {"sse_algorithm": None, "kms_key_id": None, "bucket_key_enabled": False},
        "object_ownership": None,
        "tags": {},
    }


def test_read_hardened_bucket(s3):
    client, stub = s3
    stub_hardened_read(stub)
    assert _s3.read_bucket(client, BUCKET) == {
        "name": BUCKET,
        "policy": POLICY,
        "public_access_block": _s3.PUBLIC_ACCESS_BLOCK,
        "versioning": "Enabled",
        "encryption": {"sse_algorithm": "aws:kms", "kms_key_id": KEY_ARN, "bucket_key_enabled": True},
        "object_ownership": "BucketOwnerEnforced",
        "tags": TAGS,
    }


@pytest.mark.parametrize(
    "operation, position",
    [("get_public_access_block", 1), ("get_bucket_encryption", 3), ("get_bucket_tagging", 5)],
)
def test_read_bucket_does_not_hide_access_denied(s3, operation, position):
    client, stub = s3
    order = [
        "get_bucket_policy",
        "get_public_access_block",
        "get_bucket_versioning",
        "get_bucket_encryption",
        "get_bucket_ownership_controls",
        "get_bucket_tagging",
    ]
    answers = {
        "get_bucket_policy": {"Policy": json.dumps(POLICY)},
        "get_public_access_block": {"PublicAccessBlockConfiguration": dict(_s3.PUBLIC_ACCESS_BLOCK)},
        "get_bucket_versioning": {"Status": "Enabled"},
        "get_bucket_encryption": {"ServerSideEncryptionConfiguration": {"Rules": []}},
        "get_bucket_ownership_controls": {"OwnershipControls": {"Rules": []}},
    }
    for name in order[:position]:
        stub.add_response(name, answers[name], B)
    stub.add_client_error(operation, "AccessDenied", "Access Denied", 403)
    with pytest.raises(_s3.S3Error):
        _s3.read_bucket(client, BUCKET)


# --- ensure_bucket_present -----------------------------------------------------------------------------------


def test_hardened_bucket_makes_no_write_call(s3):
    client, stub = s3
    stub_hardened_read(stub)
    current = _s3.read_bucket(client, BUCKET)
    changed, after, _parts = _s3.ensure_bucket_present(
        client, current, BUCKET, REGION, KEY_ARN, POLICY, TAGS, True, False
    )
    assert changed is False
    assert after == current


def test_new_bucket_in_check_mode_makes_no_call(s3):
    client, _unused = s3
    changed, after, _parts = _s3.ensure_bucket_present(client, None, BUCKET, REGION, KEY_ARN, POLICY, TAGS, True, True)
    assert changed is True
    assert after["versioning"] == "Enabled" and after["object_ownership"] == "BucketOwnerEnforced"


def test_unhardened_bucket_converges(s3, record_operations):
    client, stub = s3
    calls = record_operations(client)
    current = {
        "name": BUCKET,
        "policy": None,
        "public_access_block": {},
        "versioning": "Suspended",
        "encryption": {"sse_algorithm": "AES256", "kms_key_id": None, "bucket_key_enabled": False},
        "object_ownership": "ObjectWriter",
        "tags": {},
    }
    stub.add_response("put_public_access_block", {}, dict(B, PublicAccessBlockConfiguration=_s3.PUBLIC_ACCESS_BLOCK))
    stub.add_response(
        "put_bucket_ownership_controls",
        {},
        dict(B, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}),
    )
    stub.add_response("put_bucket_versioning", {}, dict(B, VersioningConfiguration={"Status": "Enabled"}))
    stub.add_response("put_bucket_encryption", {}, None)
    stub.add_response("put_bucket_policy", {}, dict(B, Policy=json.dumps(POLICY)))
    stub.add_response("put_bucket_tagging", {}, dict(B, Tagging={"TagSet": [{"Key": "team", "Value": "security"}]}))
    changed, _unused, _parts = _s3.ensure_bucket_present(
        client, current, BUCKET, REGION, KEY_ARN, POLICY, TAGS, True, False
    )
    assert changed is True
    assert calls == [
        "PutPublicAccessBlock",
        "PutBucketOwnershipControls",
        "PutBucketVersioning",
        "PutBucketEncryption",
        "PutBucketPolicy",
        "PutBucketTagging",
    ]


# --- ensure_bucket_absent ------------------------------------------------------------------------------------


def test_absent_removes_the_policy_before_emptying_then_deletes_the_bucket(s3, record_operations):
    client, stub = s3
    calls = record_operations(client)
    stub.add_response("delete_bucket_policy", {}, B)
    stub.add_response(
        "list_object_versions",
        {
            "IsTruncated": True,
            "NextKeyMarker": "AWSLogs/b",
            "NextVersionIdMarker": "v2",
            "Versions": [{"Key": "AWSLogs/a", "VersionId": "v1"}, {"Key": "AWSLogs/b", "VersionId": "v2"}],
            "DeleteMarkers": [{"Key": "AWSLogs/a", "VersionId": "m1"}],
        },
        B,
    )
    stub.add_response(
        "delete_objects",
        {},
        dict(
            B,
            Delete={
                "Objects": [
                    {"Key": "AWSLogs/a", "VersionId": "v1"},
                    {"Key": "AWSLogs/b", "VersionId": "v2"},
                    {"Key": "AWSLogs/a", "VersionId": "m1"},
                ],
                "Quiet": True,
            },
        ),
    )
    stub.add_response(
        "list_object_versions",
        {"IsTruncated": False, "DeleteMarkers": [{"Key": "AWSLogs/c", "VersionId": "m2"}]},
        dict(B, KeyMarker="AWSLogs/b", VersionIdMarker="v2"),
    )
    stub.add_response(
        "delete_objects", {}, dict(B, Delete={"Objects": [{"Key": "AWSLogs/c", "VersionId": "m2"}], "Quiet": True})
    )
    stub.add_response("delete_bucket", {}, B)
    assert _s3.ensure_bucket_absent(client, {"name": BUCKET}, BUCKET, False) == ((True, None, ["deleted"]), 4)
    assert calls == [
        "DeleteBucketPolicy",
        "ListObjectVersions",
        "DeleteObjects",
        "ListObjectVersions",
        "DeleteObjects",
        "DeleteBucket",
    ]
    assert calls.index("DeleteBucketPolicy") < calls.index("ListObjectVersions")


def test_absent_of_an_empty_bucket(s3, record_operations):
    client, stub = s3
    calls = record_operations(client)
    stub.add_response("delete_bucket_policy", {}, B)
    stub.add_response("list_object_versions", {"IsTruncated": False}, B)
    stub.add_response("delete_bucket", {}, B)
    assert _s3.ensure_bucket_absent(client, {"name": BUCKET}, BUCKET, False) == ((True, None, ["deleted"]), 0)
    assert calls == ["DeleteBucketPolicy", "ListObjectVersions", "DeleteBucket"]


def test_absent_deletes_at_most_a_thousand_objects_per_request(s3):
    client, stub = s3
    versions = [{"Key": f"k{n}", "VersionId": f"v{n}"} for n in range(1500)]
    stub.add_response("delete_bucket_policy", {}, B)
    stub.add_response("list_object_versions", {"IsTruncated": False, "Versions": versions}, B)
    stub.add_response("delete_objects", {}, dict(B, Delete={"Objects": versions[:1000], "Quiet": True}))
    stub.add_response("delete_objects", {}, dict(B, Delete={"Objects": versions[1000:], "Quiet": True}))
    stub.add_response("delete_bucket", {}, B)
    assert _s3.ensure_bucket_absent(client, {"name": BUCKET}, BUCKET, False) == ((True, None, ["deleted"]), 1500)


def test_absent_of_nothing_and_check_mode_make_no_call(s3):
    client, _unused = s3
    assert _s3.ensure_bucket_absent(client, None, BUCKET, False) == ((False, None, []), 0)
    assert _s3.ensure_bucket_absent(client, {"name": BUCKET}, BUCKET, True) == ((True, None, ["deleted"]), None)


def test_bucket_key_needs_the_deployers_kms_decrypt(s3):
    """The log bucket gets an S3 Bucket Key; then CloudTrail requires kms:Decrypt of whoever creates or updates the
    trail (CloudTrail User Guide, "Configure AWS KMS key policies for CloudTrail"; issue 12, item 6). The deployer
    policy grants it on keys, and every key policy TrailWatch writes lets IAM policies grant it (account root)."""
    client, stub = s3
    rule = {
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY_ARN},
        "BucketKeyEnabled": True,
    }
    stub.add_response(
        "put_bucket_encryption", {}, {"Bucket": BUCKET, "ServerSideEncryptionConfiguration": {"Rules": [rule]}}
    )
    _s3.put_kms_encryption(client, BUCKET, KEY_ARN)
    deployer = json.loads((Path(__file__).resolve().parents[4] / "docs" / "iam" / "deployer-policy.json").read_text())
    decrypt = [s for s in deployer["Statement"] if "kms:Decrypt" in s["Action"]]
    assert decrypt and all(s["Resource"] == "arn:aws:kms:*:*:key/*" and "Condition" not in s for s in decrypt)
    key_policy = _policies.kms_key_policy("aws", REGION, ACCOUNT, "trailwatch", "aws-cloudtrail-logs-trailwatch")
    assert {
        "Sid": "TrailWatchAccountRoot",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "kms:*",
        "Resource": "*",
    } in key_policy["Statement"]
