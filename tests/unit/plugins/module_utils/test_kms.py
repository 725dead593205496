"""_kms with botocore's Stubber: reading the key behind the alias, creating, converging, scheduled deletion."""

import inspect
import json

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _kms
from ansible_collections.trailwatch.aws.plugins.module_utils import _policies

REGION = "us-east-1"
ACCOUNT = "123456789012"
ALIAS = "alias/trailwatch"
KEY_ID = "0b5f3c9e-1111-2222-3333-444455556666"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
NEW_KEY_ID = "9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff"
NEW_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{NEW_KEY_ID}"
POLICY = _policies.kms_key_policy("aws", REGION, ACCOUNT, "trailwatch", "aws-cloudtrail-logs-trailwatch")
TAGS = {"team": "security"}
# Every key TrailWatch creates also carries its alias as a tag, so an interrupted run can find it again.
KEY_TAGS = dict(TAGS, **{_kms.ALIAS_TAG: ALIAS})
DESCRIPTION = "TrailWatch: CloudTrail, CloudWatch Logs and SNS encryption"

# Operations that would destroy or disable a key at once: TrailWatch must never call them.
IMMEDIATE_DESTRUCTION = {"DisableKey", "DeleteImportedKeyMaterial", "DisableKeyRotation", "CancelKeyDeletion"}


def metadata(key_id=KEY_ID, key_arn=KEY_ARN, state="Enabled"):
    return {
        "KeyId": key_id,
        "Arn": key_arn,
        "AWSAccountId": ACCOUNT,
        "Description": DESCRIPTION,
        "KeyState": state,
        "Enabled": state == "Enabled",
        "KeyUsage": "ENCRYPT_DECRYPT",
        "KeySpec": "SYMMETRIC_DEFAULT",
        "KeyManager": "CUSTOMER",
        "Origin": "AWS_KMS",
    }


def current_key(**changes):
    key = {
        "key_id": KEY_ID,
        "key_arn": KEY_ARN,
        "account": ACCOUNT,
        "partition": "aws",
        "alias": ALIAS,
        "description": DESCRIPTION,
        "key_manager": "CUSTOMER",
        "key_state": "Enabled",
        "enabled": True,
        "policy": POLICY,
        "rotation_enabled": True,
        "tags": dict(KEY_TAGS),
    }
    key.update(changes)
    return key


@pytest.fixture
def kms(stubbed):
    return stubbed("kms")


# --- read_key ------------------------------------------------------------------------------------------------


def test_read_key_of_a_missing_alias_is_none(kms):
    client, stub = kms
    stub.add_client_error(
        "describe_key", "NotFoundException", f"Alias {ALIAS} is not found.", 400, expected_params={"KeyId": ALIAS}
    )
    assert _kms.read_key(client, ALIAS) is None


def test_read_managed_key_pending_deletion_counts_as_absent(kms):
    client, stub = kms
    stub.add_response("describe_key", {"KeyMetadata": metadata(state="PendingDeletion")}, {"KeyId": ALIAS})
    # No further read: a key waiting for deletion is not looked at.
    assert _kms.read_managed_key(client, ALIAS) is None


def test_read_key_of_someone_elses_key_reads_its_policy_only(kms):
    """A key given by the user (kms_key_id): one shape, rotation and tags are not read (and not needed)."""
    client, stub = kms
    stub.add_response("describe_key", {"KeyMetadata": metadata()}, {"KeyId": KEY_ARN})
    stub.add_response("get_key_policy", {"Policy": json.dumps(POLICY)}, {"KeyId": KEY_ID, "PolicyName": "default"})
    expected = {k: v for k, v in current_key(rotation_enabled=None, tags=None).items() if k != "alias"}
    assert _kms.read_key(client, KEY_ARN) == expected


def test_read_key_pending_deletion_is_read_without_its_policy(kms):
    client, stub = kms
    stub.add_response("describe_key", {"KeyMetadata": metadata(state="PendingDeletion")}, {"KeyId": KEY_ARN})
    key = _kms.read_key(client, KEY_ARN)
    assert key["key_state"] == "PendingDeletion" and key["policy"] is None
    assert _kms.unusable(key) == "pending_deletion"


