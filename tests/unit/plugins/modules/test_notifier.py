"""trailwatch.aws.notifier run in-process against moto's mock_aws.

Create (state table, failed-events queue, with lock link: secret, roles, log groups, both functions, reserved
concurrency, URL, grants, asynchronous invocation settings, subscription filter, alarms), re-run (no change, no
write), check mode (prediction, no write), a code change found by CodeSha256, drift repaired, the lock link turned
off, a topic given by ARN, absent (log groups and queue kept) and absent with purge, and the refusals that must come
before any write.
"""

import json
import runpy
import shutil
from pathlib import Path

import boto3
import botocore.loaders
import botocore.session
import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args
from moto import mock_aws

runpy.run_path(str(Path(__file__).resolve().parent.parent / "conftest.py"))

from ansible_collections.trailwatch.aws.plugins.module_utils import _lambda
from ansible_collections.trailwatch.aws.plugins.modules import notifier

REGION = "us-east-1"
ACCOUNT = "123456789012"
TRAIL_GROUP = "aws-cloudtrail-logs-trailwatch"
TOPIC = "trailwatch-alerts"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}"
LAMBDA_CODE = Path(__file__).resolve().parents[4] / "roles" / "notifier" / "files" / "lambda"
PATTERN = '{ ($.eventName = "CreateBucket") }'
TABLE = "trailwatch-notifier-state"
QUEUE = "trailwatch-notifier-failed"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUE}"
SECRET = "/trailwatch/lock-link-secret"
READ_PREFIXES = ("Get", "List", "Describe")


@pytest.fixture(autouse=True)
def shared_models(monkeypatch):
    """Every module run makes its clients from fresh boto3 sessions, each parsing the service models again (about a
    second per run): let the sessions of this test share one loader, and so the parsed models."""
    loader = botocore.loaders.create_loader()
    monkeypatch.setattr(
        botocore.session.Session,
        "_register_data_loader",
        lambda session: session._components.lazy_register_component("data_loader", lambda: loader),
    )


@pytest.fixture
def aws():
    with mock_aws():
        yield


@pytest.fixture
def stack(aws):
    """What the trail and alerts roles leave: the trail's log group and the topic."""
    boto3.client("logs").create_log_group(logGroupName=TRAIL_GROUP)
    boto3.client("sns").create_topic(Name=TOPIC)


@pytest.fixture
def calls(module_calls):
    """Every operation the module's clients perform, in order (waiters included): the conftest's recorder."""
    return module_calls()


def writes(names):
    return [n for n in names if not n.startswith(READ_PREFIXES)]


@pytest.fixture
def run(capsys, monkeypatch, calls):
    """run(args, check_mode=False) -> (the module's JSON result, the operations it performed)."""

    def _run(args, check_mode=False):
        args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=True)
        monkeypatch.setattr(ansible_warnings, "_global_warnings", {})
        monkeypatch.setattr(ansible_warnings, "_global_deprecations", {})
        calls.clear()
        with patch_module_args(args), pytest.raises(SystemExit):
            notifier.main()
        result = json.loads(capsys.readouterr().out)
        return result, list(calls)

    return _run


def args(**overrides):
    return dict(
        {
            "name": "trailwatch",
            "log_group_name": TRAIL_GROUP,
            "topic_name": TOPIC,
            "code_dir": str(LAMBDA_CODE),
            "lock_link": True,
            "tag_new_buckets": True,
            "lock_days": 7,
            "tags": {"team": "security"},
        },
        **overrides,
    )


CREATED = [
    "state_table",
    "failed_events_queue",
    "secret_parameter",
    "lock_role",
    "lock_log_group",
    "lock_function",
    "lock_function:url",
    "lock_function:permissions",
    "notifier_role",
    "notifier_log_group",
    "notifier_function",
    "notifier_function:permissions",
    "notifier_function:async",
    "subscription_filter",
    "errors_alarm",
    "failed_events_alarm",
]


def secret_value():
    return boto3.client("ssm").get_parameter(Name=SECRET, WithDecryption=True)["Parameter"]["Value"]


