"""Bad input fails before any AWS call, and the message names the variable (issue: foundation, bad input)."""

import json

import pytest

CASES = [
    ("invalid e-mail", {"trailwatch_notify_emails": ["not-an-address"]}, "trailwatch_notify_emails"),
    ("e-mail without domain dot", {"trailwatch_notify_emails": ["me@localhost"]}, "trailwatch_notify_emails"),
    ("name with capitals", {"trailwatch_name": "TrailWatch"}, "trailwatch_name"),
    ("name too short", {"trailwatch_name": "tw"}, "trailwatch_name"),
    ("name too long", {"trailwatch_name": "t" * 31}, "trailwatch_name"),
    ("name starting with a digit", {"trailwatch_name": "1trail"}, "trailwatch_name"),
    ("empty watch pattern", {"trailwatch_watches": [{"name": "empty", "pattern": ""}]}, "trailwatch_watches"),
    (
        "unbalanced watch pattern",
        {"trailwatch_watches": [{"name": "open", "pattern": '{ ($.eventName = "CreateBucket") '}]},
        "trailwatch_watches",
    ),
    (
        "unclosed quote in pattern",
        {"trailwatch_watches": [{"name": "quote", "pattern": '{ $.eventName = "CreateBucket }'}]},
        "trailwatch_watches",
    ),
    (
        "sixth pattern with a regular expression in the log group",
        {"trailwatch_watches": [{"name": f"re{n}", "pattern": "{ $.eventName = %^Delete% }"} for n in range(6)]},
        "watch 5 (re5): pattern: a log group holds at most 5 filter patterns with a regular expression",
    ),
    (
        "no watches",
        {"trailwatch_watches": [{"name": "s3-bucket-created", "enabled": False}], "trailwatch_watch_presets": []},
        "trailwatch_watches",
    ),
    ("unknown preset", {"trailwatch_watch_presets": ["nist"]}, "trailwatch_watch_presets"),
    ("new watch without pattern", {"trailwatch_watches": [{"name": "mine"}]}, "trailwatch_watches"),
    (
        "watch enabled not a boolean",
        {"trailwatch_watches": [{"name": "vpc-changed", "enabled": "maybe"}], "trailwatch_watch_presets": ["cis"]},
        "trailwatch_watches",
    ),
    ("retention CloudWatch Logs refuses", {"trailwatch_log_retention_days": 100}, "trailwatch_log_retention_days"),
    ("retention of the wrong type", {"trailwatch_log_retention_days": "a year"}, "trailwatch_log_retention_days"),
    ("unknown read/write type", {"trailwatch_read_write_type": "Everything"}, "trailwatch_read_write_type"),
    ("unknown state", {"trailwatch_state": "gone"}, "trailwatch_state"),
    ("subscription without endpoint", {"trailwatch_subscriptions": [{"protocol": "sqs"}]}, "trailwatch_subscriptions"),
    ("AWS managed key alias", {"trailwatch_kms_key_alias": "alias/aws/s3"}, "trailwatch_kms_key_alias"),
]


@pytest.mark.integration
@pytest.mark.parametrize("extra_vars, variable", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_before_any_aws_call(run_playbook, extra_vars, variable):
    proc, calls = run_playbook("playbooks/site.yml", json.dumps(extra_vars))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert variable in output, output
    assert "Traceback" not in output
    assert calls["total"] == 0, calls["operations"]
