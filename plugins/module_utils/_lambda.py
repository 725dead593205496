# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: Lambda wrappers: a function with its code, configuration, tags, reserved concurrency,
asynchronous invocation settings (retries, on-failure destination), resource policy statements and function URL, and
the reproducible zip of the shipped handler code.

The code is compared by CodeSha256 (base64 of the SHA-256 of the zip): the zip is built byte for byte the same
from the same files (fixed order, times and modes, stored uncompressed), so a re-run uploads nothing.

Lambda applies a code or configuration update asynchronously: ``LastUpdateStatus`` is ``InProgress`` until it is
done, and meanwhile every other change of the function is refused with ``ResourceConflictException`` (AWS Lambda
Developer Guide, "Lambda function states"). A run interrupted right after an update leaves the function in that state
for the next run, and someone else may update it at any time: changes wait (jittered, bounded) until the function is
idle, and a ResourceConflictException is retried the same way.
"""

import base64
import hashlib
import io
import json
import os
import random
import time
import zipfile
from typing import List
from typing import Any
from typing import Callable
from typing import Dict
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ._common import SID_PREFIX
from ._common import TrailWatchError
from ._common import created
from ._common import converged
from ._common import Ensured
from ._common import deleted
from ._common import converge_tags
from ._common import retry
from ._common import retry_while
from ._common import retry_while_message
from ._common import text_tags

# A role created (or changed) in the same run takes seconds to propagate: meanwhile Lambda answers
# InvalidParameterValueException "The role defined for the function cannot be assumed by Lambda." That code also
# means real mistakes (an unknown runtime, say), so only answers with this text are retried.
PROPAGATION_CODE = "InvalidParameterValueException"
PROPAGATION_TEXT = "cannot be assumed by lambda"
PROPAGATION_TIMEOUT = 120

# While an update is in progress Lambda refuses other changes of the function with this code.
CONFLICT_CODE = "ResourceConflictException"
# How long to wait for an update (ours or someone else's) to finish, and for a conflicting one to let ours through.
UPDATE_TIMEOUT = 300

# Lambda checks, when the destination is set, that the execution role may send to it: a policy put seconds ago answers
# InvalidParameterValueException "... execution role does not have permissions to call SendMessage on ..." until IAM
# has propagated it. Only that text is retried.
DESTINATION_PERMISSION_TEXT = "does not have permissions"

ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_FILE_MODE = 0o100644


class LambdaError(TrailWatchError):
    pass


class LambdaErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = LambdaError

    @classmethod
    def _is_missing(cls) -> Any:
        return is_boto3_error_code("ResourceNotFoundException")


# --- the code ---------------------------------------------------------------------------------------------------


def build_zip(code_dir: Any) -> Any:
    """The handler code as a zip: every ``*.py`` file at the top of ``code_dir``, at the archive's root.

    Reproducible: sorted names, a fixed date and mode, no compression (deflate output may differ between zlib
    builds, which would turn the same code into a different CodeSha256 on another machine).
    """
    names = sorted(n for n in os.listdir(code_dir) if n.endswith(".py") and os.path.isfile(os.path.join(code_dir, n)))
    if not names:
        raise LambdaError(message=f"no Python files in {code_dir}: nothing to deploy")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            info.external_attr = ZIP_FILE_MODE << 16
            info.create_system = 3  # Unix, so that the mode is honoured whatever the control node
            with open(os.path.join(code_dir, name), "rb") as source:
                archive.writestr(info, source.read())
    return buffer.getvalue()


def read_zip(path: str) -> Any:
    with open(path, "rb") as archive:
        data = archive.read()
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LambdaError(message=f"{path} is not a zip archive")
    return data


def code_sha256(data: Any) -> Any:
    """The CodeSha256 Lambda reports for a zip: base64 of its SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


# --- API wrappers -----------------------------------------------------------------------------------------------