@pytest.mark.parametrize(
    "key, reason",
    [
        ({"key_manager": "AWS", "key_state": "Enabled"}, "aws_managed"),
        ({"key_manager": "AWS", "key_state": "PendingDeletion"}, "aws_managed"),
        ({"key_manager": "CUSTOMER", "key_state": "PendingDeletion"}, "pending_deletion"),
        ({"key_manager": "CUSTOMER", "key_state": "Enabled"}, None),
        ({"key_manager": "CUSTOMER", "key_state": "Disabled"}, None),
    ],
)
def test_unusable(key, reason):
    assert _kms.unusable(key) == reason


def test_read_managed_key(kms):
    client, stub = kms
    stub.add_response("describe_key", {"KeyMetadata": metadata()}, {"KeyId": ALIAS})
    stub.add_response(
        "get_key_policy",
        {"Policy": json.dumps(POLICY), "PolicyName": "default"},
        {"KeyId": KEY_ID, "PolicyName": "default"},
    )
    stub.add_response("get_key_rotation_status", {"KeyRotationEnabled": True}, {"KeyId": KEY_ID})
    stub.add_response(
        "list_resource_tags",
        {"Tags": [{"TagKey": "team", "TagValue": "security"}], "Truncated": False},
        {"KeyId": KEY_ID},
    )
    assert _kms.read_managed_key(client, ALIAS) == current_key(tags=TAGS)


def test_read_key_other_errors_raise(kms):
    client, stub = kms
    stub.add_client_error("describe_key", "AccessDeniedException", "no", 400)
    with pytest.raises(_kms.KmsError, match="describe the KMS key"):
        _kms.read_key(client, ALIAS)


@pytest.mark.parametrize("key_id", [ALIAS, KEY_ID, KEY_ARN, f"arn:aws:kms:{REGION}:{ACCOUNT}:{ALIAS}"])
def test_resolve_key_arn(kms, key_id):
    client, stub = kms
    stub.add_response("describe_key", {"KeyMetadata": metadata()}, {"KeyId": key_id})
    assert _kms.resolve_key_arn(client, key_id) == KEY_ARN


def test_resolve_key_arn_of_nothing_is_none(kms):
    client, stub = kms
    stub.add_client_error("describe_key", "NotFoundException", "not found", 400)
    assert _kms.resolve_key_arn(client, "alias/nope") is None


# --- ensure_key_present --------------------------------------------------------------------------------------


def stub_create_key(stub):
    stub.add_response(
        "create_key",
        {"KeyMetadata": metadata(NEW_KEY_ID, NEW_KEY_ARN)},
        {
            "Description": DESCRIPTION,
            "KeyUsage": "ENCRYPT_DECRYPT",
            "KeySpec": "SYMMETRIC_DEFAULT",
            "Policy": json.dumps(POLICY),
            "Tags": [{"TagKey": "team", "TagValue": "security"}, {"TagKey": _kms.ALIAS_TAG, "TagValue": ALIAS}],
        },
    )


def test_create_key_alias_and_rotation(kms, record_operations):
    client, stub = kms
    calls = record_operations(client)
    stub_create_key(stub)
    stub.add_client_error("describe_key", "NotFoundException", "not found", 400, expected_params={"KeyId": ALIAS})
    stub.add_response("create_alias", {}, {"AliasName": ALIAS, "TargetKeyId": NEW_KEY_ID})
    stub.add_response("enable_key_rotation", {}, {"KeyId": NEW_KEY_ID})
    changed, after, _parts = _kms.ensure_key_present(client, None, ALIAS, DESCRIPTION, POLICY, TAGS, True, False)
    assert changed is True
    assert calls == ["CreateKey", "DescribeKey", "CreateAlias", "EnableKeyRotation"]
    assert after == current_key(key_id=NEW_KEY_ID, key_arn=NEW_KEY_ARN)


def test_create_moves_an_alias_left_on_a_key_pending_deletion(kms, record_operations):
    client, stub = kms
    calls = record_operations(client)
    stub_create_key(stub)
    stub.add_response("describe_key", {"KeyMetadata": metadata(state="PendingDeletion")}, {"KeyId": ALIAS})
    stub.add_response("update_alias", {}, {"AliasName": ALIAS, "TargetKeyId": NEW_KEY_ID})
    stub.add_response("enable_key_rotation", {}, {"KeyId": NEW_KEY_ID})
    changed, _unused, _parts = _kms.ensure_key_present(client, None, ALIAS, DESCRIPTION, POLICY, TAGS, True, False)
    assert changed is True
    assert calls == ["CreateKey", "DescribeKey", "UpdateAlias", "EnableKeyRotation"]


