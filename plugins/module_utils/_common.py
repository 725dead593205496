# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: retry policy, caller identity and small helpers shared by the service utils.

Also the names every layer shares: the Sid of a TrailWatch statement (``TrailWatch<Role>For<Install>``) and the S3
key prefix as CloudTrail spells it. The policy builders (``_policies``) and the policy merge (``_policy_merge``)
both use them; neither imports the other's names.
"""

import contextlib
import functools
import hashlib
import random
import re
import time
from typing import Any
from typing import Callable
from typing import Dict
from typing import Iterable
from typing import Iterator
from typing import NamedTuple
from typing import Optional
from typing import Sequence
from typing import Tuple
from typing import TypeVar
from typing import Union

try:
    import botocore
except ImportError:
    pass  # Modules are responsible for handling this.

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

# AWSRetry already retries Throttling/RequestLimitExceeded/ServiceUnavailable/InternalError; the JSON services
# (CloudTrail, CloudWatch Logs, KMS) spell throttling differently, and S3 sends SlowDown/OperationAborted.
_EXTRA_RETRY_CODES = [
    "ThrottlingException",
    "ThrottledException",
    "SlowDown",
    "OperationAborted",
    "ServiceUnavailableException",
    "InternalServerError",
    "InternalFailure",
    "KMSInternalException",
    "DependencyTimeoutException",
    "ConcurrentModificationException",
    "OperationAbortedException",
    # An S3 HEAD answer has no body: its error code is the bare HTTP status.
    "500",
    "502",
    "503",
    "504",
]


_CONNECTION_ATTEMPTS = 4

# The answers AWSRetry's jittered backoff retries (its own list and ours): retry_while retries them too, under its
# one deadline, so that a call it wraps needs no retry() of its own (which would multiply the attempts).
THROTTLING_CODES = [
    "RequestLimitExceeded",
    "Unavailable",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalError",
    "TooManyRequestsException",
    "Throttling",
] + _EXTRA_RETRY_CODES

T = TypeVar("T")


def retry() -> Callable[[Callable[..., T]], Callable[..., T]]:
    """The jittered backoff every TrailWatch API wrapper runs under.

    AWSRetry retries error answers; a connection dropped or reset on every one of botocore's own attempts
    (standard mode: 3) is retried here too, a few more times with jittered waits.
    """
    on_error_codes = AWSRetry.jittered_backoff(
        retries=8, delay=1, max_delay=20, catch_extra_error_codes=_EXTRA_RETRY_CODES
    )

    def decorator(func: Callable[..., T]) -> Callable[..., T]:
        retrying = on_error_codes(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            for attempt in range(_CONNECTION_ATTEMPTS):
                try:
                    return retrying(*args, **kwargs)
                except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError):
                    if attempt == _CONNECTION_ATTEMPTS - 1:
                        raise
                time.sleep(random.uniform(0.5, 2.0**attempt))
            raise AssertionError("not reached: the last attempt returns or raises")

        return wrapper

    return decorator


class Ensured(NamedTuple):
    """What every ensure_* helper returns (docs/architecture.md, "The ensure_* contract").

    changed: whether the resource differs (or would, in check mode) from what it was;
    after: its state afterwards in its read_* shape, predicted in check mode; None once it is gone;
    parts: which parts changed (``created``, ``deleted``, or the names of the parts converged), () when unchanged.
    """

    changed: bool
    after: Any = None
    parts: Sequence[str] = ()


def created(after: Any) -> Ensured:
    """The result of creating a resource (or predicting its creation)."""
    return Ensured(True, after, ["created"])


def deleted(did_delete: bool = True) -> Ensured:
    """The result of deleting a resource (did_delete False: there was nothing to delete)."""
    return Ensured(did_delete, None, ["deleted"] if did_delete else [])


def converged(after: Any, parts: Iterable[str]) -> Ensured:
    """The result of converging an existing resource: changed when any part did."""
    changed = list(parts)
    return Ensured(bool(changed), after, changed)


class TrailWatchError(AnsibleAWSError):
    pass


class StsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = TrailWatchError


@StsErrorHandler.common_error_handler("read the caller identity (check the AWS credentials)")
@retry()
def caller_identity(client: Any) -> Tuple[str, str]:
    """Returns (account_id, partition) of the credentials in use."""
    identity = client.get_caller_identity()
    return identity["Account"], identity["Arn"].split(":")[1]


def retry_while(
    func: Callable[[], T],
    codes: Union[str, Iterable[str]],
    timeout: float,
    sleep: Callable[[float], Any] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    throttling: bool = True,
) -> T:
    """Calls func() until it stops failing with one of the error codes or timeout seconds have passed.

    For errors that are eventual consistency rather than throttling (a fresh IAM role that CloudTrail
    cannot assume yet): AWS asks for up to about two minutes of patience, with jittered waits.

    func makes one bare API call: throttling (THROTTLING_CODES) and a dropped connection are retried here as well,
    under the same deadline, so the attempts are bounded once. Do not wrap the call in retry() as well: its own
    retries would run inside each of these attempts and multiply them. When func is itself a retry_while (one
    condition inside another), the outer one passes throttling=False: only the innermost loop retries throttling.
    """
    retried = [codes] if isinstance(codes, str) else list(codes)
    if throttling:
        retried += THROTTLING_CODES
    deadline = clock() + timeout
    delay = 1.0
    while True:
        try:
            return func()
        except botocore.exceptions.ClientError as e:
            if is_boto3_error_code(retried, e) is not botocore.exceptions.ClientError or clock() >= deadline:
                raise
        except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError):
            if not throttling or clock() >= deadline:
                raise
        sleep(min(random.uniform(delay / 2, delay), max(0.0, deadline - clock())))
        delay = min(delay * 2, 16.0)


@contextlib.contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """A botocore error of a call made outside the service wrappers (a module's own reads) becomes a TrailWatchError
    that says what was being done, so that ``_run.run_module`` reports it like any service error
    (``fail_json_aws``: the message, the AWS error code and the response)."""
    try:
        yield
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        raise TrailWatchError(doing, exception=e) from e


def error_code(error: BaseException) -> Optional[str]:
    """The AWS error code of a botocore ClientError, or of the TrailWatchError that carries one; else None."""
    cause = getattr(error, "exception", None) or error
    response = getattr(cause, "response", None) or {}
    return response.get("Error", {}).get("Code")


class _OtherError(Exception):
    """An answer with the retried code but not the retried text: carried past retry_while, then re-raised."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def retry_while_message(call: Callable[[], T], code: str, text: str, timeout: float, throttling: bool = True) -> T:
    """Calls call() until it stops failing with error ``code`` whose message contains ``text`` (case-insensitive),
    or ``timeout`` seconds have passed (retry_while's jittered waits). Other errors go through at once.
    """

    def attempt() -> T:
        try:
            return call()
        except botocore.exceptions.ClientError as e:
            error = e.response.get("Error", {})
            if error.get("Code") == code and text.lower() not in error.get("Message", "").lower():
                raise _OtherError(e) from e
            raise

    try:
        return retry_while(attempt, [code], timeout, throttling=throttling)
    except _OtherError as e:
        raise e.error from None


def tag_dict(tag_list: Optional[Iterable[Dict[str, Any]]]) -> Dict[str, str]:
    """[{"Key": k, "Value": v}, ...] as AWS returns tags -> {k: v}; a tag listed without a value has the value ""."""
    return {t["Key"]: t.get("Value", "") for t in tag_list or []}


def text_tags(tags: Optional[Dict[Any, Any]]) -> Dict[str, str]:
    """Tag values as AWS stores them: text (YAML gives ints and booleans for `cost-center: 1234`)."""
    return {to_text(k): to_text(v) for k, v in (tags or {}).items()}


def converge_tags(
    current: Dict[str, str],
    desired: Optional[Dict[Any, Any]],
    purge: bool,
    tag: Callable[..., Any],
    untag: Callable[..., Any],
    check_mode: bool,
) -> Tuple[bool, Dict[str, str]]:
    """Applies the tag difference through tag(dict)/untag(keys); returns (changed, tags afterwards)."""
    desired = text_tags(desired)
    to_set, to_unset = compare_aws_tags(current, desired, purge)
    # compare_aws_tags walks sets: sort, so that the same change makes the same API call every time.
    to_set, to_unset = dict(sorted(to_set.items())), sorted(to_unset)
    after = {k: v for k, v in {**current, **to_set}.items() if k not in to_unset}
    if not check_mode:
        if to_set:
            tag(to_set)
        if to_unset:
            untag(to_unset)
    return bool(to_set or to_unset), after


# --- names every layer shares -------------------------------------------------------------------------------------

SID_PREFIX = "TrailWatch"
INSTALL_SEPARATOR = "For"

# Every role a TrailWatch statement has had, in any version: a Sid is TrailWatch + role (+ For + install).
# Never remove a role from this list (older stacks still carry it); no role may end with another role or contain
# INSTALL_SEPARATOR, so that a Sid names exactly one (role, install) pair (tests/unit/.../test_policies.py).
ROLES = (
    "AccountRoot",
    "CloudTrailEncrypt",
    "CloudTrailDescribe",
    "AccountReadersDecrypt",
    "CloudWatchLogs",
    "CloudWatchAlarms",
    "CloudTrailAclCheck",
    "CloudTrailWrite",
    "DenyInsecureTransport",
    "CloudTrailAssume",
    "WriteTrailLogStreams",
    "OwnerManage",
    "CloudWatchAlarmsPublish",
)

_CANONICAL_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z][a-z0-9]*)*")