# --- create, re-run, check mode ----------------------------------------------------------------------------------


def test_create_deploys_every_part_in_order(stack, run):
    result, ops = run(args())
    assert result["changed"] is True, result
    assert result["changes"] == CREATED
    # Log groups before the functions that log to them; grants before the filter that needs them.
    assert ops.index("CreateLogGroup") < ops.index("CreateFunction")
    assert ops.index("AddPermission") < ops.index("PutSubscriptionFilter")
    assert ops.index("PutParameter") < ops.index("CreateFunction")
    # The lock function is capped before it gets its public URL; the notifier has its retries and failed-events
    # queue before the subscription filter can invoke it.
    assert ops.index("PutFunctionConcurrency") < ops.index("CreateFunctionUrlConfig")
    assert ops.index("PutFunctionEventInvokeConfig") < ops.index("PutSubscriptionFilter")
    assert ops.index("CreateQueue") < ops.index("PutFunctionEventInvokeConfig")

    lam = boto3.client("lambda")
    nf = lam.get_function(FunctionName="trailwatch-notifier")["Configuration"]
    lock = lam.get_function(FunctionName="trailwatch-lock")["Configuration"]
    url = lam.get_function_url_config(FunctionName="trailwatch-lock")
    assert nf["Runtime"] == lock["Runtime"] == "python3.12"
    assert (nf["Handler"], lock["Handler"]) == ("notifier.handler", "lock.handler")
    assert nf["CodeSha256"] == lock["CodeSha256"] == _lambda.code_sha256(_lambda.build_zip(LAMBDA_CODE))
    assert nf["Environment"]["Variables"] == {
        "TOPIC_ARN": TOPIC_ARN,
        "STATE_TABLE": TABLE,
        "NOTIFY_LANGUAGE": "en",
        "TAG_NEW_BUCKETS": "true",
        "LOCK_LINK": "true",
        "LOCK_URL": url["FunctionUrl"],
        "LOCK_SECRET_PARAMETER": SECRET,
    }
    assert lock["Environment"]["Variables"] == {
        "LOCK_SECRET_PARAMETER": SECRET,
        "STATE_TABLE": TABLE,
        "LOCK_MODE": "GOVERNANCE",
        "LOCK_DAYS": "7",
        "NOTIFY_LANGUAGE": "en",
    }
    assert result["lock_url"] == url["FunctionUrl"] and url["AuthType"] == "NONE"

    filters = boto3.client("logs").describe_subscription_filters(logGroupName=TRAIL_GROUP)["subscriptionFilters"]
    assert [(f["filterName"], f["filterPattern"], f["destinationArn"]) for f in filters] == [
        ("trailwatch-notifier", PATTERN, nf["FunctionArn"])
    ]
    groups = boto3.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]
    assert {g["logGroupName"]: g["retentionInDays"] for g in groups} == {
        "/aws/lambda/trailwatch-lock": 365,
        "/aws/lambda/trailwatch-notifier": 365,
    }
    parameter = boto3.client("ssm").describe_parameters()["Parameters"][0]
    assert (parameter["Name"], parameter["Type"]) == (SECRET, "SecureString")
    assert len(secret_value()) >= 43
    assert result["secret_parameter"]["type"] == "SecureString" and "value" not in result["secret_parameter"]


def test_roles_are_least_privilege(stack, run):
    run(args())
    iam = boto3.client("iam")
    for role, policy in (("trailwatch-notifier", "trailwatch-notifier"), ("trailwatch-lock", "trailwatch-lock")):
        trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust == [
            {
                "Sid": "TrailWatchLambdaAssume",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            }
        ]
        document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
        for statement in document["Statement"]:
            assert statement["Resource"] != "*", statement
    notifier_policy = iam.get_role_policy(RoleName="trailwatch-notifier", PolicyName="trailwatch-notifier")
    statements = {s["Sid"]: s for s in notifier_policy["PolicyDocument"]["Statement"]}
    assert statements["TrailWatchPublish"]["Resource"] == TOPIC_ARN
    assert statements["TrailWatchReadLockSecret"]["Resource"] == f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{SECRET}"
    assert statements["TrailWatchOwnLogs"]["Resource"] == (
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/trailwatch-notifier:*"
    )


