"""_alert_chain: what only AWS shows (botocore Stubber for the reads; the diagnosis on the state AWS answers).

The trail-records-events link is the coverage check itself (_coverage), on the trail and selectors given here.

moto never reports a CloudWatch Logs delivery error, never leaves an e-mail subscription pending, has no AWS managed
key alias/aws/sns and evaluates no key policy: these tests pin the doctor's answer to each.
"""

import json
from datetime import datetime
from datetime import timezone

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _alert_chain
from ansible_collections.trailwatch.aws.plugins.module_utils import _coverage
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
        "IncludeGlobalServiceEvents": True,
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
                "selectors": ([{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}], []),
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
    watch = _alert_chain.diagnose(state, spec(**spec_changes))["watches"][0]
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
    """An older stack's trust (issue 12 removed it): CloudTrail sends no aws:SourceArn when it assumes the role."""
    state = healthy_state()
    statement = dict(state["role"]["trust"]["Statement"][0])
    statement["Condition"] = {"StringEquals": {"aws:SourceArn": TRAIL}}
    state["role"]["trust"] = {"Statement": [statement]}
    watch, found = links(state)
    assert watch["first_broken"] == "delivery-to-logs"
    assert "CloudTrail cannot assume role" in found["delivery-to-logs"]["detail"]


def test_the_trust_trailwatch_writes_lets_cloudtrail_deliver():
    state = healthy_state()
    state["role"]["trust"] = _policies.cloudtrail_role_trust_policy()
    assert links(state)[0]["ok"]


def test_unreadable_key_policy_is_unverified_not_broken():
    state = healthy_state()
    state["keys"][KEY]["policy"] = _alert_chain.FAILED
    state["errors"]["key " + KEY + ":policy"] = "Failed to read the KMS key policy: AccessDeniedException: no"
    watch, found = links(state)
    assert found["key"]["status"] == "unverified" and "AccessDeniedException" in found["key"]["detail"]


@pytest.mark.parametrize(
    "selectors, watch, first_broken",
    [
        (([{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False}], []), WATCH, "trail-records-events"),
        (([{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}], []), WATCH, "trail-records-events"),
        (([{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}], []), WATCH, None),
        (([], []), WATCH, None),  # no selector at all: AWS records every management event
        (
            ([{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}], []),
            {"name": "s3-bucket-created", "pattern": '{ ($.eventName = "ListBuckets") }'},
            "trail-records-events",
        ),
        (
            ([{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}], []),
            {"name": "s3-bucket-created", "pattern": '{ ($.eventName = "ListBuckets") }', "accept_blind_spots": True},
            None,
        ),
    ],
    ids=["management-off", "read-only", "write-only", "aws-default", "read-watch-write-only", "accepted"],
)
def test_trail_records_events_is_the_coverage_check(selectors, watch, first_broken):
    state = healthy_state()
    state["trails"][0]["selectors"] = selectors
    result, found = links(state, inputs={WATCH["name"]: watch})
    assert result["first_broken"] == first_broken, found["trail-records-events"]
    if first_broken:
        assert (
            result["fix"]
            == _coverage.blind_spots(watch, _coverage.recording_from_trail(state["trails"][0]["trail"], *selectors))[
                0
            ].fix
        )


def test_unreadable_selectors_leave_trail_records_events_not_broken():
    state = healthy_state()
    state["trails"][0]["selectors"] = _alert_chain.FAILED
    state["errors"]["trail:selectors"] = "AccessDeniedException: not authorized to perform GetEventSelectors"
    result, found = links(state)
    assert found["trail-records-events"]["status"] != "broken"


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
    ct.add_response("get_event_selectors", {"EventSelectors": [], "AdvancedEventSelectors": []}, {"TrailName": TRAIL})
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
    result = _alert_chain.diagnose(state, spec())["watches"][0]
    found = {link["link"]: link for link in result["links"]}
    assert found["delivery-to-logs"]["status"] == "broken"
    assert found["subscription"]["status"] == "broken"
    assert found["log-group"]["status"] == "broken"


FUNCTION = "trailwatch-notifier"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:trailwatch-notifier-failed"


def notifier_state():
    state = healthy_state()
    state["notifier"] = {
        "filters": [
            {"filterName": FUNCTION, "filterPattern": WATCH["pattern"], "destinationArn": FUNCTION_ARN},
        ],
        "function": {"FunctionArn": FUNCTION_ARN, "State": "Active", "LastUpdateStatus": "Successful"},
        "errors": 0,
        "invoke_config": {"maximum_retry_attempts": 2, "on_failure": QUEUE_ARN, "on_success": None},
        "failed_events_queue": {"arn": QUEUE_ARN, "messages": 0},
    }
    return state


def notifier_link(state):
    watch, found = links(state, notifier_function_name=FUNCTION, notifier_watches=[WATCH["name"]])
    return watch, found["notifier"]


