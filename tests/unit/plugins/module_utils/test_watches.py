"""_watches: validation, the filter + alarm a watch stands for, and converging them (Stubber, no network)."""

import copy

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _watch_sync
from ansible_collections.trailwatch.aws.plugins.module_utils import _watches
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudwatch import alarm_spec
from ansible_collections.trailwatch.aws.plugins.module_utils._common import TrailWatchError

REGION = "us-east-1"
ACCOUNT = "123456789012"
LOG_GROUP = "aws-cloudtrail-logs-trailwatch"
NAMESPACE = "TrailWatch"
PREFIX = "trailwatch-"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:trailwatch-alerts"
CREATE_BUCKET = '{ ($.eventName = "CreateBucket") }'
DEFAULT_WATCH = {"name": "s3-bucket-created", "pattern": CREATE_BUCKET}


def alarm_arn(name):
    return f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"


# --- metric_name_for -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "watch_name, metric",
    [
        ("s3-bucket-created", "S3BucketCreated"),
        ("root-user-used", "RootUserUsed"),
        ("iam-policy-changes", "IamPolicyChanges"),
        ("vpc", "Vpc"),
        ("a", "A"),
        ("cloudtrail-config-changes", "CloudtrailConfigChanges"),
        ("double--dash", "DoubleDash"),
        ("x9-1a", "X91a"),
    ],
)
def test_metric_name_for(watch_name, metric):
    assert _watches.metric_name_for(watch_name) == metric


# --- validation_errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "watch",
    [
        DEFAULT_WATCH,
        dict(DEFAULT_WATCH, name="a"),
        dict(DEFAULT_WATCH, name="0-starts-with-digit"),
        dict(DEFAULT_WATCH, name="a" * 63),
        dict(DEFAULT_WATCH, threshold=1, period=60, evaluation_periods=1),
        dict(DEFAULT_WATCH, threshold=0.5),
        dict(DEFAULT_WATCH, period=10),
        dict(DEFAULT_WATCH, period=20),
        dict(DEFAULT_WATCH, period=30),
        dict(DEFAULT_WATCH, period=300),
        dict(DEFAULT_WATCH, period=3600),
        dict(DEFAULT_WATCH, threshold=None, period=None, evaluation_periods=None),
    ],
)
def test_valid_watches(watch):
    assert _watches.validation_errors([watch]) == []


@pytest.mark.parametrize(
    "watch, error",
    [
        (dict(DEFAULT_WATCH, name="S3-bucket"), "watch 0 (S3-bucket): name must match"),
        (dict(DEFAULT_WATCH, name="-leading-dash"), "watch 0 (-leading-dash): name must match"),
        (dict(DEFAULT_WATCH, name="under_score"), "watch 0 (under_score): name must match"),
        (dict(DEFAULT_WATCH, name="a" * 64), f"watch 0 ({'a' * 64}): name must match"),
        (dict(DEFAULT_WATCH, name=""), "watch 0 (no name): name must match"),
        ({"pattern": CREATE_BUCKET}, "watch 0 (no name): name must match"),
        (dict(DEFAULT_WATCH, pattern=""), "watch 0 (s3-bucket-created): pattern: the pattern is empty"),
        ({"name": "s3-bucket-created"}, "watch 0 (s3-bucket-created): pattern: the pattern is empty"),
        (
            dict(DEFAULT_WATCH, pattern="{ ($.eventName = CreateBucket }"),
            "watch 0 (s3-bucket-created): pattern: unbalanced '}'",
        ),
        (dict(DEFAULT_WATCH, threshold=0), "watch 0 (s3-bucket-created): threshold must be positive"),
        (dict(DEFAULT_WATCH, threshold=-1), "watch 0 (s3-bucket-created): threshold must be positive"),
        (dict(DEFAULT_WATCH, period=0), "watch 0 (s3-bucket-created): period must be positive"),
        (dict(DEFAULT_WATCH, evaluation_periods=0), "watch 0 (s3-bucket-created): evaluation_periods must be positive"),
        (
            dict(DEFAULT_WATCH, period=45),
            "watch 0 (s3-bucket-created): period must be 10, 20, 30 or a multiple of 60 seconds",
        ),
        (
            dict(DEFAULT_WATCH, period=90),
            "watch 0 (s3-bucket-created): period must be 10, 20, 30 or a multiple of 60 seconds",
        ),
    ],
)
def test_invalid_watch(watch, error):
    errors = _watches.validation_errors([watch])
    assert len(errors) == 1, errors
    assert errors[0].startswith(error), errors


