# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: SQS wrappers: the notifier's failed-events queue.

The notifier function's on-failure destination: Lambda sends it the invocation record of every event that failed all
its attempts, so that no CreateBucket notification is lost for good. The queue is encrypted with SSE-SQS (keys SQS
owns: Lambda's delivery, made with the function's execution role, needs ``sqs:SendMessage`` only, where a customer
managed key would need KMS grants too), keeps messages for the 14 days SQS allows at most, and its policy refuses any
request that is not made over TLS.
"""

import json
from typing import Any
from typing import Dict
from typing import List
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ._common import Ensured
from ._common import TrailWatchError
from ._common import deleted
from ._common import converged
from ._common import created
from ._common import converge_tags
from ._common import retry
from ._common import retry_while
from ._common import text_tags

# The longest SQS keeps a message: 14 days.
RETENTION_SECONDS = 1209600
# The attributes TrailWatch sets, as GetQueueAttributes reports them (strings), the policy apart.
QUEUE_ATTRIBUTES = {"SqsManagedSseEnabled": "true", "MessageRetentionPeriod": str(RETENTION_SECONDS)}
# After DeleteQueue, SQS refuses a queue of the same name for 60 seconds (teardown, then deploy again).
DELETED_RECENTLY = ["AWS.SimpleQueueService.QueueDeletedRecently", "QueueDeletedRecently"]
DELETED_RECENTLY_TIMEOUT = 75
_MISSING = ["AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"]


class SqsError(TrailWatchError):
    pass


class SqsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = SqsError

    @classmethod
    def _is_missing(cls) -> Any:
        return is_boto3_error_code(_MISSING)


# --- API wrappers -----------------------------------------------------------------------------------------------


@SqsErrorHandler.list_error_handler("look up the SQS queue")
@retry()
def get_queue_url(client: Any, name: str) -> Optional[str]:
    return client.get_queue_url(QueueName=name)["QueueUrl"]


@SqsErrorHandler.common_error_handler("read the SQS queue's attributes")
@retry()
def get_queue_attributes(client: Any, url: str) -> Dict[str, str]:
    return client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes", {})


@SqsErrorHandler.list_error_handler("read the SQS queue's tags", {})
@retry()
def get_tags(client: Any, url: str) -> Dict[str, str]:
    return dict(client.list_queue_tags(QueueUrl=url).get("Tags") or {})


@SqsErrorHandler.common_error_handler("create the SQS queue")
def create_queue(client: Any, name: str, attributes: Dict[str, str], tags: Dict[str, str]) -> str:
    params: Dict[str, Any] = {"QueueName": name, "Attributes": attributes}
    if tags:
        params["tags"] = text_tags(tags)
    return retry_while(lambda: client.create_queue(**params), DELETED_RECENTLY, DELETED_RECENTLY_TIMEOUT)["QueueUrl"]


@SqsErrorHandler.common_error_handler("set the SQS queue's attributes")
@retry()
def set_queue_attributes(client: Any, url: str, attributes: Dict[str, str]) -> None:
    client.set_queue_attributes(QueueUrl=url, Attributes=attributes)


@SqsErrorHandler.common_error_handler("tag the SQS queue")
@retry()
def tag_queue(client: Any, url: str, tags: Dict[str, str]) -> None:
    client.tag_queue(QueueUrl=url, Tags=tags)


@SqsErrorHandler.common_error_handler("untag the SQS queue")
@retry()
def untag_queue(client: Any, url: str, keys: List[str]) -> None:
    client.untag_queue(QueueUrl=url, TagKeys=keys)


@SqsErrorHandler.deletion_error_handler("delete the SQS queue")
@retry()
def delete_queue(client: Any, url: str) -> bool:
    client.delete_queue(QueueUrl=url)
    return True


# --- the queue --------------------------------------------------------------------------------------------------


def read_queue(client: Any, name: str) -> Optional[Dict[str, Any]]:
    """The queue as TrailWatch compares it (None when it does not exist): three reads."""
    url = get_queue_url(client, name)
    if url is None:
        return None
    attributes = get_queue_attributes(client, url)
    policy = attributes.get("Policy")
    return {
        "name": name,
        "url": url,
        "arn": attributes.get("QueueArn"),
        "attributes": {key: attributes.get(key) for key in QUEUE_ATTRIBUTES},
        "policy": json.loads(policy) if policy else None,
        "messages": int(attributes.get("ApproximateNumberOfMessages") or 0),
        "tags": get_tags(client, url),
    }


def ensure_queue_present(
    client: Any,
    current: Optional[Dict[str, Any]],
    name: str,
    arn: str,
    policy: Dict[str, Any],
    tags: Dict[str, Any],
    purge_tags: bool,
    check_mode: bool,
) -> Ensured:
    """Creates or converges the queue. Returns an Ensured (parts:
    ``["created"]`` for a creation, else some
    of ``attributes``, ``policy``, ``tags``."""
    if current is None:
        after = {
            "name": name,
            "url": None,
            "arn": arn,
            "attributes": dict(QUEUE_ATTRIBUTES),
            "policy": policy,
            "messages": 0,
            "tags": text_tags(tags),
        }
        if not check_mode:
            after["url"] = create_queue(client, name, dict(QUEUE_ATTRIBUTES, Policy=json.dumps(policy)), tags)
        return created(after)

    parts = []
    after = dict(current)
    changes = {key: value for key, value in QUEUE_ATTRIBUTES.items() if current["attributes"].get(key) != value}
    if changes:
        parts.append("attributes")
        after["attributes"] = dict(QUEUE_ATTRIBUTES)
    if current["policy"] is None or compare_policies(current["policy"], policy):
        parts.append("policy")
        changes["Policy"] = json.dumps(policy)
        after["policy"] = policy
    if changes and not check_mode:
        set_queue_attributes(client, current["url"], changes)
    tags_changed, after["tags"] = converge_tags(
        current["tags"],
        tags,
        purge_tags,
        lambda t: tag_queue(client, current["url"], t),
        lambda k: untag_queue(client, current["url"], k),
        check_mode,
    )
    if tags_changed:
        parts.append("tags")
    return converged(after, parts)


def ensure_queue_absent(client: Any, current: Optional[Dict[str, Any]], check_mode: bool) -> Ensured:
    if current is None:
        return deleted(False)
    if not check_mode:
        delete_queue(client, current["url"])
    return deleted()
