# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: the doctor. Reads every link of the live alert chain (read-only API calls only) and
decides, link by link and watch by watch, whether an event can travel from the API call to a subscriber.

Two halves, so that the decisions are testable without AWS:

- ``read_chain(clients, spec)`` makes the read calls and returns the state it saw (a plain dict); a read that AWS
  refuses (AccessDenied, a key in another account) is recorded under ``errors`` instead of failing the run.
- ``diagnose(state, spec)`` turns that state into links: ``{"link", "status", "detail", "fix"}`` with ``status``
  ``ok``, ``broken`` or ``unverified`` (the doctor could not read what it needs to decide).

The link identifiers (``LINKS``) are public: users grep and automate on them. Resource policies are evaluated for
the request the service itself makes (``_policy_eval``), never matched by Sid. Every AWS-only rule used here is in
docs/aws-rules.md.
"""

import json
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any
from typing import Callable
from typing import cast
from typing import Optional

from . import _cloudtrail
from . import _cloudwatch
from . import _coverage
from . import _kms
from . import _lambda
from . import _logs
from . import _sns
from . import _sqs
from ._common import TrailWatchError
from ._iam import get_managed_policy_document
from ._iam import get_role
from ._iam import get_role_policy
from ._iam import list_attached_role_policies
from ._iam import list_role_policies
from ._filter_pattern import matches
from ._logs import describe_subscription_filters
from ._policy_eval import evaluate

LINKS = (
    "trail-logging",
    "trail-multi-region",
    "trail-records-events",
    "delivery-to-logs",
    "log-group",
    "key",
    "metric-filter",
    "alarm",
    "alarm-actions",
    "topic-policy",
    "topic-key",
    "subscription",
    "notifier",
)

OK = "ok"
BROKEN = "broken"
UNVERIFIED = "unverified"

PENDING = "PendingConfirmation"
# How far back the notifier's invocation errors count as recent.
ERROR_WINDOW_HOURS = 24


def _link(name: str, status: str, detail: str, fix: Optional[str] = None) -> dict:
    return {"link": name, "status": status, "detail": detail, "fix": fix if status != OK else None}


def _iso(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _arn_part(arn: str, index: int) -> str:
    parts = (arn or "").split(":", 5)
    return parts[index] if len(parts) > index else ""


def _error_text(e: TrailWatchError) -> str:
    cause = getattr(e, "exception", None)
    error = getattr(cause, "response", {}).get("Error", {}) if cause is not None else {}
    if error:
        return f"{e.message}: {error.get('Code')}: {error.get('Message')}"
    return f"{e.message}: {cause}" if cause is not None else str(e.message)


def _is_access_denied(e: TrailWatchError) -> bool:
    cause = getattr(e, "exception", None)
    code = getattr(cause, "response", {}).get("Error", {}).get("Code", "") if cause is not None else ""
    return "AccessDenied" in code or code in ("UnauthorizedOperation", "AuthorizationError", "403")


# --- the requests AWS services make along the chain ------------------------------------------------------------


def _service(name: str) -> dict:
    return {"Service": name}


def cloudwatch_publish_request(topic_arn: str, alarm_arn: str, account: str) -> dict:
    """CloudWatch publishing an alarm's notification (SNS Developer Guide: "Amazon SNS security best practices",
    confused-deputy keys aws:SourceArn = the alarm, aws:SourceAccount = its account)."""
    return {
        "principal": _service("cloudwatch.amazonaws.com"),
        "action": "sns:Publish",
        "resource": topic_arn,
        "context": {"aws:SourceArn": alarm_arn, "aws:SourceAccount": account, "aws:SecureTransport": True},
    }


def cloudwatch_key_requests(key_arn: str, alarm_arn: str, account: str) -> list:
    """What CloudWatch needs of the key of an encrypted topic (SNS Developer Guide: "Enable compatibility between
    event sources from AWS services and encrypted topics": kms:GenerateDataKey* and kms:Decrypt)."""
    context = {"aws:SourceArn": alarm_arn, "aws:SourceAccount": account, "aws:SecureTransport": True}
    return [
        {"principal": _service("cloudwatch.amazonaws.com"), "action": action, "resource": key_arn, "context": context}
        for action in ("kms:GenerateDataKey", "kms:Decrypt")
    ]


def cloudtrail_key_requests(key_arn: str, trail_arn: str, account: str) -> list:
    """What CloudTrail needs of the trail's key (CloudTrail User Guide: "Configure AWS KMS key policies for
    CloudTrail": GenerateDataKey* with the trail's encryption context, and DescribeKey)."""
    context = {
        "kms:EncryptionContext:aws:cloudtrail:arn": trail_arn,
        "aws:SourceArn": trail_arn,
        "aws:SourceAccount": account,
        "aws:SecureTransport": True,
    }
    return [
        {"principal": _service("cloudtrail.amazonaws.com"), "action": action, "resource": key_arn, "context": context}
        for action in ("kms:GenerateDataKey", "kms:DescribeKey")
    ]


def logs_key_requests(key_arn: str, region: str, log_group_arn: str) -> list:
    """What CloudWatch Logs needs of the key of an encrypted log group (CloudWatch Logs User Guide: "Encrypt log
    data in CloudWatch Logs using AWS KMS": the regional principal, with the log group as encryption context)."""
    context = {"kms:EncryptionContext:aws:logs:arn": log_group_arn, "aws:SecureTransport": True}
    return [
        {
            "principal": _service(f"logs.{region}.amazonaws.com"),
            "action": action,
            "resource": key_arn,
            "context": context,
        }
        for action in ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey")
    ]


def cloudtrail_assume_role_request(role_arn: str) -> dict:
    """CloudTrail assuming the delivery role. It sends neither aws:SourceArn nor aws:SourceAccount here (CloudTrail
    User Guide: "Role policy document for CloudTrail to use CloudWatch Logs for monitoring")."""
    return {"principal": _service("cloudtrail.amazonaws.com"), "action": "sts:AssumeRole", "resource": role_arn}


def delivery_stream_arn(log_group_arn: str, account: str, region: str) -> str:
    """The log stream CloudTrail writes to: <account>_CloudTrail_<region> (CloudTrail User Guide: "Sending events to
    CloudWatch Logs")."""
    return f"{log_group_arn}:log-stream:{account}_CloudTrail_{region}"


def _policy_allows(documents: list, action: str, resource: str) -> bool:
    """An identity policy set (the role's policies) allows the action on the resource, with no explicit deny."""
    allowed = False
    for document in documents:
        for statement in document.get("Statement") or []:
            statement = statement if isinstance(statement, dict) else {}
            # Identity policies have no Principal: evaluate them as if the role were the principal.
            as_resource_policy = dict(statement, Principal="*")
            as_resource_policy.pop("NotPrincipal", None)
            decision = evaluate(
                {"Statement": [as_resource_policy]},
                {"principal": {"AWS": "role"}, "action": action, "resource": resource, "context": {}},
            )
            if decision.decision == "explicit-deny":
                return False
            allowed |= decision.allowed
    return allowed


# --- reads ------------------------------------------------------------------------------------------------------


class _Failed:
    """A read that AWS refused: its message is in state["errors"]."""


FAILED = _Failed()


class _Reader:
    def __init__(self, clients: Callable, region: str) -> None:
        self.clients = clients
        self.region = region
        self.errors: dict = {}
        self.calls = 0

    def client(self, service: str, region: Optional[str] = None) -> Any:
        return self.clients(service, region or self.region)

    def read(self, key: str, func: Callable, *args: Any) -> Any:
        try:
            return func(*args)
        except TrailWatchError as e:
            self.errors[key] = _error_text(e)
            return FAILED


def _key_state(reader: _Reader, key_id: str, key: str) -> Any:
    """{"meta", "policy"} of a key (by ARN, id or alias), None when it does not exist, FAILED when unreadable."""
    region = _arn_part(key_id, 3) or None
    kms = reader.client("kms", region)
    meta = reader.read(f"{key}:describe", _kms.describe_key, kms, key_id)
    if meta is FAILED or meta is None:
        return meta
    state = {"meta": meta, "policy": None}
    if meta.get("KeyManager") == "CUSTOMER":
        state["policy"] = reader.read(f"{key}:policy", _kms.get_key_policy, kms, meta["Arn"])
    return state


def _role_state(reader: _Reader, role_arn: str) -> Any:
    iam = reader.client("iam")
    name = role_arn.rsplit("/", 1)[-1]
    role = reader.read("role", get_role, iam, name)
    if role is FAILED or role is None:
        return role
    documents = []
    names = reader.read("role:policies", list_role_policies, iam, name)
    for policy_name in [] if names is FAILED else names:
        document = reader.read("role:policies", get_role_policy, iam, name, policy_name)
        if document not in (None, FAILED):
            documents.append(document)
    attached = reader.read("role:policies", list_attached_role_policies, iam, name)
    for arn in [] if attached is FAILED else attached:
        document = reader.read("role:policies", get_managed_policy_document, iam, arn)
        if document is not FAILED:
            documents.append(document)
    return {"arn": role["Arn"], "trust": role.get("AssumeRolePolicyDocument"), "policies": documents}


def _trail_candidates(reader: _Reader, spec: dict, log_group_arn: str) -> Any:
    cloudtrail = reader.client("cloudtrail")
    if spec.get("trail_name"):
        trail = reader.read("trail", _cloudtrail.get_trail, cloudtrail, spec["trail_name"])
        return trail if trail is FAILED else [trail] if trail else []
    trails = reader.read("trail", _cloudtrail.describe_trails, cloudtrail)
    if trails is FAILED:
        return trails
    return _cloudtrail.trails_delivering_to(trails, log_group_arn)


def read_chain(clients: Callable, spec: dict) -> dict:
    """Every read the diagnosis needs. ``clients(service, region)`` returns a boto3 client; ``spec`` holds
    account, partition, region, trail_name (None: the trails delivering to the log group), log_group_name,
    topic_arn, watches (desired filter and alarm per watch), notifier_function_name (None: no notifier)."""
    region, account, partition = spec["region"], spec["account"], spec["partition"]
    reader = _Reader(clients, region)
    log_group_arn = f"arn:{partition}:logs:{region}:{account}:log-group:{spec['log_group_name']}"
    state: dict = {"log_group_arn": log_group_arn, "now": datetime.now(timezone.utc)}

    # The trail (ours by name, or any trail delivering to the log group) with its status and selectors.
    trails = []
    candidates = _trail_candidates(reader, spec, log_group_arn)
    for trail in [] if candidates is FAILED else candidates:
        cloudtrail = reader.client("cloudtrail", trail.get("HomeRegion"))
        status = reader.read("trail:status", _cloudtrail.get_trail_status, cloudtrail, trail["TrailARN"])
        selectors = reader.read("trail:selectors", _cloudtrail.get_selector_lists, cloudtrail, trail["TrailARN"])
        trails.append({"trail": trail, "status": status, "selectors": selectors})
    state["trails"] = FAILED if candidates is FAILED else trails
    trail = _chosen_trail(state)
    if trail is not None and trail["trail"].get("CloudWatchLogsRoleArn"):
        state["role"] = _role_state(reader, trail["trail"]["CloudWatchLogsRoleArn"])

    logs = reader.client("logs")
    state["log_group"] = reader.read("log-group", _logs.describe_log_group, logs, spec["log_group_name"])
    keys: dict = {}
    if trail is not None and trail["trail"].get("KmsKeyId"):
        keys[trail["trail"]["KmsKeyId"]] = None
    if state["log_group"] not in (None, FAILED) and state["log_group"].get("kmsKeyId"):
        keys[state["log_group"]["kmsKeyId"]] = None
    for key_id in keys:
        keys[key_id] = _key_state(reader, key_id, f"key {key_id}")
    state["keys"] = keys

    state["filters"] = FAILED
    state["alarms"] = FAILED
    if state["log_group"] not in (None, FAILED):
        state["filters"] = reader.read("metric-filter", _logs.describe_metric_filters, logs, spec["log_group_name"])
    names = [w["alarm"]["AlarmName"] for w in spec["watches"]]
    alarms = reader.read("alarm", _cloudwatch.describe_alarms, reader.client("cloudwatch"), names)
    state["alarms"] = alarms if alarms is FAILED else {a["AlarmName"]: a for a in alarms}

    topic_arn = spec["topic_arn"]
    topic_region = _arn_part(topic_arn, 3)
    sns = reader.client("sns", topic_region)
    attributes = reader.read("topic", _sns.get_topic_attributes, sns, topic_arn)
    state["topic"] = attributes
    state["subscriptions"] = FAILED
    state["topic_key"] = None
    if attributes not in (None, FAILED):
        state["subscriptions"] = reader.read("subscription", _sns.list_subscriptions, sns, topic_arn)
        key_id = attributes.get("KmsMasterKeyId")
        if key_id:
            if not key_id.startswith("arn:"):
                # The topic names its key as it was given (id, alias): resolve it where the topic lives.
                key_id = f"arn:{partition}:kms:{topic_region}:{_arn_part(topic_arn, 4)}:" + (
                    key_id if key_id.startswith("alias/") else f"key/{key_id}"
                )
            state["topic_key"] = _key_state(reader, key_id, "topic-key")

    if spec.get("notifier_function_name"):
        state["notifier"] = _notifier_state(reader, spec, logs)
    state["errors"] = reader.errors
    return state


def failed_events_queue_name(function_name: str) -> str:
    """The notifier's on-failure destination: function ``<name>-notifier``, queue ``<name>-notifier-failed``
    (plugins/modules/notifier.py)."""
    return f"{function_name}-failed"


def _queue_state(reader: _Reader, name: str) -> Any:
    """{"arn", "messages"} of an SQS queue of this account and region; None when it does not exist."""
    sqs = reader.client("sqs")
    url = reader.read("notifier:failed-events-queue", _sqs.get_queue_url, sqs, name)
    if url in (None, FAILED):
        return url
    attributes = reader.read("notifier:failed-events-queue", _sqs.get_queue_attributes, sqs, url)
    if attributes is FAILED:
        return FAILED
    return {"arn": attributes.get("QueueArn"), "messages": int(attributes.get("ApproximateNumberOfMessages") or 0)}


def _notifier_state(reader: _Reader, spec: dict, logs: Any) -> dict:
    name = spec["notifier_function_name"]
    notifier: dict = {}
    notifier["filters"] = reader.read("notifier:filter", describe_subscription_filters, logs, spec["log_group_name"])
    aws_lambda = reader.client("lambda")
    function = reader.read("notifier:function", _lambda.get_function, aws_lambda, name)
    notifier["function"] = function if function in (None, FAILED) else function["Configuration"]
    now = datetime.now(timezone.utc)
    hours = spec.get("error_window_hours") or ERROR_WINDOW_HOURS
    if function not in (None, FAILED):
        notifier["errors"] = reader.read(
            "notifier:errors",
            _cloudwatch.metric_sum,
            reader.client("cloudwatch"),
            "AWS/Lambda",
            "Errors",
            {"FunctionName": name},
            now - timedelta(hours=hours),
            now,
            hours * 3600,
        )
        notifier["invoke_config"] = reader.read(
            "notifier:invoke-config", _lambda.read_event_invoke_config, aws_lambda, name
        )
        notifier["failed_events_queue"] = _queue_state(reader, failed_events_queue_name(name))
    return notifier


def _chosen_trail(state: dict) -> Optional[dict]:
    """Of the trails delivering to the log group, the one that is logging (else the first)."""
    trails = state.get("trails")
    if trails is FAILED or not trails:
        return None
    for trail in trails:
        status = trail["status"]
        if status is not FAILED and status and status.get("IsLogging"):
            return trail
    return trails[0]


# --- diagnosis --------------------------------------------------------------------------------------------------


def _unverified(name: str, state: dict, *keys: str) -> dict:
    errors = [state["errors"][k] for k in keys if k in state["errors"]]
    text = "; ".join(errors) or "the doctor could not read it"
    return _link(
        name,
        UNVERIFIED,
        f"could not be checked: {text}",
        "give the doctor's credentials the read-only policy docs/iam/readonly-check-policy.json (or the reads it "
        "names), or check this link by hand",
    )


def _region_of(arn: str) -> str:
    """The region of an ARN (arn:partition:service:region:account:...): a printed aws command must name it, the CLI
    does not read every variable the SDKs do (AWS_REGION) and the doctor may look at another region than the shell's."""
    return arn.split(":")[3]


def _trail_links(state: dict, spec: dict) -> list:
    trails = state["trails"]
    site = "re-run playbooks/site.yml" if spec.get("trail_name") else None
    if trails is FAILED:
        return [_unverified(n, state, "trail") for n in ("trail-logging", "trail-multi-region", "delivery-to-logs")]
    if not trails:
        where = (
            f"trail {spec['trail_name']} does not exist in {spec['region']}"
            if spec.get("trail_name")
            else f"no trail in {spec['region']} delivers to log group {spec['log_group_name']}"
        )
        fix = (
            "deploy it with playbooks/site.yml"
            if spec.get("trail_name")
            else f"point your trail at the log group (CloudWatchLogsLogGroupArn {state['log_group_arn']}:*), or set "
            "trailwatch_log_group_name to the group your trail delivers to"
        )
        return [_link(n, BROKEN, where, fix) for n in ("trail-logging", "trail-multi-region", "delivery-to-logs")]

    chosen = cast(dict, _chosen_trail(state))  # trails is not empty here
    trail, status = chosen["trail"], chosen["status"]
    name, arn = trail["Name"], trail["TrailARN"]
    links = []
    if status is FAILED:
        links.append(_unverified("trail-logging", state, "trail:status"))
    elif status.get("IsLogging"):
        links.append(
            _link("trail-logging", OK, f"trail {name} is logging (since {_iso(status.get('StartLoggingTime'))})")
        )
    else:
        links.append(
            _link(
                "trail-logging",
                BROKEN,
                f"trail {name} is not logging (stopped {_iso(status.get('StopLoggingTime')) or 'at an unknown time'})",
                site or f"start it: aws cloudtrail start-logging --name {arn} --region {_region_of(arn)}",
            )
        )
    if trail.get("IsMultiRegionTrail"):
        links.append(
            _link(
                "trail-multi-region",
                OK,
                f"trail {name} records every region (home {trail.get('HomeRegion') or _arn_part(arn, 3)})",
            )
        )
    else:
        links.append(
            _link(
                "trail-multi-region",
                BROKEN,
                f"trail {name} records only {trail.get('HomeRegion') or _arn_part(arn, 3)}: "
                "a bucket created in another region is never seen",
                site
                or f"aws cloudtrail update-trail --name {arn} --is-multi-region-trail --include-global-service-events "
                f"--region {_region_of(arn)}",
            )
        )
    links.append(_delivery_link(state, spec, trail, status))
    return links


def _delivery_link(state: dict, spec: dict, trail: dict, status: Any) -> dict:
    name, arn = trail["Name"], trail["TrailARN"]
    site = "re-run playbooks/site.yml" if spec.get("trail_name") else None
    group_arn = (trail.get("CloudWatchLogsLogGroupArn") or "").removesuffix(":*")
    if group_arn != state["log_group_arn"]:
        return _link(
            "delivery-to-logs",
            BROKEN,
            f"trail {name} delivers to {group_arn or 'no log group'}, not to {spec['log_group_name']}",
            site
            or f"aws cloudtrail update-trail --name {arn} --cloud-watch-logs-log-group-arn {state['log_group_arn']}:* "
            f"--cloud-watch-logs-role-arn <role> --region {_region_of(arn)}",
        )
    role_arn = trail.get("CloudWatchLogsRoleArn")
    if not role_arn:
        return _link(
            "delivery-to-logs", BROKEN, f"trail {name} has no CloudWatch Logs role", site or "set the trail's role"
        )
    if status is FAILED:
        return _unverified("delivery-to-logs", state, "trail:status")
    error = status.get("LatestCloudWatchLogsDeliveryError")
    last = _iso(status.get("LatestCloudWatchLogsDeliveryTime"))
    if error:
        return _link(
            "delivery-to-logs",
            BROKEN,
            f"CloudTrail reports a delivery error: {error} (last delivery {last or 'never'})",
            f"make role {role_arn} trusted by cloudtrail.amazonaws.com without aws:SourceArn/aws:SourceAccount "
            f"conditions and allowed logs:CreateLogStream and logs:PutLogEvents on the log group's streams; "
            + (site or "then wait for the next delivery"),
        )
    role = state.get("role")
    if role is FAILED or "role" in state["errors"]:
        return _unverified("delivery-to-logs", state, "role")
    if role is None:
        return _link("delivery-to-logs", BROKEN, f"role {role_arn} of trail {name} does not exist", site or "create it")
    trust = evaluate(role["trust"], cloudtrail_assume_role_request(role_arn))
    if not trust.allowed:
        return _link(
            "delivery-to-logs",
            BROKEN,
            f"CloudTrail cannot assume role {role_arn}: its trust policy {trust.describe()} (CloudTrail sends no "
            "aws:SourceArn or aws:SourceAccount when it assumes this role)",
            site or "trust cloudtrail.amazonaws.com for sts:AssumeRole without conditions",
        )
    stream = delivery_stream_arn(state["log_group_arn"], spec["account"], _arn_part(arn, 3))
    if "role:policies" in state["errors"]:
        return _unverified("delivery-to-logs", state, "role:policies")
    missing = [
        a for a in ("logs:CreateLogStream", "logs:PutLogEvents") if not _policy_allows(role["policies"], a, stream)
    ]
    if missing:
        return _link(
            "delivery-to-logs",
            BROKEN,
            f"role {role_arn} may not {' and '.join(missing)} on {stream}",
            site or "allow the role logs:CreateLogStream and logs:PutLogEvents on the trail's log streams",
        )
    return _link(
        "delivery-to-logs",
        OK,
        f"trail {name} delivers with role {role_arn.rsplit('/', 1)[-1]}, last delivery {last or 'not yet'}",
    )


def _log_group_link(state: dict, spec: dict) -> dict:
    group = state["log_group"]
    if group is FAILED:
        return _unverified("log-group", state, "log-group")
    if group is None:
        return _link(
            "log-group",
            BROKEN,
            f"log group {spec['log_group_name']} does not exist in {spec['region']}",
            "re-run playbooks/site.yml" if spec.get("trail_name") else "create it or set trailwatch_log_group_name",
        )
    key = group.get("kmsKeyId")
    return _link(
        "log-group",
        OK,
        f"log group {spec['log_group_name']} exists "
        f"({'encrypted with ' + key if key else 'not encrypted with a customer key'}, "
        f"retention {group.get('retentionInDays') or 'never expire'})",
    )


def _key_usable(name: str, state: dict, key_id: str, who: str) -> Optional[dict]:
    """A broken/unverified link when the key cannot be used at all (missing, disabled, pending deletion)."""
    key = state["keys"].get(key_id) if name == "key" else state["topic_key"]
    prefix = f"key {key_id}" if name == "key" else "topic-key"
    if key is FAILED:
        return _unverified(name, state, f"{prefix}:describe")
    if key is None:
        return _link(name, BROKEN, f"key {key_id} ({who}) does not exist", f"point {who} at an existing key")
    meta = key["meta"]
    if meta.get("KeyState") == "PendingDeletion":
        return _link(
            name,
            BROKEN,
            f"key {meta['Arn']} ({who}) is pending deletion (on {_iso(meta.get('DeletionDate'))}): nothing encrypted "
            "with it can be written or read",
            f"aws kms cancel-key-deletion --key-id {meta['Arn']} --region {_region_of(meta['Arn'])} && "
            f"aws kms enable-key --key-id {meta['Arn']} --region {_region_of(meta['Arn'])}",
        )
    if meta.get("KeyState") != "Enabled":
        return _link(
            name,
            BROKEN,
            f"key {meta['Arn']} ({who}) is {meta.get('KeyState')}",
            f"aws kms enable-key --key-id {meta['Arn']} --region {_region_of(meta['Arn'])}",
        )
    return None


def _requests_refused(policy: Any, requests: list) -> list:
    refused = []
    for request in requests:
        decision = evaluate(policy, request)
        if not decision.allowed:
            refused.append(f"{request['principal']['Service']} {request['action']}: {decision.describe()}")
    return refused


def _key_link(state: dict, spec: dict) -> dict:
    trail = _chosen_trail(state)
    group = state["log_group"] if state["log_group"] not in (None, FAILED) else {}
    checks = []  # (key id, who, requests)
    if trail is not None and trail["trail"].get("KmsKeyId"):
        key_id = trail["trail"]["KmsKeyId"]
        key = state["keys"].get(key_id)
        key_arn = key["meta"]["Arn"] if key not in (None, FAILED) else key_id
        checks.append(
            (
                key_id,
                f"trail {trail['trail']['Name']}",
                cloudtrail_key_requests(key_arn, trail["trail"]["TrailARN"], spec["account"]),
            )
        )
    if group.get("kmsKeyId"):
        key_id = group["kmsKeyId"]
        key = state["keys"].get(key_id)
        key_arn = key["meta"]["Arn"] if key not in (None, FAILED) else key_id
        checks.append(
            (
                key_id,
                f"log group {spec['log_group_name']}",
                logs_key_requests(key_arn, spec["region"], state["log_group_arn"]),
            )
        )
    if not checks and trail is None and not group:
        # Nothing to judge: saying "AWS owned encryption" of resources that do not exist would be a false ok.
        return _link(
            "key",
            UNVERIFIED,
            "not checked: there is neither a trail delivering to the log group nor the log group",
            "fix trail-logging and log-group first",
        )
    if not checks:
        return _link("key", OK, "no customer managed key: trail and log group use AWS owned encryption")
    for key_id, who, requests in checks:
        unusable = _key_usable("key", state, key_id, who)
        if unusable:
            return unusable
        key = state["keys"][key_id]
        if key["meta"].get("KeyManager") != "CUSTOMER":
            continue  # an AWS managed key's policy admits its service
        if key["policy"] is FAILED:
            return _unverified("key", state, f"key {key_id}:policy")
        refused = _requests_refused(key["policy"], requests)
        if refused:
            return _link(
                "key",
                BROKEN,
                f"the policy of key {key['meta']['Arn']} ({who}) refuses " + "; ".join(refused),
                "re-run playbooks/site.yml (it merges the statements CloudTrail and CloudWatch Logs need into the key "
                "policy)"
                if spec.get("trail_name")
                else "add the statements CloudTrail and CloudWatch Logs need to the "
                "key policy (docs: CloudTrail 'Configure AWS KMS key policies for CloudTrail', CloudWatch Logs "
                "'Encrypt log data in CloudWatch Logs using AWS KMS')",
            )
    keys = sorted({state["keys"][k]["meta"]["Arn"].rsplit("/", 1)[-1] for k, _w, _r in checks})
    return _link("key", OK, f"key {', '.join(keys)} is enabled and admits CloudTrail and CloudWatch Logs")


def _filter_link(state: dict, watch: dict) -> dict:
    wanted = watch["filter"]
    name = wanted["filterName"]
    if state["filters"] is FAILED:
        if state["log_group"] is None:
            return _link(
                "metric-filter",
                BROKEN,
                f"metric filter {name} cannot exist: the log group does not",
                "re-run playbooks/site.yml",
            )
        return _unverified("metric-filter", state, "metric-filter", "log-group")
    found = [f for f in state["filters"] if f["filterName"] == name]
    if not found:
        return _link(
            "metric-filter", BROKEN, f"metric filter {name} is missing from the log group", "re-run playbooks/site.yml"
        )
    have = found[0]
    problems = []
    if have.get("filterPattern", "") != wanted["filterPattern"]:
        problems.append(f"pattern is {have.get('filterPattern')!r}, the watch's is {wanted['filterPattern']!r}")
    want_t = wanted["metricTransformations"][0]
    ts = have.get("metricTransformations") or [{}]
    t = ts[0]
    for field, label in (("metricNamespace", "namespace"), ("metricName", "metric"), ("metricValue", "value")):
        if t.get(field) != want_t[field]:
            problems.append(f"{label} is {t.get(field)!r}, not {want_t[field]!r}")
    if problems:
        return _link(
            "metric-filter", BROKEN, f"metric filter {name}: " + "; ".join(problems), "re-run playbooks/site.yml"
        )
    return _link("metric-filter", OK, f"metric filter {name} counts {want_t['metricNamespace']}/{want_t['metricName']}")


_ALARM_FIELDS = (
    "MetricName",
    "Namespace",
    "Statistic",
    "Period",
    "Threshold",
    "ComparisonOperator",
    "EvaluationPeriods",
)


def _alarm_links(state: dict, spec: dict, watch: dict) -> tuple:
    """(alarm link, alarm-actions link, the alarm's state for the report)."""
    wanted = watch["alarm"]
    name = wanted["AlarmName"]
    if state["alarms"] is FAILED:
        return _unverified("alarm", state, "alarm"), _unverified("alarm-actions", state, "alarm"), None
    alarm = state["alarms"].get(name)
    if alarm is None:
        broken = _link("alarm", BROKEN, f"alarm {name} does not exist", "re-run playbooks/site.yml")
        return broken, _link("alarm-actions", BROKEN, f"alarm {name} does not exist", "re-run playbooks/site.yml"), None
    alarm_state = {
        "value": alarm.get("StateValue"),
        "reason": alarm.get("StateReason"),
        # A transition, not any update: StateUpdatedTimestamp also moves when only the reason changes.
        "since": _iso(alarm.get("StateTransitionedTimestamp")),
        "updated": _iso(alarm.get("StateUpdatedTimestamp")),
    }
    problems = []
    for field in _ALARM_FIELDS:
        have, want = alarm.get(field), wanted[field]
        if field == "Threshold":
            have, want = float(have) if have is not None else None, float(want)
        if have != want:
            problems.append(f"{field} is {have!r}, the watch needs {want!r}")
    if alarm.get("Dimensions"):
        problems.append("it has dimensions, which the metric filter's metric never carries")
    if alarm.get("Metrics"):
        problems.append("it is a metric math alarm")
    if problems:
        link = _link("alarm", BROKEN, f"alarm {name}: " + "; ".join(problems), "re-run playbooks/site.yml")
    else:
        link = _link(
            "alarm",
            OK,
            f"alarm {name} watches {wanted['Namespace']}/{wanted['MetricName']} (Sum over {wanted['Period']} s >= "
            f"{wanted['Threshold']:g}), state {alarm_state['value']} "
            f"since {alarm_state['since'] or alarm_state['updated'] or 'unknown'}",
        )
    topic = spec["topic_arn"]
    if not alarm.get("ActionsEnabled"):
        actions = _link(
            "alarm-actions",
            BROKEN,
            f"alarm {name} has its actions disabled: it changes state but notifies nobody",
            f"aws cloudwatch enable-alarm-actions --alarm-names {name} --region {spec['region']} "
            "(or re-run playbooks/site.yml)",
        )
    elif topic not in (alarm.get("AlarmActions") or []):
        actions = _link(
            "alarm-actions",
            BROKEN,
            f"alarm {name} does not notify topic {topic} "
            f"(its ALARM actions: {', '.join(alarm.get('AlarmActions') or []) or 'none'})",
            "re-run playbooks/site.yml",
        )
    else:
        actions = _link("alarm-actions", OK, f"alarm {name} notifies topic {topic.rsplit(':', 1)[-1]} on ALARM")
    return link, actions, dict(alarm_state, arn=alarm.get("AlarmArn"))


def _alarm_arn(spec: dict, watch: dict, alarm_state: Optional[dict]) -> str:
    if alarm_state and alarm_state.get("arn"):
        return alarm_state["arn"]
    return f"arn:{spec['partition']}:cloudwatch:{spec['region']}:{spec['account']}:alarm:{watch['alarm']['AlarmName']}"


def _missing_topic(name: str, spec: dict) -> dict:
    """The link ``name`` broken because the topic did not answer: absent, or (a topic of another account or region)
    not visible with the credentials the doctor reads with (it reads a topic in the topic's own region)."""
    arn = spec["topic_arn"]
    if _arn_part(arn, 4) != spec["account"]:
        return _link(
            name,
            BROKEN,
            f"topic {arn} (account {_arn_part(arn, 4)}) does not exist or is not visible from account"
            f" {spec['account']}",
            "check that the topic exists, and that its policy lets this account read it (sns:GetTopicAttributes)"
            " or run the doctor with credentials of the topic's account",
        )
    return _link(name, BROKEN, f"topic {arn} does not exist", "re-run playbooks/site.yml")


def _topic_policy_link(state: dict, spec: dict, alarm_arn: str) -> dict:
    topic = state["topic"]
    if topic is FAILED:
        return _unverified("topic-policy", state, "topic")
    if topic is None:
        return _missing_topic("topic-policy", spec)
    policy = json.loads(topic["Policy"]) if topic.get("Policy") else None
    decision = evaluate(policy, cloudwatch_publish_request(spec["topic_arn"], alarm_arn, spec["account"]))
    if not decision.allowed:
        return _link(
            "topic-policy",
            BROKEN,
            f"the policy of topic {spec['topic_arn']} does not let CloudWatch publish for alarm "
            f"{alarm_arn.rsplit(':', 1)[-1]}: "
            f"{decision.describe()}",
            "re-run playbooks/site.yml (it merges the statement that lets this account's alarms publish), "
            "or add a statement "
            "allowing cloudwatch.amazonaws.com sns:Publish with aws:SourceAccount = this account",
        )
    return _link(
        "topic-policy",
        OK,
        f"CloudWatch may publish to topic {spec['topic_arn'].rsplit(':', 1)[-1]} ({decision.describe()})",
    )


def _topic_key_link(state: dict, spec: dict, alarm_arn: str) -> dict:
    topic = state["topic"]
    if topic is FAILED:
        return _unverified("topic-key", state, "topic")
    if topic is None:
        return _missing_topic("topic-key", spec)
    key_id = topic.get("KmsMasterKeyId")
    if not key_id:
        return _link("topic-key", OK, "topic is not encrypted with a KMS key")
    unusable = _key_usable("topic-key", state, key_id, f"topic {spec['topic_arn'].rsplit(':', 1)[-1]}")
    if unusable:
        return unusable
    key = state["topic_key"]
    meta = key["meta"]
    if meta.get("KeyManager") != "CUSTOMER":
        return _link(
            "topic-key",
            BROKEN,
            f"topic is encrypted with the AWS managed key {key_id}: its policy cannot admit CloudWatch, "
            "so alarms cannot publish",
            "encrypt the topic with a customer managed key whose policy lets cloudwatch.amazonaws.com use "
            "kms:GenerateDataKey* and kms:Decrypt (aws sns set-topic-attributes --attribute-name KmsMasterKeyId)",
        )
    if key["policy"] is FAILED:
        return _unverified("topic-key", state, "topic-key:policy")
    refused = _requests_refused(key["policy"], cloudwatch_key_requests(meta["Arn"], alarm_arn, spec["account"]))
    if refused:
        return _link(
            "topic-key",
            BROKEN,
            f"the policy of key {meta['Arn']} (topic encryption) refuses " + "; ".join(refused),
            "allow cloudwatch.amazonaws.com kms:GenerateDataKey* and kms:Decrypt in the key policy",
        )
    return _link("topic-key", OK, f"topic key {meta['Arn'].rsplit('/', 1)[-1]} is enabled and admits CloudWatch")


def _subscription_link(state: dict, spec: dict) -> dict:
    if state["topic"] is None:
        return _link("subscription", BROKEN, f"topic {spec['topic_arn']} does not exist", "re-run playbooks/site.yml")
    subs = state["subscriptions"]
    if subs is FAILED:
        return _unverified("subscription", state, "subscription", "topic")
    confirmed = [s for s in subs if s["SubscriptionArn"].startswith("arn:")]
    pending = sorted(s["Endpoint"] for s in subs if s["SubscriptionArn"] == PENDING)
    pending_text = f"; waiting for confirmation: {', '.join(pending)}" if pending else ""
    if not confirmed:
        return _link(
            "subscription",
            BROKEN,
            f"topic {spec['topic_arn'].rsplit(':', 1)[-1]} has no confirmed subscription{pending_text}",
            "each address must click the confirmation link AWS mailed it (resend: re-run playbooks/site.yml after "
            "the pending one expires, three days), or subscribe someone: trailwatch_notify_emails",
        )
    endpoints = sorted(f"{s['Protocol']}:{s['Endpoint']}" for s in confirmed)
    return _link("subscription", OK, f"{len(confirmed)} confirmed: {', '.join(endpoints)}{pending_text}")


def _notifier_link(state: dict, spec: dict, watch: dict) -> dict:
    """The notifier's part of a watch's chain: its subscription filter on the log group with the watch's pattern,
    the function Active with its last update Successful, no invocation errors in the window, the asynchronous
    invocation's on-failure destination being the failed-events queue, and that queue empty."""
    notifier = state["notifier"]
    name = spec["notifier_function_name"]
    rerun = "re-run playbooks/site.yml -e trailwatch_notifier=true"
    function = notifier.get("function")
    if function is FAILED:
        return _unverified("notifier", state, "notifier:function")
    if function is None:
        return _link("notifier", BROKEN, f"function {name} does not exist", rerun)
    filters = notifier.get("filters")
    if filters is FAILED:
        return _unverified("notifier", state, "notifier:filter")
    ours = [f for f in filters or [] if f.get("destinationArn") == function["FunctionArn"]]
    if not ours:
        return _link(
            "notifier",
            BROKEN,
            f"no subscription filter of log group {spec['log_group_name']} sends events to function {name}",
            rerun,
        )
    pattern = watch["filter"]["filterPattern"]
    if not any(f.get("filterPattern", "") == pattern for f in ours):
        return _link(
            "notifier",
            BROKEN,
            f"subscription filter {ours[0]['filterName']} sends {ours[0].get('filterPattern')!r} to function {name}, "
            f"not the watch's pattern {pattern!r}: the messages and the alarm count different events",
            rerun,
        )
    if function.get("State") not in (None, "Active") or function.get("LastUpdateStatus") not in (None, "Successful"):
        return _link(
            "notifier",
            BROKEN,
            f"function {name} is {function.get('State')}, last update {function.get('LastUpdateStatus')} "
            f"({function.get('StateReason') or function.get('LastUpdateStatusReason') or 'no reason given'})",
            f"wait for an update in progress, else {rerun}",
        )
    hours = spec.get("error_window_hours") or ERROR_WINDOW_HOURS
    errors = notifier.get("errors")
    if errors is FAILED:
        return _unverified("notifier", state, "notifier:errors")
    if errors:
        return _link(
            "notifier",
            BROKEN,
            f"function {name} failed {int(errors)} time(s) in the last {hours} h",
            f"read its log group /aws/lambda/{name} for the errors",
        )
    queue_name = failed_events_queue_name(name)
    queue = notifier.get("failed_events_queue")
    if queue is FAILED:
        return _unverified("notifier", state, "notifier:failed-events-queue")
    if queue is None:
        return _link("notifier", BROKEN, f"the failed-events queue {queue_name} does not exist", rerun)
    config = notifier.get("invoke_config")
    if config is FAILED:
        return _unverified("notifier", state, "notifier:invoke-config")
    destination = (config or {}).get("on_failure")
    if destination != queue["arn"]:
        return _link(
            "notifier",
            BROKEN,
            f"events that fail every attempt of function {name} go to {destination or 'no destination (dropped)'}, "
            f"not to the failed-events queue {queue_name}",
            rerun,
        )
    if queue["messages"]:
        return _link(
            "notifier",
            BROKEN,
            f"{queue['messages']} event(s) that failed every attempt wait in the failed-events queue {queue_name}",
            f"read them (aws sqs receive-message), fix the cause in /aws/lambda/{name}, then redrive or purge them "
            "(roles/notifier/README-lambda.md)",
        )
    return _link(
        "notifier",
        OK,
        f"function {name} is active, fed by filter {ours[0]['filterName']}, no errors in {hours} h, "
        f"failed-events queue {queue_name} empty",
    )


def _recording(state: dict, spec: dict) -> _coverage.Recording:
    """What the trails delivering to the log group record, in the coverage check's terms."""
    trails = state["trails"]
    if not trails:
        return _coverage.no_trail(spec["log_group_name"], spec["region"])
    recordings = []
    for trail in trails:
        selectors = trail["selectors"]
        if selectors is FAILED:
            unreadable = state["errors"].get("trail:selectors", "")
            recordings.append(_coverage.recording_from_trail(trail["trail"], None, None, unreadable))
        else:
            recordings.append(_coverage.recording_from_trail(trail["trail"], *selectors))
    return _coverage.merge_recordings(recordings)


def coverage_link(state: dict, spec: dict, watch: dict) -> dict:
    """trail-records-events: the coverage check (``_coverage.blind_spots``) on the trails' recording settings.
    ``watch`` is the watch as given (name, pattern, accept_blind_spots)."""
    name = "trail-records-events"
    if state["trails"] is FAILED:
        return _unverified(name, state, "trail")
    findings = _coverage.blind_spots(watch, _recording(state, spec))
    certain = [f for f in findings if f.certain]
    if certain and not _coverage.accepts_blind_spots(watch):
        first = certain[0]
        what = f"{first.setting} {first.reason}".strip()
        return _link(name, BROKEN, f"the trail does not record what watch {watch['name']} counts: {what}", first.fix)
    if certain:
        return _link(name, OK, "blind spot accepted (accept_blind_spots): " + "; ".join(f.setting for f in certain))
    if findings:
        return _link(name, OK, "recorded as far as TrailWatch can tell: " + "; ".join(f.reason for f in findings))
    return _link(name, OK, f"the trail records every event watch {watch['name']} counts")


def diagnose(state: dict, spec: dict) -> dict:
    """Per watch, the links in chain order, the first link that is not ok with its fix, and the alarm's state.

    ``spec["notifier_watches"]`` names the watches the notifier announces for (its link is added to those);
    ``spec["inputs"]`` holds each watch as given (the coverage check reads its pattern and accept_blind_spots).
    """
    shared = {link["link"]: link for link in _trail_links(state, spec)}
    shared["log-group"] = _log_group_link(state, spec)
    shared["key"] = _key_link(state, spec)
    shared["subscription"] = _subscription_link(state, spec)
    watches = []
    for watch in spec["watches"]:
        alarm, actions, alarm_state = _alarm_links(state, spec, watch)
        alarm_arn = _alarm_arn(spec, watch, alarm_state)
        by_name = dict(shared)
        by_name.update(
            {
                "trail-records-events": coverage_link(
                    state, spec, (spec.get("inputs") or {}).get(watch["name"]) or {"name": watch["name"]}
                ),
                "metric-filter": _filter_link(state, watch),
                "alarm": alarm,
                "alarm-actions": actions,
                "topic-policy": _topic_policy_link(state, spec, alarm_arn),
                "topic-key": _topic_key_link(state, spec, alarm_arn),
            }
        )
        if spec.get("notifier_function_name") and watch["name"] in (spec.get("notifier_watches") or []):
            by_name["notifier"] = _notifier_link(state, spec, watch)
        links = [dict(by_name[name]) for name in LINKS if name in by_name]
        first = next((link for link in links if link["status"] != OK), None)
        watches.append(
            {
                "name": watch["name"],
                "ok": first is None,
                "first_broken": first["link"] if first else None,
                "fix": first["fix"] if first else None,
                "links": links,
                "alarm_state": alarm_state,
            }
        )
    trail = _chosen_trail(state)
    status = trail["status"] if trail and trail["status"] is not FAILED else {}
    return {
        "watches": watches,
        "trail": trail["trail"]["TrailARN"] if trail else None,
        "last_delivery": _iso((status or {}).get("LatestCloudWatchLogsDeliveryTime")),
    }


def report_lines(result: dict, spec: dict) -> list:
    """The doctor's printout: per watch one line per link, and the fix under the first link that is not ok."""
    broken = [w for w in result["watches"] if not w["ok"]]
    lines = [
        f"TrailWatch doctor, account {spec['account']}, {spec['region']}: {len(result['watches'])} watch(es), "
        + (f"{len(broken)} with a broken link" if broken else "every link ok")
    ]
    width = max(len(n) for n in LINKS)
    for watch in result["watches"]:
        state = watch["alarm_state"] or {}
        since = state.get("since") or state.get("updated")
        lines.append(
            f"watch {watch['name']}: "
            + ("ok" if watch["ok"] else f"BROKEN at {watch['first_broken']}")
            + (f" (alarm {state.get('value')} since {since})" if state.get("value") else "")
        )
        for link in watch["links"]:
            mark = {OK: "ok", BROKEN: "BROKEN", UNVERIFIED: "UNVERIFIED"}[link["status"]]
            lines.append(f"  {mark:<10} {link['link']:<{width}}  {link['detail']}")
            if link["link"] == watch["first_broken"]:
                lines.append(f"  {'':<10} {'':<{width}}  fix: {link['fix']}")
    return lines


def notifier_serves(watch_pattern: str) -> bool:
    """Whether a watch counts the events the notifier announces (S3 CreateBucket): its link is then in the watch's
    chain. Decided with the filter-pattern evaluator on a minimal CreateBucket record."""
    record = (
        '{"eventVersion": "1.09", "eventSource": "s3.amazonaws.com", "eventName": "CreateBucket", '
        '"awsRegion": "us-east-1", "eventType": "AwsApiCall", "userIdentity": {"type": "IAMUser"}, '
        '"requestParameters": {"bucketName": "example"}}'
    )
    try:
        return bool(matches(watch_pattern, record))
    except ValueError:
        return False
