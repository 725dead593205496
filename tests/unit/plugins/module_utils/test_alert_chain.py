"""_alert_chain: what only AWS shows (botocore Stubber for the reads; the diagnosis on the state AWS answers).

moto never reports a CloudWatch Logs delivery error, never leaves an e-mail subscription pending, has no AWS managed
key alias/aws/sns and evaluates no key policy: these tests pin the doctor's answer to each.
"""

import json
from datetime import datetime
from datetime import timezone

from ansible_collections.trailwatch.aws.plugins.module_utils import _alert_chain
from ansible_collections.trailwatch.aws.plugins.module_utils import _policies
from ansible_collections.trailwatch.aws.plugins.module_utils._watches import desired_watches

REGION = "us-east-1"
ACCOUNT = "123456789012"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:trailwatch-alerts"
TRAIL = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/trailwatch"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/trailwatch-cloudtrail-to-logs"
GROUP = "aws-cloudtrail-logs-trailwatch"
GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}"
WATCH = {"name": "s3-bucket-created", "pattern": '{ ($.eventName = "CreateBucket") }', "metric_name": "S3BucketCreated"}
WHEN = datetime(2026, 11, 28, 11, 0, tzinfo=timezone.utc)


class NoBlindSpots:
    """The coverage check's API (plugins/module_utils/_coverage.py), answering that the trail records everything."""

    @staticmethod
    def no_trail(group, region):
        return "no trail"

    @staticmethod
    def recording_from_trail(trail, selectors, advanced, unreadable=""):
        return trail["Name"]

    @staticmethod
    def merge_recordings(recordings):
        return recordings

    @staticmethod
    def blind_spots(watch, recording):
        return []

    @staticmethod
    def accepts_blind_spots(watch):
        return False


def spec(**changes):
    result = {
        "account": ACCOUNT,
        "partition": "aws",
        "region": REGION,
        "trail_name": "trailwatch",
        "log_group_name": GROUP,
        "topic_arn": TOPIC,
        "watches": desired_watches([WATCH], "trailwatch-", "TrailWatch", [TOPIC]),
        "inputs": {WATCH["name"]: WATCH},
        "notifier_function_name": None,
    }
    result.update(changes)
    return result


def healthy_state():
    """What AWS answers for a healthy default stack (the reads of read_chain, as it records them)."""
    key_policy = _policies.kms_key_policy("aws", REGION, ACCOUNT, "trailwatch", GROUP)
    trail = {
        "Name": "trailwatch",
        "TrailARN": TRAIL,
        "HomeRegion": REGION,
        "IsMultiRegionTrail": True,
        "KmsKeyId": KEY,
        "CloudWatchLogsLogGroupArn": f"{GROUP_ARN}:*",
        "CloudWatchLogsRoleArn": ROLE,
    }
    alarm = dict(
        spec()["watches"][0]["alarm"],
        AlarmArn=f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:trailwatch-s3-bucket-created",
    )
    alarm.update(StateValue="OK", StateTransitionedTimestamp=WHEN, StateUpdatedTimestamp=WHEN)
    return {
        "log_group_arn": GROUP_ARN,
        "errors": {},
        "trails": [
            {
                "trail": trail,
                "status": {"IsLogging": True, "StartLoggingTime": WHEN, "LatestCloudWatchLogsDeliveryTime": WHEN},
                "selectors": {"EventSelectors": [], "AdvancedEventSelectors": []},
            }
        ],
        "role": {
            "arn": ROLE,
            "trust": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            },
            "policies": [_policies.cloudtrail_role_permissions_policy("aws", REGION, ACCOUNT, GROUP)],
        },
        "log_group": {"logGroupName": GROUP, "kmsKeyId": KEY, "retentionInDays": 365},
        "keys": {KEY: {"meta": {"Arn": KEY, "KeyState": "Enabled", "KeyManager": "CUSTOMER"}, "policy": key_policy}},
        "filters": [dict(spec()["watches"][0]["filter"])],
        "alarms": {"trailwatch-s3-bucket-created": alarm},
        "topic": {"Policy": json.dumps(_policies.topic_policy("aws", REGION, ACCOUNT, "trailwatch-alerts"))},
        "subscriptions": [{"SubscriptionArn": f"{TOPIC}:1", "Protocol": "email", "Endpoint": "a@example.com"}],
        "topic_key": None,
    }


