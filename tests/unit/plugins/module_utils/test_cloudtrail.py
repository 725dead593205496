"""_cloudtrail with botocore's Stubber: propagation retries, reads, check mode and idempotence."""

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _cloudtrail
from ansible_collections.trailwatch.aws.plugins.module_utils import _common

REGION = "us-east-1"
ACCOUNT = "123456789012"
NAME = "trailwatch"
ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{NAME}"
BUCKET = f"trailwatch-logs-{ACCOUNT}-{REGION}"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b5f3c9e-1111-2222-3333-444455556666"
GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:aws-cloudtrail-logs-trailwatch"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/trailwatch-cloudtrail-to-logs"
EXCLUDED = ["kms.amazonaws.com", "rdsdata.amazonaws.com"]
TAGS = {"team": "security"}
ROLE_NOT_READY = "Access denied. Verify in IAM that the role has adequate permissions."


def settings(key_prefix=None):
    return _cloudtrail.trail_settings(NAME, BUCKET, key_prefix, KEY_ARN, GROUP_ARN, ROLE_ARN)


def selectors(read_write_type="WriteOnly", exclude=None):
    exclude = EXCLUDED if exclude is None else exclude
    return _cloudtrail.event_selectors(read_write_type, exclude)


def aws_trail(**changes):
    """A GetTrail answer for the trail TrailWatch wants."""
    trail = {
        "Name": NAME,
        "S3BucketName": BUCKET,
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": True,
        "HomeRegion": REGION,
        "TrailARN": ARN,
        "LogFileValidationEnabled": True,
        "CloudWatchLogsLogGroupArn": f"{GROUP_ARN}:*",
        "CloudWatchLogsRoleArn": ROLE_ARN,
        "KmsKeyId": KEY_ARN,
        "HasCustomEventSelectors": True,
        "HasInsightSelectors": False,
        "IsOrganizationTrail": False,
    }
    trail.update(changes)
    return {key: value for key, value in trail.items() if value is not None}


def stub_read(stub, trail=None, is_logging=True, event_selectors=None, tags=None):
    tags = TAGS if tags is None else tags
    stub.add_response("get_trail", {"Trail": trail or aws_trail()}, {"Name": NAME})
    stub.add_response("get_trail_status", {"IsLogging": is_logging}, {"Name": NAME})
    if event_selectors is None:
        event_selectors = [
            {
                "ReadWriteType": "WriteOnly",
                "IncludeManagementEvents": True,
                "DataResources": [],
                "ExcludeManagementEventSources": list(reversed(EXCLUDED)),
            }
        ]
    stub.add_response("get_event_selectors", {"TrailARN": ARN, "EventSelectors": event_selectors}, {"TrailName": NAME})
    stub.add_response(
        "list_tags",
        {"ResourceTagList": [{"ResourceId": ARN, "TagsList": [{"Key": k, "Value": v} for k, v in tags.items()]}]},
        {"ResourceIdList": [ARN]},
    )


def create_params(tags=None):
    tags = TAGS if tags is None else tags
    return dict(settings(), TagsList=[{"Key": k, "Value": v} for k, v in tags.items()])


@pytest.fixture
def cloudtrail(stubbed):
    return stubbed("cloudtrail")


@pytest.fixture
def propagation(monkeypatch, fake_clock):
    """create_trail/update_trail call retry_while with its real-time defaults: give them the fake clock.

    (retry_while binds time.sleep/time.monotonic as default arguments, so patching the time module is not
    enough.) Records the timeout each call asked for.
    """
    timeouts = []
    real = _common.retry_while

    def fake_retry_while(func, codes, timeout):
        timeouts.append(timeout)
        return real(func, codes, timeout, sleep=fake_clock.sleep, clock=fake_clock)

    monkeypatch.setattr(_cloudtrail, "retry_while", fake_retry_while)
    fake_clock.timeouts = timeouts
    return fake_clock


@pytest.fixture
def longest_jitter(monkeypatch):
    monkeypatch.setattr(_common.random, "uniform", lambda low, high: high)


# --- pure helpers --------------------------------------------------------------------------------------------


def test_trail_settings_are_the_secure_defaults():
    assert settings() == {
        "Name": NAME,
        "S3BucketName": BUCKET,
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": True,
        "EnableLogFileValidation": True,
        "KmsKeyId": KEY_ARN,
        "CloudWatchLogsLogGroupArn": f"{GROUP_ARN}:*",
        "CloudWatchLogsRoleArn": ROLE_ARN,
        "IsOrganizationTrail": False,
    }
    assert settings()["CloudWatchLogsLogGroupArn"].endswith(":*")


