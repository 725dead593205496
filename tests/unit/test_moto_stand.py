"""Tests for tests/helpers/moto_stand.py (imported via tests/unit/conftest.py)."""

import base64
import json
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import moto_stand
import pytest

HELPER = moto_stand.__file__
BASE = "http://127.0.0.1:5000"


def sigv4(service):
    return {
        "Authorization": (
            f"AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=abc"
        )
    }


def record(method, path, headers=None, body="", body_encoded=False):
    return {
        "method": method,
        "url": BASE + path,
        "headers": headers or {},
        "body": body,
        "body_encoded": body_encoded,
    }


def b64(text):
    return base64.b64encode(text.encode()).decode("ascii")


FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

CLASSIFY_CASES = [
    # JSON protocols: X-Amz-Target
    pytest.param(
        record(
            "POST",
            "/",
            {"X-Amz-Target": "Logs_20140328.DescribeLogGroups"},
            b64("{}"),
            True,
        ),
        ("logs:DescribeLogGroups", False),
        id="json-logs-read",
    ),
    pytest.param(
        record("POST", "/", {"X-Amz-Target": "Logs_20140328.PutRetentionPolicy"}),
        ("logs:PutRetentionPolicy", True),
        id="json-logs-write",
    ),
    pytest.param(
        record(
            "POST",
            "/",
            {"X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.GetTrail"},
        ),
        ("cloudtrail:GetTrail", False),
        id="json-cloudtrail-read",
    ),
    pytest.param(
        record("POST", "/", {"X-Amz-Target": "TrentService.DescribeKey"}),
        ("kms:DescribeKey", False),
        id="json-kms-read",
    ),
    pytest.param(
        record("POST", "/", [("x-amz-target", "TrentService.CreateKey")]),
        ("kms:CreateKey", True),
        id="json-kms-write-header-pairs-lowercase",
    ),
    pytest.param(
        record(
            "POST",
            "/",
            {
                "X-Amz-Target": "GraniteServiceVersion20100801.DescribeAlarms",
                **sigv4("monitoring"),
            },
        ),
        ("cloudwatch:DescribeAlarms", False),
        id="json-cloudwatch-signing-name-alias",
    ),
    # Query protocol: Action= in the form body
    pytest.param(
        record("POST", "/", FORM, "Action=GetCallerIdentity&Version=2011-06-15"),
        ("sts:GetCallerIdentity", False),
        id="query-body-str",
    ),
    pytest.param(
        record("POST", "/", {}, b"Action=CreateUser&Version=2010-05-08&UserName=u"),
        ("iam:CreateUser", True),
        id="query-body-bytes",
    ),
    pytest.param(
        record("POST", "/", FORM, b64("Action=CreateTopic&Version=2010-03-31&Name=t"), True),
        ("sns:CreateTopic", True),
        id="query-body-base64-encoded-flag",
    ),
    pytest.param(
        record("POST", "/", FORM, b64("Action=ListTopics&Version=2010-03-31")),
        ("sns:ListTopics", False),
        id="query-body-base64-without-flag",
    ),
    pytest.param(
        record("POST", "/", {**FORM, **sigv4("iam")}, "Action=ListUsers&Version=2010-05-08"),
        ("iam:ListUsers", False),
        id="query-service-from-sigv4",
    ),
    pytest.param(
        record("POST", "/", FORM, "Action=ListWidgets&Version=1999-01-01"),
        ("ListWidgets", False),
        id="query-unknown-service",
    ),
    pytest.param(
        record("GET", "/?Action=DescribeInstances&Version=2016-11-15"),
        ("ec2:DescribeInstances", False),
        id="query-action-in-url",
    ),
    # smithy rpc-v2-cbor: /service/<Service>/operation/<Name>
    pytest.param(
        record(
            "POST",
            "/service/GraniteServiceVersion20100801/operation/DescribeAlarms",
            {},
            b"\xa0",
        ),
        ("cloudwatch:DescribeAlarms", False),
        id="cbor-read",
    ),
    pytest.param(
        record(
            "POST",
            "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm",
            sigv4("monitoring"),
            b64("\xbf\xff"),
            True,
        ),
        ("cloudwatch:PutMetricAlarm", True),
        id="cbor-write",
    ),
    # S3 REST: method + sub-resource
    pytest.param(record("GET", "/"), ("s3:GET", False), id="s3-get-no-subresource"),
    pytest.param(record("GET", "/bucket?policy"), ("s3:GET?policy", False), id="s3-get-policy"),
    pytest.param(
        record("GET", "/bucket?list-type=2&encoding-type=url"),
        ("s3:GET?list-type", False),
        id="s3-get-list-objects-v2",
    ),
    pytest.param(record("HEAD", "/bucket"), ("s3:HEAD", False), id="s3-head"),
    pytest.param(
        record("HEAD", "/bucket/key?versionId=3"),
        ("s3:HEAD?versionId", False),
        id="s3-head-sub",
    ),
    pytest.param(record("PUT", "/bucket", sigv4("s3")), ("s3:PUT", True), id="s3-put"),
    pytest.param(
        record("PUT", "/bucket?versioning", {}, b64("<VersioningConfiguration/>"), True),
        ("s3:PUT?versioning", True),
        id="s3-put-versioning",
    ),
    pytest.param(record("DELETE", "/bucket/key"), ("s3:DELETE", True), id="s3-delete"),
    pytest.param(
        record("DELETE", "/bucket?tagging"),
        ("s3:DELETE?tagging", True),
        id="s3-delete-tagging",
    ),
    pytest.param(
        record("POST", "/bucket?delete"),
        ("s3:POST?delete", True),
        id="s3-post-delete-objects",
    ),
    pytest.param(
        record("GET", "/bucket/key?x-id=GetObject"),
        ("s3:GetObject", False),
        id="s3-x-id",
    ),
    pytest.param(
        record(
            "PUT",
            "/bucket/key",
            {"Content-Type": "text/plain"},
            "Action=DeleteEverything",
        ),
        ("s3:PUT", True),
        id="s3-object-body-is-not-a-query-action",
    ),
    pytest.param(record("GET", "/bucket", {}, None), ("s3:GET", False), id="s3-null-body"),
    # moto's own API is ignored
    pytest.param(record("POST", "/moto-api/reset"), (None, False), id="moto-api-reset"),
    pytest.param(record("GET", "/moto-api/data.json"), (None, False), id="moto-api-data"),
]