def links(state, **spec_changes):
    watch = _alert_chain.diagnose(state, spec(**spec_changes), coverage=NoBlindSpots)["watches"][0]
    return watch, {link["link"]: link for link in watch["links"]}


def test_healthy_state_is_ok_everywhere():
    watch, found = links(healthy_state())
    assert watch["ok"], [link for link in found.values() if link["status"] != "ok"]
    assert list(found) == [name for name in _alert_chain.LINKS if name != "notifier"]
    assert watch["alarm_state"]["since"] == "2026-11-28T11:00:00Z"


def test_delivery_error_in_get_trail_status_breaks_delivery_to_logs():
    state = healthy_state()
    state["trails"][0]["status"]["LatestCloudWatchLogsDeliveryError"] = "AccessDeniedException"
    watch, found = links(state)
    assert watch["first_broken"] == "delivery-to-logs"
    assert "CloudTrail reports a delivery error: AccessDeniedException" in found["delivery-to-logs"]["detail"]


def test_pending_confirmation_only_breaks_subscription_and_lists_the_endpoint():
    state = healthy_state()
    state["subscriptions"] = [
        {"SubscriptionArn": "PendingConfirmation", "Protocol": "email", "Endpoint": "b@example.com"}
    ]
    watch, found = links(state)
    assert watch["first_broken"] == "subscription"
    assert found["subscription"]["detail"].endswith("waiting for confirmation: b@example.com")


def test_pending_next_to_a_confirmed_subscription_is_ok_and_listed():
    state = healthy_state()
    state["subscriptions"].append({"SubscriptionArn": "PendingConfirmation", "Protocol": "email", "Endpoint": "b@x.io"})
    watch, found = links(state)
    assert watch["ok"] and "waiting for confirmation: b@x.io" in found["subscription"]["detail"]


def test_topic_encrypted_with_the_aws_managed_key_breaks_topic_key():
    state = healthy_state()
    state["topic"]["KmsMasterKeyId"] = "alias/aws/sns"
    state["topic_key"] = {"meta": {"Arn": KEY, "KeyState": "Enabled", "KeyManager": "AWS"}, "policy": None}
    watch, found = links(state)
    assert watch["first_broken"] == "topic-key"
    assert "AWS managed key alias/aws/sns" in found["topic-key"]["detail"]


def test_topic_key_whose_policy_cloudwatch_cannot_use_breaks_topic_key():
    state = healthy_state()
    state["topic"]["KmsMasterKeyId"] = KEY
    root_only = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
    }
    state["topic_key"] = {"meta": {"Arn": KEY, "KeyState": "Enabled", "KeyManager": "CUSTOMER"}, "policy": root_only}
    watch, found = links(state)
    assert watch["first_broken"] == "topic-key"
    assert "refuses cloudwatch.amazonaws.com kms:GenerateDataKey" in found["topic-key"]["detail"]
    # TrailWatch's own key policy admits CloudWatch for an encrypted topic.
    state["topic_key"]["policy"] = _policies.kms_key_policy("aws", REGION, ACCOUNT, "trailwatch", GROUP)
    assert links(state)[0]["ok"]


def test_key_policy_without_the_cloudtrail_statement_breaks_key():
    state = healthy_state()
    policy = state["keys"][KEY]["policy"]
    policy["Statement"] = [s for s in policy["Statement"] if "cloudtrail" not in json.dumps(s.get("Principal"))]
    watch, found = links(state)
    assert watch["first_broken"] == "key"
    assert "refuses cloudtrail.amazonaws.com kms:GenerateDataKey" in found["key"]["detail"]


def test_trust_with_source_arn_breaks_delivery():
    state = healthy_state()
    state["role"]["trust"] = _policies.cloudtrail_role_trust_policy("aws", REGION, ACCOUNT, "trailwatch")
    trust_conditions = json.dumps(state["role"]["trust"])
    watch, found = links(state)
    if "SourceArn" in trust_conditions or "SourceAccount" in trust_conditions:
        assert watch["first_broken"] == "delivery-to-logs"
        assert "CloudTrail cannot assume role" in found["delivery-to-logs"]["detail"]
    else:  # issue 12's trust: no condition CloudTrail cannot satisfy
        assert watch["ok"]


