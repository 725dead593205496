"""_common: retry_while (fake clock), the AWSRetry policy, caller identity and converge_tags."""

import random

import botocore.exceptions
import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _common

CODES = ["InvalidCloudWatchLogsRoleArnException", "InvalidCloudWatchLogsLogGroupArnException"]


def client_error(code, message="boom", operation="CreateTrail"):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, operation)


class Flaky:
    """func() for retry_while: raises the given errors in turn, then returns the result."""

    def __init__(self, errors, result="done"):
        self.errors = list(errors)
        self.result = result
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result


@pytest.fixture
def upper_jitter(monkeypatch):
    """Makes the jitter deterministic (always the longest wait) and records the ranges it was drawn from."""
    ranges = []

    def uniform(low, high):
        ranges.append((low, high))
        return high

    monkeypatch.setattr(_common.random, "uniform", uniform)
    return ranges


# --- retry_while ---------------------------------------------------------------------------------------------


def test_retry_while_returns_at_once_without_error(fake_clock):
    func = Flaky([])
    assert _common.retry_while(func, CODES, 120, sleep=fake_clock.sleep, clock=fake_clock) == "done"
    assert func.calls == 1
    assert fake_clock.sleeps == []


def test_retry_while_retries_listed_codes_until_success(fake_clock):
    func = Flaky([client_error(CODES[0]), client_error(CODES[1]), client_error(CODES[0])])
    assert _common.retry_while(func, CODES, 120, sleep=fake_clock.sleep, clock=fake_clock) == "done"
    assert func.calls == 4
    assert len(fake_clock.sleeps) == 3


def test_retry_while_waits_are_jittered_and_grow_to_a_cap(fake_clock, upper_jitter):
    func = Flaky([client_error(CODES[0])] * 8)
    _common.retry_while(func, CODES, 1000, sleep=fake_clock.sleep, clock=fake_clock)
    # Each wait is drawn from [delay/2, delay]; the delay doubles up to 16 seconds.
    assert upper_jitter == [
        (0.5, 1.0),
        (1.0, 2.0),
        (2.0, 4.0),
        (4.0, 8.0),
        (8.0, 16.0),
        (8.0, 16.0),
        (8.0, 16.0),
        (8.0, 16.0),
    ]
    assert fake_clock.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 16.0, 16.0, 16.0]


@pytest.mark.parametrize("seed", range(5))
def test_retry_while_real_jitter_stays_within_bounds(fake_clock, monkeypatch, seed):
    monkeypatch.setattr(_common.random, "uniform", random.Random(seed).uniform)
    func = Flaky([client_error(CODES[0])] * 10)
    _common.retry_while(func, CODES, 10_000, sleep=fake_clock.sleep, clock=fake_clock)
    bounds = [1.0, 2.0, 4.0, 8.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0]
    assert len(fake_clock.sleeps) == 10
    for wait, high in zip(fake_clock.sleeps, bounds, strict=True):
        assert high / 2 <= wait <= high


def test_retry_while_gives_up_at_the_deadline_with_the_last_error(fake_clock, upper_jitter):
    errors = [client_error(CODES[0], message=f"attempt {n}") for n in range(100)]
    func = Flaky(errors)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        _common.retry_while(func, CODES, 120, sleep=fake_clock.sleep, clock=fake_clock)
    assert raised.value.response["Error"]["Code"] == CODES[0]
    # Never sleeps past the deadline: the last wait is cut to what is left of the 120 seconds.
    assert fake_clock.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 9.0]
    assert sum(fake_clock.sleeps) == 120
    assert func.calls == 12
    assert raised.value.response["Error"]["Message"] == "attempt 11"


@pytest.mark.parametrize("timeout", [0.5, 3, 30, 120])
def test_retry_while_total_wait_is_bounded_by_the_timeout(fake_clock, timeout):
    func = Flaky([client_error(CODES[1])] * 1000)
    start = fake_clock()
    with pytest.raises(botocore.exceptions.ClientError):
        _common.retry_while(func, CODES, timeout, sleep=fake_clock.sleep, clock=fake_clock)
    assert fake_clock() - start == pytest.approx(timeout)
    assert all(0 <= wait <= 16 for wait in fake_clock.sleeps)


