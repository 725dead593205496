"""_lambda with botocore's Stubber: the reproducible zip, role-propagation retries, reads, resource policy grants
in both spellings, check mode and idempotence."""

import base64
import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _common
from ansible_collections.trailwatch.aws.plugins.module_utils import _lambda
from ansible_collections.trailwatch.aws.plugins.module_utils import _logs

REGION = "us-east-1"
ACCOUNT = "123456789012"
NAME = "trailwatch-notifier"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{NAME}"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{NAME}"
ROLE_NOT_READY = "The role defined for the function cannot be assumed by Lambda."
LAMBDA_CODE = Path(__file__).resolve().parents[4] / "roles" / "notifier" / "files" / "lambda"
GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:aws-cloudtrail-logs-trailwatch"
ENVIRONMENT = {"TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:trailwatch-alerts", "NOTIFY_LANGUAGE": "en"}
CODE = b"PK\x05\x06" + b"\x00" * 18  # an empty zip: the stubs do not look inside


@pytest.fixture
def lam(stubbed):
    return stubbed("lambda")


@pytest.fixture
def propagation(monkeypatch, fake_clock):
    """create_function/update_function_configuration use retry_while with real-time defaults: fake clock here."""
    timeouts = []
    real = _common.retry_while

    def fake_retry_while(func, codes, timeout, **kwargs):
        timeouts.append(timeout)
        return real(func, codes, timeout, sleep=fake_clock.sleep, clock=fake_clock, **kwargs)

    # retry_while_message (in _common) and _lambda's own conflict loop both reach it.
    monkeypatch.setattr(_lambda, "retry_while", fake_retry_while)
    monkeypatch.setattr(_common, "retry_while", fake_retry_while)
    fake_clock.timeouts = timeouts
    return fake_clock


@pytest.fixture
def longest_jitter(monkeypatch):
    monkeypatch.setattr(_common.random, "uniform", lambda low, high: high)


def spec(**overrides):
    return dict(
        {
            "name": NAME,
            "arn": ARN,
            "runtime": "python3.12",
            "handler": "notifier.handler",
            "role": ROLE_ARN,
            "timeout": 60,
            "memory_size": 128,
            "description": "TrailWatch notifier",
            "environment": dict(ENVIRONMENT),
        },
        **overrides,
    )


def configuration(**overrides):
    """GetFunction's Configuration for the function of spec()."""
    return dict(
        {
            "FunctionName": NAME,
            "FunctionArn": ARN,
            "Runtime": "python3.12",
            "Handler": "notifier.handler",
            "Role": ROLE_ARN,
            "Timeout": 60,
            "MemorySize": 128,
            "Description": "TrailWatch notifier",
            "Environment": {"Variables": dict(ENVIRONMENT)},
            "CodeSha256": _lambda.code_sha256(CODE),
            "State": "Active",
            "LastUpdateStatus": "Successful",
        },
        **overrides,
    )


def create_params():
    return {
        "FunctionName": NAME,
        "Runtime": "python3.12",
        "Handler": "notifier.handler",
        "Role": ROLE_ARN,
        "Timeout": 60,
        "MemorySize": 128,
        "Description": "TrailWatch notifier",
        "Environment": {"Variables": dict(ENVIRONMENT)},
        "Code": {"ZipFile": CODE},
        "Publish": False,
    }


# --- the zip -----------------------------------------------------------------------------------------------------


def test_zip_of_the_shipped_code_is_reproducible_and_holds_the_four_modules_at_its_root():
    first = _lambda.build_zip(LAMBDA_CODE)
    second = _lambda.build_zip(str(LAMBDA_CODE))
    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert archive.namelist() == ["lock.py", "lock_token.py", "notifier.py", "trailwatch_common.py"]
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            assert info.compress_type == zipfile.ZIP_STORED
            assert archive.read(info) == (LAMBDA_CODE / info.filename).read_bytes()