def test_rerun_changes_nothing_and_writes_nothing(stack, run):
    run(args())
    secret = secret_value()
    result, ops = run(args())
    assert result["changed"] is False, result["changes"]
    assert writes(ops) == []
    assert secret_value() == secret  # never rotated by a re-run
    assert result["diff"]["before"] == result["diff"]["after"]


def test_check_mode_on_an_empty_account_predicts_and_writes_nothing(aws, run):
    # Neither the trail's log group nor the topic exists yet: a first check run of the whole stack.
    result, ops = run(args(), check_mode=True)
    assert result["changed"] is True
    assert result["changes"] == CREATED
    assert writes(ops) == []
    assert result["lock_url"] is None
    assert boto3.client("lambda").list_functions()["Functions"] == []


def test_check_mode_after_apply_predicts_no_change(stack, run):
    run(args())
    result, ops = run(args(), check_mode=True)
    assert result["changed"] is False and writes(ops) == []


# --- re-read after write (docs/architecture.md, "The ensure_* contract") ------------------------------------------

# The reads of a no-op run and of a check run on an empty account, as they were before the state table and the secret
# were re-read after a write: a re-read happens only after a write, so neither may grow.
NO_OP_READS = [
    "GetCallerIdentity",
    "DescribeLogGroups",
    "ListTagsForResource",
    "ListTagsForResource",
    "DescribeSubscriptionFilters",
    "GetRole",
    "GetRolePolicy",
    "GetRole",
    "GetRolePolicy",
    "DescribeParameters",
    "ListTagsForResource",
    "DescribeTable",
    "DescribeTimeToLive",
    "ListTagsOfResource",
    "GetQueueUrl",
    "GetQueueAttributes",
    "ListQueueTags",
    "DescribeAlarms",
    "ListTagsForResource",
    "ListTagsForResource",
    "GetFunction",
    "GetPolicy",
    "GetFunctionEventInvokeConfig",
    "GetFunction",
    "GetPolicy",
    "GetFunctionUrlConfig",
    "GetTopicAttributes",
]
EMPTY_ACCOUNT_READS = [
    "GetCallerIdentity",
    "DescribeLogGroups",
    "DescribeSubscriptionFilters",
    "GetRole",
    "GetRole",
    "DescribeParameters",
    "DescribeTable",
    "GetQueueUrl",
    "DescribeAlarms",
    "GetFunction",
    "GetFunction",
    "GetTopicAttributes",
]


