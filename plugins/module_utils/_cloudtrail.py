# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: CloudTrail wrappers and the multi-region trail with explicit event selectors."""

from typing import Any
from typing import Dict
from typing import List
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

from ._common import Ensured
from ._common import TrailWatchError
from ._common import converged
from ._common import created
from ._common import deleted
from ._common import converge_tags
from ._common import retry
from ._common import log_prefix
from ._common import retry_while
from ._common import tag_dict

# Real CloudTrail refuses a role or key policy it cannot use yet: IAM and KMS changes take seconds to
# propagate. Terraform waits up to two minutes for these; so do we.
PROPAGATION_ERRORS = [
    "InvalidCloudWatchLogsRoleArnException",
    "InvalidCloudWatchLogsLogGroupArnException",
    "InsufficientEncryptionPolicyException",
]
PROPAGATION_TIMEOUT = 120


class CloudTrailError(TrailWatchError):
    pass


class CloudTrailErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = CloudTrailError

    @classmethod
    def _is_missing(cls) -> Any:
        return is_boto3_error_code(["TrailNotFoundException", "CloudTrailARNInvalidException"])


# get_trail, not describe_trails: moto's describe_trails ignores trailNameList and returns every trail.
@CloudTrailErrorHandler.list_error_handler("read the trail")
@retry()
def get_trail(client: Any, name: str) -> Any:
    return client.get_trail(Name=name)["Trail"]


@CloudTrailErrorHandler.common_error_handler("read the trail status")
@retry()
def get_trail_status(client: Any, name: str) -> Any:
    return client.get_trail_status(Name=name)


@CloudTrailErrorHandler.common_error_handler("read the trail's event selectors")
@retry()
def get_event_selectors(client: Any, name: str) -> Any:
    return client.get_event_selectors(TrailName=name).get("EventSelectors") or []


@CloudTrailErrorHandler.common_error_handler("list the trails (DescribeTrails)")
@retry()
def describe_trails(client: Any) -> Any:
    """Every trail this region knows: its own, multi-region trails of other home regions and organization trails."""
    return client.describe_trails(includeShadowTrails=True).get("trailList") or []


@CloudTrailErrorHandler.common_error_handler("read the trail's event selectors")
@retry()
def get_selector_lists(client: Any, trail_arn: str) -> Any:
    """(EventSelectors, AdvancedEventSelectors) of the trail, each [] when absent; a trail has one or the other."""
    answer = client.get_event_selectors(TrailName=trail_arn)
    return answer.get("EventSelectors") or [], answer.get("AdvancedEventSelectors") or []


def trails_delivering_to(trails: List[Any], log_group_arn: str) -> List[Any]:
    """The DescribeTrails entries whose CloudWatch Logs delivery goes to this log group (ARN with or without :*)."""

    def bare(arn: str) -> Any:
        return arn[:-2] if arn and arn.endswith(":*") else arn

    return [
        t
        for t in trails
        if t.get("CloudWatchLogsLogGroupArn") and bare(t["CloudWatchLogsLogGroupArn"]) == bare(log_group_arn)
    ]


@CloudTrailErrorHandler.common_error_handler("read the trail tags")
@retry()
def get_tags(client: Any, arn: str) -> Any:
    found = client.list_tags(ResourceIdList=[arn]).get("ResourceTagList") or [{}]
    return tag_dict(found[0].get("TagsList") or [])


@CloudTrailErrorHandler.common_error_handler(
    "create the trail (CloudTrail must be able to write to the bucket, use the key and assume the role)"
)
def create_trail(
    client: Any, settings: Dict[str, Any], tags: Dict[str, Any], timeout: int = PROPAGATION_TIMEOUT
) -> Any:
    params = dict(settings, TagsList=ansible_dict_to_boto3_tag_list(tags))
    return retry_while(lambda: client.create_trail(**params), PROPAGATION_ERRORS, timeout)


@CloudTrailErrorHandler.common_error_handler(
    "update the trail (CloudTrail must be able to write to the bucket, use the key and assume the role)"
)
def update_trail(client: Any, settings: Dict[str, Any], timeout: int = PROPAGATION_TIMEOUT) -> Any:
    return retry_while(lambda: client.update_trail(**settings), PROPAGATION_ERRORS, timeout)


@CloudTrailErrorHandler.common_error_handler("set the trail's event selectors")
@retry()
def put_event_selectors(client: Any, name: str, selectors: List[Any]) -> None:
    client.put_event_selectors(TrailName=name, EventSelectors=selectors)


@CloudTrailErrorHandler.common_error_handler("start logging")
@retry()
def start_logging(client: Any, name: str) -> None:
    client.start_logging(Name=name)


@CloudTrailErrorHandler.common_error_handler("tag the trail")
@retry()
def add_tags(client: Any, arn: str, tags: Dict[str, Any]) -> None:
    client.add_tags(ResourceId=arn, TagsList=ansible_dict_to_boto3_tag_list(tags))


@CloudTrailErrorHandler.common_error_handler("untag the trail")
@retry()
def remove_tags(client: Any, arn: str, keys: List[Any]) -> None:
    client.remove_tags(ResourceId=arn, TagsList=[{"Key": k} for k in keys])


@CloudTrailErrorHandler.deletion_error_handler("delete the trail")
@retry()
def delete_trail(client: Any, name: str) -> bool:
    client.delete_trail(Name=name)
    return True