def test_retry_while_zero_timeout_tries_once(fake_clock):
    func = Flaky([client_error(CODES[0])])
    with pytest.raises(botocore.exceptions.ClientError):
        _common.retry_while(func, CODES, 0, sleep=fake_clock.sleep, clock=fake_clock)
    assert func.calls == 1
    assert fake_clock.sleeps == []


@pytest.mark.parametrize(
    "error",
    [
        client_error("InsufficientS3BucketPolicyException"),
        client_error("AccessDeniedException"),
    ],
    ids=lambda e: e.response["Error"]["Code"],
)
def test_retry_while_reraises_other_codes_immediately(fake_clock, error):
    func = Flaky([error])
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        _common.retry_while(func, CODES, 120, sleep=fake_clock.sleep, clock=fake_clock)
    assert raised.value is error
    assert func.calls == 1
    assert fake_clock.sleeps == []


def test_retry_while_does_not_catch_other_exceptions(fake_clock):
    func = Flaky([ValueError("not an AWS answer")])
    with pytest.raises(ValueError):
        _common.retry_while(func, CODES, 120, sleep=fake_clock.sleep, clock=fake_clock)
    assert func.calls == 1
    assert fake_clock.sleeps == []


@pytest.mark.parametrize(
    "error",
    [
        client_error("ThrottlingException"),
        client_error("Throttling"),
        client_error("RequestLimitExceeded"),
        botocore.exceptions.EndpointConnectionError(endpoint_url="https://example.invalid"),
    ],
    ids=lambda e: getattr(e, "response", {}).get("Error", {}).get("Code", type(e).__name__),
)
def test_retry_while_retries_throttling_and_dropped_connections_under_the_same_deadline(fake_clock, error):
    """The call inside retry_while is a bare API call: the one loop retries throttling (no retry() inside)."""
    func = Flaky([error, client_error(CODES[0]), error])
    assert _common.retry_while(func, CODES, 120, sleep=fake_clock.sleep, clock=fake_clock) == "done"
    assert func.calls == 4


@pytest.mark.parametrize(
    "error",
    [client_error("ThrottlingException"), botocore.exceptions.EndpointConnectionError(endpoint_url="https://x")],
    ids=["ThrottlingException", "EndpointConnectionError"],
)
def test_retry_while_without_throttling_leaves_it_to_the_inner_loop(fake_clock, error):
    func = Flaky([error])
    with pytest.raises(type(error)):
        _common.retry_while(func, CODES, 120, sleep=fake_clock.sleep, clock=fake_clock, throttling=False)
    assert func.calls == 1


@pytest.mark.parametrize("timeout", [5, 30, 120])
def test_retry_while_attempts_are_bounded_once(fake_clock, retry_sleeps, monkeypatch, timeout):
    """A counting fake client that always throttles: create_trail (retry_while around the bare call) makes one attempt
    per wait of the one loop, and AWSRetry never waits inside an attempt (a retry() nested inside retry_while used
    to multiply every attempt by eight)."""
    from ansible_collections.trailwatch.aws.plugins.module_utils import _cloudtrail

    class CountingClient:
        calls = 0

        def create_trail(self, **_params):
            CountingClient.calls += 1
            raise client_error("ThrottlingException")

    real = _common.retry_while
    monkeypatch.setattr(
        _cloudtrail,
        "retry_while",
        lambda func, codes, t: real(func, codes, t, sleep=fake_clock.sleep, clock=fake_clock),
    )
    monkeypatch.setattr(_common.random, "uniform", lambda low, high: high)
    with pytest.raises(_cloudtrail.CloudTrailError):
        _cloudtrail.create_trail(CountingClient(), {"Name": "trailwatch"}, {}, timeout=timeout)
    assert CountingClient.calls == len(fake_clock.sleeps) + 1
    assert retry_sleeps.sleeps == []
    # Waits of 1, 2, 4, 8, 16, 16... seconds (the last one cut to the deadline): one attempt after each, not eight.
    assert CountingClient.calls == {5: 4, 30: 6, 120: 12}[timeout]


