# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: Lambda wrappers: a function with its code, configuration, tags, resource policy
statements and function URL, and the reproducible zip of the shipped handler code.

The code is compared by CodeSha256 (base64 of the SHA-256 of the zip): the zip is built byte for byte the same
from the same files (fixed order, times and modes, stored uncompressed), so a re-run uploads nothing.
"""

import base64
import hashlib
import io
import json
import os
import zipfile

try:
    import botocore
except ImportError:
    pass  # Modules are responsible for handling this.

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler

from ._common import TrailWatchError
from ._common import converge_tags
from ._common import retry
from ._common import retry_while
from ._common import text_tags

# A role created (or changed) in the same run takes seconds to propagate: meanwhile Lambda answers
# InvalidParameterValueException "The role defined for the function cannot be assumed by Lambda." That code also
# means real mistakes (an unknown runtime, say), so only answers with this text are retried.
PROPAGATION_CODE = "InvalidParameterValueException"
PROPAGATION_TEXT = "cannot be assumed by lambda"
PROPAGATION_TIMEOUT = 120

ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)
ZIP_FILE_MODE = 0o100644

# The statements TrailWatch adds to a function's resource policy carry this Sid prefix; others are left alone.
SID_PREFIX = "TrailWatch"


class LambdaError(TrailWatchError):
    pass


class LambdaErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = LambdaError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


# --- the code ---------------------------------------------------------------------------------------------------


def build_zip(code_dir):
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


def read_zip(path):
    with open(path, "rb") as archive:
        data = archive.read()
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise LambdaError(message=f"{path} is not a zip archive")
    return data


def code_sha256(data):
    """The CodeSha256 Lambda reports for a zip: base64 of its SHA-256 digest."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


# --- API wrappers -----------------------------------------------------------------------------------------------


@LambdaErrorHandler.list_error_handler("read the Lambda function")
@retry()
def get_function(client, name):
    return client.get_function(FunctionName=name)


@LambdaErrorHandler.list_error_handler("read the Lambda function's resource policy")
@retry()
def get_policy(client, name):
    return json.loads(client.get_policy(FunctionName=name)["Policy"])


@LambdaErrorHandler.list_error_handler("read the Lambda function URL")
@retry()
def get_url_config(client, name):
    return client.get_function_url_config(FunctionName=name)


class _OtherError(Exception):
    """An answer with the retried code but not the retried text: carried past retry_while, then re-raised."""

    def __init__(self, error):
        super().__init__(str(error))
        self.error = error


def retry_while_message(call, code, text, timeout):
    """Calls call() until it stops failing with error ``code`` whose message contains ``text`` (case-insensitive),
    or ``timeout`` seconds have passed (``_common.retry_while``'s jittered waits). Other errors go through at once.
    """

    def attempt():
        try:
            return call()
        except botocore.exceptions.ClientError as e:
            error = e.response.get("Error", {})
            if error.get("Code") == code and text.lower() not in error.get("Message", "").lower():
                raise _OtherError(e) from e
            raise

    try:
        return retry_while(attempt, [code], timeout)
    except _OtherError as e:
        raise e.error from None


def _retry_role_propagation(call, timeout):
    return retry_while_message(call, PROPAGATION_CODE, PROPAGATION_TEXT, timeout)


@LambdaErrorHandler.common_error_handler("create the Lambda function")
def create_function(client, params, timeout=PROPAGATION_TIMEOUT):
    return _retry_role_propagation(lambda: retry()(client.create_function)(**params), timeout)


@LambdaErrorHandler.common_error_handler("update the Lambda function's configuration")
def update_function_configuration(client, params, timeout=PROPAGATION_TIMEOUT):
    return _retry_role_propagation(lambda: retry()(client.update_function_configuration)(**params), timeout)


@LambdaErrorHandler.common_error_handler("update the Lambda function's code")
@retry()
def update_function_code(client, name, data):
    return client.update_function_code(FunctionName=name, ZipFile=data)


@LambdaErrorHandler.common_error_handler("wait for the Lambda function to become active")
def wait_active(client, name):
    client.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})


@LambdaErrorHandler.common_error_handler("wait for the Lambda function's update to finish")
def wait_updated(client, name):
    client.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 300})


@LambdaErrorHandler.common_error_handler("set the Lambda function's reserved concurrency")
@retry()
def put_concurrency(client, name, value):
    client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=value)


@LambdaErrorHandler.common_error_handler("tag the Lambda function")
@retry()
def tag_function(client, arn, tags):
    client.tag_resource(Resource=arn, Tags=text_tags(tags))


@LambdaErrorHandler.common_error_handler("untag the Lambda function")
@retry()
def untag_function(client, arn, keys):
    client.untag_resource(Resource=arn, TagKeys=keys)


@LambdaErrorHandler.common_error_handler("add a statement to the Lambda function's resource policy")
@retry()
def add_permission(client, name, sid, spec):
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
def remove_permission(client, name, sid):
    client.remove_permission(FunctionName=name, StatementId=sid)
    return True


@LambdaErrorHandler.common_error_handler("create the Lambda function URL")
@retry()
def create_url_config(client, name, auth_type):
    return client.create_function_url_config(FunctionName=name, AuthType=auth_type)