def test_duplicate_names_are_reported_with_the_index():
    errors = _watches.validation_errors([DEFAULT_WATCH, dict(DEFAULT_WATCH)])
    assert errors == ["watch 1 (s3-bucket-created): name is used twice"]


def test_every_problem_is_reported_and_names_its_watch():
    errors = _watches.validation_errors(
        [DEFAULT_WATCH, {"name": "Bad Name", "pattern": "", "threshold": 0}, {"name": "ok", "pattern": "{ x }"}]
    )
    assert len(errors) == 4, errors
    assert sum(e.startswith("watch 1 (Bad Name): ") for e in errors) == 3
    assert any(e.startswith("watch 2 (ok): pattern: a JSON pattern needs") for e in errors)


def test_empty_list_is_valid():
    assert _watches.validation_errors([]) == []


# --- desired_watches -----------------------------------------------------------------------------------------


def test_desired_watch_default_is_exactly_the_documented_alarm():
    [watch] = _watches.desired_watches([DEFAULT_WATCH], PREFIX, NAMESPACE, [TOPIC])
    assert watch["name"] == "s3-bucket-created"
    assert watch["filter"] == {
        "filterName": "trailwatch-s3-bucket-created",
        "filterPattern": CREATE_BUCKET,
        "metricTransformations": [
            {"metricName": "S3BucketCreated", "metricNamespace": NAMESPACE, "metricValue": "1", "unit": "Count"}
        ],
    }
    assert watch["alarm"] == {
        "AlarmName": "trailwatch-s3-bucket-created",
        "AlarmDescription": "TrailWatch: s3-bucket-created",
        "ActionsEnabled": True,
        "AlarmActions": [TOPIC],
        "OKActions": [],
        "InsufficientDataActions": [],
        "MetricName": "S3BucketCreated",
        "Namespace": NAMESPACE,
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
    }
    assert isinstance(watch["alarm"]["Threshold"], float)
    assert isinstance(watch["filter"]["metricTransformations"][0]["metricValue"], str)


def test_desired_watch_alarm_metric_is_the_filter_metric():
    for watch in _watches.desired_watches(
        [DEFAULT_WATCH, {"name": "root-used", "pattern": "{ $.a = 1 }", "metric_name": "RootAccountUsage"}],
        PREFIX,
        NAMESPACE,
        [TOPIC],
    ):
        transformation = watch["filter"]["metricTransformations"][0]
        assert watch["alarm"]["MetricName"] == transformation["metricName"]
        assert watch["alarm"]["Namespace"] == transformation["metricNamespace"]
        assert watch["alarm"]["AlarmName"] == watch["filter"]["filterName"]


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"metric_name": "BucketCreations"}, {"MetricName": "BucketCreations"}),
        ({"description": "A bucket was created"}, {"AlarmDescription": "A bucket was created"}),
        ({"threshold": 5}, {"Threshold": 5.0}),
        ({"period": 300}, {"Period": 300}),
        ({"evaluation_periods": 3}, {"EvaluationPeriods": 3, "DatapointsToAlarm": 3}),
    ],
)
def test_desired_watch_overrides(overrides, expected):
    [watch] = _watches.desired_watches([dict(DEFAULT_WATCH, **overrides)], PREFIX, NAMESPACE, [TOPIC])
    for field, value in expected.items():
        assert watch["alarm"][field] == value
    # The documented invariants hold whatever the overrides.
    assert watch["alarm"]["Statistic"] == "Sum"
    assert watch["alarm"]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert watch["alarm"]["TreatMissingData"] == "notBreaching"
    assert watch["alarm"]["OKActions"] == [] and watch["alarm"]["InsufficientDataActions"] == []
    assert watch["filter"]["metricTransformations"][0]["metricValue"] == "1"
    assert watch["filter"]["metricTransformations"][0]["unit"] == "Count"


def test_desired_watch_alarm_actions_are_sorted():
    topics = [f"arn:aws:sns:{REGION}:{ACCOUNT}:z", f"arn:aws:sns:{REGION}:{ACCOUNT}:a"]
    [watch] = _watches.desired_watches([DEFAULT_WATCH], PREFIX, NAMESPACE, topics)
    assert watch["alarm"]["AlarmActions"] == sorted(topics)


# --- stubbed AWS shapes --------------------------------------------------------------------------------------


def aws_filter(spec, **changes):
    """A DescribeMetricFilters entry for the filter spec."""
    found = {
        "filterName": spec["filterName"],
        "filterPattern": spec["filterPattern"],
        "metricTransformations": copy.deepcopy(spec["metricTransformations"]),
        "creationTime": 1700000000000,
        "logGroupName": LOG_GROUP,
    }
    found.update(changes)
    return found