def test_what_aws_decides_on_creation_is_reported(stack, run):
    """The state table's KMS key (the AWS managed aws/dynamodb, whose ARN only AWS knows) and the secret's key
    (PutParameter without a key ID: the account's default, alias/aws/ssm) are read back, not predicted."""
    created, _ops = run(args())
    fresh, _ops = run(args(), check_mode=True)
    assert fresh["changed"] is False, fresh["changes"]
    assert created["state_table"]["kms_key_arn"].startswith(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/")
    assert created["secret_parameter"]["key_id"] == "alias/aws/ssm"
    assert created["diff"]["after"] == fresh["diff"]["before"]


def test_a_no_op_run_reads_what_it_read_before_and_writes_nothing(stack, run):
    run(args())
    result, ops = run(args())
    assert result["changed"] is False, result["changes"]
    assert ops == NO_OP_READS


@pytest.mark.parametrize("deployed", [False, True], ids=["empty-account", "deployed-with-changes"])
def test_check_mode_reads_nothing_more(stack, run, deployed):
    """Check mode predicts: where a run would write (and then re-read), it only makes the module's reads."""
    if deployed:
        run(args())
    result, ops = run(args(tags={"team": "audit"}), check_mode=True)
    assert "state_table" in result["changes"] or "state_table:tags" in result["changes"]
    assert ops == (NO_OP_READS if deployed else EMPTY_ACCOUNT_READS)


# --- changes -----------------------------------------------------------------------------------------------------


def test_code_change_is_found_by_its_hash(stack, run, tmp_path):
    code = tmp_path / "lambda"
    shutil.copytree(LAMBDA_CODE, code)
    run(args(code_dir=str(code)))
    with open(code / "notifier.py", "a") as source:
        source.write("\n# a fix\n")

    result, ops = run(args(code_dir=str(code)), check_mode=True)
    assert result["changes"] == ["lock_function:code", "notifier_function:code"] and writes(ops) == []

    result, ops = run(args(code_dir=str(code)))
    assert result["changes"] == ["lock_function:code", "notifier_function:code"]
    assert writes(ops) == ["UpdateFunctionCode", "UpdateFunctionCode"]
    new_sha = _lambda.code_sha256(_lambda.build_zip(code))
    assert (
        boto3.client("lambda").get_function(FunctionName="trailwatch-notifier")["Configuration"]["CodeSha256"]
        == new_sha
    )

    # The same code as a prebuilt zip is the same code.
    (tmp_path / "code.zip").write_bytes(_lambda.build_zip(code))
    zipped = {k: v for k, v in args(code_zip=str(tmp_path / "code.zip")).items() if k != "code_dir"}
    result, ops = run(zipped)
    assert result.get("changed") is False and writes(ops) == [], result


def test_settings_change_only_the_configuration(stack, run):
    run(args())
    result, ops = run(args(notify_language="ja", lock_mode="COMPLIANCE", lock_days=90))
    assert result["changes"] == ["lock_function:configuration", "notifier_function:configuration"]
    assert writes(ops) == ["UpdateFunctionConfiguration", "UpdateFunctionConfiguration"]
    lock = boto3.client("lambda").get_function(FunctionName="trailwatch-lock")["Configuration"]
    assert lock["Environment"]["Variables"]["LOCK_MODE"] == "COMPLIANCE"
    assert lock["Environment"]["Variables"]["LOCK_DAYS"] == "90"


def test_tagging_off_narrows_the_role(stack, run):
    run(args())
    result, _ops = run(args(tag_new_buckets=False))
    assert result["changes"] == ["notifier_role", "notifier_function:configuration"]
    actions = {
        a
        for s in result["roles"]["notifier"]["permissions_policy"]["Statement"]
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert not {a for a in actions if a.startswith("s3:")}


def test_lock_link_off_removes_the_lock_and_keeps_its_log_group(stack, run):
    run(args())
    result, _ops = run(args(lock_link=False))
    assert result["changes"] == [
        "notifier_role",
        "notifier_function:configuration",
        "lock_function",
        "lock_role",
        "secret_parameter",
    ]
    assert result["lock_function"] is None and result["lock_url"] is None
    variables = boto3.client("lambda").get_function(FunctionName="trailwatch-notifier")["Configuration"]["Environment"]
    assert "LOCK_URL" not in variables["Variables"] and variables["Variables"]["LOCK_LINK"] == "false"
    assert boto3.client("ssm").describe_parameters()["Parameters"] == []
    groups = boto3.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/trailwatch-lock")["logGroups"]
    assert len(groups) == 1
    result, ops = run(args(lock_link=False))
    assert result["changed"] is False and writes(ops) == []


def test_foreign_grants_and_filters_are_left_alone(stack, run):
    run(args(lock_link=False))
    boto3.client("lambda").add_permission(
        FunctionName="trailwatch-notifier",
        StatementId="Auditors",
        Action="lambda:GetFunction",
        Principal=f"arn:aws:iam::{ACCOUNT}:root",
    )
    result, ops = run(args(lock_link=False))
    assert result["changed"] is False and writes(ops) == []
    assert set(result["notifier_function"]["permissions"]) == {"Auditors", "TrailWatchLogsInvoke"}


# --- refusals before any write -----------------------------------------------------------------------------------


def test_a_log_group_with_two_other_subscription_filters_is_refused_before_any_write(stack, run):
    logs = boto3.client("logs")
    lam = boto3.client("lambda")
    iam = boto3.client("iam")
    role = iam.create_role(RoleName="other", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    for name in ("siem-1", "siem-2"):
        arn = lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role,
            Handler="x.h",
            Code={"ZipFile": _lambda.build_zip(LAMBDA_CODE)},
        )["FunctionArn"]
        logs.put_subscription_filter(logGroupName=TRAIL_GROUP, filterName=name, filterPattern="", destinationArn=arn)
    result, ops = run(args())
    assert result["failed"] is True
    assert "siem-1, siem-2" in result["msg"] and "allows 2" in result["msg"]
    assert writes(ops) == []


def test_a_missing_topic_is_named(stack, run):
    result, ops = run(args(topic_name="nope"))
    assert result["failed"] is True
    assert "topic_name: SNS topic nope does not exist" in result["msg"]
    assert writes(ops) == []


def test_a_missing_trail_log_group_is_named(aws, run):
    boto3.client("sns").create_topic(Name=TOPIC)
    result, ops = run(args())
    assert result["failed"] is True
    assert f"log group {TRAIL_GROUP} does not exist" in result["msg"]
    assert writes(ops) == []


def test_a_plain_string_parameter_is_not_taken_for_the_secret(stack, run):
    boto3.client("ssm").put_parameter(Name=SECRET, Value="readable by anyone", Type="String")
    result, _ops = run(args())
    assert result["failed"] is True
    assert "not a SecureString" in result["msg"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"lock_days": 0}, "lock_days must be between 1 and 36500"),
        ({"lock_days": 36501}, "lock_days must be between 1 and 36500"),
        ({"log_retention_days": 100}, "log_retention_days: 100 is not a value"),
        ({"filter_pattern": " "}, "filter_pattern must not be empty"),
        ({"code_dir": None}, "one of code_dir or code_zip is required"),
    ],
)
def test_bad_parameters_fail_before_any_call(aws, run, overrides, message):
    result, ops = run({k: v for k, v in args(**overrides).items() if v is not None})
    assert result["failed"] is True and message in result["msg"]
    assert ops == []


