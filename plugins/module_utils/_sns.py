# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: SNS wrappers: a topic with its attributes, policy, tags and subscriptions."""

import json
from typing import Any
from typing import Dict
from typing import List
from typing import Optional
from typing import Tuple

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ._common import TrailWatchError
from ._common import deleted
from ._common import Ensured
from ._common import converged
from ._common import created
from ._common import converge_tags
from ._common import retry
from ._common import tag_dict

PENDING = "PendingConfirmation"


class SnsError(TrailWatchError):
    pass


class SnsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = SnsError

    @classmethod
    def _is_missing(cls) -> Any:
        return is_boto3_error_code("NotFound")


@SnsErrorHandler.list_error_handler("read the topic attributes")
@retry()
def get_topic_attributes(client: Any, arn: str) -> Any:
    return client.get_topic_attributes(TopicArn=arn)["Attributes"]


@SnsErrorHandler.list_error_handler("list the topic's subscriptions", [])
@retry()
def list_subscriptions(client: Any, arn: str) -> Any:
    pages = client.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=arn)
    return pages.build_full_result().get("Subscriptions", [])


@SnsErrorHandler.list_error_handler("read the topic tags", {})
@retry()
def get_tags(client: Any, arn: str) -> Dict[str, str]:
    return tag_dict(client.list_tags_for_resource(ResourceArn=arn).get("Tags", []))


@SnsErrorHandler.common_error_handler("create the topic")
@retry()
def create_topic(client: Any, name: str, attributes: Dict[str, str], tags: Dict[str, Any]) -> Any:
    params: Dict[str, Any] = {"Name": name, "Attributes": attributes}
    if tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return client.create_topic(**params)["TopicArn"]


@SnsErrorHandler.common_error_handler("set a topic attribute")
@retry()
def set_topic_attribute(client: Any, arn: str, name: str, value: str) -> None:
    client.set_topic_attributes(TopicArn=arn, AttributeName=name, AttributeValue=value)


@SnsErrorHandler.common_error_handler("subscribe to the topic")
@retry()
def subscribe(client: Any, arn: str, protocol: str, endpoint: str) -> Any:
    return client.subscribe(TopicArn=arn, Protocol=protocol, Endpoint=endpoint, ReturnSubscriptionArn=True)[
        "SubscriptionArn"
    ]


@SnsErrorHandler.deletion_error_handler("unsubscribe from the topic")
@retry()
def unsubscribe(client: Any, subscription_arn: str) -> bool:
    client.unsubscribe(SubscriptionArn=subscription_arn)
    return True


@SnsErrorHandler.common_error_handler("tag the topic")
@retry()
def tag_topic(client: Any, arn: str, tags: Dict[str, Any]) -> None:
    client.tag_resource(ResourceArn=arn, Tags=ansible_dict_to_boto3_tag_list(tags))


@SnsErrorHandler.common_error_handler("untag the topic")
@retry()
def untag_topic(client: Any, arn: str, keys: List[str]) -> None:
    client.untag_resource(ResourceArn=arn, TagKeys=keys)


@SnsErrorHandler.deletion_error_handler("delete the topic")
@retry()
def delete_topic(client: Any, arn: str) -> bool:
    client.delete_topic(TopicArn=arn)
    return True


def _subscription(sub: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "protocol": sub["Protocol"],
        "endpoint": sub["Endpoint"],
        "subscription_arn": sub["SubscriptionArn"],
        "pending_confirmation": sub["SubscriptionArn"] == PENDING,
    }


def read_topic(client: Any, arn: str) -> Optional[Dict[str, Any]]:
    attributes = get_topic_attributes(client, arn)
    if attributes is None:
        return None
    return {
        "arn": arn,
        "name": arn.rsplit(":", 1)[1],
        "display_name": attributes.get("DisplayName", ""),
        "kms_master_key_id": attributes.get("KmsMasterKeyId", ""),
        "policy": json.loads(attributes["Policy"]) if attributes.get("Policy") else None,
        "subscriptions": [_subscription(s) for s in list_subscriptions(client, arn)],
        "tags": get_tags(client, arn),
    }