def event_selectors(read_write_type: Any, exclude_sources: Any) -> List[Any]:
    """Management events only, no data events; set explicitly because a new trail's defaults differ by service."""
    selector = {"ReadWriteType": read_write_type, "IncludeManagementEvents": True, "DataResources": []}
    if exclude_sources:
        selector["ExcludeManagementEventSources"] = sorted(exclude_sources)
    return [selector]


def _normalise_selectors(selectors: List[Any]) -> List[Any]:
    return [
        {
            "ReadWriteType": s.get("ReadWriteType", "All"),
            "IncludeManagementEvents": s.get("IncludeManagementEvents", True),
            "DataResources": s.get("DataResources") or [],
            "ExcludeManagementEventSources": sorted(s.get("ExcludeManagementEventSources") or []),
        }
        for s in selectors
    ]


def trail_settings(
    name: str,
    bucket: str,
    key_prefix: Optional[str],
    key_arn: str,
    log_group_arn: str,
    role_arn: str,
    organization: bool = False,
) -> Dict[str, Any]:
    """The CreateTrail/UpdateTrail parameters TrailWatch owns (secure defaults are not options)."""
    settings = {
        "Name": name,
        "S3BucketName": bucket,
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": True,
        "EnableLogFileValidation": True,
        "KmsKeyId": key_arn,
        "CloudWatchLogsLogGroupArn": f"{log_group_arn}:*",
        "CloudWatchLogsRoleArn": role_arn,
        "IsOrganizationTrail": bool(organization),
    }
    if log_prefix(key_prefix):
        settings["S3KeyPrefix"] = log_prefix(key_prefix)
    return settings


def _settings_of(trail: Dict[str, Any]) -> Dict[str, Any]:
    """The same parameters as read back from GetTrail, for comparison."""
    return {
        "Name": trail["Name"],
        "S3BucketName": trail.get("S3BucketName"),
        "IncludeGlobalServiceEvents": trail.get("IncludeGlobalServiceEvents", False),
        "IsMultiRegionTrail": trail.get("IsMultiRegionTrail", False),
        "EnableLogFileValidation": trail.get("LogFileValidationEnabled", False),
        "KmsKeyId": trail.get("KmsKeyId"),
        "CloudWatchLogsLogGroupArn": trail.get("CloudWatchLogsLogGroupArn"),
        "CloudWatchLogsRoleArn": trail.get("CloudWatchLogsRoleArn"),
        "IsOrganizationTrail": trail.get("IsOrganizationTrail", False),
        # No prefix: AWS omits S3KeyPrefix, moto answers '' once UpdateTrail removed it; trail_settings says None.
        "S3KeyPrefix": trail.get("S3KeyPrefix") or None,
    }


def read_trail(client: Any, name: str) -> Optional[Dict[str, Any]]:
    trail = get_trail(client, name)
    if trail is None:
        return None
    return {
        "name": name,
        "arn": trail["TrailARN"],
        "home_region": trail.get("HomeRegion"),
        "settings": _settings_of(trail),
        "is_logging": get_trail_status(client, name).get("IsLogging", False),
        "event_selectors": _normalise_selectors(get_event_selectors(client, name)),
        "tags": get_tags(client, trail["TrailARN"]),
    }


def ensure_trail_present(
    client: Any,
    current: Optional[Dict[str, Any]],
    settings: Dict[str, Any],
    selectors: List[Any],
    arn: str,
    tags: Dict[str, Any],
    purge_tags: bool,
    check_mode: bool,
) -> Ensured:
    """Creates or converges the trail; Ensured with the parts settings, event_selectors, logging, tags."""
    desired_settings = dict({"S3KeyPrefix": None}, **settings)
    after = {
        "name": settings["Name"],
        "arn": arn,
        "settings": desired_settings,
        "is_logging": True,
        "event_selectors": _normalise_selectors(selectors),
        "tags": dict(tags),
    }
    if current is None:
        after["home_region"] = None
        if not check_mode:
            answer = create_trail(client, settings, tags)
            after["arn"] = answer["TrailARN"]
            put_event_selectors(client, settings["Name"], selectors)
            start_logging(client, settings["Name"])
        return created(after)

    after["home_region"] = current["home_region"]
    parts = []
    if current["settings"] != desired_settings:
        parts.append("settings")
        if not check_mode:
            update = dict(settings)
            if current["settings"].get("S3KeyPrefix") and not settings.get("S3KeyPrefix"):
                update["S3KeyPrefix"] = ""
            update_trail(client, update)
    if current["event_selectors"] != after["event_selectors"]:
        parts.append("event_selectors")
        if not check_mode:
            put_event_selectors(client, settings["Name"], selectors)
    if not current["is_logging"]:
        parts.append("logging")
        if not check_mode:
            start_logging(client, settings["Name"])
    tags_changed, after["tags"] = converge_tags(
        current["tags"],
        tags,
        purge_tags,
        lambda t: add_tags(client, current["arn"], t),
        lambda k: remove_tags(client, current["arn"], k),
        check_mode,
    )
    if tags_changed:
        parts.append("tags")
    return converged(after, parts)


def ensure_trail_absent(client: Any, current: Optional[Dict[str, Any]], name: str, check_mode: bool) -> Ensured:
    if current is None:
        return deleted(False)
    if not check_mode:
        delete_trail(client, name)
    return deleted()