@LambdaErrorHandler.list_error_handler("read the Lambda function")
@retry()
def get_function(client: Any, name: str) -> Any:
    return client.get_function(FunctionName=name)


@LambdaErrorHandler.list_error_handler("read the Lambda function's resource policy")
@retry()
def get_policy(client: Any, name: str) -> Any:
    return json.loads(client.get_policy(FunctionName=name)["Policy"])


@LambdaErrorHandler.list_error_handler("read the Lambda function URL")
@retry()
def get_url_config(client: Any, name: str) -> Any:
    return client.get_function_url_config(FunctionName=name)


def _retry_role_propagation(call: Any, timeout: int, throttling: bool = True) -> Any:
    return retry_while_message(call, PROPAGATION_CODE, PROPAGATION_TEXT, timeout, throttling=throttling)


def _retry_conflict(call: Callable[[], Any], timeout: float = UPDATE_TIMEOUT) -> Any:
    """Calls call() until Lambda stops refusing it because an update of the function is in progress."""
    return retry_while(call, [CONFLICT_CODE], timeout)


@LambdaErrorHandler.common_error_handler("create the Lambda function")
def create_function(client: Any, params: Dict[str, Any], timeout: int = PROPAGATION_TIMEOUT) -> Any:
    return _retry_role_propagation(lambda: client.create_function(**params), timeout)


@LambdaErrorHandler.common_error_handler("update the Lambda function's configuration")
def update_function_configuration(client: Any, params: Dict[str, Any], timeout: int = PROPAGATION_TIMEOUT) -> Any:
    def update() -> Any:
        return _retry_conflict(lambda: client.update_function_configuration(**params))

    # The conflict loop inside retries throttling; this one only the propagation answer.
    return _retry_role_propagation(update, timeout, throttling=False)


@LambdaErrorHandler.common_error_handler("update the Lambda function's code")
def update_function_code(client: Any, name: str, data: Any) -> Any:
    return _retry_conflict(lambda: client.update_function_code(FunctionName=name, ZipFile=data))


@LambdaErrorHandler.common_error_handler("read the Lambda function's state")
@retry()
def get_function_configuration(client: Any, name: str) -> Dict[str, Any]:
    return client.get_function_configuration(FunctionName=name)


def _busy(config: Dict[str, Any]) -> bool:
    return config.get("State") == "Pending" or config.get("LastUpdateStatus") == "InProgress"


def wait_idle(
    client: Any,
    name: str,
    timeout: float = UPDATE_TIMEOUT,
    sleep: Optional[Callable[[float], None]] = None,
    clock: Optional[Callable[[], float]] = None,
) -> Dict[str, Any]:
    """Waits until the function is neither being created (State Pending) nor updated (LastUpdateStatus InProgress):
    GetFunctionConfiguration with jittered, growing pauses (0.5 s, then up to 10 s), for at most ``timeout`` seconds.
    Returns the configuration it last read."""
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    deadline = clock() + timeout
    delay = 1.0
    while True:
        config = get_function_configuration(client, name)
        if not _busy(config):
            return config
        if clock() >= deadline:
            raise LambdaError(
                message=f"Lambda function {name} is still being updated after {timeout} s (State "
                f"{config.get('State')}, LastUpdateStatus {config.get('LastUpdateStatus')}); run again later"
            )
        sleep(min(random.uniform(delay / 2, delay), max(0.0, deadline - clock())))
        delay = min(delay * 2, 10.0)


def wait_applied(client: Any, name: str, what: str) -> Dict[str, Any]:
    """Waits for the update just made and fails when Lambda could not apply it (LastUpdateStatus Failed)."""
    config = wait_idle(client, name)
    if config.get("State") == "Failed" or config.get("LastUpdateStatus") == "Failed":
        raise LambdaError(
            message=f"Lambda could not apply the {what} of {name}: {config.get('LastUpdateStatusReasonCode')} "
            f"{config.get('LastUpdateStatusReason') or config.get('StateReason') or ''}".rstrip()
        )
    return config