def test_zip_ignores_everything_but_top_level_python_files(tmp_path):
    (tmp_path / "b.py").write_text("B = 1\n")
    (tmp_path / "a.py").write_text("A = 1\n")
    (tmp_path / "README.md").write_text("not code\n")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-312.pyc").write_bytes(b"\0")
    with zipfile.ZipFile(io.BytesIO(_lambda.build_zip(tmp_path))) as archive:
        assert archive.namelist() == ["a.py", "b.py"]


def test_zip_changes_with_the_code(tmp_path):
    (tmp_path / "a.py").write_text("A = 1\n")
    before = _lambda.code_sha256(_lambda.build_zip(tmp_path))
    (tmp_path / "a.py").write_text("A = 2\n")
    assert _lambda.code_sha256(_lambda.build_zip(tmp_path)) != before


def test_zip_of_an_empty_directory_is_refused(tmp_path):
    with pytest.raises(_lambda.LambdaError, match="no Python files"):
        _lambda.build_zip(tmp_path)


def test_read_zip_refuses_what_is_not_a_zip(tmp_path):
    (tmp_path / "code.zip").write_bytes(b"not a zip")
    with pytest.raises(_lambda.LambdaError, match="not a zip"):
        _lambda.read_zip(tmp_path / "code.zip")


def test_code_sha256_is_what_lambda_reports():
    data = b"some zip bytes"
    assert _lambda.code_sha256(data) == base64.b64encode(hashlib.sha256(data).digest()).decode()


# --- role propagation ------------------------------------------------------------------------------------------


def test_create_function_retries_a_role_lambda_cannot_assume_yet(lam, propagation):
    client, stub = lam
    for _attempt in range(3):
        stub.add_client_error(
            "create_function", "InvalidParameterValueException", ROLE_NOT_READY, 400, expected_params=create_params()
        )
    stub.add_response("create_function", {"FunctionArn": ARN, "FunctionName": NAME}, create_params())
    assert _lambda.create_function(client, create_params())["FunctionArn"] == ARN
    assert len(propagation.sleeps) == 3
    assert propagation.timeouts == [_lambda.PROPAGATION_TIMEOUT] == [120]


def test_create_function_gives_up_after_two_minutes(lam, propagation, longest_jitter):
    client, stub = lam
    # With the longest jitter the waits are 1, 2, 4, 8, 16 x6, then the 9 s left: 12 attempts in 120 s.
    for _attempt in range(12):
        stub.add_client_error("create_function", "InvalidParameterValueException", ROLE_NOT_READY, 400)
    with pytest.raises(_lambda.LambdaError) as raised:
        _lambda.create_function(client, create_params())
    assert sum(propagation.sleeps) == pytest.approx(120)
    assert raised.value.message == "Failed to create the Lambda function"
    assert ROLE_NOT_READY in str(raised.value)


def test_create_function_does_not_retry_another_invalid_parameter(lam, propagation):
    client, stub = lam
    stub.add_client_error(
        "create_function",
        "InvalidParameterValueException",
        "Value python9 at 'runtime' failed to satisfy constraint",
        400,
    )
    with pytest.raises(_lambda.LambdaError) as raised:
        _lambda.create_function(client, create_params())
    assert propagation.sleeps == []
    assert raised.value.exception.response["Error"]["Code"] == "InvalidParameterValueException"
    assert "runtime" in str(raised.value)


def test_create_function_does_not_retry_an_unrelated_error(lam, propagation):
    client, stub = lam
    stub.add_client_error("create_function", "ResourceConflictException", "Function already exist", 409)
    with pytest.raises(_lambda.LambdaError):
        _lambda.create_function(client, create_params())
    assert propagation.sleeps == []