def _set(path, value):
    def change(state):
        target = state["notifier"]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    "change, detail",
    [
        (_set(["filters"], []), "no subscription filter of log group"),
        (_set(["filters", 0, "filterPattern"], '{ ($.eventName = "DeleteBucket") }'), "not the watch's pattern"),
        (_set(["function"], None), "does not exist"),
        (_set(["function", "State"], "Inactive"), "is Inactive"),
        (_set(["function", "LastUpdateStatus"], "Failed"), "last update Failed"),
        (_set(["function", "LastUpdateStatus"], "InProgress"), "last update InProgress"),
        (_set(["errors"], 3.0), "failed 3 time(s) in the last 24 h"),
        (_set(["failed_events_queue"], None), "failed-events queue trailwatch-notifier-failed does not exist"),
        (_set(["invoke_config"], None), "go to no destination (dropped)"),
        (_set(["invoke_config", "on_failure"], QUEUE_ARN + "-other"), "not to the failed-events queue"),
        (_set(["failed_events_queue", "messages"], 2), "2 event(s) that failed every attempt wait"),
    ],
    ids=[
        "no-filter",
        "other-pattern",
        "no-function",
        "inactive",
        "update-failed",
        "update-in-progress",
        "errors",
        "no-queue",
        "no-async-config",
        "other-destination",
        "messages-waiting",
    ],
)
def test_each_notifier_fault_breaks_the_notifier_link(change, detail):
    watch, link = notifier_link(notifier_state())
    assert watch["ok"] and link["status"] == "ok", link
    state = notifier_state()
    change(state)
    watch, link = notifier_link(state)
    assert watch["first_broken"] == "notifier" and link["status"] == "broken"
    assert detail in link["detail"], link["detail"]


def test_notifier_link_only_on_the_watches_it_serves():
    watch, found = links(notifier_state(), notifier_function_name=FUNCTION, notifier_watches=[])
    assert "notifier" not in found


def test_read_chain_reads_the_notifier_async_config_and_failed_events_queue(stubbed):
    """Stubber: GetFunctionEventInvokeConfig's OnFailure destination and the queue's ApproximateNumberOfMessages."""
    clients = {}

    def client(service, region):
        if service not in clients:
            clients[service] = stubbed(service)
        return clients[service][0]

    reader = _alert_chain._Reader(client, REGION)
    client("lambda", REGION)
    stub = clients["lambda"][1]
    stub.add_response(
        "get_function",
        {"Configuration": {"FunctionArn": FUNCTION_ARN, "State": "Active", "LastUpdateStatus": "Successful"}},
        {"FunctionName": FUNCTION},
    )
    stub.add_response(
        "get_function_event_invoke_config",
        {"MaximumRetryAttempts": 2, "DestinationConfig": {"OnFailure": {"Destination": QUEUE_ARN}}},
        {"FunctionName": FUNCTION},
    )
    logs = client("logs", REGION)
    clients["logs"][1].add_response(
        "describe_subscription_filters",
        {"subscriptionFilters": [{"filterName": FUNCTION, "filterPattern": "x", "destinationArn": FUNCTION_ARN}]},
        {"logGroupName": GROUP},
    )
    client("cloudwatch", REGION)
    clients["cloudwatch"][1].add_response("get_metric_statistics", {"Datapoints": [{"Sum": 1.0}]})
    client("sqs", REGION)
    sqs = clients["sqs"][1]
    url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/trailwatch-notifier-failed"
    sqs.add_response("get_queue_url", {"QueueUrl": url}, {"QueueName": "trailwatch-notifier-failed"})
    sqs.add_response(
        "get_queue_attributes",
        {"Attributes": {"QueueArn": QUEUE_ARN, "ApproximateNumberOfMessages": "4"}},
        {"QueueUrl": url, "AttributeNames": ["All"]},
    )
    notifier = _alert_chain._notifier_state(reader, spec(notifier_function_name=FUNCTION), logs)
    assert reader.errors == {}
    assert notifier["invoke_config"]["on_failure"] == QUEUE_ARN
    assert notifier["failed_events_queue"] == {"arn": QUEUE_ARN, "messages": 4}
    assert notifier["errors"] == 1.0


@pytest.mark.parametrize(
    "break_it, link",
    [
        (lambda s: s["trails"][0]["status"].update(IsLogging=False), "trail-logging"),
        (lambda s: s["alarms"]["trailwatch-s3-bucket-created"].update(ActionsEnabled=False), "alarm-actions"),
        (lambda s: s["keys"][KEY]["meta"].update(KeyState="Disabled"), "key"),
    ],
)
def test_a_printed_aws_command_names_the_region(break_it, link):
    """The aws CLI does not read AWS_REGION (found by a fresh-user rehearsal: 'You must specify a region'), and the
    doctor may check another region than the shell's: a fix to paste must carry --region."""
    state = healthy_state()
    break_it(state)
    _watch, found = links(state, trail_name=None)
    fix = found[link]["fix"]
    assert "aws " in fix and f"--region {REGION}" in fix, fix


def test_with_nothing_deployed_the_key_is_not_called_ok():
    state = healthy_state()
    state.update(trails=[], log_group=None, keys={})
    _watch, found = links(state)
    assert found["key"]["status"] == "unverified", found["key"]
    assert "AWS owned encryption" not in found["key"]["detail"]


@pytest.mark.parametrize(
    "topic_arn, detail, fix",
    [
        (TOPIC, f"topic {TOPIC} does not exist", "re-run playbooks/site.yml"),
        (
            "arn:aws:sns:us-east-1:444455556666:org-alerts",
            f"topic arn:aws:sns:us-east-1:444455556666:org-alerts (account 444455556666) does not exist or is not"
            f" visible from account {ACCOUNT}",
            "run the doctor with credentials of the topic's account",
        ),
    ],
)
def test_a_topic_that_does_not_answer_is_missing_only_when_it_is_this_accounts(topic_arn, detail, fix):
    """A topic of another account (trailwatch_topic_arn) may exist and merely not be readable by the doctor's
    credentials: 'does not exist' and 're-run site.yml' would send the user the wrong way."""
    state = healthy_state()
    state["topic"] = None
    _watch, found = links(state, topic_arn=topic_arn)
    for name in ("topic-policy", "topic-key"):
        assert found[name]["status"] == "broken", found[name]
        assert found[name]["detail"] == detail, found[name]
        assert fix in found[name]["fix"], found[name]