def aws_alarm(spec, **changes):
    """A DescribeAlarms entry for the alarm spec."""
    found = dict(copy.deepcopy(spec), AlarmArn=alarm_arn(spec["AlarmName"]), StateValue="OK", Dimensions=[])
    found.update(changes)
    return found


def current_state(desired, filters=True, alarm=True, tags=None, **filter_changes):
    """The read_watches view of a watch that exists as desired (or partly)."""
    name = desired["filter"]["filterName"]
    return {
        name: {
            "filters": [dict(copy.deepcopy(desired["filter"]), **filter_changes)] if filters else [],
            "alarm": copy.deepcopy(desired["alarm"]) if alarm else None,
            "alarm_arn": alarm_arn(name) if alarm else None,
            "tags": dict(tags or {}) if alarm else {},
        }
    }


@pytest.fixture
def desired():
    return _watches.desired_watches([DEFAULT_WATCH], PREFIX, NAMESPACE, [TOPIC])


@pytest.fixture
def clients(stubbed):
    logs, logs_stub = stubbed("logs")
    cloudwatch, cw_stub = stubbed("cloudwatch")
    return logs, logs_stub, cloudwatch, cw_stub


def test_alarm_spec_round_trip(desired):
    assert alarm_spec(aws_alarm(desired[0]["alarm"])) == desired[0]["alarm"]


def test_alarm_spec_normalises_missing_actions_and_description(desired):
    raw = aws_alarm(desired[0]["alarm"])
    for field in ("OKActions", "InsufficientDataActions", "AlarmDescription"):
        del raw[field]
    raw["Threshold"] = 1
    spec = alarm_spec(raw)
    assert spec["OKActions"] == [] and spec["InsufficientDataActions"] == []
    assert spec["AlarmDescription"] == ""
    assert spec["Threshold"] == 1.0 and isinstance(spec["Threshold"], float)


def test_read_watches_of_an_up_to_date_watch_then_converge_makes_no_write_call(desired, clients):
    logs, logs_stub, cloudwatch, cw_stub = clients
    name = "trailwatch-s3-bucket-created"
    tags = {"team": "security"}
    logs_stub.add_response(
        "describe_metric_filters",
        {
            "metricFilters": [
                aws_filter(desired[0]["filter"]),
                aws_filter(desired[0]["filter"], filterName="someone-elses-filter"),
            ]
        },
        {"logGroupName": LOG_GROUP},
    )
    cw_stub.add_response(
        "describe_alarms",
        {"MetricAlarms": [aws_alarm(desired[0]["alarm"])]},
        {"AlarmNames": [name], "AlarmTypes": ["MetricAlarm"]},
    )
    cw_stub.add_response(
        "list_tags_for_resource", {"Tags": [{"Key": "team", "Value": "security"}]}, {"ResourceARN": alarm_arn(name)}
    )

    current = _watch_sync.read_watches(logs, cloudwatch, LOG_GROUP, [name])
    assert current[name]["filters"] == [desired[0]["filter"]]
    assert current[name]["alarm"] == desired[0]["alarm"]
    assert current[name]["tags"] == tags

    # Nothing more is queued: any write call would fail the test.
    _changed, after, changed = _watch_sync.ensure_watches_present(
        logs, cloudwatch, LOG_GROUP, desired, current, tags, True, check_mode=False
    )
    assert changed == []
    assert after["s3-bucket-created"]["tags"] == tags


def test_read_watches_reports_a_missing_watch(clients):
    logs, logs_stub, cloudwatch, cw_stub = clients
    name = "trailwatch-s3-bucket-created"
    logs_stub.add_response("describe_metric_filters", {"metricFilters": []}, {"logGroupName": LOG_GROUP})
    cw_stub.add_response("describe_alarms", {"MetricAlarms": []}, {"AlarmNames": [name], "AlarmTypes": ["MetricAlarm"]})
    assert _watch_sync.read_watches(logs, cloudwatch, LOG_GROUP, [name]) == {
        name: {"filters": [], "alarm": None, "alarm_arn": None, "tags": {}}
    }


def test_read_watches_on_a_missing_log_group_reads_no_filters(clients):
    logs, logs_stub, cloudwatch, cw_stub = clients
    name = "trailwatch-s3-bucket-created"
    logs_stub.add_client_error("describe_metric_filters", "ResourceNotFoundException", http_status_code=400)
    cw_stub.add_response("describe_alarms", {"MetricAlarms": []}, {"AlarmNames": [name], "AlarmTypes": ["MetricAlarm"]})
    assert _watch_sync.read_watches(logs, cloudwatch, LOG_GROUP, [name])[name]["filters"] == []