def test_retry_while_message_retries_only_the_text_it_names(fake_clock, monkeypatch):
    real = _common.retry_while
    monkeypatch.setattr(
        _common, "retry_while", lambda *a, **k: real(*a, **dict(k, sleep=fake_clock.sleep, clock=fake_clock))
    )
    propagating = client_error("InvalidParameterValueException", "The role cannot be assumed by Lambda.")
    func = Flaky([propagating, propagating])
    assert _common.retry_while_message(func, "InvalidParameterValueException", "cannot be assumed", 60) == "done"
    assert func.calls == 3
    unknown_runtime = client_error("InvalidParameterValueException", "The runtime parameter is not supported")
    func = Flaky([unknown_runtime])
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        _common.retry_while_message(func, "InvalidParameterValueException", "cannot be assumed", 60)
    assert raised.value is unknown_runtime and func.calls == 1


@pytest.mark.parametrize(
    "error, code",
    [
        (client_error("LimitExceededException"), "LimitExceededException"),
        (_common.TrailWatchError(message="x", exception=client_error("AccessDenied")), "AccessDenied"),
        (_common.TrailWatchError(message="no AWS answer"), None),
        (ValueError("x"), None),
    ],
)
def test_error_code(error, code):
    assert _common.error_code(error) == code


def test_retry_while_accepts_a_single_code_string(fake_clock):
    func = Flaky([client_error(CODES[0])])
    assert _common.retry_while(func, CODES[0], 120, sleep=fake_clock.sleep, clock=fake_clock) == "done"


# --- retry(): AWSRetry with the extra codes ------------------------------------------------------------------


@pytest.mark.parametrize(
    "code", ["Throttling", "ThrottlingException", "SlowDown", "KMSInternalException", "ConcurrentModificationException"]
)
def test_retry_policy_retries_throttling_codes(code, retry_sleeps):
    func = Flaky([client_error(code), client_error(code)])
    assert _common.retry()(func)() == "done"
    assert func.calls == 3
    assert len(retry_sleeps.sleeps) == 2
    assert all(0 <= s <= 20 for s in retry_sleeps.sleeps)


def test_retry_policy_does_not_retry_other_codes(retry_sleeps):
    func = Flaky([client_error("AccessDenied")])
    with pytest.raises(botocore.exceptions.ClientError):
        _common.retry()(func)()
    assert func.calls == 1
    assert retry_sleeps.sleeps == []


def test_retry_policy_gives_up_after_eight_attempts(retry_sleeps):
    func = Flaky([client_error("Throttling")] * 20)
    with pytest.raises(botocore.exceptions.ClientError):
        _common.retry()(func)()
    assert func.calls == 8


# --- caller_identity -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arn, partition",
    [
        ("arn:aws:iam::123456789012:user/alice", "aws"),
        ("arn:aws-cn:sts::123456789012:assumed-role/deploy/ci", "aws-cn"),
        ("arn:aws-us-gov:iam::123456789012:root", "aws-us-gov"),
    ],
)
def test_caller_identity(stubbed, arn, partition):
    sts, stub = stubbed("sts")
    stub.add_response("get_caller_identity", {"Account": "123456789012", "Arn": arn, "UserId": "AIDEXAMPLE"}, {})
    assert _common.caller_identity(sts) == ("123456789012", partition)