def test_update_configuration_retries_a_role_lambda_cannot_assume_yet(lam, propagation):
    client, stub = lam
    params = _lambda._configuration_params(spec())
    stub.add_client_error("update_function_configuration", "InvalidParameterValueException", ROLE_NOT_READY, 400)
    stub.add_response("update_function_configuration", {"FunctionArn": ARN}, params)
    _lambda.update_function_configuration(client, params)
    assert len(propagation.sleeps) == 1


# --- the function ------------------------------------------------------------------------------------------------


def test_read_function_maps_one_get_function(lam):
    client, stub = lam
    stub.add_response(
        "get_function",
        {
            "Configuration": configuration(),
            "Tags": {"team": "security"},
            "Concurrency": {"ReservedConcurrentExecutions": 2},
        },
        {"FunctionName": NAME},
    )
    assert _lambda.read_function(client, NAME) == dict(
        spec(), code_sha256=_lambda.code_sha256(CODE), tags={"team": "security"}, reserved_concurrency=2, busy=False
    )


def test_read_function_of_a_missing_function_is_none(lam):
    client, stub = lam
    stub.add_client_error("get_function", "ResourceNotFoundException", "Function not found", 404)
    assert _lambda.read_function(client, NAME) is None


def current(**overrides):
    state = dict(spec(), code_sha256=_lambda.code_sha256(CODE), tags={}, reserved_concurrency=None, busy=False)
    return dict(state, **overrides)


def test_unchanged_function_makes_no_call(lam):
    client, _stub = lam
    _changed, after, parts = _lambda.ensure_function_present(client, current(), spec(), CODE, {}, True, False)
    assert parts == []
    assert after["code_sha256"] == _lambda.code_sha256(CODE)


def test_new_code_is_uploaded_and_waited_for(lam):
    client, stub = lam
    new_code = CODE + b"\x00"
    stub.add_response("update_function_code", {"FunctionArn": ARN}, {"FunctionName": NAME, "ZipFile": new_code})
    stub.add_response(
        "get_function_configuration", configuration(LastUpdateStatus="Successful"), {"FunctionName": NAME}
    )
    _changed, after, parts = _lambda.ensure_function_present(client, current(), spec(), new_code, {}, True, False)
    assert parts == ["code"]
    assert after["code_sha256"] == _lambda.code_sha256(new_code)


def test_new_code_in_check_mode_is_predicted_not_uploaded(lam):
    client, _stub = lam
    _changed, after, parts = _lambda.ensure_function_present(client, current(), spec(), CODE + b"\x00", {}, True, True)
    assert parts == ["code"]
    assert after["code_sha256"] == _lambda.code_sha256(CODE + b"\x00")


def test_changed_environment_updates_the_configuration(lam, propagation):
    client, stub = lam
    changed = spec(environment=dict(ENVIRONMENT, NOTIFY_LANGUAGE="ja"))
    stub.add_response("update_function_configuration", {"FunctionArn": ARN}, _lambda._configuration_params(changed))
    stub.add_response("get_function_configuration", configuration(), {"FunctionName": NAME})
    _changed, _after, parts = _lambda.ensure_function_present(client, current(), changed, CODE, {}, True, False)
    assert parts == ["configuration"]


def test_new_function_is_created_with_its_tags_and_waited_for(lam, propagation):
    client, stub = lam
    params = dict(create_params(), Tags={"team": "security", "cost-center": "1234"})
    stub.add_response("create_function", {"FunctionArn": ARN}, params)
    stub.add_response("get_function_configuration", configuration(State="Active"), {"FunctionName": NAME})
    stub.add_response(
        "put_function_concurrency",
        {"ReservedConcurrentExecutions": 2},
        {"FunctionName": NAME, "ReservedConcurrentExecutions": 2},
    )
    _changed, after, parts = _lambda.ensure_function_present(
        client, None, spec(), CODE, {"team": "security", "cost-center": 1234}, True, False, reserved_concurrency=2
    )
    assert parts == ["created"]
    assert after["arn"] == ARN