def test_create_in_check_mode_makes_no_call(kms):
    client, _unused = kms
    changed, after, _parts = _kms.ensure_key_present(client, None, ALIAS, DESCRIPTION, POLICY, TAGS, True, True)
    assert changed is True
    assert after["rotation_enabled"] is True
    assert after["policy"] == POLICY


def test_equal_key_makes_no_write_call(kms):
    client, _unused = kms
    # compare_policies ignores statement order and the order of actions.
    reordered = dict(
        POLICY,
        Statement=[
            dict(s, Action=sorted(s["Action"]) if isinstance(s["Action"], list) else s["Action"])
            for s in reversed(POLICY["Statement"])
        ],
    )
    changed, after, _parts = _kms.ensure_key_present(
        client, current_key(policy=reordered), ALIAS, DESCRIPTION, POLICY, TAGS, True, False
    )
    assert changed is False
    assert after["tags"] == KEY_TAGS


def test_policy_difference_is_converged_with_put_key_policy(kms, record_operations):
    client, stub = kms
    calls = record_operations(client)
    without_root = dict(POLICY, Statement=[s for s in POLICY["Statement"] if s["Sid"] != "TrailWatchAccountRoot"])
    stub.add_response("put_key_policy", {}, {"KeyId": KEY_ID, "PolicyName": "default", "Policy": json.dumps(POLICY)})
    changed, after, _parts = _kms.ensure_key_present(
        client, current_key(policy=without_root), ALIAS, DESCRIPTION, POLICY, TAGS, True, False
    )
    assert changed is True
    assert after["policy"] == POLICY
    assert calls == ["PutKeyPolicy"]


def test_policy_difference_in_check_mode_makes_no_call(kms):
    client, _unused = kms
    changed, after, _parts = _kms.ensure_key_present(
        client, current_key(policy={"Statement": []}), ALIAS, DESCRIPTION, POLICY, TAGS, True, True
    )
    assert changed is True
    assert after["policy"] == POLICY


def test_rotation_and_tags_converge(kms, record_operations):
    client, stub = kms
    calls = record_operations(client)
    stub.add_response("enable_key_rotation", {}, {"KeyId": KEY_ID})
    stub.add_response(
        "tag_resource",
        {},
        {
            "KeyId": KEY_ID,
            "Tags": [{"TagKey": "team", "TagValue": "security"}, {"TagKey": _kms.ALIAS_TAG, "TagValue": ALIAS}],
        },
    )
    stub.add_response("untag_resource", {}, {"KeyId": KEY_ID, "TagKeys": ["old"]})
    changed, after, _parts = _kms.ensure_key_present(
        client, current_key(rotation_enabled=False, tags={"old": "x"}), ALIAS, DESCRIPTION, POLICY, TAGS, True, False
    )
    assert changed is True
    assert after["rotation_enabled"] is True and after["tags"] == KEY_TAGS
    assert calls == ["EnableKeyRotation", "TagResource", "UntagResource"]


# --- ensure_key_absent ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("days", [7, 30])
def test_absent_schedules_deletion_and_deletes_the_alias(kms, record_operations, days):
    client, stub = kms
    calls = record_operations(client)
    stub.add_response("delete_alias", {}, {"AliasName": ALIAS})
    stub.add_response(
        "schedule_key_deletion",
        {"KeyId": KEY_ARN, "KeyState": "PendingDeletion", "PendingWindowInDays": days},
        {"KeyId": KEY_ID, "PendingWindowInDays": days},
    )
    assert _kms.ensure_key_absent(client, current_key(), ALIAS, days, False).changed is True
    assert calls == ["DeleteAlias", "ScheduleKeyDeletion"]
    assert not IMMEDIATE_DESTRUCTION & set(calls)


def test_absent_of_nothing_makes_no_call(kms):
    client, _unused = kms
    assert _kms.ensure_key_absent(client, None, ALIAS, 30, False).changed is False


def test_absent_in_check_mode_makes_no_call(kms):
    client, _unused = kms
    assert _kms.ensure_key_absent(client, current_key(), ALIAS, 30, True).changed is True


def test_absent_tolerates_an_alias_already_gone(kms):
    client, stub = kms
    stub.add_client_error("delete_alias", "NotFoundException", "gone", 400)
    stub.add_response("schedule_key_deletion", {"KeyId": KEY_ARN}, {"KeyId": KEY_ID, "PendingWindowInDays": 30})
    assert _kms.ensure_key_absent(client, current_key(), ALIAS, 30, False).changed is True


