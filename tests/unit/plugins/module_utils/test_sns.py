"""_sns with botocore's Stubber: pending e-mail subscriptions (AWS only: moto confirms at once) and the topic."""

import json

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _policies
from ansible_collections.trailwatch.aws.plugins.module_utils import _sns

REGION = "us-east-1"
ACCOUNT = "123456789012"
TOPIC = "trailwatch-alerts"
ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}"
POLICY = _policies.topic_policy("aws", REGION, ACCOUNT, TOPIC)


def sub_arn(suffix):
    return f"{ARN}:{suffix}"


def aws_subscription(protocol, endpoint, subscription_arn):
    return {
        "SubscriptionArn": subscription_arn,
        "Owner": ACCOUNT,
        "Protocol": protocol,
        "Endpoint": endpoint,
        "TopicArn": ARN,
    }


def sub(protocol, endpoint, subscription_arn=None):
    """A subscription as read_topic reports it; no ARN means pending confirmation."""
    return {
        "protocol": protocol,
        "endpoint": endpoint,
        "subscription_arn": subscription_arn or _sns.PENDING,
        "pending_confirmation": subscription_arn is None,
    }


def want(protocol, endpoint):
    return {"protocol": protocol, "endpoint": endpoint}


@pytest.fixture
def sns(stubbed):
    return stubbed("sns")


def stub_subscribe(stub, protocol, endpoint, returned_arn):
    stub.add_response(
        "subscribe",
        {"SubscriptionArn": returned_arn},
        {"TopicArn": ARN, "Protocol": protocol, "Endpoint": endpoint, "ReturnSubscriptionArn": True},
    )


# --- read_topic ----------------------------------------------------------------------------------------------


def test_read_topic_reports_pending_email_subscriptions(sns):
    client, stub = sns
    stub.add_response(
        "get_topic_attributes",
        {
            "Attributes": {
                "TopicArn": ARN,
                "DisplayName": "TrailWatch",
                "Policy": json.dumps(POLICY),
                "KmsMasterKeyId": "alias/trailwatch",
                "SubscriptionsPending": "1",
            }
        },
        {"TopicArn": ARN},
    )
    stub.add_response(
        "list_subscriptions_by_topic",
        {
            "Subscriptions": [
                aws_subscription("email", "alice@example.com", "PendingConfirmation"),
                aws_subscription("email", "bob@example.com", sub_arn("bob")),
                aws_subscription("sqs", f"arn:aws:sqs:{REGION}:{ACCOUNT}:q", sub_arn("q")),
            ]
        },
        {"TopicArn": ARN},
    )
    stub.add_response("list_tags_for_resource", {"Tags": [{"Key": "team", "Value": "security"}]}, {"ResourceArn": ARN})
    topic = _sns.read_topic(client, ARN)
    assert topic == {
        "arn": ARN,
        "name": TOPIC,
        "display_name": "TrailWatch",
        "kms_master_key_id": "alias/trailwatch",
        "policy": POLICY,
        "subscriptions": [
            sub("email", "alice@example.com"),
            sub("email", "bob@example.com", sub_arn("bob")),
            sub("sqs", f"arn:aws:sqs:{REGION}:{ACCOUNT}:q", sub_arn("q")),
        ],
        "tags": {"team": "security"},
    }
    assert [s["pending_confirmation"] for s in topic["subscriptions"]] == [True, False, False]


def test_read_topic_of_a_missing_topic_is_none(sns):
    client, stub = sns
    stub.add_client_error("get_topic_attributes", "NotFound", "Topic does not exist", 404)
    assert _sns.read_topic(client, ARN) is None