@pytest.mark.parametrize("key_prefix, expected", [(None, None), ("", None), ("audit", "audit")])
def test_trail_settings_key_prefix(key_prefix, expected):
    assert settings(key_prefix).get("S3KeyPrefix") == expected


@pytest.mark.parametrize(
    "read_write_type, exclude, expected",
    [
        ("All", [], [{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}]),
        ("WriteOnly", None, [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True, "DataResources": []}]),
        (
            "WriteOnly",
            ["rdsdata.amazonaws.com", "kms.amazonaws.com"],
            [
                {
                    "ReadWriteType": "WriteOnly",
                    "IncludeManagementEvents": True,
                    "DataResources": [],
                    "ExcludeManagementEventSources": ["kms.amazonaws.com", "rdsdata.amazonaws.com"],
                }
            ],
        ),
    ],
)
def test_event_selectors(read_write_type, exclude, expected):
    assert _cloudtrail.event_selectors(read_write_type, exclude) == expected


@pytest.mark.parametrize(
    "desired_sources, reported",
    [
        (
            ["kms.amazonaws.com", "rdsdata.amazonaws.com"],
            {"ExcludeManagementEventSources": ["rdsdata.amazonaws.com", "kms.amazonaws.com"]},
        ),
        (
            ["rdsdata.amazonaws.com", "kms.amazonaws.com"],
            {"ExcludeManagementEventSources": ["kms.amazonaws.com", "rdsdata.amazonaws.com"]},
        ),
        ([], {}),
        ([], {"ExcludeManagementEventSources": []}),
    ],
)
def test_selector_normalisation_ignores_order_and_defaults(desired_sources, reported):
    desired = _cloudtrail.event_selectors("WriteOnly", desired_sources)
    read_back = [dict({"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True, "DataResources": []}, **reported)]
    assert _cloudtrail._normalise_selectors(read_back) == _cloudtrail._normalise_selectors(desired)


@pytest.mark.parametrize(
    "reported",
    [
        {
            "ReadWriteType": "All",
            "IncludeManagementEvents": True,
            "DataResources": [],
            "ExcludeManagementEventSources": EXCLUDED,
        },
        {
            "ReadWriteType": "WriteOnly",
            "IncludeManagementEvents": True,
            "DataResources": [],
            "ExcludeManagementEventSources": ["kms.amazonaws.com"],
        },
        {
            "ReadWriteType": "WriteOnly",
            "IncludeManagementEvents": False,
            "DataResources": [],
            "ExcludeManagementEventSources": EXCLUDED,
        },
        {
            "ReadWriteType": "WriteOnly",
            "IncludeManagementEvents": True,
            "ExcludeManagementEventSources": EXCLUDED,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}],
        },
    ],
)
def test_selector_normalisation_still_sees_real_differences(reported):
    assert _cloudtrail._normalise_selectors([reported]) != _cloudtrail._normalise_selectors(selectors())


# --- create_trail / update_trail: propagation retries --------------------------------------------------------


def test_create_trail_retries_a_role_cloudtrail_cannot_assume_yet(cloudtrail, propagation):
    client, stub = cloudtrail
    for _unused in range(2):
        stub.add_client_error(
            "create_trail",
            "InvalidCloudWatchLogsRoleArnException",
            ROLE_NOT_READY,
            400,
            expected_params=create_params(),
        )
    stub.add_response("create_trail", {"Name": NAME, "TrailARN": ARN}, create_params())
    assert _cloudtrail.create_trail(client, settings(), TAGS)["TrailARN"] == ARN
    assert len(propagation.sleeps) == 2
    assert propagation.timeouts == [_cloudtrail.PROPAGATION_TIMEOUT] == [120]


@pytest.mark.parametrize("code", _cloudtrail.PROPAGATION_ERRORS)
def test_create_trail_retries_every_propagation_error(cloudtrail, propagation, code):
    client, stub = cloudtrail
    stub.add_client_error("create_trail", code, "not yet", 400)
    stub.add_response("create_trail", {"Name": NAME, "TrailARN": ARN}, create_params())
    assert _cloudtrail.create_trail(client, settings(), TAGS)["TrailARN"] == ARN
    assert len(propagation.sleeps) == 1


def test_create_trail_gives_up_after_the_timeout(cloudtrail, propagation, longest_jitter):
    client, stub = cloudtrail
    # With the longest jitter the waits are 1, 2, 4, 8, 16 x6, then the 9 s left: 12 attempts in 120 s.
    for _unused in range(12):
        stub.add_client_error("create_trail", "InvalidCloudWatchLogsRoleArnException", ROLE_NOT_READY, 400)
    with pytest.raises(_cloudtrail.CloudTrailError) as raised:
        _cloudtrail.create_trail(client, settings(), TAGS)
    error = raised.value
    assert isinstance(error, _common.TrailWatchError)
    assert sum(propagation.sleeps) == pytest.approx(120)
    assert error.exception.response["Error"]["Code"] == "InvalidCloudWatchLogsRoleArnException"
    # The message says what to check, and the AWS message is kept.
    assert error.message.startswith("Failed to create the trail")
    assert "assume the role" in error.message
    assert ROLE_NOT_READY in str(error)


def test_create_trail_does_not_retry_an_unrelated_error(cloudtrail, propagation):
    client, stub = cloudtrail
    stub.add_client_error(
        "create_trail", "InsufficientS3BucketPolicyException", "Incorrect S3 bucket policy is detected for bucket", 400
    )
    with pytest.raises(_cloudtrail.CloudTrailError) as raised:
        _cloudtrail.create_trail(client, settings(), TAGS)
    assert raised.value.exception.response["Error"]["Code"] == "InsufficientS3BucketPolicyException"
    assert "write to the bucket" in raised.value.message
    assert propagation.sleeps == []


def test_update_trail_retries_a_log_group_arn_cloudtrail_cannot_use_yet(cloudtrail, propagation):
    client, stub = cloudtrail
    stub.add_client_error("update_trail", "InvalidCloudWatchLogsLogGroupArnException", "not yet", 400)
    stub.add_response("update_trail", {"Name": NAME, "TrailARN": ARN}, settings())
    _cloudtrail.update_trail(client, settings())
    assert len(propagation.sleeps) == 1


def test_create_trail_throttling_is_retried_once_by_the_propagation_loop(cloudtrail, propagation, retry_sleeps):
    """No AWSRetry inside the propagation loop (its attempts would multiply): the one loop retries throttling."""
    client, stub = cloudtrail
    stub.add_client_error("create_trail", "ThrottlingException", "slow down", 400)
    stub.add_response("create_trail", {"Name": NAME, "TrailARN": ARN}, create_params())
    _cloudtrail.create_trail(client, settings(), TAGS)
    assert retry_sleeps.sleeps == []
    assert len(propagation.sleeps) == 1


# --- read_trail ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["TrailNotFoundException", "CloudTrailARNInvalidException"])
def test_read_trail_of_a_missing_trail_is_none(cloudtrail, code):
    client, stub = cloudtrail
    stub.add_client_error("get_trail", code, "Unknown trail", 400, expected_params={"Name": NAME})
    assert _cloudtrail.read_trail(client, NAME) is None


def test_read_trail(cloudtrail):
    client, stub = cloudtrail
    stub_read(stub, trail=aws_trail(S3KeyPrefix="audit"), is_logging=False)
    assert _cloudtrail.read_trail(client, NAME) == {
        "name": NAME,
        "arn": ARN,
        "home_region": REGION,
        "settings": dict(settings("audit")),
        "is_logging": False,
        "event_selectors": _cloudtrail._normalise_selectors(selectors()),
        "tags": TAGS,
    }


@pytest.mark.parametrize(
    "answered, expected",
    [(None, None), ("", None), ("audit", "audit")],
    ids=["omitted-by-aws", "empty-after-removal", "set"],
)
def test_read_trail_key_prefix_compares_with_what_trail_settings_wants(cloudtrail, answered, expected):
    """No prefix reads as None however GetTrail says it (omitted, or '' once UpdateTrail removed it): no update."""
    client, stub = cloudtrail
    stub_read(stub, trail=aws_trail(S3KeyPrefix=answered))
    current = _cloudtrail.read_trail(client, NAME)
    assert current["settings"]["S3KeyPrefix"] == expected
    # Nothing more is queued: a write call would fail the test.
    result = _cloudtrail.ensure_trail_present(
        client, current, settings(expected), selectors(), ARN, TAGS, True, check_mode=False
    )
    assert (result.changed, result.parts) == (False, [])


def test_read_trail_other_errors_raise(cloudtrail):
    client, stub = cloudtrail
    stub.add_client_error("get_trail", "AccessDeniedException", "no", 403)
    with pytest.raises(_cloudtrail.CloudTrailError, match="read the trail"):
        _cloudtrail.read_trail(client, NAME)


# --- ensure_trail_present ------------------------------------------------------------------------------------


def test_up_to_date_trail_makes_no_write_call(cloudtrail):
    client, stub = cloudtrail
    stub_read(stub)
    current = _cloudtrail.read_trail(client, NAME)
    # Nothing more is queued: a write call would fail the test.
    changed, after, parts = _cloudtrail.ensure_trail_present(
        client, current, settings(), selectors(), ARN, TAGS, True, check_mode=False
    )
    assert (changed, parts) == (False, [])
    assert after["arn"] == ARN
    assert after["home_region"] == REGION
    assert after["tags"] == TAGS


def test_check_mode_create_makes_no_call_and_reports_the_change(cloudtrail):
    client, _unused = cloudtrail
    changed, after, parts = _cloudtrail.ensure_trail_present(
        client, None, settings(), selectors(), ARN, TAGS, True, check_mode=True
    )
    assert changed is True
    assert parts == ["created"]
    assert after["arn"] == ARN
    assert after["is_logging"] is True
    assert after["settings"] == dict(settings(), S3KeyPrefix=None)
    assert after["tags"] == TAGS


def test_check_mode_update_makes_no_call_and_reports_every_part(cloudtrail):
    client, stub = cloudtrail
    stub_read(
        stub,
        trail=aws_trail(LogFileValidationEnabled=False),
        is_logging=False,
        event_selectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}],
        tags={"old": "x"},
    )
    current = _cloudtrail.read_trail(client, NAME)
    changed, after, parts = _cloudtrail.ensure_trail_present(
        client, current, settings(), selectors(), ARN, TAGS, True, check_mode=True
    )
    assert changed is True
    assert parts == ["settings", "event_selectors", "logging", "tags"]
    assert after["tags"] == TAGS