@LambdaErrorHandler.common_error_handler("set the Lambda function's reserved concurrency")
def _put_concurrency(client: Any, name: str, value: int) -> None:
    _retry_conflict(lambda: client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=value))


# PutFunctionConcurrency's refusal when a reservation would leave the account less unreserved concurrency than Lambda
# keeps (100, less in accounts with a low concurrency quota).
UNRESERVED_TEXT = "UnreservedConcurrentExecution"


class ConcurrencyRefused(LambdaError):
    pass


def put_concurrency(client: Any, name: str, value: int) -> None:
    """Reserves ``value`` concurrent executions; ConcurrencyRefused when the account cannot spare them."""
    try:
        _put_concurrency(client, name, value)
    except LambdaError as e:
        error = (getattr(e.exception, "response", None) or {}).get("Error", {})
        if error.get("Code") == "InvalidParameterValueException" and UNRESERVED_TEXT in error.get("Message", ""):
            raise ConcurrencyRefused(message=error["Message"], exception=e.exception) from None
        raise


@LambdaErrorHandler.deletion_error_handler("remove the Lambda function's reserved concurrency")
def delete_concurrency(client: Any, name: str) -> bool:
    _retry_conflict(lambda: client.delete_function_concurrency(FunctionName=name))
    return True


@LambdaErrorHandler.list_error_handler("read the Lambda function's asynchronous invocation settings")
@retry()
def get_event_invoke_config(client: Any, name: str) -> Optional[Dict[str, Any]]:
    return client.get_function_event_invoke_config(FunctionName=name)


@LambdaErrorHandler.common_error_handler(
    "set the Lambda function's asynchronous invocation settings (the execution role must allow the destination)"
)
def put_event_invoke_config(
    client: Any, name: str, config: Dict[str, Any], timeout: float = PROPAGATION_TIMEOUT
) -> Any:
    params = {
        "FunctionName": name,
        "MaximumRetryAttempts": config["maximum_retry_attempts"],
        "MaximumEventAgeInSeconds": config["maximum_event_age_seconds"],
        "DestinationConfig": {"OnFailure": {"Destination": config["on_failure"]}} if config["on_failure"] else {},
    }

    def put() -> Any:
        return _retry_conflict(lambda: client.put_function_event_invoke_config(**params))

    return retry_while_message(put, PROPAGATION_CODE, DESTINATION_PERMISSION_TEXT, timeout, throttling=False)


@LambdaErrorHandler.common_error_handler("tag the Lambda function")
@retry()
def tag_function(client: Any, arn: str, tags: Dict[str, Any]) -> None:
    client.tag_resource(Resource=arn, Tags=text_tags(tags))


@LambdaErrorHandler.common_error_handler("untag the Lambda function")
@retry()
def untag_function(client: Any, arn: str, keys: List[Any]) -> None:
    client.untag_resource(Resource=arn, TagKeys=keys)


@LambdaErrorHandler.common_error_handler("add a statement to the Lambda function's resource policy")
@retry()
def add_permission(client: Any, name: str, sid: str, spec: Dict[str, Any]) -> None:
    params = {"FunctionName": name, "StatementId": sid, "Action": spec["action"], "Principal": spec["principal"]}
    if spec.get("source_arn"):
        params["SourceArn"] = spec["source_arn"]
    if spec.get("source_account"):
        params["SourceAccount"] = spec["source_account"]
    if spec.get("function_url_auth_type"):
        params["FunctionUrlAuthType"] = spec["function_url_auth_type"]
    if spec.get("invoked_via_function_url") == "true":
        params["InvokedViaFunctionUrl"] = True
    client.add_permission(**params)


@LambdaErrorHandler.deletion_error_handler("remove a statement from the Lambda function's resource policy")
@retry()
def remove_permission(client: Any, name: str, sid: str) -> bool:
    client.remove_permission(FunctionName=name, StatementId=sid)
    return True