# --- absent ------------------------------------------------------------------------------------------------------


def test_absent_removes_everything_but_the_log_groups(stack, run):
    run(args())
    result, ops = run({"state": "absent", "name": "trailwatch", "log_group_name": TRAIL_GROUP}, check_mode=True)
    assert result["changed"] is True and writes(ops) == []

    result, ops = run({"state": "absent", "name": "trailwatch", "log_group_name": TRAIL_GROUP})
    assert result["changes"] == [
        "subscription_filter",
        "errors_alarm",
        "failed_events_alarm",
        "notifier_function",
        "notifier_role",
        "lock_function",
        "lock_role",
        "secret_parameter",
        "state_table",
    ]
    assert ops.index("DeleteSubscriptionFilter") < ops.index("DeleteFunction")
    assert boto3.client("dynamodb").list_tables()["TableNames"] == []
    assert boto3.client("cloudwatch").describe_alarms()["MetricAlarms"] == []
    # The failed-events queue may hold events that failed every attempt: kept unless purging.
    assert boto3.client("sqs").get_queue_url(QueueName=QUEUE)["QueueUrl"]
    assert boto3.client("lambda").list_functions()["Functions"] == []
    assert boto3.client("iam").list_roles()["Roles"] == []
    assert boto3.client("ssm").describe_parameters()["Parameters"] == []
    assert boto3.client("logs").describe_subscription_filters(logGroupName=TRAIL_GROUP)["subscriptionFilters"] == []
    groups = boto3.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]
    assert len(groups) == 2

    result, ops = run({"state": "absent", "name": "trailwatch", "log_group_name": TRAIL_GROUP})
    assert result["changed"] is False and writes(ops) == []

    result, ops = run({"state": "absent", "name": "trailwatch", "log_group_name": TRAIL_GROUP, "purge_data": True})
    assert result["changes"] == ["lock_log_group", "notifier_log_group", "failed_events_queue"]
    assert boto3.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"] == []
    assert boto3.client("sqs").list_queues().get("QueueUrls", []) == []


