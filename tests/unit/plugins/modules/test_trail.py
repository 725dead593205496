"""trailwatch.aws.trail in-process against moto: the existing-key path (kms_key_id) refuses a key it cannot use.

The same guards as resource_policy_statements and sns_topic (_kms.unusable): an AWS managed key's policy cannot
grant CloudTrail, and a key pending deletion encrypts nothing. Both are refused before any write, naming the key and
the fix. moto reports every key as customer managed, so the AWS managed answer is set on DescribeKey's parsed
response here, as AWS gives it for alias/aws/... keys.
"""

import boto3
import pytest
from moto import mock_aws

from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule
from ansible_collections.trailwatch.aws.plugins.modules import trail

REGION = "us-east-1"
ARGS = {
    "name": "trailwatch",
    "s3_bucket_name_prefix": "trailwatch-logs",
    "log_group_name": "aws-cloudtrail-logs-trailwatch",
    "role_name": "trailwatch-cloudtrail-to-logs",
}
READS = ("Get", "Describe", "List", "Head")


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def calls(module_calls):
    return module_calls()


def _aws_managed(monkeypatch):
    """Every DescribeKey answer of the module's KMS clients says KeyManager AWS."""
    original = TrailWatchModule.client

    def set_manager(parsed, **_kwargs):
        if "KeyMetadata" in parsed:
            parsed["KeyMetadata"]["KeyManager"] = "AWS"

    def client(self, service, *args, **kwargs):
        conn = original(self, service, *args, **kwargs)
        if service == "kms":
            conn.meta.events.register("after-call.kms.DescribeKey", set_manager)
        return conn

    monkeypatch.setattr(TrailWatchModule, "client", client)


@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize(
    "state, words",
    [
        ("PendingDeletion", ["is pending deletion", "cancel the key deletion"]),
        ("AwsManaged", ["is an AWS managed key", "customer managed key"]),
    ],
)
def test_existing_key_that_cannot_be_used_is_refused_before_any_write(
    aws, run_module, calls, monkeypatch, state, words, check_mode
):
    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    if state == "PendingDeletion":
        kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    else:
        _aws_managed(monkeypatch)
    result = run_module(trail.main, dict(ARGS, kms_key_id=key_id), check_mode)
    assert result["failed"]
    assert result["msg"].startswith(f"kms_key_id: '{key_id}'")
    assert all(word in result["msg"] for word in words), result["msg"]
    assert [call for call in calls if not call.startswith(READS)] == []


def test_existing_customer_key_is_used(aws, run_module):
    """The guard refuses only what cannot work: an enabled customer managed key gets the trail's statements."""
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key()["KeyMetadata"]
    result = run_module(trail.main, dict(ARGS, kms_key_id=key["KeyId"]), check_mode=True)
    assert not result.get("failed"), result.get("msg")
    assert result["kms_key"]["key_arn"] == key["Arn"]
    assert "kms_key:policy" in result["changes"]