@LambdaErrorHandler.common_error_handler("update the Lambda function URL")
@retry()
def update_url_config(client, name, auth_type):
    return client.update_function_url_config(FunctionName=name, AuthType=auth_type)


@LambdaErrorHandler.deletion_error_handler("delete the Lambda function")
@retry()
def delete_function(client, name):
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


def read_function(client, name):
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
    )
    return state


def _configuration_params(spec):
    params = {key: spec[field] for key, field in _CONFIG_FIELDS.items()}
    params["FunctionName"] = spec["name"]
    params["Environment"] = {"Variables": dict(spec["environment"])}
    return params


def ensure_function_present(client, current, spec, code, tags, purge_tags, check_mode, reserved_concurrency=None):
    """Creates or converges the function. ``spec`` holds name, arn (predicted), runtime, handler, role, timeout,
    memory_size, description and environment; ``code`` is the zip.

    Returns (changed parts, predicted state): the parts are ``[]`` when nothing changed, ``[""]`` for a creation,
    else some of ``code``, ``configuration``, ``tags``, ``concurrency``.
    """
    sha = code_sha256(code)
    after = dict(spec, code_sha256=sha, tags=dict(tags), reserved_concurrency=reserved_concurrency)
    if current is None:
        if not check_mode:
            params = dict(_configuration_params(spec), Code={"ZipFile": code}, Publish=False)
            if tags:
                params["Tags"] = text_tags(tags)
            after["arn"] = create_function(client, params)["FunctionArn"]
            wait_active(client, spec["name"])
            if reserved_concurrency is not None:
                put_concurrency(client, spec["name"], reserved_concurrency)
        return [""], after

    parts = []
    after["arn"] = current["arn"]
    if current["code_sha256"] != sha:
        parts.append("code")
        if not check_mode:
            update_function_code(client, spec["name"], code)
            wait_updated(client, spec["name"])
    if any(current.get(field) != spec[field] for field in _CONFIG_FIELDS.values()) or (
        current["environment"] != spec["environment"]
    ):
        parts.append("configuration")
        if not check_mode:
            update_function_configuration(client, _configuration_params(spec))
            wait_updated(client, spec["name"])
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
    elif current["reserved_concurrency"] != reserved_concurrency:
        parts.append("concurrency")
        if not check_mode:
            put_concurrency(client, spec["name"], reserved_concurrency)
    return parts, after


def ensure_function_absent(client, current, name, check_mode):
    """Deleting the function also deletes its resource policy and its URL."""
    if current is None:
        return False
    if not check_mode:
        delete_function(client, name)
    return True


# --- resource policy statements ---------------------------------------------------------------------------------


def permission(principal, action, source_arn=None, source_account=None, url_auth_type=None, via_url=False):
    """One AddPermission grant, in the form read_permissions reports existing ones."""
    return {
        "principal": principal,
        "action": action,
        "source_arn": source_arn,
        "source_account": source_account,
        "function_url_auth_type": url_auth_type,
        "invoked_via_function_url": "true" if via_url else None,
    }


def _single(value):
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _condition(statement, operator, key):
    for op, pairs in (statement.get("Condition") or {}).items():
        if op.lower() != operator.lower():
            continue
        for k, v in (pairs or {}).items():
            if k.lower() == key.lower():
                return _single(v)
    return None


def normalize_statement(statement):
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


def read_permissions(client, name):
    """{Sid: grant} of the function's resource policy ({} when it has none)."""
    policy = get_policy(client, name) or {}
    return {s["Sid"]: normalize_statement(s) for s in policy.get("Statement", []) if s.get("Sid")}


def ensure_permissions(client, name, current, desired, check_mode):
    """Adds the grants of ``desired`` ({Sid: grant}) that are missing or different, and removes TrailWatch's
    statements that are no longer wanted; foreign statements stay. Returns (changed, grants afterwards)."""
    changed = False
    after = dict(current)
    for sid in sorted(current):
        if sid.startswith(SID_PREFIX) and (sid not in desired or current[sid] != desired[sid]):
            changed = True
            after.pop(sid)
            if not check_mode:
                remove_permission(client, name, sid)
    for sid in sorted(desired):
        if after.get(sid) != desired[sid]:
            changed = True
            after[sid] = desired[sid]
            if not check_mode:
                add_permission(client, name, sid, desired[sid])
    return changed, after


# --- function URL -----------------------------------------------------------------------------------------------


def read_url(client, name):
    config = get_url_config(client, name)
    if config is None:
        return None
    return {"url": config["FunctionUrl"], "auth_type": config["AuthType"]}


def ensure_url_present(client, name, current, auth_type, check_mode):
    """Returns (changed, {url, auth_type}); the URL of a function URL created in check mode is not known (None)."""
    if current is None:
        url = None if check_mode else create_url_config(client, name, auth_type)["FunctionUrl"]
        return True, {"url": url, "auth_type": auth_type}
    if current["auth_type"] != auth_type:
        if not check_mode:
            update_url_config(client, name, auth_type)
        return True, dict(current, auth_type=auth_type)
    return False, current
