"""Every way into TrailWatch checks all the input it is given before its first write (issue 14).

Each case runs a playbook against the moto_server with its request recorder: the run fails, names the variable,
shows no traceback and no argument-spec dump, and the recorder saw no write request (reads such as
GetCallerIdentity may happen before a role starts; nothing is created). The entry points: site.yml, the roles
included one by one as in the README's org-baseline section (without its validate step), and the validate entry
point spelled with its file name. Input that used to reach AWS (reserved or oversized tags, a region botocore does
not know) is refused the same way. key=value extra vars (`-e name=value`) for list, mapping and boolean variables
are converted the way the argument specs declare them.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import moto_stand

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ENTRY_POINTS = {
    "site.yml": "playbooks/site.yml",
    "roles one by one": "tests/integration/playbooks/roles_one_by_one.yml",
    "tasks_from: validate.yml": "tests/integration/playbooks/validate_spelled_yml.yml",
    "doctor.yml": "playbooks/doctor.yml",
    "drill.yml": "playbooks/drill.yml",
}
WATCH = '{ $.eventName = "CreateBucket" }'
# Each refused before the first write on every entry point; the first four used to fail only when the alerts role
# started, after the trail role's writes, the last four reached AWS.
BAD_INPUT = {
    "watch threshold 0": ({"trailwatch_watches": [{"name": "zero", "pattern": WATCH, "threshold": 0}]}, "threshold"),
    "watch name with a space": ({"trailwatch_watches": [{"name": "my watch", "pattern": WATCH}]}, "name must match"),
    "watch period 45": ({"trailwatch_watches": [{"name": "odd", "pattern": WATCH, "period": 45}]}, "period"),
    "pattern over 1024 characters": (
        {"trailwatch_watches": [{"name": "long", "pattern": '{ $.eventName = "' + "x" * 1100 + '" }'}]},
        "1024",
    ),
    "tag key with aws: prefix": ({"trailwatch_tags": {"aws:owner": "x"}}, "aws:"),
    "tag value of 300 characters": ({"trailwatch_tags": {"owner": "x" * 300}}, "more than 256"),
    "tag key with a comma": ({"trailwatch_tags": {"cost,center": "1"}}, "allowed are"),
    "region botocore does not know": ({"trailwatch_region": "xx-nowhere-9"}, "xx-nowhere-9"),
    "subscription protocol unknown": (
        {"trailwatch_subscriptions": [{"protocol": "pigeon", "endpoint": "roof"}]},
        "pigeon",
    ),
}


def _play(endpoint, playbook, *args, env=None):
    """ansible-playbook PLAYBOOK ARGS with every request recorded: (completed process, recorded calls)."""
    moto_stand.record_start(endpoint)
    proc = subprocess.run(
        [str(BIN / "ansible-playbook"), str(REPO / playbook), *args],
        cwd=REPO,
        env=env or moto_stand.playbook_env(endpoint),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return proc, moto_stand.record_stop(endpoint)


@pytest.fixture
def endpoint(moto_endpoint):
    moto_stand.reset(moto_endpoint)
    return moto_endpoint


# Every bad input on the hardest path (roles one by one, no validate step); two on each other entry point.
CASES = [("roles one by one", case) for case in BAD_INPUT] + [
    ("site.yml", "watch threshold 0"),
    ("site.yml", "tag key with aws: prefix"),
    ("tasks_from: validate.yml", "subscription protocol unknown"),
    ("tasks_from: validate.yml", "region botocore does not know"),
    ("doctor.yml", "watch period 45"),
    ("doctor.yml", "region botocore does not know"),
    ("drill.yml", "watch name with a space"),
]


@pytest.mark.parametrize("entry, case", CASES, ids=[f"{entry}: {case}" for entry, case in CASES])
def test_bad_input_is_refused_before_the_first_write(endpoint, entry, case):
    extra_vars, expected = BAD_INPUT[case]
    proc, calls = _play(endpoint, ENTRY_POINTS[entry], "-e", json.dumps(extra_vars))
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert calls["writes"] == 0, calls["write_operations"]
    variable = next(iter(extra_vars))
    assert f"{variable}" in output and expected in output, output
    assert "Traceback" not in output and "argument_spec_data" not in output, output


def test_a_bad_argument_gets_one_line_not_the_argument_spec(endpoint):
    proc, calls = _play(endpoint, "playbooks/site.yml", "-e", "trailwatch_log_retention_days=100")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "trailwatch_log_retention_days must be one of 1, 3, 5" in output
    assert "argument_spec_data" not in output and "Origin: <unknown>" not in output, output
    assert len(output) < 3000, output
    assert calls["total"] == 0, calls["operations"]


def test_key_value_extra_vars_are_converted_like_the_argument_spec(endpoint):
    """-e name=value: a list from one value or a comma-separated text, a mapping from key=value pairs, `on` is true."""
    proc, _calls = _play(
        endpoint,
        "playbooks/site.yml",
        "--check",
        "-e",
        "trailwatch_watch_presets=s3_bucket_created,platform",
        "-e",
        "trailwatch_notify_emails=me@example.com",
        "-e",
        "trailwatch_tags=team=audit,cost-center=42",
        "-e",
        'trailwatch_exclude_management_event_sources=["kms.amazonaws.com"]',
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "subscribers  me@example.com" in output, output
    for watch in ("s3-bucket-created", "s3-bucket-deleted", "s3-public-access-block-removed", "cloudtrail-stopped"):
        assert f"watch:{watch}" in output, output

    proc, calls = _play(endpoint, "playbooks/teardown.yml", "-e", "trailwatch_purge_data=on")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc, calls = _play(endpoint, "playbooks/teardown.yml", "-e", "trailwatch_purge_data=maybe")
    assert proc.returncode != 0 and "trailwatch_purge_data must be true or false (got 'maybe')" in proc.stdout
    assert calls["total"] == 0


def test_a_list_variable_given_a_mapping_says_how_to_pass_a_list(endpoint):
    proc, calls = _play(endpoint, "playbooks/site.yml", "-e", '{"trailwatch_notify_emails": {"me": "me@example.com"}}')
    assert proc.returncode != 0
    assert "trailwatch_notify_emails must be a list" in proc.stdout
    assert (
        'pass it as -e trailwatch_notify_emails=a,b or -e \'{"trailwatch_notify_emails": ["a", "b"]}\'' in proc.stdout
    )
    assert calls["total"] == 0


def test_check_mode_on_an_empty_account_says_what_would_be_created(endpoint):
    proc, calls = _play(endpoint, "playbooks/site.yml", "--check")
    output = proc.stdout
    assert proc.returncode == 0, output + proc.stderr
    assert calls["writes"] == 0, calls["write_operations"]
    assert "CHECK MODE, nothing was changed" in output
    assert "would create kms_key, s3_bucket, log_group, role, trail, topic, watch:s3-bucket-created" in output
    assert "log group    aws-cloudtrail-logs-trailwatch  (would be created)" in output


def test_teardown_names_only_what_is_there_and_a_scheduled_key_as_scheduled(endpoint):
    proc, _calls = _play(endpoint, "playbooks/teardown.yml")
    assert proc.returncode == 0, proc.stdout
    assert "removed        nothing (already absent)" in proc.stdout
    assert "kept           nothing" in proc.stdout, proc.stdout  # no notifier_log_groups, no log data: none exists

    proc, _calls = _play(endpoint, "playbooks/site.yml")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.count("skipping:") <= 1, proc.stdout  # the tasks of the other state are not even listed
    proc, _calls = _play(endpoint, "playbooks/teardown.yml", "-e", "trailwatch_purge_data=true")
    assert proc.returncode == 0, proc.stdout
    assert "removed        topic, watch:s3-bucket-created, trail, role, log_group, s3_bucket" in proc.stdout
    assert "scheduled      kms_key for deletion" in proc.stdout, proc.stdout
    assert "kept           nothing" in proc.stdout, proc.stdout


def test_the_result_of_one_role_included_twice_is_that_of_its_last_run(endpoint):
    proc, _calls = _play(endpoint, "tests/integration/playbooks/roles_one_by_one.yml")
    assert proc.returncode == 0, proc.stdout
    proc, _calls = _play(
        endpoint,
        "tests/integration/playbooks/roles_one_by_one.yml",
        "-e",
        '{"trailwatch_watch_presets": ["s3_bucket_created", "platform"]}',
    )
    assert proc.returncode == 0, proc.stdout
    # One play includes the alerts role twice: the platform watches go, then come back.
    proc, _calls = _play(endpoint, "tests/integration/playbooks/alerts_twice.yml")
    assert proc.returncode == 0, proc.stdout
    platform = ["cloudtrail-stopped", "s3-bucket-deleted", "s3-public-access-block-removed"]
    removed = [f"removed:trailwatch-{w}" for w in platform]
    created = [f"watch:{w}" for w in platform]
    assert f"first run changed {removed}" in proc.stdout, proc.stdout
    assert f"second run changed {created}" in proc.stdout, proc.stdout