def install_token(name: str) -> str:
    """The install's name as Sid characters (ASCII letters and digits only, valid in IAM, S3, KMS and SNS).

    ``trailwatch`` -> ``Trailwatch``, ``audit-logs`` -> ``AuditLogs``. Names that this CamelCase cannot spell back
    (upper case, ``_`` or ``.``, a part starting with a digit: ``team-1`` and ``team1`` would meet) get ``X`` and
    8 hex digits of their SHA-256 appended, so that two names never share a token.
    """
    token = "".join(part[:1].upper() + part[1:] for part in re.findall(r"[A-Za-z0-9]+", name))
    if not _CANONICAL_NAME.fullmatch(name):
        token += "X" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
    return token


def sid(role: str, install: Optional[str] = None) -> str:
    """``TrailWatch<Role>``, or ``TrailWatch<Role>For<Install>`` for the statements one install owns."""
    return f"{SID_PREFIX}{role}" + (f"{INSTALL_SEPARATOR}{install_token(install)}" if install else "")


def is_install_sid(value: Any) -> bool:
    """Whether a Sid names an install (``TrailWatch<Role>For<Install>``): a statement one install may take away."""
    return isinstance(value, str) and any(value.startswith(f"{SID_PREFIX}{role}{INSTALL_SEPARATOR}") for role in ROLES)


def log_prefix(key_prefix: Optional[str]) -> Optional[str]:
    """The S3 key prefix as CloudTrail uses it: no leading or trailing slash; None when there is none."""
    prefix = (key_prefix or "").strip("/")
    return prefix or None


def log_group_arn(partition: str, region: str, account: str, log_group_name: str) -> str:
    """A log group's ARN as IAM, KMS and the tagging API want it (without DescribeLogGroups' trailing ``:*``)."""
    return f"arn:{partition}:logs:{region}:{account}:log-group:{log_group_name}"
