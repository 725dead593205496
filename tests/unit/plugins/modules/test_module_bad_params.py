"""Every custom module refuses bad parameters cleanly, before any AWS call.

Each module runs in-process with a bad parameter set (missing required option, wrong type, invalid choice, or
what the module itself validates: retentions CloudWatch Logs refuses, AWS managed aliases, KMS deletion windows,
alarm periods, statements without the TrailWatch Sid prefix, ...). It must exit through fail_json (SystemExit with
``failed: true``), the message must name the parameter, no exception may escape, and no AWS API call may be made:
botocore's ``BaseClient._make_api_call`` raises when called, and every attempt is recorded.
"""

import importlib
import json
import runpy
from pathlib import Path

import botocore.client
import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

# tests/unit/plugins/conftest.py makes ansible_collections.trailwatch importable; pytest skips it when started from
# inside this directory, so run it here too (it is idempotent).
runpy.run_path(str(Path(__file__).resolve().parent.parent / "conftest.py"))

REGION = "us-east-1"
ACCOUNT = "123456789012"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:trailwatch-alerts"
PATTERN = '{ ($.eventName = "CreateBucket") }'
CODE_DIR = str(Path(__file__).resolve().parents[4] / "roles" / "notifier" / "files" / "lambda")

TRAIL = {
    "name": "trailwatch",
    "kms_key_alias": "alias/trailwatch",
    "s3_bucket_name_prefix": "trailwatch-logs",
    "log_group_name": "aws-cloudtrail-logs-trailwatch",
    "role_name": "trailwatch-cloudtrail-to-logs",
}
KEY = {"alias": "alias/trailwatch", "trail_name": "trailwatch", "log_group_name": "aws-cloudtrail-logs-trailwatch"}
BUCKET = {"name_prefix": "trailwatch-logs", "trail_name": "trailwatch", "kms_key_id": "alias/trailwatch"}
TOPIC = {"name": "trailwatch-alerts"}
WATCHES = {
    "log_group_name": "aws-cloudtrail-logs-trailwatch",
    "name_prefix": "trailwatch-",
    "alarm_actions": [TOPIC_ARN],
    "watches": [{"name": "s3-bucket-created", "pattern": PATTERN}],
}
STATEMENT = {
    "Sid": "TrailWatchCloudWatchAlarms",
    "Effect": "Allow",
    "Principal": {"Service": "cloudwatch.amazonaws.com"},
    "Action": "sns:Publish",
    "Resource": TOPIC_ARN,
}
POLICY = {"resource_type": "sns_topic", "resource": TOPIC_ARN, "statements": [STATEMENT]}
FILTER_TEST = {"filter_pattern": PATTERN, "log_event_messages": ['{"eventName": "CreateBucket"}']}
NOTIFIER = {
    "name": "trailwatch",
    "log_group_name": "aws-cloudtrail-logs-trailwatch",
    "topic_name": "trailwatch-alerts",
    "code_dir": CODE_DIR,
}
DRILL = {
    "action": "start",
    "topic_name": "trailwatch-alerts",
    "queue_name": "trailwatch-drill",
    "bucket_name": "trailwatch-drill-canary",
    "alarm_name": "trailwatch-s3-bucket-created",
}


def without(args, *names):
    return {k: v for k, v in args.items() if k not in names}


def watch(**fields):
    return dict(WATCHES, watches=[dict(WATCHES["watches"][0], **fields)])


def case(module, case_id, args, *words):
    """words: every one must appear in the failure message (the parameter, and what is wrong where useful)."""
    return pytest.param(module, args, words, id=f"{module}: {case_id}")