# --- ensure_subscriptions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("purge", [True, False])
@pytest.mark.parametrize("check_mode", [True, False])
@pytest.mark.parametrize(
    "have, wanted",
    [
        ("alice@example.com", "alice@example.com"),
        ("Alice@Example.com", "alice@example.com"),
        ("alice@example.com", "ALICE@EXAMPLE.COM"),
    ],
)
def test_pending_email_is_never_subscribed_again(sns, have, wanted, purge, check_mode):
    client, _unused = sns
    current = [sub("email", have)]
    changed, result, _parts = _sns.ensure_subscriptions(
        client, ARN, current, [want("email", wanted)], purge, check_mode
    )
    assert changed is False
    assert result == current


def test_confirmed_email_matches_case_insensitively(sns):
    client, _unused = sns
    current = [sub("email", "Alice@Example.com", sub_arn("alice"))]
    changed, result, _parts = _sns.ensure_subscriptions(
        client, ARN, current, [want("email", "alice@example.com")], True, False
    )
    assert (changed, result) == (False, current)


@pytest.mark.parametrize("check_mode", [True, False])
def test_pending_unlisted_email_is_not_unsubscribed_when_purging(sns, check_mode):
    client, _unused = sns
    current = [sub("email", "old@example.com")]
    changed, result, _parts = _sns.ensure_subscriptions(client, ARN, current, [], True, check_mode)
    assert changed is False
    assert result == current


def test_confirmed_unlisted_subscription_is_unsubscribed_when_purging(sns):
    client, stub = sns
    current = [sub("email", "old@example.com", sub_arn("old")), sub("email", "keep@example.com", sub_arn("keep"))]
    stub.add_response("unsubscribe", {}, {"SubscriptionArn": sub_arn("old")})
    changed, result, _parts = _sns.ensure_subscriptions(
        client, ARN, current, [want("email", "keep@example.com")], True, False
    )
    assert changed is True
    assert result == [current[1]]


def test_confirmed_unlisted_subscription_is_kept_without_purge(sns):
    client, _unused = sns
    current = [sub("email", "old@example.com", sub_arn("old"))]
    changed, result, _parts = _sns.ensure_subscriptions(client, ARN, current, [], False, False)
    assert (changed, result) == (False, current)


def test_new_email_is_subscribed_and_reported_pending(sns):
    client, stub = sns
    # With ReturnSubscriptionArn AWS answers with an ARN even while the e-mail waits for its click.
    stub_subscribe(stub, "email", "new@example.com", sub_arn("new"))
    changed, result, _parts = _sns.ensure_subscriptions(
        client, ARN, [], [want("email", "new@example.com")], True, False
    )
    assert changed is True
    assert result == [
        {
            "protocol": "email",
            "endpoint": "new@example.com",
            "subscription_arn": sub_arn("new"),
            "pending_confirmation": True,
        }
    ]


def test_new_sqs_subscription_is_not_pending(sns):
    client, stub = sns
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
    stub_subscribe(stub, "sqs", queue, sub_arn("q"))
    changed, result, _parts = _sns.ensure_subscriptions(client, ARN, [], [want("sqs", queue)], True, False)
    assert changed is True
    assert result[0]["pending_confirmation"] is False


def test_mixed_convergence(sns, record_operations):
    client, stub = sns
    calls = record_operations(client)
    current = [
        sub("email", "Pending@Example.com"),  # wanted, pending: left alone
        sub("email", "stale-pending@example.com"),  # unwanted, pending: cannot be removed
        sub("email", "stale@example.com", sub_arn("stale")),  # unwanted, confirmed: removed
        sub("email", "kept@example.com", sub_arn("kept")),  # wanted, confirmed
    ]
    wanted = [want("email", "pending@example.com"), want("email", "kept@example.com"), want("email", "new@example.com")]
    stub.add_response("unsubscribe", {}, {"SubscriptionArn": sub_arn("stale")})
    stub_subscribe(stub, "email", "new@example.com", sub_arn("new"))
    changed, result, _parts = _sns.ensure_subscriptions(client, ARN, current, wanted, True, False)
    assert changed is True
    assert calls == ["Unsubscribe", "Subscribe"]
    assert [s["endpoint"] for s in result] == [
        "Pending@Example.com",
        "stale-pending@example.com",
        "kept@example.com",
        "new@example.com",
    ]