def test_create_sets_selectors_and_starts_logging(cloudtrail, propagation, record_operations):
    client, stub = cloudtrail
    calls = record_operations(client)
    stub.add_response("create_trail", {"Name": NAME, "TrailARN": ARN}, create_params())
    stub.add_response("put_event_selectors", {}, {"TrailName": NAME, "EventSelectors": selectors()})
    stub.add_response("start_logging", {}, {"Name": NAME})
    changed, after, parts = _cloudtrail.ensure_trail_present(
        client, None, settings(), selectors(), "ignored", TAGS, True, check_mode=False
    )
    assert (changed, parts) == (True, ["created"])
    assert after["arn"] == ARN
    assert calls == ["CreateTrail", "PutEventSelectors", "StartLogging"]


def test_update_converges_each_part(cloudtrail, propagation, record_operations):
    client, stub = cloudtrail
    stub_read(
        stub,
        trail=aws_trail(S3KeyPrefix="old-prefix"),
        is_logging=False,
        event_selectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}],
        tags={"old": "x"},
    )
    current = _cloudtrail.read_trail(client, NAME)
    calls = record_operations(client)
    # Dropping the key prefix needs an explicit empty prefix: an absent one would leave it in place.
    stub.add_response("update_trail", {"Name": NAME}, dict(settings(), S3KeyPrefix=""))
    stub.add_response("put_event_selectors", {}, {"TrailName": NAME, "EventSelectors": selectors()})
    stub.add_response("start_logging", {}, {"Name": NAME})
    stub.add_response("add_tags", {}, {"ResourceId": ARN, "TagsList": [{"Key": "team", "Value": "security"}]})
    stub.add_response("remove_tags", {}, {"ResourceId": ARN, "TagsList": [{"Key": "old"}]})
    changed, after, parts = _cloudtrail.ensure_trail_present(
        client, current, settings(), selectors(), ARN, TAGS, True, check_mode=False
    )
    assert changed is True
    assert parts == ["settings", "event_selectors", "logging", "tags"]
    assert calls == ["UpdateTrail", "PutEventSelectors", "StartLogging", "AddTags", "RemoveTags"]
    assert after["tags"] == TAGS