@pytest.mark.parametrize(
    "current, check_mode, calls, expected",
    [
        (None, False, 0, (False, None, [])),
        (spec(), True, 0, (True, None, ["deleted"])),
        (spec(), False, 1, (True, None, ["deleted"])),
    ],
    ids=["absent", "check-mode", "deletes"],
)
def test_function_absent_returns_the_ensured_contract(lam, current, check_mode, calls, expected):
    client, stub = lam
    for _call in range(calls):
        stub.add_response("delete_function", {}, {"FunctionName": NAME})
    result = _lambda.ensure_function_absent(client, current, NAME, check_mode)
    assert isinstance(result, _common.Ensured)
    assert result == expected


# --- updates in progress: Lambda's update state machine (AWS Lambda Developer Guide, "Lambda function states") ----


@pytest.fixture
def idle_clock(monkeypatch, fake_clock):
    """wait_idle's pauses on the fake clock (it reads time.sleep / time.monotonic when called)."""

    class _Time:
        sleep = staticmethod(fake_clock.sleep)
        monotonic = staticmethod(fake_clock)

    monkeypatch.setattr(_lambda, "time", _Time)
    return fake_clock


IN_PROGRESS = {"LastUpdateStatus": "InProgress", "LastUpdateStatusReasonCode": None}


def test_an_update_left_in_progress_is_waited_for_before_the_code_is_uploaded(lam, idle_clock, record_operations):
    """An interrupted run leaves LastUpdateStatus InProgress: UpdateFunctionCode would be refused (conflict)."""
    client, stub = lam
    calls = record_operations(client)
    new_code = CODE + b"\x00"
    for _poll in range(3):
        stub.add_response(
            "get_function_configuration", configuration(LastUpdateStatus="InProgress"), {"FunctionName": NAME}
        )
    stub.add_response(
        "get_function_configuration", configuration(LastUpdateStatus="Successful"), {"FunctionName": NAME}
    )
    stub.add_response("update_function_code", {"FunctionArn": ARN}, {"FunctionName": NAME, "ZipFile": new_code})
    stub.add_response(
        "get_function_configuration", configuration(LastUpdateStatus="Successful"), {"FunctionName": NAME}
    )
    _changed, after, parts = _lambda.ensure_function_present(
        client, current(busy=True), spec(), new_code, {}, True, False
    )
    assert parts == ["code"] and after["busy"] is False
    assert calls.index("UpdateFunctionCode") == 4
    # jittered and growing: each pause within (delay/2, delay], delay doubling from 1 s
    assert len(idle_clock.sleeps) == 3
    for pause, delay in zip(idle_clock.sleeps, (1, 2, 4), strict=True):
        assert delay / 2 <= pause <= delay


def test_a_busy_function_with_nothing_to_change_is_not_waited_for(lam):
    client, _stub = lam
    _changed, _after, parts = _lambda.ensure_function_present(client, current(busy=True), spec(), CODE, {}, True, False)
    assert parts == []


def test_an_update_that_never_finishes_fails_after_the_bound(lam, idle_clock, monkeypatch):
    client, stub = lam
    monkeypatch.setattr(_lambda.random, "uniform", lambda low, high: high)
    # longest pauses 1, 2, 4, 8, then 10 s: polls at 0, 1, 3, 7, 15, 25, ..., 295 and the last one at 300
    for _poll in range(5 + 28 + 1):
        stub.add_response(
            "get_function_configuration", configuration(LastUpdateStatus="InProgress"), {"FunctionName": NAME}
        )
    with pytest.raises(
        _lambda.LambdaError, match=r"still being updated after 300 s \(State Active, LastUpdateStatus InProgress\)"
    ):
        _lambda.wait_idle(client, NAME)
    assert idle_clock() - 1000.0 == pytest.approx(300.0)
    assert max(idle_clock.sleeps) == 10.0  # pauses capped at 10 s