def test_unreadable_key_policy_is_unverified_not_broken():
    state = healthy_state()
    state["keys"][KEY]["policy"] = _alert_chain.FAILED
    state["errors"]["key " + KEY + ":policy"] = "Failed to read the KMS key policy: AccessDeniedException: no"
    watch, found = links(state)
    assert found["key"]["status"] == "unverified" and "AccessDeniedException" in found["key"]["detail"]


def test_coverage_finding_breaks_trail_records_events():
    class Blind(NoBlindSpots):
        @staticmethod
        def blind_spots(watch, recording):
            from collections import namedtuple

            finding = namedtuple("Finding", "setting reason fix certain")
            return [
                finding("IncludeManagementEvents false", "and this watch counts management events", "record them", True)
            ]

    watch = _alert_chain.diagnose(healthy_state(), spec(), coverage=Blind)["watches"][0]
    assert watch["first_broken"] == "trail-records-events" and watch["fix"] == "record them"


def test_read_chain_records_the_delivery_error_of_get_trail_status(stubbed):
    """read_chain with Stubber: the GetTrailStatus fields AWS answers reach the diagnosis as they are."""
    clients = {}

    def client(service, region):
        if service not in clients:
            clients[service] = stubbed(service)
        return clients[service][0]

    for service in ("cloudtrail", "iam", "logs", "kms", "cloudwatch", "sns"):
        client(service, REGION)
    ct = clients["cloudtrail"][1]
    trail = healthy_state()["trails"][0]["trail"]
    ct.add_response("get_trail", {"Trail": trail}, {"Name": "trailwatch"})
    ct.add_response(
        "get_trail_status",
        {
            "IsLogging": True,
            "LatestCloudWatchLogsDeliveryError": "AccessDeniedException",
            "LatestCloudWatchLogsDeliveryTime": WHEN,
        },
        {"Name": TRAIL},
    )
    ct.add_response("get_event_selectors", {"EventSelectors": []}, {"TrailName": TRAIL})
    iam = clients["iam"][1]
    iam.add_client_error("get_role", "AccessDenied", "not authorized to perform: iam:GetRole", 403)
    logs = clients["logs"][1]
    logs.add_response("describe_log_groups", {"logGroups": []}, {"logGroupNamePrefix": GROUP})
    kms = clients["kms"][1]
    kms.add_response(
        "describe_key",
        {"KeyMetadata": {"KeyId": "k", "Arn": KEY, "KeyState": "Enabled", "KeyManager": "CUSTOMER"}},
        {"KeyId": KEY},
    )
    kms.add_response(
        "get_key_policy",
        {"Policy": json.dumps(healthy_state()["keys"][KEY]["policy"])},
        {"KeyId": KEY, "PolicyName": "default"},
    )
    cw = clients["cloudwatch"][1]
    cw.add_response(
        "describe_alarms",
        {"MetricAlarms": []},
        {"AlarmNames": ["trailwatch-s3-bucket-created"], "AlarmTypes": ["MetricAlarm"]},
    )
    sns = clients["sns"][1]
    sns.add_response("get_topic_attributes", {"Attributes": {}}, {"TopicArn": TOPIC})
    sns.add_response(
        "list_subscriptions_by_topic",
        {
            "Subscriptions": [
                {
                    "SubscriptionArn": "PendingConfirmation",
                    "Protocol": "email",
                    "Endpoint": "a@example.com",
                    "Owner": ACCOUNT,
                    "TopicArn": TOPIC,
                }
            ]
        },
        {"TopicArn": TOPIC},
    )
    state = _alert_chain.read_chain(client, spec())
    assert state["trails"][0]["status"]["LatestCloudWatchLogsDeliveryError"] == "AccessDeniedException"
    assert "iam:GetRole" in state["errors"]["role"]
    result = _alert_chain.diagnose(state, spec(), coverage=NoBlindSpots)["watches"][0]
    found = {link["link"]: link for link in result["links"]}
    assert found["delivery-to-logs"]["status"] == "broken"
    assert found["subscription"]["status"] == "broken"
    assert found["log-group"]["status"] == "broken"