@LambdaErrorHandler.common_error_handler("create the Lambda function URL")
@retry()
def create_url_config(client: Any, name: str, auth_type: Any) -> Any:
    return client.create_function_url_config(FunctionName=name, AuthType=auth_type)


@LambdaErrorHandler.common_error_handler("update the Lambda function URL")
@retry()
def update_url_config(client: Any, name: str, auth_type: Any) -> Any:
    return client.update_function_url_config(FunctionName=name, AuthType=auth_type)


@LambdaErrorHandler.deletion_error_handler("delete the Lambda function")
@retry()
def delete_function(client: Any, name: str) -> bool:
    client.delete_function(FunctionName=name)
    return True


# --- the function -----------------------------------------------------------------------------------------------

# Parameter of Create/UpdateFunctionConfiguration -> key in TrailWatch's view of the function.
_CONFIG_FIELDS = {
    "Runtime": "runtime",
    "Handler": "handler",
    "Role": "role",
    "Timeout": "timeout",
    "MemorySize": "memory_size",
    "Description": "description",
}


def read_function(client: Any, name: str) -> Optional[Dict[str, Any]]:
    """The function as TrailWatch compares it; None when it does not exist. One GetFunction call."""
    response = get_function(client, name)
    if response is None:
        return None
    config = response["Configuration"]
    state = {field: config.get(key) for key, field in _CONFIG_FIELDS.items()}
    state.update(
        name=name,
        arn=config["FunctionArn"],
        environment=dict((config.get("Environment") or {}).get("Variables") or {}),
        code_sha256=config.get("CodeSha256"),
        tags=dict(response.get("Tags") or {}),
        reserved_concurrency=(response.get("Concurrency") or {}).get("ReservedConcurrentExecutions"),
        # Not compared: whether an update (a run interrupted after one, or someone else's) is still being applied.
        busy=_busy(config),
    )
    return state


def _configuration_params(spec: Dict[str, Any]) -> Any:
    params = {key: spec[field] for key, field in _CONFIG_FIELDS.items()}
    params["FunctionName"] = spec["name"]
    params["Environment"] = {"Variables": dict(spec["environment"])}
    return params


# reserved_concurrency: None leaves the function's reservation alone, NO_RESERVATION removes it.
NO_RESERVATION = -1


def _reserved(value: Optional[int]) -> Optional[int]:
    return None if value == NO_RESERVATION else value


def ensure_function_present(
    client: Any,
    current: Optional[Dict[str, Any]],
    spec: Dict[str, Any],
    code: str,
    tags: Dict[str, Any],
    purge_tags: bool,
    check_mode: bool,
    reserved_concurrency: Any = None,
) -> Ensured:
    """Creates or converges the function. ``spec`` holds name, arn (predicted), runtime, handler, role, timeout,
    memory_size, description and environment; ``code`` is the zip. ``reserved_concurrency``: a number of concurrent
    executions to reserve, NO_RESERVATION (-1) for none, None to leave it as it is. The reservation is set right after
    a creation, before the caller adds any way to invoke the function.

    Returns an Ensured (parts: the parts are ``[]`` when nothing changed, ``["created"]`` for a creation,
    else some of ``code``, ``configuration``, ``tags``, ``concurrency``.
    """
    sha = code_sha256(code)
    after = dict(spec, code_sha256=sha, tags=dict(tags), reserved_concurrency=_reserved(reserved_concurrency))
    after["busy"] = False
    if current is None:
        if not check_mode:
            params = dict(_configuration_params(spec), Code={"ZipFile": code}, Publish=False)
            if tags:
                params["Tags"] = text_tags(tags)
            after["arn"] = create_function(client, params)["FunctionArn"]
            wait_applied(client, spec["name"], "creation")
            if _reserved(reserved_concurrency) is not None:
                put_concurrency(client, spec["name"], reserved_concurrency)
        return created(after)

    parts = []
    after["arn"] = current["arn"]
    code_changed = current["code_sha256"] != sha
    config_changed = any(current.get(field) != spec[field] for field in _CONFIG_FIELDS.values()) or (
        current["environment"] != spec["environment"]
    )
    if (code_changed or config_changed) and current.get("busy") and not check_mode:
        wait_idle(client, spec["name"])  # an update of an interrupted run (or someone else's) is still applied
    if code_changed:
        parts.append("code")
        if not check_mode:
            update_function_code(client, spec["name"], code)
            wait_applied(client, spec["name"], "code update")
    if config_changed:
        parts.append("configuration")
        if not check_mode:
            update_function_configuration(client, _configuration_params(spec))
            wait_applied(client, spec["name"], "configuration update")
    tags_changed, after["tags"] = converge_tags(
        current["tags"],
        tags,
        purge_tags,
        lambda t: tag_function(client, current["arn"], t),
        lambda k: untag_function(client, current["arn"], k),
        check_mode,
    )
    if tags_changed:
        parts.append("tags")
    if reserved_concurrency is None:
        after["reserved_concurrency"] = current["reserved_concurrency"]
    elif current["reserved_concurrency"] != _reserved(reserved_concurrency):
        parts.append("concurrency")
        if not check_mode:
            if _reserved(reserved_concurrency) is None:
                delete_concurrency(client, spec["name"])
            else:
                put_concurrency(client, spec["name"], reserved_concurrency)
    return converged(after, parts)