def test_absent_after_the_trail_is_gone_changes_nothing(aws, run):
    result, ops = run({"state": "absent", "name": "trailwatch", "log_group_name": TRAIL_GROUP, "purge_data": True})
    assert result["changed"] is False and writes(ops) == []


@pytest.mark.parametrize("by_alias", [False, True], ids=["key-arn", "alias"])
def test_an_encrypted_topic_lets_the_notifier_use_its_key(aws, run, by_alias):
    key_arn = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    boto3.client("kms").create_alias(AliasName="alias/alerts", TargetKeyId=key_arn)
    boto3.client("logs").create_log_group(logGroupName=TRAIL_GROUP)
    boto3.client("sns").create_topic(Name=TOPIC, Attributes={"KmsMasterKeyId": "alias/alerts" if by_alias else key_arn})
    result, _ops = run(args(lock_link=False, tag_new_buckets=False))
    statements = {s["Sid"]: s for s in result["roles"]["notifier"]["permissions_policy"]["Statement"]}
    assert statements["TrailWatchEncryptedTopic"] == {
        "Sid": "TrailWatchEncryptedTopic",
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
        "Resource": key_arn,
    }
    assert set(statements) == {
        "TrailWatchOwnLogs",
        "TrailWatchPublish",
        "TrailWatchEncryptedTopic",
        "TrailWatchAnnouncedEvents",
        "TrailWatchFailedEvents",
    }


# --- no lost notification: state table, failed-events queue, retries, alarms -------------------------------------