@pytest.mark.parametrize(("rec", "expected"), CLASSIFY_CASES)
def test_classify_request(rec, expected):
    assert moto_stand.classify_request(rec) == expected


@pytest.mark.parametrize(
    ("operation", "is_read"),
    [
        ("GetCallerIdentity", True),
        ("GetBucketPolicy", True),
        ("ListTagsForResource", True),
        ("DescribeAlarms", True),
        ("HeadObject", True),
        ("LookupEvents", True),
        ("PutMetricAlarm", False),
        ("CreateTrail", False),
        ("StartLogging", False),
        ("Listen", False),
        ("GET?policy", True),
        ("HEAD", True),
        ("PUT?tagging", False),
        ("DELETE", False),
        ("POST?delete", False),
    ],
)
def test_is_read_operation(operation, is_read):
    assert moto_stand.is_read_operation(operation) is is_read


def test_summarize_counts_and_ignores_moto_api():
    records = [
        record("POST", "/moto-api/recorder/start-recording"),
        record("POST", "/", FORM, "Action=GetCallerIdentity&Version=2011-06-15"),
        record("PUT", "/bucket"),
        record("POST", "/", {"X-Amz-Target": "Logs_20140328.CreateLogGroup"}),
        record("GET", "/bucket?policy"),
    ]
    assert moto_stand.summarize(records) == {
        "total": 4,
        "writes": 2,
        "write_operations": ["s3:PUT", "logs:CreateLogGroup"],
        "operations": [
            "sts:GetCallerIdentity",
            "s3:PUT",
            "logs:CreateLogGroup",
            "s3:GET?policy",
        ],
    }


def test_summarize_empty():
    assert moto_stand.summarize([]) == {
        "total": 0,
        "writes": 0,
        "write_operations": [],
        "operations": [],
    }


def test_parse_recording_skips_blank_lines_and_rejects_garbage():
    line = json.dumps(record("GET", "/"))
    assert len(moto_stand.parse_recording(f"{line}\n\n{line}\n")) == 2
    with pytest.raises(moto_stand.MotoStandError, match="line 2"):
        moto_stand.parse_recording(f"{line}\nnot json\n")