def test_an_update_lambda_could_not_apply_is_reported(lam, idle_clock):
    client, stub = lam
    stub.add_response(
        "get_function_configuration",
        configuration(
            LastUpdateStatus="Failed",
            LastUpdateStatusReasonCode="InvalidZipFileException",
            LastUpdateStatusReason="Could not unzip uploaded file.",
        ),
        {"FunctionName": NAME},
    )
    with pytest.raises(
        _lambda.LambdaError,
        match="could not apply the code update of trailwatch-notifier: InvalidZipFileException Could not unzip",
    ):
        _lambda.wait_applied(client, NAME, "code update")


def test_a_conflicting_update_is_retried_until_it_goes_through(lam, propagation):
    """Someone else's update between our read and our call: ResourceConflictException, retried (jittered, bounded)."""
    client, stub = lam
    new_code = CODE + b"\x00"
    conflict = "The operation cannot be performed at this time. An update is in progress for resource: " + ARN
    stub.add_client_error("update_function_code", "ResourceConflictException", conflict, 409)
    stub.add_client_error("update_function_code", "ResourceConflictException", conflict, 409)
    stub.add_response("update_function_code", {"FunctionArn": ARN}, {"FunctionName": NAME, "ZipFile": new_code})
    _lambda.update_function_code(client, NAME, new_code)
    assert propagation.timeouts == [_lambda.UPDATE_TIMEOUT] and len(propagation.sleeps) == 2


def test_a_configuration_update_waits_out_a_conflict_too(lam, propagation):
    client, stub = lam
    params = _lambda._configuration_params(spec())
    stub.add_client_error("update_function_configuration", "ResourceConflictException", "An update is in progress", 409)
    stub.add_response("update_function_configuration", {"FunctionArn": ARN}, params)
    _lambda.update_function_configuration(client, params)
    assert _lambda.UPDATE_TIMEOUT in propagation.timeouts


# --- reserved concurrency and asynchronous invocation ------------------------------------------------------------

UNRESERVED_REFUSAL = (
    "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below "
    "its minimum value of [100]."
)


def test_a_reservation_the_account_cannot_spare_is_refused_as_such(lam, propagation):
    """PutFunctionConcurrency keeps at least 100 of the account's concurrency unreserved (API reference)."""
    client, stub = lam
    stub.add_client_error("put_function_concurrency", "InvalidParameterValueException", UNRESERVED_REFUSAL, 400)
    with pytest.raises(_lambda.ConcurrencyRefused) as refused:
        _lambda.put_concurrency(client, NAME, 2)
    assert refused.value.message == UNRESERVED_REFUSAL


def test_no_reservation_removes_an_existing_one(lam, propagation):
    client, stub = lam
    stub.add_response("delete_function_concurrency", {}, {"FunctionName": NAME})
    _changed, after, parts = _lambda.ensure_function_present(
        client, current(reserved_concurrency=5), spec(), CODE, {}, True, False, reserved_concurrency=-1
    )
    assert parts == ["concurrency"] and after["reserved_concurrency"] is None


ASYNC = _lambda.event_invoke_config(2, 21600, f"arn:aws:sqs:{REGION}:{ACCOUNT}:trailwatch-notifier-failed")
PUT_ASYNC = {
    "FunctionName": NAME,
    "MaximumRetryAttempts": 2,
    "MaximumEventAgeInSeconds": 21600,
    "DestinationConfig": {"OnFailure": {"Destination": ASYNC["on_failure"]}},
}


def test_the_on_failure_destination_waits_for_the_role_to_allow_it(lam, propagation):
    """Lambda checks that the execution role may send to the destination; a policy put seconds ago is refused."""
    client, stub = lam
    refusal = "The function execution role does not have permissions to call SendMessage on " + ASYNC["on_failure"]
    stub.add_client_error("put_function_event_invoke_config", "InvalidParameterValueException", refusal, 400)
    stub.add_response("put_function_event_invoke_config", {"FunctionArn": ARN}, PUT_ASYNC)
    changed, after, _parts = _lambda.ensure_event_invoke_config(client, NAME, None, ASYNC, False)
    assert changed and after == ASYNC
    assert _lambda.PROPAGATION_TIMEOUT in propagation.timeouts