def test_caller_identity_retries_throttling(stubbed, retry_sleeps):
    sts, stub = stubbed("sts")
    stub.add_client_error("get_caller_identity", "Throttling", http_status_code=400)
    stub.add_response(
        "get_caller_identity", {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root", "UserId": "x"}, {}
    )
    assert _common.caller_identity(sts) == ("123456789012", "aws")
    assert len(retry_sleeps.sleeps) == 1


def test_caller_identity_error_names_the_credentials(stubbed):
    sts, stub = stubbed("sts")
    stub.add_client_error("get_caller_identity", "InvalidClientTokenId", http_status_code=403)
    with pytest.raises(_common.TrailWatchError) as raised:
        _common.caller_identity(sts)
    assert "credentials" in raised.value.message
    assert raised.value.exception.response["Error"]["Code"] == "InvalidClientTokenId"


# --- converge_tags -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "current, desired, purge, expect_set, expect_unset, after",
    [
        pytest.param({}, {}, True, None, None, {}, id="nothing"),
        pytest.param({"a": "1"}, {"a": "1"}, True, None, None, {"a": "1"}, id="equal"),
        pytest.param({}, {"a": "1"}, True, {"a": "1"}, None, {"a": "1"}, id="add"),
        pytest.param({"a": "1"}, {"a": "2"}, True, {"a": "2"}, None, {"a": "2"}, id="change"),
        pytest.param({"a": "1", "b": "2"}, {"a": "1"}, True, None, ["b"], {"a": "1"}, id="remove"),
        pytest.param(
            {"a": "1", "b": "2"}, {"a": "1"}, False, None, None, {"a": "1", "b": "2"}, id="purge-false-keeps-extra"
        ),
        pytest.param(
            {"b": "2"}, {"a": "1"}, False, {"a": "1"}, None, {"a": "1", "b": "2"}, id="purge-false-still-adds"
        ),
        pytest.param(
            {"a": "1", "b": "2", "c": "3"},
            {"a": "9", "d": "4"},
            True,
            {"a": "9", "d": "4"},
            ["b", "c"],
            {"a": "9", "d": "4"},
            id="add-change-remove",
        ),
        pytest.param(
            {"aws:cloudformation:stack-name": "s", "a": "1"},
            {},
            True,
            None,
            ["a"],
            {"aws:cloudformation:stack-name": "s"},
            id="aws-tags-never-purged",
        ),
        pytest.param(
            {"aws:cloudformation:stack-name": "s"},
            {"a": "1"},
            True,
            {"a": "1"},
            None,
            {"aws:cloudformation:stack-name": "s", "a": "1"},
            id="aws-tags-kept-on-add",
        ),
    ],
)
@pytest.mark.parametrize("check_mode", [False, True], ids=["apply", "check"])
def test_converge_tags(current, desired, purge, expect_set, expect_unset, after, check_mode):
    tagged, untagged = [], []
    changed, result = _common.converge_tags(
        dict(current), dict(desired), purge, tagged.append, untagged.append, check_mode
    )
    assert changed == bool(expect_set or expect_unset)
    assert result == after
    if check_mode:
        assert tagged == [] and untagged == []
    else:
        assert tagged == ([expect_set] if expect_set else [])
        assert [sorted(keys) for keys in untagged] == ([expect_unset] if expect_unset else [])


# Tag values that are not strings (YAML `cost-center: 1234`, `critical: true`) are sent to AWS as text.
def test_converge_tags_compares_values_as_text():
    """Already right: an int tag equal to the stored string is no change (compare_aws_tags uses to_text)."""
    tagged, untagged = [], []
    changed, _unused = _common.converge_tags(
        {"cost-center": "1234"}, {"cost-center": 1234}, True, tagged.append, untagged.append, False
    )
    assert changed is False
    assert tagged == [] and untagged == []


def test_converge_tags_sends_tag_values_as_strings():
    tagged = []
    changed, after = _common.converge_tags(
        {}, {"cost-center": 1234, "critical": True}, True, tagged.append, [].append, False
    )
    assert changed is True
    assert tagged == [{"cost-center": "1234", "critical": "True"}]
    assert after == {"cost-center": "1234", "critical": "True"}


@pytest.mark.parametrize(
    "tag_list, expected",
    [
        (None, {}),
        ([], {}),
        ([{"Key": "team", "Value": "audit"}], {"team": "audit"}),
        ([{"Key": "empty"}], {"empty": ""}),  # a tag listed without a value must not crash the reader
    ],
)
def test_tag_dict_reads_every_services_tag_list(tag_list, expected):
    assert _common.tag_dict(tag_list) == expected