def test_cli_reports_unreachable_endpoint(capsys):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port once the socket is closed.
    assert moto_stand.main(["reset", "--endpoint", f"http://127.0.0.1:{port}"]) == 1
    assert "moto_stand reset: error:" in capsys.readouterr().err


def test_stop_without_server_is_a_no_op(tmp_path):
    assert moto_stand.main(["stop", "--state-dir", str(tmp_path)]) == 0
    assert moto_stand.stop(tmp_path) is False


def run_cli(*args):
    result = subprocess.run(
        [sys.executable, HELPER, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, f"moto_stand {args[0]} failed:\n{result.stderr}"
    return result.stdout


@pytest.mark.integration
def test_recording_against_real_moto_server(tmp_path, monkeypatch):
    if moto_stand.find_moto_server() is None:
        pytest.skip("moto_server executable not found")
    boto3 = pytest.importorskip("boto3")
    from botocore.config import Config

    for var in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
        "AWS_PROFILE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))

    state_dir = tmp_path / "moto"
    endpoint = run_cli("start", "--state-dir", state_dir).strip()
    try:
        assert (state_dir / "endpoint").read_text() == endpoint
        port = urlsplit(endpoint).port
        run_cli("record-start", "--endpoint", endpoint)

        session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        options = {
            "endpoint_url": endpoint,
            "config": Config(retries={"total_max_attempts": 1}),
        }
        session.client("sts", **options).get_caller_identity()
        s3 = session.client("s3", **options)
        s3.create_bucket(Bucket="moto-stand-test")
        s3.list_buckets()
        session.client("logs", **options).describe_log_groups()
        session.client("cloudwatch", **options).describe_alarms()

        summary_file = tmp_path / "summary.json"
        printed = json.loads(run_cli("record-stop", "--endpoint", endpoint, "--out", summary_file))

        # The server runs with moto_patches applied: PutMetricFilter replaces a filter of the same name, as on AWS.
        logs = session.client("logs", **options)
        logs.create_log_group(logGroupName="g")
        for pattern in ('{ $.eventName = "A" }', '{ $.eventName = "B" }'):
            logs.put_metric_filter(
                logGroupName="g", filterName="f", filterPattern=pattern, metricTransformations=METRIC
            )
        found = logs.describe_metric_filters(logGroupName="g")["metricFilters"]
        assert [(f["filterName"], f["filterPattern"]) for f in found] == [("f", '{ $.eventName = "B" }')]
    finally:
        run_cli("stop", "--state-dir", state_dir)

    summary = json.loads(summary_file.read_text())
    assert summary == printed
    assert summary == {
        "total": 5,
        "writes": 1,
        "write_operations": ["s3:PUT"],
        "operations": [
            "sts:GetCallerIdentity",
            "s3:PUT",
            "s3:GET",
            "logs:DescribeLogGroups",
            "cloudwatch:DescribeAlarms",
        ],
    }
    assert not (state_dir / "pid").exists()
    assert not (state_dir / "endpoint").exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


METRIC = [{"metricName": "M", "metricNamespace": "N", "metricValue": "1"}]


def test_moto_appends_a_duplicate_metric_filter():
    """moto 5.2.5 appends a second filter of the same name (AWS replaces it): why moto_patches exists. When this
    fails, moto was fixed: drop the patch."""
    from moto.logs.metric_filters import MetricFilters

    raw = getattr(MetricFilters.add_filter, "original", MetricFilters.add_filter)
    filters = MetricFilters()
    raw(filters, "f", "p1", "g", METRIC)
    raw(filters, "f", "p2", "g", METRIC)
    assert [f["filterPattern"] for f in filters.metric_filters] == ["p1", "p2"]


def test_patched_moto_replaces_a_metric_filter_in_place():
    import moto_patches
    from moto.logs.metric_filters import MetricFilters

    moto_patches.apply()
    moto_patches.apply()  # idempotent
    filters = MetricFilters()
    filters.add_filter("f", "p1", "g", METRIC)
    filters.add_filter("other", "p", "g", METRIC)
    filters.add_filter("f", "p1", "another-group", METRIC)
    filters.add_filter("f", "p2", "g", METRIC)
    assert [(f["filterName"], f["logGroupName"], f["filterPattern"]) for f in filters.metric_filters] == [
        ("f", "g", "p2"),
        ("other", "g", "p"),
        ("f", "another-group", "p1"),
    ]
