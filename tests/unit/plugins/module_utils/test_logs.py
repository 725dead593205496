"""_logs with botocore's Stubber: exact log group lookup and key association (AWS only: moto lacks it)."""

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _logs

REGION = "us-east-1"
ACCOUNT = "123456789012"
NAME = "aws-cloudtrail-logs-trailwatch"
GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{NAME}"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b5f3c9e-1111-2222-3333-444455556666"
OTHER_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/9f8e7d6c-aaaa-bbbb-cccc-ddddeeeeffff"
TAGS = {"team": "security"}


def aws_group(name, **fields):
    group = {
        "logGroupName": name,
        "arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
        "creationTime": 1700000000000,
        "storedBytes": 0,
    }
    group.update(fields)
    return group


def current_group(**changes):
    group = {"name": NAME, "arn": GROUP_ARN, "kms_key_id": KEY_ARN, "retention_in_days": 365, "tags": dict(TAGS)}
    group.update(changes)
    return group


@pytest.fixture
def logs(stubbed):
    return stubbed("logs")


# --- describe_log_group / read_log_group ---------------------------------------------------------------------


def test_describe_log_group_picks_the_exact_name_among_prefix_matches(logs):
    client, stub = logs
    stub.add_response(
        "describe_log_groups",
        {"logGroups": [aws_group(f"{NAME}-archive"), aws_group(NAME, retentionInDays=365), aws_group(f"{NAME}2")]},
        {"logGroupNamePrefix": NAME},
    )
    assert _logs.describe_log_group(client, NAME)["logGroupName"] == NAME


def test_describe_log_group_follows_pages(logs):
    client, stub = logs
    stub.add_response(
        "describe_log_groups", {"logGroups": [aws_group(f"{NAME}-a")], "nextToken": "t1"}, {"logGroupNamePrefix": NAME}
    )
    stub.add_response(
        "describe_log_groups", {"logGroups": [aws_group(NAME)]}, {"logGroupNamePrefix": NAME, "nextToken": "t1"}
    )
    assert _logs.describe_log_group(client, NAME)["logGroupName"] == NAME


def test_describe_log_group_with_only_longer_names_is_none(logs):
    client, stub = logs
    stub.add_response(
        "describe_log_groups", {"logGroups": [aws_group(f"{NAME}-archive")]}, {"logGroupNamePrefix": NAME}
    )
    assert _logs.describe_log_group(client, NAME) is None


def test_read_log_group(logs):
    client, stub = logs
    stub.add_response(
        "describe_log_groups",
        {"logGroups": [aws_group(f"{NAME}-x"), aws_group(NAME, kmsKeyId=KEY_ARN, retentionInDays=365)]},
        {"logGroupNamePrefix": NAME},
    )
    # The tagging API wants the ARN without DescribeLogGroups' trailing ':*'.
    stub.add_response("list_tags_for_resource", {"tags": TAGS}, {"resourceArn": GROUP_ARN})
    assert _logs.read_log_group(client, NAME) == current_group()


def test_read_missing_log_group_is_none(logs):
    client, stub = logs
    stub.add_response("describe_log_groups", {"logGroups": []}, {"logGroupNamePrefix": NAME})
    assert _logs.read_log_group(client, NAME) is None


# --- ensure_log_group_present --------------------------------------------------------------------------------


@pytest.mark.parametrize("existing_key", [None, OTHER_KEY_ARN], ids=["no-key", "other-key"])
def test_existing_group_gets_the_key_associated(logs, existing_key, record_operations):
    client, stub = logs
    calls = record_operations(client)
    stub.add_response("associate_kms_key", {}, {"logGroupName": NAME, "kmsKeyId": KEY_ARN})
    changed, after, _parts = _logs.ensure_log_group_present(
        client, current_group(kms_key_id=existing_key), NAME, GROUP_ARN, KEY_ARN, 365, TAGS, True, False
    )
    assert changed is True
    assert after["kms_key_id"] == KEY_ARN
    assert calls == ["AssociateKmsKey"]


def test_key_association_error_names_the_key_policy(logs):
    client, stub = logs
    stub.add_client_error(
        "associate_kms_key", "InvalidParameterException", "Unable to validate if specified KMS key is valid.", 400
    )
    with pytest.raises(_logs.LogsError) as raised:
        _logs.ensure_log_group_present(
            client, current_group(kms_key_id=None), NAME, GROUP_ARN, KEY_ARN, 365, TAGS, True, False
        )
    assert "key policy" in raised.value.message


def test_up_to_date_group_makes_no_write_call(logs):
    client, _unused = logs
    changed, after, _parts = _logs.ensure_log_group_present(
        client, current_group(), NAME, GROUP_ARN, KEY_ARN, 365, TAGS, True, False
    )
    assert changed is False
    assert after == current_group()


def test_retention_and_tags_converge(logs, record_operations):
    client, stub = logs
    calls = record_operations(client)
    stub.add_response("put_retention_policy", {}, {"logGroupName": NAME, "retentionInDays": 400})
    stub.add_response("tag_resource", {}, {"resourceArn": GROUP_ARN, "tags": TAGS})
    stub.add_response("untag_resource", {}, {"resourceArn": GROUP_ARN, "tagKeys": ["old"]})
    changed, after, _parts = _logs.ensure_log_group_present(
        client, current_group(tags={"old": "x"}), NAME, GROUP_ARN, KEY_ARN, 400, TAGS, True, False
    )
    assert changed is True
    assert after["tags"] == TAGS and after["retention_in_days"] == 400
    assert calls == ["PutRetentionPolicy", "TagResource", "UntagResource"]


def test_new_group_is_created_encrypted(logs, record_operations):
    client, stub = logs
    calls = record_operations(client)
    stub.add_response("create_log_group", {}, {"logGroupName": NAME, "kmsKeyId": KEY_ARN, "tags": TAGS})
    stub.add_response("put_retention_policy", {}, {"logGroupName": NAME, "retentionInDays": 365})
    changed, after, _parts = _logs.ensure_log_group_present(
        client, None, NAME, GROUP_ARN, KEY_ARN, 365, TAGS, True, False
    )
    assert changed is True
    assert after == current_group()
    assert calls == ["CreateLogGroup", "PutRetentionPolicy"]


@pytest.mark.parametrize(
    "current", [None, current_group(kms_key_id=None, retention_in_days=30, tags={})], ids=["new", "drifted"]
)
def test_check_mode_makes_no_call(logs, current):
    client, _unused = logs
    changed, after, _parts = _logs.ensure_log_group_present(
        client, current, NAME, GROUP_ARN, KEY_ARN, 365, TAGS, True, True
    )
    assert changed is True
    assert after == current_group()


def test_delete_of_a_missing_group_is_not_an_error(logs):
    client, stub = logs
    stub.add_client_error("delete_log_group", "ResourceNotFoundException", "gone", 400)
    assert _logs.delete_log_group(client, NAME) is False