def _key(protocol: str, endpoint: str) -> Tuple[str, str]:
    # SNS keeps e-mail endpoints as given but matches them case-insensitively.
    return protocol, endpoint.lower() if protocol in ("email", "email-json") else endpoint


def ensure_subscriptions(
    client: Any,
    arn: str,
    current: List[Dict[str, Any]],
    wanted: List[Dict[str, Any]],
    purge: bool,
    check_mode: bool,
) -> Ensured:
    """Subscribes what is missing, never re-subscribing a pending one; an Ensured whose after is the subscriptions."""
    have = {_key(s["protocol"], s["endpoint"]): s for s in current}
    want = {_key(w["protocol"], w["endpoint"]): w for w in wanted}
    result = []
    changed = False
    for key, sub in have.items():
        if key in want or not purge:
            result.append(sub)
        elif sub["pending_confirmation"]:
            # SNS cannot unsubscribe a pending subscription; it expires after three days.
            result.append(sub)
        else:
            changed = True
            if not check_mode:
                unsubscribe(client, sub["subscription_arn"])
    for key, w in want.items():
        if key in have:
            continue
        changed = True
        sub_arn = PENDING if check_mode else subscribe(client, arn, w["protocol"], w["endpoint"])
        # ReturnSubscriptionArn gives an ARN even while confirmation is pending, so ask the topic afterwards.
        result.append(
            {
                "protocol": w["protocol"],
                "endpoint": w["endpoint"],
                "subscription_arn": sub_arn,
                "pending_confirmation": w["protocol"] in ("email", "email-json", "http", "https"),
            }
        )
    return Ensured(changed, result, ["subscriptions"] if changed else [])


def ensure_topic_present(
    client: Any,
    current: Optional[Dict[str, Any]],
    arn: str,
    name: str,
    attributes: Dict[str, str],
    tags: Dict[str, Any],
    purge_tags: bool,
    subscriptions: List[Dict[str, Any]],
    purge_subscriptions: bool,
    check_mode: bool,
) -> Ensured:
    """Creates or converges the topic; an Ensured (parts: created, attributes)."""
    after = {
        "arn": arn,
        "name": name,
        "display_name": attributes.get("DisplayName", ""),
        "kms_master_key_id": attributes.get("KmsMasterKeyId", ""),
        "policy": json.loads(attributes["Policy"]),
        "subscriptions": [],
        "tags": dict(tags),
    }
    changed = False
    missing = current is None
    if current is None:
        if not check_mode:
            arn = after["arn"] = create_topic(client, name, attributes, tags)
        current = {
            "subscriptions": [],
            "tags": dict(tags),
            "policy": after["policy"],
            "display_name": after["display_name"],
            "kms_master_key_id": after["kms_master_key_id"],
        }
    else:
        wanted = {
            "DisplayName": ("display_name", attributes.get("DisplayName", "")),
            "KmsMasterKeyId": ("kms_master_key_id", attributes.get("KmsMasterKeyId", "")),
        }
        for attribute, (field, value) in wanted.items():
            if current[field] != value:
                changed = True
                if not check_mode:
                    set_topic_attribute(client, arn, attribute, value)
        if current["policy"] is None or compare_policies(current["policy"], after["policy"], default_version=None):
            changed = True
            if not check_mode:
                set_topic_attribute(client, arn, "Policy", attributes["Policy"])
        tags_changed, after["tags"] = converge_tags(
            current["tags"],
            tags,
            purge_tags,
            lambda t: tag_topic(client, arn, t),
            lambda k: untag_topic(client, arn, k),
            check_mode,
        )
        changed |= tags_changed
    subs = ensure_subscriptions(client, arn, current["subscriptions"], subscriptions, purge_subscriptions, check_mode)
    after["subscriptions"] = subs.after
    if missing:
        return created(after)
    return converged(after, (["attributes"] if changed else []) + list(subs.parts))


def ensure_topic_absent(client: Any, current: Optional[Dict[str, Any]], check_mode: bool) -> Ensured:
    """Deleting the topic also removes its subscriptions."""
    if current is None:
        return deleted(False)
    if not check_mode:
        delete_topic(client, current["arn"])
    return deleted()