def test_unchanged_watch_makes_no_write_call(desired, clients):
    logs, _unused, cloudwatch, _unused = clients
    current = current_state(desired[0], tags={"team": "security"})
    _changed, after, changed = _watch_sync.ensure_watches_present(
        logs, cloudwatch, LOG_GROUP, desired, current, {"team": "security"}, True, check_mode=False
    )
    assert changed == []
    assert after == {
        "s3-bucket-created": {
            "filter": desired[0]["filter"],
            "alarm": desired[0]["alarm"],
            "tags": {"team": "security"},
        }
    }


def test_changed_filter_is_replaced_in_place_never_deleted_first(desired, clients, record_operations):
    """On AWS PutMetricFilter replaces a filter of the same name; a delete first would open a window without the
    watch and lose it if the put were refused (issue 12, item 7)."""
    logs, logs_stub, cloudwatch, _unused = clients
    calls = record_operations(logs)
    name = "trailwatch-s3-bucket-created"
    current = current_state(desired[0], filterPattern='{ $.eventName = "DeleteBucket" }')
    logs_stub.add_response(
        "put_metric_filter",
        {},
        {
            "logGroupName": LOG_GROUP,
            "filterName": name,
            "filterPattern": CREATE_BUCKET,
            "metricTransformations": desired[0]["filter"]["metricTransformations"],
        },
    )
    _changed, _unused, changed = _watch_sync.ensure_watches_present(
        logs, cloudwatch, LOG_GROUP, desired, current, {}, True, False
    )
    assert changed == ["s3-bucket-created"]
    assert calls == ["PutMetricFilter"]


def test_refused_put_leaves_the_old_filter_in_place(desired, clients, record_operations):
    logs, logs_stub, cloudwatch, _unused = clients
    calls = record_operations(logs)
    current = current_state(desired[0], filterPattern='{ $.eventName = "DeleteBucket" }')
    logs_stub.add_client_error("put_metric_filter", "LimitExceededException", "too many filters", 400)
    with pytest.raises(TrailWatchError):
        _watch_sync.ensure_watches_present(logs, cloudwatch, LOG_GROUP, desired, current, {}, True, False)
    assert calls == ["PutMetricFilter"]


def test_changed_filter_in_check_mode_makes_no_call(desired, clients):
    logs, _unused, cloudwatch, _unused = clients
    current = current_state(desired[0], filterPattern="{ $.x = 1 }")
    _changed, after, changed = _watch_sync.ensure_watches_present(
        logs, cloudwatch, LOG_GROUP, desired, current, {}, True, True
    )
    assert changed == ["s3-bucket-created"]
    assert after["s3-bucket-created"]["filter"] == desired[0]["filter"]


def test_new_watch_puts_filter_then_alarm_with_tags(desired, clients):
    logs, logs_stub, cloudwatch, cw_stub = clients
    current = current_state(desired[0], filters=False, alarm=False)
    logs_stub.add_response(
        "put_metric_filter",
        {},
        {
            "logGroupName": LOG_GROUP,
            "filterName": "trailwatch-s3-bucket-created",
            "filterPattern": CREATE_BUCKET,
            "metricTransformations": desired[0]["filter"]["metricTransformations"],
        },
    )
    cw_stub.add_response("put_metric_alarm", {}, dict(desired[0]["alarm"], Tags=[{"Key": "team", "Value": "security"}]))
    _changed, after, changed = _watch_sync.ensure_watches_present(
        logs, cloudwatch, LOG_GROUP, desired, current, {"team": "security"}, True, False
    )
    assert changed == ["s3-bucket-created"]
    assert after["s3-bucket-created"]["tags"] == {"team": "security"}


def test_new_watch_in_check_mode_makes_no_call(desired, clients):
    logs, _unused, cloudwatch, _unused = clients
    current = current_state(desired[0], filters=False, alarm=False)
    _changed, _unused, changed = _watch_sync.ensure_watches_present(
        logs, cloudwatch, LOG_GROUP, desired, current, {"a": "b"}, True, True
    )
    assert changed == ["s3-bucket-created"]