def test_failed_events_path_is_deployed(stack, run):
    result, _ops = run(args())
    ddb = boto3.client("dynamodb")
    table = ddb.describe_table(TableName=TABLE)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert (table["SSEDescription"]["Status"], table["SSEDescription"]["SSEType"]) == ("ENABLED", "KMS")
    ttl = ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    assert {t["Key"]: t["Value"] for t in ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]} == {
        "team": "security"
    }

    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["SqsManagedSseEnabled"] == "true"
    assert attributes["MessageRetentionPeriod"] == "1209600"
    assert json.loads(attributes["Policy"])["Statement"] == [
        {
            "Sid": "TrailWatchDenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": QUEUE_ARN,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]

    lam = boto3.client("lambda")
    config = lam.get_function_event_invoke_config(FunctionName="trailwatch-notifier")
    assert config["MaximumRetryAttempts"] == notifier.MAXIMUM_RETRY_ATTEMPTS == 2
    assert config["MaximumEventAgeInSeconds"] == notifier.MAXIMUM_EVENT_AGE_SECONDS == 21600
    assert config["DestinationConfig"] == {"OnFailure": {"Destination": QUEUE_ARN}}
    assert lam.get_function(FunctionName="trailwatch-lock")["Concurrency"] == {"ReservedConcurrentExecutions": 2}
    assert "Concurrency" not in lam.get_function(FunctionName="trailwatch-notifier")  # the notifier is not capped

    alarms = {a["AlarmName"]: a for a in boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    errors, failed = alarms["trailwatch-notifier-errors"], alarms["trailwatch-notifier-failed-events"]
    assert (errors["Namespace"], errors["MetricName"], errors["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": "trailwatch-notifier"}]
    assert (failed["Namespace"], failed["MetricName"], failed["Statistic"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
    )
    assert failed["Dimensions"] == [{"Name": "QueueName", "Value": QUEUE}]
    for alarm in (errors, failed):
        assert alarm["AlarmActions"] == [TOPIC_ARN] and alarm["ActionsEnabled"] is True
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1.0, "GreaterThanOrEqualToThreshold")
        assert alarm["TreatMissingData"] == "notBreaching" and alarm["OKActions"] == []
    assert result["alarms"]["errors"]["arn"] == errors["AlarmArn"]


def test_roles_reach_only_this_accounts_buckets_and_their_own_state_items(stack, run):
    result, _ops = run(args())
    notifier_statements = {s["Sid"]: s for s in result["roles"]["notifier"]["permissions_policy"]["Statement"]}
    lock_statements = {s["Sid"]: s for s in result["roles"]["lock"]["permissions_policy"]["Statement"]}
    for statement in (notifier_statements["TrailWatchTagNewBuckets"], lock_statements["TrailWatchLockBuckets"]):
        assert statement["Resource"] == "arn:aws:s3:::*"
        assert statement["Condition"] == {"StringEquals": {"aws:ResourceAccount": ACCOUNT}}
    assert "s3:PutBucketTagging" not in lock_statements["TrailWatchLockBuckets"]["Action"]  # no tag marks anymore
    table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}"
    assert notifier_statements["TrailWatchAnnouncedEvents"] == {
        "Sid": "TrailWatchAnnouncedEvents",
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
        "Resource": table_arn,
        "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["event#*"]}},
    }
    assert lock_statements["TrailWatchUsedLinks"] == {
        "Sid": "TrailWatchUsedLinks",
        "Effect": "Allow",
        "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
        "Resource": table_arn,
        "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["token#*"]}},
    }
    assert notifier_statements["TrailWatchFailedEvents"] == {
        "Sid": "TrailWatchFailedEvents",
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": QUEUE_ARN,
    }


@pytest.fixture
def aws_event_invoke_config_replaces(monkeypatch):
    """AWS: PutFunctionEventInvokeConfig overwrites the configuration (AWS Lambda Developer Guide, "Configuring error
    handling settings for Lambda asynchronous invocations"); moto 5.2.5 appends a second one and keeps answering
    the first. Test-side help so that drift repair can be read back."""
    from moto.awslambda.models import LambdaBackend

    original = LambdaBackend.put_function_event_invoke_config

    def overwrite(self, function_name, config):
        self.get_function(function_name).event_invoke_config = []
        return original(self, function_name, config)

    monkeypatch.setattr(LambdaBackend, "put_function_event_invoke_config", overwrite)


def test_drift_of_the_failed_events_path_is_repaired_once(stack, run, aws_event_invoke_config_replaces):
    run(args())
    lam, ddb, sqs, cw = (boto3.client(s) for s in ("lambda", "dynamodb", "sqs", "cloudwatch"))
    lam.put_function_event_invoke_config(FunctionName="trailwatch-notifier", MaximumRetryAttempts=0)
    lam.put_function_concurrency(FunctionName="trailwatch-lock", ReservedConcurrentExecutions=50)
    ddb.update_time_to_live(TableName=TABLE, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires_at"})
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "60", "Policy": ""})
    cw.put_metric_alarm(
        AlarmName="trailwatch-notifier-errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=10,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )

    result, ops = run(args(), check_mode=True)
    expected = [
        "state_table:ttl",
        "failed_events_queue:attributes",
        "failed_events_queue:policy",
        "lock_function:concurrency",
        "notifier_function:async",
        "errors_alarm",
    ]
    assert result["changes"] == expected and writes(ops) == []
    result, ops = run(args())
    assert result["changes"] == expected
    assert sorted(writes(ops)) == sorted(
        ["UpdateTimeToLive", "SetQueueAttributes", "PutFunctionConcurrency", "PutFunctionEventInvokeConfig"]
        + ["PutMetricAlarm"]
    )
    config = lam.get_function_event_invoke_config(FunctionName="trailwatch-notifier")
    assert config["MaximumRetryAttempts"] == 2 and config["DestinationConfig"]["OnFailure"]["Destination"] == QUEUE_ARN
    result, ops = run(args())
    assert result["changed"] is False and writes(ops) == []


def test_lock_reserved_concurrency_can_be_changed_and_removed(stack, run):
    run(args())
    result, ops = run(args(lock_reserved_concurrency=5))
    assert result["changes"] == ["lock_function:concurrency"] and writes(ops) == ["PutFunctionConcurrency"]
    result, ops = run(args(lock_reserved_concurrency=-1))
    assert result["changes"] == ["lock_function:concurrency"] and writes(ops) == ["DeleteFunctionConcurrency"]
    assert "Concurrency" not in boto3.client("lambda").get_function(FunctionName="trailwatch-lock")
    result, ops = run(args(lock_reserved_concurrency=-1))
    assert result["changed"] is False and writes(ops) == []


def test_a_reservation_the_account_cannot_spare_names_the_option_and_creates_no_url(stack, run, monkeypatch):
    # moto enforces Lambda's "at least 100 unreserved" only with a quota set; AWS always does (PutFunctionConcurrency).
    monkeypatch.setenv("MOTO_LAMBDA_CONCURRENCY_QUOTA", "101")
    result, ops = run(args())
    assert result["failed"] is True
    assert result["msg"].startswith("lock_reserved_concurrency: AWS refused to reserve 2 concurrent executions")
    assert "trailwatch_lock_reserved_concurrency" in result["msg"] and "-1" in result["msg"]
    assert "CreateFunctionUrlConfig" not in ops and "AddPermission" not in ops
    result, _ops = run(args(lock_reserved_concurrency=-1))
    assert result.get("failed") is not True, result
    assert result["lock_url"].startswith("https://")


def test_a_topic_given_by_arn_is_followed(stack, run):
    topic = boto3.client("sns").create_topic(Name="security-alerts")["TopicArn"]
    byo = {k: v for k, v in args(topic_arn=topic).items() if k != "topic_name"}
    result, _ops = run(byo)
    assert result["notifier_function"]["environment"]["TOPIC_ARN"] == topic
    assert all(alarm["spec"]["AlarmActions"] == [topic] for alarm in result["alarms"].values())
    statements = {s["Sid"]: s for s in result["roles"]["notifier"]["permissions_policy"]["Statement"]}
    assert statements["TrailWatchPublish"]["Resource"] == topic
    result, ops = run(byo)
    assert result["changed"] is False and writes(ops) == []


@pytest.mark.parametrize(
    "topic, message",
    [
        (
            "arn:aws:sns:us-east-1:111111111111:central-alerts",
            "topic_arn: topic arn:aws:sns:us-east-1:111111111111:central-alerts is in account 111111111111, "
            "the notifier in account 123456789012",
        ),
        (
            f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts",
            f"topic_arn: topic arn:aws:sns:eu-west-1:{ACCOUNT}:alerts is in region eu-west-1, the notifier and its "
            "alarms in us-east-1",
        ),
        (f"arn:aws:sns:us-east-1:{ACCOUNT}:not-there", "topic_arn: SNS topic arn:aws:sns:us-east-1:"),
    ],
    ids=["other-account", "other-region", "missing"],
)
def test_a_topic_arn_the_notifier_cannot_use_is_refused_before_any_write(stack, run, topic, message):
    result, ops = run({k: v for k, v in args(topic_arn=topic).items() if k != "topic_name"})
    assert result["failed"] is True and result["msg"].startswith(message), result["msg"]
    assert writes(ops) == []


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"lock_reserved_concurrency": 0}, "lock_reserved_concurrency must be at least 1, or -1 for no reservation"),
        ({"lock_reserved_concurrency": -2}, "lock_reserved_concurrency must be at least 1, or -1 for no reservation"),
        ({"maximum_retry_attempts": 3}, "maximum_retry_attempts must be 0, 1 or 2"),
        ({"maximum_event_age_seconds": 59}, "maximum_event_age_seconds must be between 60 and 21600"),
        ({"topic_arn": "arn:aws:sqs:us-east-1:123456789012:q"}, "topic_arn: 'arn:aws:sqs:us-east-1:123456789012:q' is"),
    ],
)
def test_bad_notifier_settings_fail_before_any_call(aws, run, overrides, message):
    params = args(**overrides)
    if "topic_arn" in overrides:
        params.pop("topic_name")
    result, ops = run(params)
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert ops == []