def test_check_mode_makes_no_call(sns):
    client, _unused = sns
    current = [sub("email", "stale@example.com", sub_arn("stale")), sub("email", "pending@example.com")]
    wanted = [want("email", "new@example.com"), want("https", "https://hooks.example.com/x")]
    changed, result, _parts = _sns.ensure_subscriptions(client, ARN, current, wanted, True, True)
    assert changed is True
    assert [s["endpoint"] for s in result] == ["pending@example.com", "new@example.com", "https://hooks.example.com/x"]
    assert all(s["pending_confirmation"] for s in result)


def test_non_email_endpoints_are_case_sensitive(sns):
    client, stub = sns
    current = [sub("https", "https://hooks.example.com/Path", sub_arn("h"))]
    stub_subscribe(stub, "https", "https://hooks.example.com/path", _sns.PENDING)
    changed, result, _parts = _sns.ensure_subscriptions(
        client, ARN, current, [want("https", "https://hooks.example.com/path")], False, False
    )
    assert changed is True
    assert len(result) == 2


# --- ensure_topic_present / absent ---------------------------------------------------------------------------


def current_topic(**changes):
    topic = {
        "arn": ARN,
        "name": TOPIC,
        "display_name": "TrailWatch",
        "kms_master_key_id": "",
        "policy": POLICY,
        "subscriptions": [sub("email", "alice@example.com")],
        "tags": {"team": "security"},
    }
    topic.update(changes)
    return topic


ATTRIBUTES = {"DisplayName": "TrailWatch", "Policy": json.dumps(POLICY)}


def test_up_to_date_topic_makes_no_write_call(sns):
    client, _unused = sns
    reordered = dict(POLICY, Statement=list(reversed(POLICY["Statement"])))
    changed, after, _parts = _sns.ensure_topic_present(
        client,
        current_topic(policy=reordered),
        ARN,
        TOPIC,
        ATTRIBUTES,
        {"team": "security"},
        True,
        [want("email", "alice@example.com")],
        True,
        False,
    )
    assert changed is False
    assert after["subscriptions"] == [sub("email", "alice@example.com")]


def test_topic_policy_and_display_name_converge(sns, record_operations):
    client, stub = sns
    calls = record_operations(client)
    stub.add_response(
        "set_topic_attributes", {}, {"TopicArn": ARN, "AttributeName": "DisplayName", "AttributeValue": "TrailWatch"}
    )
    stub.add_response(
        "set_topic_attributes", {}, {"TopicArn": ARN, "AttributeName": "Policy", "AttributeValue": ATTRIBUTES["Policy"]}
    )
    changed, _unused, _parts = _sns.ensure_topic_present(
        client,
        current_topic(display_name="", policy={"Version": "2012-10-17", "Statement": []}),
        ARN,
        TOPIC,
        ATTRIBUTES,
        {"team": "security"},
        True,
        [want("email", "alice@example.com")],
        True,
        False,
    )
    assert changed is True
    assert calls == ["SetTopicAttributes", "SetTopicAttributes"]


def test_new_topic_in_check_mode_makes_no_call(sns):
    client, _unused = sns
    changed, after, _parts = _sns.ensure_topic_present(
        client,
        None,
        ARN,
        TOPIC,
        ATTRIBUTES,
        {},
        True,
        [want("email", "alice@example.com")],
        True,
        True,
    )
    assert changed is True
    assert after["subscriptions"][0]["pending_confirmation"] is True


def test_topic_absent(sns):
    client, stub = sns
    assert _sns.ensure_topic_absent(client, None, False).changed is False
    assert _sns.ensure_topic_absent(client, current_topic(), True).changed is True
    stub.add_response("delete_topic", {}, {"TopicArn": ARN})
    assert _sns.ensure_topic_absent(client, current_topic(), False).changed is True
