# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: retry policy, caller identity and small helpers shared by the service utils."""

import functools
import random
import time

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


def retry():
    """The jittered backoff every TrailWatch API wrapper runs under.

    AWSRetry retries error answers; a connection dropped or reset on every one of botocore's own attempts
    (standard mode: 3) is retried here too, a few more times with jittered waits.
    """
    on_error_codes = AWSRetry.jittered_backoff(
        retries=8, delay=1, max_delay=20, catch_extra_error_codes=_EXTRA_RETRY_CODES
    )

    def decorator(func):
        retrying = on_error_codes(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for attempt in range(_CONNECTION_ATTEMPTS):
                try:
                    return retrying(*args, **kwargs)
                except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError):
                    if attempt == _CONNECTION_ATTEMPTS - 1:
                        raise
                time.sleep(random.uniform(0.5, 2.0**attempt))
            return None  # not reached: the last attempt returns or raises

        return wrapper

    return decorator


class TrailWatchError(AnsibleAWSError):
    pass


class StsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = TrailWatchError


@StsErrorHandler.common_error_handler("read the caller identity (check the AWS credentials)")
@retry()
def caller_identity(client):
    """Returns (account_id, partition) of the credentials in use."""
    identity = client.get_caller_identity()
    return identity["Account"], identity["Arn"].split(":")[1]


def retry_while(func, codes, timeout, sleep=time.sleep, clock=time.monotonic):
    """Calls func() until it stops failing with one of the error codes or timeout seconds have passed.

    For errors that are eventual consistency rather than throttling (a fresh IAM role that CloudTrail
    cannot assume yet): AWS asks for up to about two minutes of patience, with jittered waits.
    """
    deadline = clock() + timeout
    delay = 1.0
    while True:
        try:
            return func()
        except botocore.exceptions.ClientError as e:
            if is_boto3_error_code(codes, e) is not botocore.exceptions.ClientError or clock() >= deadline:
                raise
        sleep(min(random.uniform(delay / 2, delay), max(0.0, deadline - clock())))
        delay = min(delay * 2, 16.0)


def text_tags(tags):
    """Tag values as AWS stores them: text (YAML gives ints and booleans for `cost-center: 1234`)."""
    return {to_text(k): to_text(v) for k, v in (tags or {}).items()}


def converge_tags(current, desired, purge, tag, untag, check_mode):
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