def test_another_invalid_async_setting_is_not_retried(lam, propagation):
    client, stub = lam
    stub.add_client_error(
        "put_function_event_invoke_config", "InvalidParameterValueException", "Unsupported destination type", 400
    )
    with pytest.raises(_lambda.LambdaError, match="Unsupported destination type"):
        _lambda.ensure_event_invoke_config(client, NAME, None, ASYNC, False)


def test_async_settings_are_read_back_as_they_are_put(lam):
    client, stub = lam
    stub.add_response(
        "get_function_event_invoke_config",
        {
            "FunctionArn": ARN,
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 21600,
            "DestinationConfig": {"OnSuccess": {}, "OnFailure": {"Destination": ASYNC["on_failure"]}},
        },
        {"FunctionName": NAME},
    )
    current_config = _lambda.read_event_invoke_config(client, NAME)
    assert current_config == ASYNC
    assert _lambda.ensure_event_invoke_config(client, NAME, current_config, ASYNC, False) == (False, ASYNC, [])


def test_no_async_settings_read_as_none(lam):
    client, stub = lam
    stub.add_client_error(
        "get_function_event_invoke_config",
        "ResourceNotFoundException",
        f"The function {ARN} doesn't have an EventInvokeConfig",
        404,
    )
    assert _lambda.read_event_invoke_config(client, NAME) is None


# --- resource policy grants --------------------------------------------------------------------------------------

LOGS_GRANT = _lambda.permission(
    "logs.amazonaws.com", "lambda:InvokeFunction", source_arn=f"{GROUP_ARN}:*", source_account=ACCOUNT
)
URL_GRANT = _lambda.permission("*", "lambda:InvokeFunctionUrl", url_auth_type="NONE")
VIA_URL_GRANT = _lambda.permission("*", "lambda:InvokeFunction", via_url=True)


@pytest.mark.parametrize(
    "statement, grant",
    [
        (
            # As AWS reports AddPermission with SourceArn and SourceAccount.
            {
                "Sid": "TrailWatchLogsInvoke",
                "Effect": "Allow",
                "Principal": {"Service": "logs.amazonaws.com"},
                "Action": "lambda:InvokeFunction",
                "Resource": ARN,
                "Condition": {
                    "StringEquals": {"AWS:SourceAccount": ACCOUNT},
                    "ArnLike": {"AWS:SourceArn": f"{GROUP_ARN}:*"},
                },
            },
            LOGS_GRANT,
        ),
        (
            {
                "Sid": "TrailWatchPublicFunctionUrl",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "lambda:InvokeFunctionUrl",
                "Resource": ARN,
                "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}},
            },
            URL_GRANT,
        ),
        (
            {
                "Sid": "TrailWatchPublicFunctionUrlInvoke",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "lambda:InvokeFunction",
                "Resource": ARN,
                "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}},
            },
            VIA_URL_GRANT,
        ),
        (
            # As moto keeps them: the parameters at the top of the statement.
            {
                "Sid": "TrailWatchPublicFunctionUrl",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "lambda:InvokeFunctionUrl",
                "Resource": ARN,
                "FunctionUrlAuthType": "NONE",
            },
            URL_GRANT,
        ),
        (
            {
                "Sid": "TrailWatchPublicFunctionUrlInvoke",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "lambda:InvokeFunction",
                "Resource": ARN,
                "InvokedViaFunctionUrl": True,
            },
            VIA_URL_GRANT,
        ),
    ],
    ids=["aws-logs", "aws-url", "aws-via-url", "moto-url", "moto-via-url"],
)
def test_statements_read_back_as_the_grant_that_made_them(statement, grant):
    assert _lambda.normalize_statement(statement) == grant