def test_changed_alarm_is_put_without_tags_and_tags_converge_separately(desired, clients):
    logs, _unused, cloudwatch, cw_stub = clients
    name = "trailwatch-s3-bucket-created"
    current = current_state(desired[0], tags={"old": "x", "aws:cloudformation:stack-name": "s"})
    current[name]["alarm"]["Threshold"] = 0.0  # the article's ">= 0" mistake
    cw_stub.add_response("put_metric_alarm", {}, desired[0]["alarm"])
    cw_stub.add_response(
        "tag_resource", {}, {"ResourceARN": alarm_arn(name), "Tags": [{"Key": "team", "Value": "security"}]}
    )
    cw_stub.add_response("untag_resource", {}, {"ResourceARN": alarm_arn(name), "TagKeys": ["old"]})
    _changed, after, changed = _watch_sync.ensure_watches_present(
        logs, cloudwatch, LOG_GROUP, desired, current, {"team": "security"}, True, False
    )
    assert changed == ["s3-bucket-created"]
    assert after["s3-bucket-created"]["tags"] == {"team": "security", "aws:cloudformation:stack-name": "s"}


def test_only_tags_differ(desired, clients):
    logs, _unused, cloudwatch, cw_stub = clients
    name = "trailwatch-s3-bucket-created"
    current = current_state(desired[0], tags={})
    cw_stub.add_response("tag_resource", {}, {"ResourceARN": alarm_arn(name), "Tags": [{"Key": "a", "Value": "b"}]})
    _changed, _unused, changed = _watch_sync.ensure_watches_present(
        logs, cloudwatch, LOG_GROUP, desired, current, {"a": "b"}, True, False
    )
    assert changed == ["s3-bucket-created"]


def test_absent_deletes_only_what_exists(clients, record_operations):
    logs, logs_stub, cloudwatch, cw_stub = clients
    logs_calls = record_operations(logs)
    cw_calls = record_operations(cloudwatch)
    empty = {"filters": [], "alarm": None, "alarm_arn": None, "tags": {}}
    current = {
        "trailwatch-only-filter": dict(empty, filters=[{"filterName": "trailwatch-only-filter"}]),
        "trailwatch-only-alarm": dict(
            empty, alarm={"AlarmName": "trailwatch-only-alarm"}, alarm_arn=alarm_arn("trailwatch-only-alarm")
        ),
        "trailwatch-both": dict(
            empty,
            filters=[{"filterName": "trailwatch-both"}],
            alarm={"AlarmName": "x"},
            alarm_arn=alarm_arn("trailwatch-both"),
        ),
        "trailwatch-missing": dict(empty),
    }
    logs_stub.add_response("delete_metric_filter", {}, {"logGroupName": LOG_GROUP, "filterName": "trailwatch-both"})
    logs_stub.add_response(
        "delete_metric_filter", {}, {"logGroupName": LOG_GROUP, "filterName": "trailwatch-only-filter"}
    )
    cw_stub.add_response("delete_alarms", {}, {"AlarmNames": ["trailwatch-both", "trailwatch-only-alarm"]})
    removed = _watch_sync.ensure_watches_absent(logs, cloudwatch, LOG_GROUP, current, check_mode=False).parts
    assert removed == ["trailwatch-both", "trailwatch-only-alarm", "trailwatch-only-filter"]
    assert logs_calls == ["DeleteMetricFilter", "DeleteMetricFilter"]
    assert cw_calls == ["DeleteAlarms"]


def test_absent_when_nothing_exists_makes_no_call(clients):
    logs, _unused, cloudwatch, _unused = clients
    current = {"trailwatch-missing": {"filters": [], "alarm": None, "alarm_arn": None, "tags": {}}}
    assert _watch_sync.ensure_watches_absent(logs, cloudwatch, LOG_GROUP, current, check_mode=False).parts == []


def test_absent_in_check_mode_makes_no_call(desired, clients):
    logs, _unused, cloudwatch, _unused = clients
    current = current_state(desired[0])
    removed = _watch_sync.ensure_watches_absent(logs, cloudwatch, LOG_GROUP, current, check_mode=True).parts
    assert removed == ["trailwatch-s3-bucket-created"]


def test_absent_ignores_a_filter_that_is_already_gone(desired, clients):
    logs, logs_stub, cloudwatch, cw_stub = clients
    current = current_state(desired[0])
    logs_stub.add_client_error("delete_metric_filter", "ResourceNotFoundException", http_status_code=400)
    cw_stub.add_response("delete_alarms", {}, {"AlarmNames": ["trailwatch-s3-bucket-created"]})
    assert _watch_sync.ensure_watches_absent(logs, cloudwatch, LOG_GROUP, current, check_mode=False).parts == [
        "trailwatch-s3-bucket-created"
    ]