def test_selectors_in_a_different_order_are_not_a_change(cloudtrail):
    client, stub = cloudtrail
    stub_read(
        stub,
        event_selectors=[
            {
                "ReadWriteType": "WriteOnly",
                "IncludeManagementEvents": True,
                "DataResources": [],
                "ExcludeManagementEventSources": list(reversed(EXCLUDED)),
            }
        ],
    )
    current = _cloudtrail.read_trail(client, NAME)
    changed, _unused, parts = _cloudtrail.ensure_trail_present(
        client, current, settings(), selectors(exclude=list(reversed(EXCLUDED))), ARN, TAGS, True, False
    )
    assert (changed, parts) == (False, [])


def test_purge_tags_false_keeps_foreign_trail_tags(cloudtrail):
    client, stub = cloudtrail
    stub_read(stub, tags={"team": "security", "owner": "someone"})
    current = _cloudtrail.read_trail(client, NAME)
    changed, after, _unused = _cloudtrail.ensure_trail_present(
        client, current, settings(), selectors(), ARN, TAGS, False, False
    )
    assert changed is False
    assert after["tags"] == {"team": "security", "owner": "someone"}


# --- ensure_trail_absent -------------------------------------------------------------------------------------


def test_absent(cloudtrail):
    client, stub = cloudtrail
    assert _cloudtrail.ensure_trail_absent(client, None, NAME, False).changed is False
    assert _cloudtrail.ensure_trail_absent(client, {"name": NAME}, NAME, True).changed is True
    stub.add_response("delete_trail", {}, {"Name": NAME})
    assert _cloudtrail.ensure_trail_absent(client, {"name": NAME}, NAME, False).changed is True