# --- asynchronous invocation ------------------------------------------------------------------------------------


def read_event_invoke_config(client: Any, name: str) -> Optional[Dict[str, Any]]:
    """The function's asynchronous invocation settings; None when it has none (Lambda's defaults apply)."""
    config = get_event_invoke_config(client, name)
    if config is None:
        return None
    destinations = config.get("DestinationConfig") or {}
    return {
        "maximum_retry_attempts": config.get("MaximumRetryAttempts"),
        "maximum_event_age_seconds": config.get("MaximumEventAgeInSeconds"),
        "on_failure": (destinations.get("OnFailure") or {}).get("Destination"),
        "on_success": (destinations.get("OnSuccess") or {}).get("Destination"),
    }


def event_invoke_config(
    maximum_retry_attempts: int, maximum_event_age_seconds: int, on_failure: Optional[str]
) -> Dict[str, Any]:
    """The asynchronous invocation settings as read_event_invoke_config reports them (no on-success destination)."""
    return {
        "maximum_retry_attempts": maximum_retry_attempts,
        "maximum_event_age_seconds": maximum_event_age_seconds,
        "on_failure": on_failure,
        "on_success": None,
    }


def ensure_event_invoke_config(
    client: Any, name: str, current: Optional[Dict[str, Any]], desired: Dict[str, Any], check_mode: bool
) -> Ensured:
    """PutFunctionEventInvokeConfig replaces the whole configuration: one call whenever anything differs.
    Returns an Ensured whose after is the settings."""
    if current == desired:
        return converged(current, [])
    if not check_mode:
        put_event_invoke_config(client, name, desired)
    return created(dict(desired)) if current is None else converged(dict(desired), ["settings"])


def ensure_function_absent(client: Any, current: Optional[Dict[str, Any]], name: str, check_mode: bool) -> Ensured:
    """Deleting the function also deletes its resource policy and its URL; an Ensured (parts: deleted)."""
    if current is None:
        return deleted(False)
    if not check_mode:
        delete_function(client, name)
    return deleted()


# --- resource policy statements ---------------------------------------------------------------------------------


def permission(
    principal: str,
    action: str,
    source_arn: Optional[str] = None,
    source_account: Optional[str] = None,
    url_auth_type: Any = None,
    via_url: bool = False,
) -> Dict[str, Any]:
    """One AddPermission grant, in the form read_permissions reports existing ones."""
    return {
        "principal": principal,
        "action": action,
        "source_arn": source_arn,
        "source_account": source_account,
        "function_url_auth_type": url_auth_type,
        "invoked_via_function_url": "true" if via_url else None,
    }