def test_a_grant_for_another_log_group_is_a_different_grant():
    other = _lambda.permission(
        "logs.amazonaws.com", "lambda:InvokeFunction", source_arn="arn:aws:logs:x", source_account=ACCOUNT
    )
    assert other != LOGS_GRANT


def test_grants_converge_ours_only(lam):
    client, stub = lam
    current = {
        "TrailWatchLogsInvoke": dict(LOGS_GRANT, source_account="111111111111"),  # ours, but wrong: replaced
        "TrailWatchStale": URL_GRANT,  # ours, no longer wanted: removed
        "SomeoneElses": VIA_URL_GRANT,  # not ours: kept
    }
    stub.add_response("remove_permission", {}, {"FunctionName": NAME, "StatementId": "TrailWatchLogsInvoke"})
    stub.add_response("remove_permission", {}, {"FunctionName": NAME, "StatementId": "TrailWatchStale"})
    stub.add_response(
        "add_permission",
        {"Statement": "{}"},
        {
            "FunctionName": NAME,
            "StatementId": "TrailWatchLogsInvoke",
            "Action": "lambda:InvokeFunction",
            "Principal": "logs.amazonaws.com",
            "SourceArn": f"{GROUP_ARN}:*",
            "SourceAccount": ACCOUNT,
        },
    )
    changed, after, _parts = _lambda.ensure_permissions(
        client, NAME, current, {"TrailWatchLogsInvoke": LOGS_GRANT}, False
    )
    assert changed
    assert after == {"TrailWatchLogsInvoke": LOGS_GRANT, "SomeoneElses": VIA_URL_GRANT}


def test_public_url_grants_are_added_with_their_conditions(lam):
    client, stub = lam
    stub.add_response(
        "add_permission",
        {"Statement": "{}"},
        {
            "FunctionName": NAME,
            "StatementId": "TrailWatchPublicFunctionUrl",
            "Action": "lambda:InvokeFunctionUrl",
            "Principal": "*",
            "FunctionUrlAuthType": "NONE",
        },
    )
    stub.add_response(
        "add_permission",
        {"Statement": "{}"},
        {
            "FunctionName": NAME,
            "StatementId": "TrailWatchPublicFunctionUrlInvoke",
            "Action": "lambda:InvokeFunction",
            "Principal": "*",
            "InvokedViaFunctionUrl": True,
        },
    )
    desired = {"TrailWatchPublicFunctionUrl": URL_GRANT, "TrailWatchPublicFunctionUrlInvoke": VIA_URL_GRANT}
    changed, after, _parts = _lambda.ensure_permissions(client, NAME, {}, desired, False)
    assert changed and after == desired


def test_grants_in_place_make_no_call(lam):
    client, _stub = lam
    grants = {"TrailWatchLogsInvoke": LOGS_GRANT}
    assert _lambda.ensure_permissions(client, NAME, dict(grants), grants, False) == (False, grants, [])


def test_grants_in_check_mode_make_no_call(lam):
    client, _stub = lam
    changed, after, _parts = _lambda.ensure_permissions(
        client, NAME, {"TrailWatchStale": URL_GRANT}, {"TrailWatchLogsInvoke": LOGS_GRANT}, True
    )
    assert changed and after == {"TrailWatchLogsInvoke": LOGS_GRANT}


def test_a_function_without_a_policy_has_no_grants(lam):
    client, stub = lam
    stub.add_client_error("get_policy", "ResourceNotFoundException", "The resource you requested does not exist.", 404)
    assert _lambda.read_permissions(client, NAME) == {}


# --- function URL ------------------------------------------------------------------------------------------------