def test_delete_of_a_trail_already_gone_is_not_an_error(cloudtrail):
    client, stub = cloudtrail
    stub.add_client_error("delete_trail", "TrailNotFoundException", "gone", 400)
    assert _cloudtrail.delete_trail(client, NAME) is False


def test_create_trail_sends_tag_values_as_strings(cloudtrail, propagation):
    client, stub = cloudtrail
    stub.add_response(
        "create_trail",
        {"Name": NAME, "TrailARN": ARN},
        dict(settings(), TagsList=[{"Key": "cost-center", "Value": "1234"}]),
    )
    assert _cloudtrail.create_trail(client, settings(), {"cost-center": 1234})["TrailARN"] == ARN
    stub.assert_no_pending_responses()


# --- reading someone else's trail for the coverage check ----------------------------------------------------------


def delivering(name, group_arn, home=REGION):
    return {
        "Name": name,
        "TrailARN": f"arn:aws:cloudtrail:{home}:{ACCOUNT}:trail/{name}",
        "HomeRegion": home,
        "CloudWatchLogsLogGroupArn": group_arn,
    }


def test_describe_trails_includes_shadow_and_organization_trails(cloudtrail):
    """A multi-region trail of another home region and an organization trail seen from a member account are
    shadow trails: DescribeTrails lists them only with includeShadowTrails (CloudTrail API Reference)."""
    client, stubber = cloudtrail
    trails = [delivering("org", f"{GROUP_ARN}:*", home="us-east-2")]
    stubber.add_response("describe_trails", {"trailList": trails}, {"includeShadowTrails": True})
    assert _cloudtrail.describe_trails(client) == trails


def test_trails_delivering_to_a_log_group_match_its_arn_with_or_without_the_stream_wildcard():
    trails = [
        delivering("starred", f"{GROUP_ARN}:*"),
        delivering("bare", GROUP_ARN),
        delivering("other-group", f"{GROUP_ARN}-2:*"),
        {"Name": "no-delivery", "TrailARN": ARN},
    ]
    assert [t["Name"] for t in _cloudtrail.trails_delivering_to(trails, f"{GROUP_ARN}:*")] == ["starred", "bare"]
    assert [t["Name"] for t in _cloudtrail.trails_delivering_to(trails, GROUP_ARN)] == ["starred", "bare"]


@pytest.mark.parametrize(
    "answer, expected",
    [
        ({"TrailARN": ARN, "EventSelectors": [{"ReadWriteType": "All"}]}, ([{"ReadWriteType": "All"}], [])),
        (
            {
                "TrailARN": ARN,
                "AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}],
            },
            ([], [{"FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]),
        ),
        ({"TrailARN": ARN}, ([], [])),
    ],
    ids=["basic", "advanced", "none"],
)
def test_get_selector_lists(cloudtrail, answer, expected):
    client, stubber = cloudtrail
    stubber.add_response("get_event_selectors", answer, {"TrailName": ARN})
    assert _cloudtrail.get_selector_lists(client, ARN) == expected


def test_get_selector_lists_denied_is_an_error_the_module_reports(cloudtrail):
    client, stubber = cloudtrail
    stubber.add_client_error(
        "get_event_selectors", "AccessDeniedException", "denied", expected_params={"TrailName": ARN}
    )
    with pytest.raises(_cloudtrail.CloudTrailError, match="event selectors"):
        _cloudtrail.get_selector_lists(client, ARN)