def _single(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _condition(statement: Dict[str, Any], operator: str, key: str) -> Any:
    for op, pairs in (statement.get("Condition") or {}).items():
        if op.lower() != operator.lower():
            continue
        for k, v in (pairs or {}).items():
            if k.lower() == key.lower():
                return _single(v)
    return None


def normalize_statement(statement: Dict[str, Any]) -> Dict[str, Any]:
    """An existing resource policy statement as ``permission()`` describes a grant.

    Lambda reports AddPermission's parameters as conditions (AWS:SourceArn under ArnLike, AWS:SourceAccount and
    lambda:FunctionUrlAuthType under StringEquals, lambda:InvokedViaFunctionUrl under Bool); some endpoints keep
    the last two as they were sent, at the top of the statement. Both forms are read.
    """
    principal = statement.get("Principal")
    if isinstance(principal, dict):
        principal = _single(principal.get("Service") or principal.get("AWS"))
    via_url = _condition(statement, "Bool", "lambda:InvokedViaFunctionUrl")
    if via_url is None:
        via_url = statement.get("InvokedViaFunctionUrl")
    return {
        "principal": principal,
        "action": _single(statement.get("Action")),
        "source_arn": _condition(statement, "ArnLike", "AWS:SourceArn"),
        "source_account": _condition(statement, "StringEquals", "AWS:SourceAccount"),
        "function_url_auth_type": _condition(statement, "StringEquals", "lambda:FunctionUrlAuthType")
        or statement.get("FunctionUrlAuthType"),
        "invoked_via_function_url": None if via_url is None else str(via_url).lower(),
    }


def read_permissions(client: Any, name: str) -> Dict[str, Any]:
    """{Sid: grant} of the function's resource policy ({} when it has none)."""
    policy = get_policy(client, name) or {}
    return {s["Sid"]: normalize_statement(s) for s in policy.get("Statement", []) if s.get("Sid")}


def ensure_permissions(
    client: Any, name: str, current: Dict[str, Any], desired: Dict[str, Any], check_mode: bool
) -> Ensured:
    """Adds the grants of ``desired`` ({Sid: grant}) that are missing or different, and removes TrailWatch's
    statements that are no longer wanted; foreign statements stay. Returns an Ensured (parts: the Sids changed)."""
    parts = []
    after = dict(current)
    for sid in sorted(current):
        if sid.startswith(SID_PREFIX) and (sid not in desired or current[sid] != desired[sid]):
            parts.append(sid)
            after.pop(sid)
            if not check_mode:
                remove_permission(client, name, sid)
    for sid in sorted(desired):
        if after.get(sid) != desired[sid]:
            if sid not in parts:
                parts.append(sid)
            after[sid] = desired[sid]
            if not check_mode:
                add_permission(client, name, sid, desired[sid])
    return converged(after, parts)


# --- function URL -----------------------------------------------------------------------------------------------


def read_url(client: Any, name: str) -> Optional[Dict[str, Any]]:
    config = get_url_config(client, name)
    if config is None:
        return None
    return {"url": config["FunctionUrl"], "auth_type": config["AuthType"]}


def ensure_url_present(
    client: Any, name: str, current: Optional[Dict[str, Any]], auth_type: Any, check_mode: bool
) -> Ensured:
    """Ensured whose after is {url, auth_type}; the URL of one created in check mode is not known (None)."""
    if current is None:
        url = None if check_mode else create_url_config(client, name, auth_type)["FunctionUrl"]
        return created({"url": url, "auth_type": auth_type})
    if current["auth_type"] != auth_type:
        if not check_mode:
            update_url_config(client, name, auth_type)
        return converged(dict(current, auth_type=auth_type), ["auth_type"])
    return converged(current, [])
