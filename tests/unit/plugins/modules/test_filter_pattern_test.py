"""trailwatch.aws.filter_pattern_test, run the way Ansible runs it: a Python process reading its arguments from a
JSON file ({"ANSIBLE_MODULE_ARGS": ...}) and answering one JSON document on stdout."""

import importlib
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

# tests/unit/plugins/conftest.py makes ansible_collections.trailwatch importable; pytest skips it when started from
# inside this directory (it only loads conftests below the rootdir), so run it here too (it is idempotent).
runpy.run_path(str(Path(__file__).resolve().parents[1] / "conftest.py"))
MODULE = Path(__file__).resolve().parents[4] / "plugins" / "modules" / "filter_pattern_test.py"
ROOT_RECORD = {
    "eventVersion": "1.09",
    "userIdentity": {"type": "Root", "principalId": "123456789012", "arn": "arn:aws:iam::123456789012:root"},
    "eventName": "ConsoleLogin",
    "eventType": "AwsConsoleSignIn",
}
ROOT_PATTERN = '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}'


def collections_root():
    """The directory holding ansible_collections/trailwatch/aws, as the plugins conftest made it importable."""
    package = importlib.import_module("ansible_collections.trailwatch.aws")
    return str(Path(list(package.__path__)[0]).parents[2])


def run_module(tmp_path, check_mode=False, **args):
    if check_mode:
        args["_ansible_check_mode"] = True
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([collections_root(), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, str(MODULE), str(args_file)], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_a_match(tmp_path):
    messages = [json.dumps(ROOT_RECORD), json.dumps(dict(ROOT_RECORD, eventType="AwsServiceEvent"))]
    rc, result = run_module(tmp_path, filter_pattern=ROOT_PATTERN, log_event_messages=messages)
    assert rc == 0
    assert result["changed"] is False
    assert result["matched"] is True
    assert result["matches"] == [{"eventNumber": 1, "eventMessage": messages[0], "extractedValues": {}}]


def test_no_match(tmp_path):
    messages = [json.dumps(dict(ROOT_RECORD, userIdentity={"type": "IAMUser"})), "not JSON"]
    rc, result = run_module(tmp_path, filter_pattern=ROOT_PATTERN, log_event_messages=messages)
    assert rc == 0
    assert result["changed"] is False
    assert result["matched"] is False
    assert result["matches"] == []


def test_no_messages(tmp_path):
    rc, result = run_module(tmp_path, filter_pattern="ERROR", log_event_messages=[])
    assert rc == 0
    assert (result["matched"], result["matches"]) == (False, [])


def test_space_delimited_values_are_extracted(tmp_path):
    line = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'
    rc, result = run_module(
        tmp_path, filter_pattern="[ip, ..., status_code = 4*, bytes > 1000]", log_event_messages=[line]
    )
    assert rc == 0
    assert result["matches"][0]["extractedValues"] == {
        "$ip": "127.0.0.1",
        "$2": "-",
        "$3": "frank",
        "$4": "10/Oct/2000:13:25:15 -0700",
        "$5": "GET /index.html HTTP/1.0",
        "$status_code": "404",
        "$bytes": "1534",
    }


def test_wildcard_selector_and_rest_of_line(tmp_path):
    policy = {
        "eventName": "PutBucketPolicy",
        "requestParameters": {"bucketPolicy": {"Statement": [{"Principal": "*"}]}},
    }
    rc, result = run_module(
        tmp_path,
        filter_pattern='{ ($.eventName = "PutBucketPolicy") && '
        '($.requestParameters.bucketPolicy.Statement[*].Principal = "*") }',
        log_event_messages=[json.dumps(policy)],
    )
    assert (rc, result["matched"]) == (0, True)
    rc, result = run_module(
        tmp_path,
        filter_pattern="[w1=ERROR, w2]",
        log_event_messages=["ERROR 09/25/2014 12:00:02 Failed to process request"],
    )
    assert rc == 0
    assert result["matches"][0]["extractedValues"] == {
        "$w1": "ERROR",
        "$w2": "09/25/2014 12:00:02 Failed to process request",
    }


def test_check_mode_gives_the_same_answer(tmp_path):
    rc, result = run_module(tmp_path, check_mode=True, filter_pattern="?ERROR ?WARN", log_event_messages=["WARN x"])
    assert rc == 0
    assert result["changed"] is False
    assert [m["eventNumber"] for m in result["matches"]] == [1]


def test_empty_pattern_matches_everything_as_for_cloudwatch_logs(tmp_path):
    rc, result = run_module(tmp_path, filter_pattern="", log_event_messages=["a", ""])
    assert rc == 0
    assert [m["eventNumber"] for m in result["matches"]] == [1, 2]


@pytest.mark.parametrize(
    "pattern, message, position",
    [
        ("{ $.a = 1 ))", "filter_pattern: unbalanced ')' at position 11: '{' at position 1 is still open", 11),
        ('{ $.eventName = "CreateBucket }', "filter_pattern: unclosed quote at position 17", 17),
        (
            "{ $.a[*].b[*] = 1 }",
            "filter_pattern: a second wildcard in one selector at position 11: "
            "CloudWatch Logs allows one wildcard per property selector",
            11,
        ),
        (
            "x" * 1025,
            "filter_pattern: the pattern goes past the 1024 characters CloudWatch Logs accepts "
            "at position 1025: it has 1025",
            1025,
        ),
    ],
)
def test_invalid_pattern_fails_with_the_position(tmp_path, pattern, message, position):
    rc, result = run_module(tmp_path, filter_pattern=pattern, log_event_messages=["{}"])
    assert rc != 0
    assert result["failed"] is True
    assert result["msg"] == message
    assert result["position"] == position
    assert "exception" not in result


def test_missing_option_fails_cleanly(tmp_path):
    rc, result = run_module(tmp_path, filter_pattern="ERROR")
    assert rc != 0
    assert result["failed"] is True
    assert "log_event_messages" in result["msg"]