def test_url_is_created_once(lam):
    client, stub = lam
    url = "https://abc.lambda-url.us-east-1.on.aws/"
    stub.add_response(
        "create_function_url_config",
        {"FunctionUrl": url, "FunctionArn": ARN, "AuthType": "NONE", "CreationTime": "2025-01-01T00:00:00Z"},
        {"FunctionName": NAME, "AuthType": "NONE"},
    )
    assert _lambda.ensure_url_present(client, NAME, None, "NONE", False) == (
        True,
        {"url": url, "auth_type": "NONE"},
        ["created"],
    )
    assert _lambda.ensure_url_present(client, NAME, {"url": url, "auth_type": "NONE"}, "NONE", False) == (
        False,
        {"url": url, "auth_type": "NONE"},
        [],
    )


def test_url_in_check_mode_is_not_known_yet(lam):
    client, _stub = lam
    assert _lambda.ensure_url_present(client, NAME, None, "NONE", True) == (
        True,
        {"url": None, "auth_type": "NONE"},
        ["created"],
    )


def test_url_with_iam_auth_is_opened(lam):
    client, stub = lam
    url = "https://abc.lambda-url.us-east-1.on.aws/"
    stub.add_response(
        "update_function_url_config",
        {"FunctionUrl": url, "FunctionArn": ARN, "AuthType": "NONE", "CreationTime": "x", "LastModifiedTime": "y"},
        {"FunctionName": NAME, "AuthType": "NONE"},
    )
    changed, after, _parts = _lambda.ensure_url_present(
        client, NAME, {"url": url, "auth_type": "AWS_IAM"}, "NONE", False
    )
    assert changed and after == {"url": url, "auth_type": "NONE"}


# --- the subscription filter waits for the invoke grant ----------------------------------------------------------

NO_PERMISSION = (
    "Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your "
    "function."
)


def filter_params():
    return {
        "logGroupName": "aws-cloudtrail-logs-trailwatch",
        "filterName": NAME,
        "filterPattern": '{ ($.eventSource = "s3.amazonaws.com") && ($.eventName = "CreateBucket") }',
        "destinationArn": ARN,
    }


def put_filter(client):
    p = filter_params()
    _logs.put_subscription_filter(
        client, p["logGroupName"], p["filterName"], p["filterPattern"], p["destinationArn"], replacing=False
    )


def test_subscription_filter_waits_for_a_fresh_invoke_grant(stubbed, propagation):
    client, stub = stubbed("logs")
    for _attempt in range(2):
        stub.add_client_error("put_subscription_filter", "InvalidParameterException", NO_PERMISSION, 400)
    stub.add_response("put_subscription_filter", {}, filter_params())
    put_filter(client)
    assert len(propagation.sleeps) == 2
    assert propagation.timeouts == [_logs.PERMISSION_TIMEOUT] == [60]


def test_subscription_filter_does_not_retry_a_bad_pattern(stubbed, propagation):
    client, stub = stubbed("logs")
    stub.add_client_error("put_subscription_filter", "InvalidParameterException", "Invalid filter pattern", 400)
    with pytest.raises(_logs.LogsError, match="Invalid filter pattern"):
        put_filter(client)
    assert propagation.sleeps == []


def test_subscription_filter_over_the_limit_while_replacing_is_deleted_and_put_again(stubbed, propagation):
    client, stub = stubbed("logs")
    p = filter_params()
    stub.add_client_error("put_subscription_filter", "LimitExceededException", "Resource limit exceeded.", 400)
    stub.add_response("delete_subscription_filter", {}, {"logGroupName": p["logGroupName"], "filterName": NAME})
    stub.add_response("put_subscription_filter", {}, p)
    _logs.put_subscription_filter(
        client, p["logGroupName"], NAME, p["filterPattern"], p["destinationArn"], replacing=True
    )


def test_subscription_filter_over_the_limit_when_new_is_an_error(stubbed, propagation):
    client, stub = stubbed("logs")
    stub.add_client_error("put_subscription_filter", "LimitExceededException", "Resource limit exceeded.", 400)
    with pytest.raises(_logs.LogsError):
        put_filter(client)