CASES = [
    # trail
    case("trail", "name missing", without(TRAIL, "name"), "name"),
    case("trail", "retention 100", dict(TRAIL, log_retention_days=100), "log_retention_days"),
    case("trail", "retention not a number", dict(TRAIL, log_retention_days="a year"), "log_retention_days"),
    case("trail", "AWS managed alias", dict(TRAIL, kms_key_alias="alias/aws/x"), "kms_key_alias"),
    case("trail", "alias without alias/", dict(TRAIL, kms_key_alias="trailwatch"), "kms_key_alias"),
    case("trail", "deletion window 3", dict(TRAIL, kms_key_deletion_window_days=3), "kms_key_deletion_window_days"),
    case("trail", "deletion window 31", dict(TRAIL, kms_key_deletion_window_days=31), "kms_key_deletion_window_days"),
    case("trail", "read/write type unknown", dict(TRAIL, read_write_type="Everything"), "read_write_type"),
    case("trail", "state unknown", dict(TRAIL, state="gone"), "state"),
    case("trail", "key alias and id", dict(TRAIL, kms_key_id="1234abcd"), "kms_key_alias", "kms_key_id"),
    case("trail", "no key", without(TRAIL, "kms_key_alias"), "kms_key_alias", "kms_key_id"),
    case("trail", "no bucket", without(TRAIL, "s3_bucket_name_prefix"), "s3_bucket_name"),
    case("trail", "bucket name and prefix", dict(TRAIL, s3_bucket_name="corp-logs"), "s3_bucket_name_prefix"),
    case("trail", "purge_data maybe", dict(TRAIL, purge_data="maybe"), "purge_data"),
    case("trail", "tags a list", dict(TRAIL, tags=["a"]), "tags"),
    case("trail", "exclusions a mapping", dict(TRAIL, exclude_management_event_sources={"a": 1}), "exclude_management"),
    # trail_key
    case("trail_key", "alias missing", without(KEY, "alias"), "alias"),
    case("trail_key", "AWS managed alias", dict(KEY, alias="alias/aws/x"), "alias"),
    case("trail_key", "alias without alias/", dict(KEY, alias="trailwatch"), "alias"),
    case("trail_key", "deletion window 3", dict(KEY, deletion_window_days=3), "deletion_window_days"),
    case("trail_key", "deletion window a word", dict(KEY, deletion_window_days="week"), "deletion_window_days"),
    case("trail_key", "trail_name missing", without(KEY, "trail_name"), "trail_name"),
    case("trail_key", "state unknown", dict(KEY, state="gone"), "state"),
    # trail_bucket
    case("trail_bucket", "no name", without(BUCKET, "name_prefix"), "name", "name_prefix"),
    case("trail_bucket", "name and prefix", dict(BUCKET, name="corp-logs"), "name", "name_prefix"),
    case("trail_bucket", "present without trail_name", without(BUCKET, "trail_name"), "trail_name"),
    case("trail_bucket", "present without key", without(BUCKET, "kms_key_id"), "kms_key_id"),
    case("trail_bucket", "state unknown", dict(BUCKET, state="gone"), "state"),
    case("trail_bucket", "tags a list", dict(BUCKET, tags=["a"]), "tags"),
    # sns_topic
    case("sns_topic", "kms alias/aws/sns", dict(TOPIC, kms_master_key_id="alias/aws/sns"), "kms_master_key_id"),
    case(
        "sns_topic",
        "kms alias ARN of aws/sns",
        dict(TOPIC, kms_master_key_id=f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/aws/sns"),
        "kms_master_key_id",
    ),
    case("sns_topic", "arn not of a topic", {"arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"}, "arn"),
    case("sns_topic", "arn a plain name", {"arn": "trailwatch-alerts"}, "arn"),
    case("sns_topic", "name and arn", dict(TOPIC, arn=TOPIC_ARN), "name", "arn"),
    case("sns_topic", "neither name nor arn", {}, "name", "arn"),
    case(
        "sns_topic",
        "subscription protocol unknown",
        dict(TOPIC, subscriptions=[{"protocol": "pigeon", "endpoint": "roof"}]),
        "protocol",
    ),
    case(
        "sns_topic",
        "subscription without endpoint",
        dict(TOPIC, subscriptions=[{"protocol": "email"}]),
        "endpoint",
    ),
    case("sns_topic", "purge_subscriptions maybe", dict(TOPIC, purge_subscriptions="maybe"), "purge_subscriptions"),
    # metric_watches
    case("metric_watches", "period 45", watch(period=45), "period"),
    case("metric_watches", "threshold 0", watch(threshold=0), "threshold"),
    case("metric_watches", "threshold not a number", watch(threshold="one"), "threshold"),
    case("metric_watches", "evaluation periods 0", watch(evaluation_periods=0), "evaluation_periods"),
    case("metric_watches", "watch name with capitals", watch(name="Bucket_Made"), "name"),
    case("metric_watches", "unbalanced pattern", watch(pattern='{ ($.eventName = "X") '), "pattern"),
    case("metric_watches", "watch without pattern", dict(WATCHES, watches=[{"name": "x"}]), "pattern"),
    case(
        "metric_watches",
        "duplicated watch name",
        dict(WATCHES, watches=[{"name": "twice", "pattern": PATTERN}, {"name": "twice", "pattern": PATTERN}]),
        "watches",
        "twice",
    ),
    case(
        "metric_watches",
        "sixth pattern with a regular expression in one log group",
        dict(WATCHES, watches=[{"name": f"re{n}", "pattern": "{ $.eventName = %^Delete% }"} for n in range(6)]),
        "watches",
        "re5",
        "regular expression",
    ),
    case("metric_watches", "two wildcards in a selector", watch(pattern="{ $.a[*].b[*] = 1 }"), "pattern", "wildcard"),
    case("metric_watches", "present without alarm actions", dict(WATCHES, alarm_actions=[]), "alarm_actions"),
    case("metric_watches", "log group missing", without(WATCHES, "log_group_name"), "log_group_name"),
    case("metric_watches", "watches missing", without(WATCHES, "watches"), "watches"),
    # resource_policy_statements
    case(
        "resource_policy_statements",
        "Sid without the TrailWatch prefix",
        dict(POLICY, statements=[dict(STATEMENT, Sid="AllowAlarms")]),
        "statements",
    ),
    case(
        "resource_policy_statements",
        "statement without Sid",
        dict(POLICY, statements=[without(STATEMENT, "Sid")]),
        "statements",
    ),
    case("resource_policy_statements", "topic not an ARN", dict(POLICY, resource="trailwatch-alerts"), "resource"),
    case("resource_policy_statements", "resource type unknown", dict(POLICY, resource_type="queue"), "resource_type"),
    case("resource_policy_statements", "present without statements", without(POLICY, "statements"), "statements"),
    case("resource_policy_statements", "resource missing", without(POLICY, "resource"), "resource"),
    # filter_pattern_test
    case("filter_pattern_test", "pattern missing", without(FILTER_TEST, "filter_pattern"), "filter_pattern"),
    case(
        "filter_pattern_test",
        "unbalanced pattern",
        dict(FILTER_TEST, filter_pattern='{ ($.eventName = "X") '),
        "filter_pattern",
    ),
    case("filter_pattern_test", "messages missing", without(FILTER_TEST, "log_event_messages"), "log_event_messages"),
    case(
        "filter_pattern_test",
        "messages a mapping",
        dict(FILTER_TEST, log_event_messages={"a": 1}),
        "log_event_messages",
    ),
    # notifier
    case("notifier", "lock days 0", dict(NOTIFIER, lock_days=0), "lock_days"),
    case("notifier", "lock days 36501", dict(NOTIFIER, lock_days=36501), "lock_days"),
    case("notifier", "retention 100", dict(NOTIFIER, log_retention_days=100), "log_retention_days"),
    case("notifier", "language fr", dict(NOTIFIER, notify_language="fr"), "notify_language"),
    case("notifier", "lock mode NONE", dict(NOTIFIER, lock_mode="NONE"), "lock_mode"),
    case(
        "notifier", "reserved concurrency 0", dict(NOTIFIER, lock_reserved_concurrency=0), "lock_reserved_concurrency"
    ),
    case("notifier", "blank filter pattern", dict(NOTIFIER, filter_pattern="  "), "filter_pattern"),
    case("notifier", "present without code", without(NOTIFIER, "code_dir"), "code_dir", "code_zip"),
    case("notifier", "code dir and zip", dict(NOTIFIER, code_zip="/tmp/x.zip"), "code_dir", "code_zip"),
    case("notifier", "present without topic", without(NOTIFIER, "topic_name"), "topic_name"),
    case("notifier", "name missing", without(NOTIFIER, "name"), "name"),
    case("notifier", "lock link maybe", dict(NOTIFIER, lock_link="maybe"), "lock_link"),
    # drill_probe
    case("drill_probe", "action unknown", dict(DRILL, action="go"), "action"),
    case("drill_probe", "topic missing", without(DRILL, "topic_name"), "topic_name"),
    case("drill_probe", "start without alarm", without(DRILL, "alarm_name"), "alarm_name"),
    case("drill_probe", "wait without created_at", dict(DRILL, action="wait"), "created_at"),
    case("drill_probe", "created_at a word", dict(DRILL, action="wait", created_at="now"), "created_at"),
    case("drill_probe", "poll seconds 0", dict(DRILL, poll_seconds=0), "poll_seconds"),
    case("drill_probe", "timeout negative", dict(DRILL, timeout_seconds=-1), "timeout_seconds"),
    case("drill_probe", "timeout a word", dict(DRILL, timeout_seconds="long"), "timeout_seconds"),
]


class AWSCalled(Exception):  # noqa: N818 - a refusal, not an error of the test
    """No bad parameter may reach AWS."""


@pytest.fixture
def api_calls(monkeypatch):
    """The API operations attempted; each attempt raises AWSCalled."""
    calls = []

    def refuse(self, operation_name, api_params):
        calls.append(f"{self.meta.service_model.service_name}:{operation_name}")
        raise AWSCalled(f"{operation_name} called with bad parameters")

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse)
    return calls


@pytest.mark.parametrize("module_name, args, words", CASES)
def test_bad_parameters_fail_before_any_aws_call(module_name, args, words, api_calls, capsys, monkeypatch):
    module = importlib.import_module(f"ansible_collections.trailwatch.aws.plugins.modules.{module_name}")
    monkeypatch.setattr(ansible_warnings, "_global_warnings", {})
    monkeypatch.setattr(ansible_warnings, "_global_deprecations", {})
    with patch_module_args(dict(args, _ansible_check_mode=False)), pytest.raises(SystemExit) as exited:
        module.main()
    result = json.loads(capsys.readouterr().out)
    assert exited.value.code != 0, result
    assert result.get("failed") is True, result
    missing = [word for word in words if word not in result["msg"]]
    assert not missing, f"{missing} not in {result['msg']!r}"
    assert "exception" not in result, result
    assert api_calls == []
