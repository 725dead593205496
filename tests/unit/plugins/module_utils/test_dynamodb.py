"""_dynamodb with botocore's Stubber: the state table is created active before its TTL is turned on, read in three
calls, converged (drift repaired, tags), and a table that is not TrailWatch's is refused."""

import botocore.waiter
import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _dynamodb

REGION = "us-east-1"
ACCOUNT = "123456789012"
NAME = "trailwatch-notifier-state"
ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{NAME}"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"


@pytest.fixture
def ddb(stubbed):
    return stubbed("dynamodb")


def description(status="ACTIVE", billing="PAY_PER_REQUEST", sse=True):
    table = {
        "TableName": NAME,
        "TableArn": ARN,
        "TableStatus": status,
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "BillingModeSummary": {"BillingMode": billing},
    }
    if sse:
        table["SSEDescription"] = {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": KEY_ARN}
    return table


def test_spec_is_on_demand_kms_encrypted_with_one_string_key():
    assert _dynamodb.state_table_spec(NAME) == {
        "TableName": NAME,
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "SSESpecification": {"Enabled": True, "SSEType": "KMS"},
    }


def test_a_new_table_is_active_before_its_ttl_is_turned_on(ddb, record_operations, monkeypatch, fake_clock):
    """UpdateTimeToLive refuses a table that is still CREATING (ResourceInUseException): wait for ACTIVE first."""
    client, stub = ddb
    calls = record_operations(client)
    params = dict(_dynamodb.state_table_spec(NAME), Tags=[{"Key": "team", "Value": "security"}])
    stub.add_response("create_table", {"TableDescription": description(status="CREATING")}, params)
    stub.add_response("describe_table", {"Table": description(status="CREATING")}, {"TableName": NAME})
    stub.add_response("describe_table", {"Table": description()}, {"TableName": NAME})
    stub.add_response(
        "update_time_to_live",
        {"TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires_at"}},
        {"TableName": NAME, "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires_at"}},
    )
    monkeypatch.setattr(botocore.waiter, "time", fake_clock)  # the waiter's 5 s pauses, on the fake clock
    _changed, after, parts = _dynamodb.ensure_state_table_present(
        client, None, NAME, ARN, {"team": "security"}, True, False
    )
    assert parts == ["created"] and after["ttl_attribute"] == "expires_at" and after["arn"] == ARN
    assert calls == ["CreateTable", "DescribeTable", "DescribeTable", "UpdateTimeToLive"]


def test_read_is_three_calls(ddb):
    client, stub = ddb
    stub.add_response("describe_table", {"Table": description()}, {"TableName": NAME})
    stub.add_response(
        "describe_time_to_live",
        {"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}},
        {"TableName": NAME},
    )
    stub.add_response("list_tags_of_resource", {"Tags": [{"Key": "team", "Value": "security"}]}, {"ResourceArn": ARN})
    assert _dynamodb.read_state_table(client, NAME) == current(tags={"team": "security"})


def test_a_missing_table_reads_as_none(ddb):
    client, stub = ddb
    stub.add_client_error("describe_table", "ResourceNotFoundException", "Requested resource not found", 400)
    assert _dynamodb.read_state_table(client, NAME) is None


def current(**overrides):
    state = {
        "name": NAME,
        "arn": ARN,
        "status": "ACTIVE",
        "billing_mode": "PAY_PER_REQUEST",
        "encryption": "KMS",
        "kms_key_arn": KEY_ARN,
        "ttl_attribute": "expires_at",
        "tags": {},
    }
    return dict(state, **overrides)


def test_a_converged_table_makes_no_call(ddb):
    client, _stub = ddb
    assert _dynamodb.ensure_state_table_present(client, current(), NAME, ARN, {}, True, False) == (False, current(), [])


def test_default_encryption_and_a_lost_ttl_are_repaired(ddb):
    client, stub = ddb
    stub.add_response(
        "update_table",
        {"TableDescription": description()},
        {"TableName": NAME, "SSESpecification": {"Enabled": True, "SSEType": "KMS"}},
    )
    stub.add_response(
        "update_time_to_live",
        {"TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires_at"}},
        {"TableName": NAME, "TimeToLiveSpecification": {"Enabled": True, "AttributeName": "expires_at"}},
    )
    _changed, after, parts = _dynamodb.ensure_state_table_present(
        client, current(encryption=None, ttl_attribute=None), NAME, ARN, {}, True, False
    )
    assert parts == ["encryption", "ttl"] and after == current()


def test_ttl_on_another_attribute_is_refused(ddb):
    client, _stub = ddb
    with pytest.raises(_dynamodb.DynamoDbError, match="Time to Live on attribute ttl, not expires_at"):
        _dynamodb.ensure_state_table_present(client, current(ttl_attribute="ttl"), NAME, ARN, {}, True, False)
