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


def _edit_answers(monkeypatch, service, operation, edit):
    """edit(parsed) changes every parsed answer of operation on the module's clients of service, as AWS answers."""
    original = TrailWatchModule.client

    def client(self, name, *args, **kwargs):
        conn = original(self, name, *args, **kwargs)
        if name == service:
            conn.meta.events.register(f"after-call.{service}.{operation}", lambda parsed, **_kwargs: edit(parsed))
        return conn

    monkeypatch.setattr(TrailWatchModule, "client", client)


def _aws_managed(monkeypatch):
    """Every DescribeKey answer of the module's KMS clients says KeyManager AWS."""

    def set_manager(parsed):
        if "KeyMetadata" in parsed:
            parsed["KeyMetadata"]["KeyManager"] = "AWS"

    _edit_answers(monkeypatch, "kms", "DescribeKey", set_manager)


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


# --- re-read after write (docs/architecture.md, "The ensure_* contract") ------------------------------------------

MANAGED = dict(ARGS, kms_key_alias="alias/trailwatch", tags={"team": "security"})
# The reads of a no-op run and of a check run, as they were before the trail was re-read after a write: a re-read
# happens only after a write, so neither may grow.
NO_OP_READS = [
    "DescribeKey",
    "GetKeyPolicy",
    "GetKeyRotationStatus",
    "ListResourceTags",
    "GetRole",
    "GetRolePolicy",
    "GetBucketPolicy",
    "GetPublicAccessBlock",
    "GetBucketVersioning",
    "GetBucketEncryption",
    "GetBucketOwnershipControls",
    "GetBucketTagging",
    "DescribeLogGroups",
    "ListTagsForResource",
    "GetTrail",
    "GetTrailStatus",
    "GetEventSelectors",
    "ListTags",
]
EMPTY_ACCOUNT_READS = [
    "DescribeKey",
    "GetRole",
    "GetCallerIdentity",
    "GetBucketPolicy",
    "DescribeLogGroups",
    "GetTrail",
    "GetResources",
]


def _home_region(monkeypatch):
    """GetTrail answers with the trail's HomeRegion on the module's clients, as AWS does (moto leaves it out); it is
    the part of a new trail that CreateTrail's answer does not give."""

    def add_home_region(parsed):
        if "Trail" in parsed:
            parsed["Trail"].setdefault("HomeRegion", REGION)

    _edit_answers(monkeypatch, "cloudtrail", "GetTrail", add_home_region)


def test_a_created_trail_is_reported_as_aws_holds_it(aws, run_module, calls, monkeypatch):
    _home_region(monkeypatch)
    created = run_module(trail.main, MANAGED)
    assert "trail:created" in created["changes"]
    assert calls[-4:] == ["GetTrail", "GetTrailStatus", "GetEventSelectors", "ListTags"]  # the re-read
    fresh = run_module(trail.main, MANAGED, check_mode=True)
    assert fresh["changed"] is False, fresh["changes"]
    assert created["trail"]["home_region"] == REGION
    assert created["trail"] == created["diff"]["after"]["trail"]
    assert created["diff"]["after"] == fresh["diff"]["before"]


def test_an_updated_trail_is_reported_as_aws_holds_it(aws, run_module):
    """UpdateTrail with S3KeyPrefix '' removes the prefix; the endpoint decides how it reads back (moto: '')."""
    run_module(trail.main, dict(MANAGED, s3_key_prefix="logs"))
    updated = run_module(trail.main, MANAGED)
    assert "trail:settings" in updated["changes"]
    fresh = run_module(trail.main, MANAGED, check_mode=True)
    assert updated["trail"] == fresh["diff"]["before"]["trail"]


def test_a_trail_whose_key_prefix_was_removed_converges(aws, run_module, calls):
    """A prefix removed with UpdateTrail (S3KeyPrefix '') reads back as '' (moto) or not at all (AWS): the reader
    treats both as no prefix, so the next run neither updates the trail again nor reports a change."""
    run_module(trail.main, dict(MANAGED, s3_key_prefix="logs"))
    removed = run_module(trail.main, MANAGED)
    assert "trail:settings" in removed["changes"]
    assert removed["trail"]["settings"]["S3KeyPrefix"] is None
    calls.clear()
    again = run_module(trail.main, MANAGED)
    assert again["changed"] is False, again["changes"]
    assert calls == NO_OP_READS


def test_a_no_op_run_reads_what_it_read_before_and_writes_nothing(aws, run_module, calls):
    run_module(trail.main, MANAGED)
    calls.clear()
    result = run_module(trail.main, MANAGED)
    assert result["changed"] is False, result["changes"]
    assert calls == NO_OP_READS


@pytest.mark.parametrize("deployed", [False, True], ids=["empty-account", "deployed-with-changes"])
def test_check_mode_reads_nothing_more(aws, run_module, calls, deployed):
    """Check mode predicts: even where a run would write (and then re-read), it only makes the module's reads."""
    if deployed:
        run_module(trail.main, MANAGED)
    calls.clear()
    result = run_module(trail.main, dict(MANAGED, read_write_type="All", tags={"team": "audit"}), check_mode=True)
    assert {"trail:created", "trail:event_selectors"} & set(result["changes"])
    assert calls == (NO_OP_READS if deployed else EMPTY_ACCOUNT_READS)
