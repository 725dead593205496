"""Every public variable of the trail, alerts and notifier roles refuses bad input before any AWS call.

A table of invalid values (wrong type, out of range, malformed names and ARNs, conflicting options) for the
variables tests/integration/test_bad_input.py does not cover. Each case runs playbooks/site.yml against the
moto_server: the run fails, the output names every variable of the case, shows no traceback, and the request
recorder saw no request at all. Independent problems the same role reports at once share one run.
"""

import json

import pytest

pytestmark = pytest.mark.integration

NOTIFIER = {"trailwatch_notifier": True}
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:corp-alerts"

# Product bugs this table found; strict, so the test turns red once they are fixed and the mark can go.


def case(case_id, extra_vars, *variables, marks=()):
    return pytest.param(extra_vars, variables, id=case_id, marks=marks)


CASES = [
    # trail role: its validate task reports every problem at once, so several independent ones share a run.
    case(
        "trail names malformed",
        {
            "trailwatch_region": "eu-west",
            "trailwatch_trail_name": "-x",
            "trailwatch_log_bucket_name": "Bad_Bucket",
            "trailwatch_log_group_name": "bad group name",
            "trailwatch_cloudtrail_role_name": "role with spaces",
            "trailwatch_kms_key_alias": "trailwatch-key",
        },
        "trailwatch_region",
        "trailwatch_trail_name",
        "trailwatch_log_bucket_name",
        "trailwatch_log_group_name",
        "trailwatch_cloudtrail_role_name",
        "trailwatch_kms_key_alias",
    ),
    case("region in capitals", {"trailwatch_region": "EU-WEST-1"}, "trailwatch_region"),
    case("trail name too long", {"trailwatch_trail_name": "t" * 129}, "trailwatch_trail_name"),
    case(
        "trail options conflicting or unknown",
        {
            "trailwatch_exclude_management_event_sources": ["s3.amazonaws.com"],
            "trailwatch_purge_data": "maybe",
            "trailwatch_log_bucket_create": False,
            "trailwatch_kms_key_create": False,
        },
        "trailwatch_exclude_management_event_sources",
        "trailwatch_purge_data",
        "trailwatch_log_bucket_name",
        "trailwatch_kms_key_arn",
    ),
    case(
        "existing key given as a bare key id",
        {"trailwatch_kms_key_create": False, "trailwatch_kms_key_arn": "1234abcd-12ab-34cd-56ef-1234567890ab"},
        "trailwatch_kms_key_arn",
    ),
    case(
        "existing key ARN of another service",
        {"trailwatch_kms_key_create": False, "trailwatch_kms_key_arn": TOPIC_ARN},
        "trailwatch_kms_key_arn",
    ),
    case(
        "existing bucket name empty",
        {"trailwatch_log_bucket_create": False, "trailwatch_log_bucket_name": "", "trailwatch_kms_key_arn": KEY_ARN},
        "trailwatch_log_bucket_name",
    ),
    case("tags a list", {"trailwatch_tags": ["team", "audit"]}, "trailwatch_tags"),
    case("tags a plain word", {"trailwatch_tags": "audit"}, "trailwatch_tags"),
    case("read/write type ReadOnly", {"trailwatch_read_write_type": "ReadOnly"}, "trailwatch_read_write_type"),
    case(
        "excluded sources not a list",
        {"trailwatch_exclude_management_event_sources": {"kms.amazonaws.com": True}},
        "trailwatch_exclude_management_event_sources",
    ),
    case("purge data a number", {"trailwatch_purge_data": 2}, "trailwatch_purge_data"),
    # The argument spec reports every type and choice error at once as well.
    case(
        "trail switches not booleans",
        {
            "trailwatch_trail_create": "maybe",
            "trailwatch_log_bucket_create": "maybe",
            "trailwatch_kms_key_create": "maybe",
            "trailwatch_organization_trail": "maybe",
        },
        "trailwatch_trail_create",
        "trailwatch_log_bucket_create",
        "trailwatch_kms_key_create",
        "trailwatch_organization_trail",
    ),
    case("retention zero", {"trailwatch_log_retention_days": 0}, "trailwatch_log_retention_days"),
    # alerts role: likewise all problems at once.
    case(
        "alert names malformed",
        {"trailwatch_topic_name": "alerts.fifo topic", "trailwatch_topic_arn": "arn:aws:sqs:eu-west-1:123456789012:q"},
        "trailwatch_topic_name",
        "trailwatch_topic_arn",
    ),
    case(
        "topic ARN without account", {"trailwatch_topic_arn": "arn:aws:sns:eu-west-1::alerts"}, "trailwatch_topic_arn"
    ),
    case("topic ARN a plain name", {"trailwatch_topic_arn": "corp-alerts"}, "trailwatch_topic_arn"),
    case("e-mails a mapping", {"trailwatch_notify_emails": {"me": "me@example.com"}}, "trailwatch_notify_emails"),
    case(
        "subscription with unknown protocol",
        {"trailwatch_subscriptions": [{"protocol": "pigeon", "endpoint": "roof"}]},
        "trailwatch_subscriptions",
    ),
    case(
        "subscription with unknown option",
        {"trailwatch_subscriptions": [{"protocol": "sqs", "endpoint": "arn:aws:sqs:eu-west-1:123456789012:q", "x": 1}]},
        "trailwatch_subscriptions",
    ),
    case("subscriptions a string", {"trailwatch_subscriptions": "sqs"}, "trailwatch_subscriptions"),
    case(
        "metric namespace a list",
        {"trailwatch_metric_namespace": ["TrailWatch"]},
        "trailwatch_metric_namespace",
    ),
    case(
        "metric namespace a mapping",
        {"trailwatch_metric_namespace": {"a": 1}},
        "trailwatch_metric_namespace",
    ),
    case("presets a mapping", {"trailwatch_watch_presets": {"cis": True}}, "trailwatch_watch_presets"),
    case(
        "watch threshold zero",
        {"trailwatch_watches": [{"name": "zero", "pattern": '{ $.eventName = "X" }', "threshold": 0}]},
        "trailwatch_watches",
    ),
    case(
        "watch threshold negative",
        {"trailwatch_watches": [{"name": "neg", "pattern": '{ $.eventName = "X" }', "threshold": -1}]},
        "trailwatch_watches",
    ),
    case(
        "watch period 45",
        {"trailwatch_watches": [{"name": "odd", "pattern": '{ $.eventName = "X" }', "period": 45}]},
        "trailwatch_watches",
    ),
    case(
        "watch period zero",
        {"trailwatch_watches": [{"name": "none", "pattern": '{ $.eventName = "X" }', "period": 0}]},
        "trailwatch_watches",
    ),
    case(
        "watch threshold not a number",
        {"trailwatch_watches": [{"name": "word", "pattern": '{ $.eventName = "X" }', "threshold": "one"}]},
        "trailwatch_watches",
    ),
    case(
        "duplicated watch name",
        {
            "trailwatch_watch_presets": [],
            "trailwatch_watches": [
                {"name": "twice", "pattern": '{ $.eventName = "A" }'},
                {"name": "twice", "pattern": '{ $.eventName = "B" }'},
            ],
        },
        "trailwatch_watches",
    ),
    case(
        "watch name with capitals",
        {"trailwatch_watches": [{"name": "Bucket_Made", "pattern": '{ $.eventName = "X" }'}]},
        "trailwatch_watches",
    ),
    case(
        "watch without name",
        {"trailwatch_watches": [{"pattern": '{ $.eventName = "X" }'}]},
        "trailwatch_watches",
    ),
    case("watches a string", {"trailwatch_watches": "s3-bucket-created"}, "trailwatch_watches"),
    # notifier role (only validated with trailwatch_notifier=true).
    case(
        "notifier settings out of range",
        dict(NOTIFIER, trailwatch_lock_days=0, trailwatch_notifier_log_retention_days=100),
        "trailwatch_lock_days",
        "trailwatch_notifier_log_retention_days",
    ),
    case(
        "notifier choices and switches invalid",
        dict(
            NOTIFIER,
            trailwatch_notify_language="fr",
            trailwatch_lock_mode="NONE",
            trailwatch_tag_new_buckets="maybe",
            trailwatch_lock_link="maybe",
        ),
        "trailwatch_notify_language",
        "trailwatch_lock_mode",
        "trailwatch_tag_new_buckets",
        "trailwatch_lock_link",
    ),
    case("lock days above 36500", dict(NOTIFIER, trailwatch_lock_days=36501), "trailwatch_lock_days"),
    case(
        "lock function stopped by a zero reservation",
        dict(NOTIFIER, trailwatch_lock_reserved_concurrency=0),
        "trailwatch_lock_reserved_concurrency",
    ),
    case("lock days a word", dict(NOTIFIER, trailwatch_lock_days="month"), "trailwatch_lock_days"),
    case(
        "notifier retention a word",
        dict(NOTIFIER, trailwatch_notifier_log_retention_days="year"),
        "trailwatch_notifier_log_retention_days",
    ),
]


@pytest.mark.parametrize("extra_vars, variables", CASES)
def test_bad_input_fails_before_any_aws_call(run_playbook, extra_vars, variables):
    proc, calls = run_playbook("playbooks/site.yml", json.dumps(extra_vars))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    missing = [v for v in variables if v not in output]
    assert not missing, f"not named: {missing}\n{output}"
    assert "Traceback" not in output, output
    assert calls["total"] == 0, calls["operations"]