def test_module_utils_never_calls_an_immediate_destruction_api():
    """No wrapper in _kms.py reaches a delete-now or disable API."""
    source = inspect.getsource(_kms)
    for api in ("disable_key(", "delete_imported_key_material(", "disable_key_rotation(", "cancel_key_deletion("):
        assert f"client.{api}" not in source


def test_non_string_tag_values_reach_kms_as_strings(kms):
    client, stub = kms
    stub.add_response("tag_resource", {}, {"KeyId": KEY_ID, "Tags": [{"TagKey": "cost-center", "TagValue": "1234"}]})
    changed, after, _parts = _kms.ensure_key_present(
        client,
        current_key(tags={_kms.ALIAS_TAG: ALIAS}),
        ALIAS,
        DESCRIPTION,
        POLICY,
        {"cost-center": 1234},
        True,
        False,
    )
    assert changed is True
    assert after["tags"] == {"cost-center": "1234", _kms.ALIAS_TAG: ALIAS}
    stub.assert_no_pending_responses()


def test_tag_key_sends_non_string_values_as_text(kms):
    """YAML gives `cost-center: 1234` as an int; KMS receives the text."""
    client, stub = kms
    stub.add_response("tag_resource", {}, {"KeyId": KEY_ID, "Tags": [{"TagKey": "cost-center", "TagValue": "1234"}]})
    _kms.tag_key(client, KEY_ID, {"cost-center": 1234})


# --- keys that never got their alias (a run interrupted between CreateKey and CreateAlias) -------------------


def test_a_key_left_without_its_alias_is_adopted_not_duplicated(kms, stubbed, record_operations):
    client, stub = kms
    tagging, tag_stub = stubbed("resourcegroupstaggingapi")
    calls = record_operations(client)
    tag_stub.add_response(
        "get_resources",
        {"ResourceTagMappingList": [{"ResourceARN": KEY_ARN, "Tags": [{"Key": _kms.ALIAS_TAG, "Value": ALIAS}]}]},
        {"TagFilters": [{"Key": _kms.ALIAS_TAG, "Values": [ALIAS]}], "ResourceTypeFilters": ["kms:key"]},
    )
    stub.add_response("describe_key", {"KeyMetadata": metadata()}, {"KeyId": KEY_ARN})
    # the orphan's key_view from that metadata: policy, rotation, tags (no second DescribeKey)
    stub.add_response("get_key_policy", {"Policy": json.dumps(POLICY)}, {"KeyId": KEY_ID, "PolicyName": "default"})
    stub.add_response("get_key_rotation_status", {"KeyRotationEnabled": False}, {"KeyId": KEY_ID})
    stub.add_response(
        "list_resource_tags",
        {"Tags": [{"TagKey": "team", "TagValue": "security"}, {"TagKey": _kms.ALIAS_TAG, "TagValue": ALIAS}]},
        {"KeyId": KEY_ID},
    )
    stub.add_client_error("describe_key", "NotFoundException", "not found", 400, expected_params={"KeyId": ALIAS})
    stub.add_response("create_alias", {}, {"AliasName": ALIAS, "TargetKeyId": KEY_ID})
    stub.add_response("enable_key_rotation", {}, {"KeyId": KEY_ID})
    changed, after, _parts = _kms.ensure_key_present(
        client, None, ALIAS, DESCRIPTION, POLICY, TAGS, True, False, tagging
    )
    assert changed is True
    assert "CreateKey" not in calls
    assert calls[-2:] == ["CreateAlias", "EnableKeyRotation"]
    assert after["key_arn"] == KEY_ARN and after["alias"] == ALIAS


def test_purge_schedules_a_key_left_without_its_alias(kms, stubbed, record_operations):
    client, stub = kms
    tagging, tag_stub = stubbed("resourcegroupstaggingapi")
    calls = record_operations(client)
    tag_stub.add_response(
        "get_resources",
        {"ResourceTagMappingList": [{"ResourceARN": KEY_ARN, "Tags": [{"Key": _kms.ALIAS_TAG, "Value": ALIAS}]}]},
    )
    stub.add_response("describe_key", {"KeyMetadata": metadata()}, {"KeyId": KEY_ARN})
    stub.add_response("schedule_key_deletion", {"KeyId": KEY_ARN}, {"KeyId": KEY_ID, "PendingWindowInDays": 30})
    assert _kms.ensure_key_absent(client, None, ALIAS, 30, False, tagging).changed is True
    assert calls == ["DescribeKey", "ScheduleKeyDeletion"]
