#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: notifier
short_description: The detail notifier Lambda function on the trail's log group, with the optional one-click lock
version_added: 0.2.0
description:
  - Manages, in one invocation, everything the TrailWatch detail notifier needs, in this order, the state table
    (DynamoDB), the failed-events queue (SQS), the lock secret (with O(lock_link=true)), the functions' execution
    roles, their own log groups C(/aws/lambda/<function>) with a retention (created before the functions, so that
    Lambda never creates them without one), the lock function with its reserved concurrency, function URL and public
    invoke grants (with O(lock_link=true)), the notifier function with its asynchronous invocation settings, the
    grant that lets CloudWatch Logs invoke it for the trail's log group, the subscription filter on that log group,
    and two alarms that notify the topic.
  - The notifier function (C(<name>-notifier), handler C(notifier.handler)) receives every CloudTrail record of
    a C(CreateBucket) call from the trail's log group, whatever the region it happened in, and publishes one
    message per record to the TrailWatch topic, naming the bucket, its region, who created it, when, from where,
    whether MFA was used and whether the call succeeded, with console links. The default subscription filter is the
    default watch's pattern, so the alarm and the messages count the same records; S3 directory buckets are announced
    as S3 buckets, a Lightsail bucket (or another service's C(CreateBucket)) naming the service.
  - Delivery is at least once. CloudWatch Logs invokes the function asynchronously; a batch in which a publish
    failed ends in an error after the other records went out, Lambda retries it twice (O(maximum_retry_attempts),
    events kept up to six hours), records announced by an earlier attempt are skipped (their CloudTrail event IDs are
    kept in the state table, C(<name>-notifier-state), for 7 days), and an event that fails every attempt is sent to
    the on-failure destination, the SQS queue C(<name>-notifier-failed) (SSE-SQS, 14 days retention, TLS only).
    The alarms C(<name>-notifier-errors) (the function's C(Errors)) and C(<name>-notifier-failed-events) (messages
    waiting in the queue) notify the topic.
  - The lock function (C(<name>-lock), handler C(lock.handler)) serves the one-click lock link of the messages,
    a confirmation page on GET and, on POST, versioning plus S3 Object Lock with a default retention. Its function
    URL has C(AuthType NONE), the HMAC-signed token in the link is the authorisation; the token's secret is a
    SecureString parameter with a random value, created once and never rewritten by later runs. A link works once;
    a POST consumes its token with a conditional write into the state table before it changes anything. The
    function's reserved concurrency (O(lock_reserved_concurrency)) caps what requests to its public URL can take
    from the account's concurrency, so they cannot starve the notifier.
  - Both functions run the same zip, built in the module from the C(*.py) files of O(code_dir) (reproducibly, so
    the same files give the same C(CodeSha256) and a re-run uploads nothing), or read from O(code_zip).
  - Execution roles are least privilege (see C(roles/notifier/README-lambda.md)), trusted by
    C(lambda.amazonaws.com) for this account only (C(aws:SourceAccount)).
  - A role created in the same run takes seconds to propagate in IAM; Lambda answers C(InvalidParameterValueException)
    "The role defined for the function cannot be assumed by Lambda" meanwhile. The module retries such answers for
    up to two minutes, and retries for a minute the subscription filter CloudWatch Logs refuses while the grant that
    lets it invoke the function is not visible yet.
  - With O(lock_link=false) an earlier lock function, its role and the secret are removed (its log group is kept).
  - With O(state=absent) the subscription filter, the alarms, both functions (with their URL, grants and settings),
    both roles, the secret and the state table are deleted. The functions' log groups and the failed-events queue
    (it may hold events that failed) are kept unless O(purge_data=true).
  - The trail's log group and the topic must exist (roles C(trailwatch.aws.trail) and C(trailwatch.aws.alerts));
    in check mode their absence is tolerated, so that a first check run of the whole stack predicts every change.
  - Lambda applies code and configuration updates asynchronously and refuses other changes meanwhile
    (C(ResourceConflictException)); the module waits (jittered, at most five minutes) until an update, its own, one
    left by an interrupted run or someone else's, is applied.
  - CloudWatch Logs allows two subscription filters per log group. When the trail's log group already has two
    others, the module fails before changing anything.
author:
  - TrailWatch contributors (@trailwatch)
options:
  state:
    description: Whether the notifier should exist.
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - Base name. The functions and their roles are C(<name>-notifier) and C(<name>-lock), the subscription filter
        is C(<name>-notifier).
    type: str
    required: true
  log_group_name:
    description: The trail's CloudWatch Logs group, where the subscription filter goes.
    type: str
    required: true
  topic_name:
    description:
      - The TrailWatch SNS topic (in this account and region) the notifier publishes to and its alarms notify.
        One of O(topic_name) and O(topic_arn) is required with O(state=present).
      - When the topic is encrypted with a KMS key, the notifier's role may also use that key (the key policy must
        allow the role too).
    type: str
  topic_arn:
    description:
      - An existing topic, by ARN, instead of O(topic_name) (the C(trailwatch_topic_arn) of a bring-your-own topic).
      - It must be in this account and region; another account's or region's topic is refused before any change (the
        notifier's role is granted, and its alarms notify, a topic of its own account and region only).
    type: str
  notify_language:
    description: Language of the message bodies and of the lock pages. The subject line is ASCII in both.
    type: str
    choices: [en, ja]
    default: en
  tag_new_buckets:
    description:
      - Whether the notifier tags each successfully created bucket with C(trailwatch:created-by) and
        C(trailwatch:created-at), keeping the bucket's other tags. Adds S3 tagging actions to its role.
    type: bool
    default: false
  lock_link:
    description:
      - Whether messages carry a one-click link that applies S3 Object Lock to the new bucket. Deploys the lock
        function with a public function URL and the secret parameter.
    type: bool
    default: false
  lock_mode:
    description: Object Lock mode of the default retention the link applies.
    type: str
    choices: [GOVERNANCE, COMPLIANCE]
    default: GOVERNANCE
  lock_days:
    description: Days of the default retention the link applies, 1 to 36500.
    type: int
    default: 30
  lock_secret_parameter:
    description:
      - Name of the SSM SecureString holding the lock links' HMAC secret; C(/<name>/lock-link-secret) when not set.
    type: str
  lock_reserved_concurrency:
    description:
      - Reserved concurrency of the lock function, capping how many requests to its public URL run at once, so that
        a flood of them cannot take the account's concurrency from the notifier. It is set before the URL exists.
      - V(-1) removes any reservation (for accounts whose concurrency quota leaves nothing to reserve); V(0) is
        refused (it would stop the function).
      - Lambda keeps at least 100 of an account's concurrency unreserved (less in accounts with a low quota, where
        it may refuse any reservation); the module then fails naming this option, before the URL is created.
    type: int
    default: 2
  maximum_retry_attempts:
    description:
      - How often Lambda retries an event whose invocation of the notifier failed, 0 to 2, before the event goes to
        the failed-events queue.
    type: int
    default: 2
  maximum_event_age_seconds:
    description:
      - How long Lambda keeps an event for the notifier in its asynchronous queue (throttled or waiting for a
        retry), 60 to 21600 (6 hours, Lambda's maximum); older events go to the failed-events queue.
    type: int
    default: 21600
  log_retention_days:
    description: Retention of the functions' own log groups, a value CloudWatch Logs accepts.
    type: int
    default: 365
  filter_pattern:
    description:
      - Pattern of the subscription filter on the trail's log group. The default is the default watch's pattern, so
        that every record that counts for the alarm gets its message (S3, S3 directory and Lightsail buckets).
    type: str
    default: '{ ($.eventName = "CreateBucket") }'
  code_dir:
    description:
      - Directory whose C(*.py) files make the functions' code, C(roles/notifier/files/lambda) of this collection.
        They are zipped at the archive's root, in a fixed order with fixed dates and modes. Mutually exclusive with
        O(code_zip); one of them is required with O(state=present).
    type: path
  code_zip:
    description: A zip archive holding C(notifier.py), C(lock.py), C(lock_token.py) and C(trailwatch_common.py).
    type: path
  purge_data:
    description: With O(state=absent), also delete the functions' log groups and the failed-events queue.
    type: bool
    default: false
notes:
  - The lock function's URL needs both C(lambda:InvokeFunctionUrl) (condition C(lambda:FunctionUrlAuthType = NONE))
    and, since October 2025, C(lambda:InvokeFunction) limited to URL invocations (C(lambda:InvokedViaFunctionUrl));
    both are granted to principal C(*). Security Hub's Lambda.1 control reports such a function as public, which is
    the point of a one-click link, and why it is opt-in.
  - "IAM actions the module needs: C(sts:GetCallerIdentity); C(sns:GetTopicAttributes); C(kms:DescribeKey) (the
    topic's or the secret's key given by alias); C(iam:GetRole), C(iam:GetRolePolicy), C(iam:CreateRole),
    C(iam:PutRolePolicy), C(iam:UpdateAssumeRolePolicy), C(iam:TagRole), C(iam:UntagRole), C(iam:PassRole),
    C(iam:DeleteRolePolicy), C(iam:DeleteRole); C(logs:DescribeLogGroups), C(logs:ListTagsForResource),
    C(logs:CreateLogGroup), C(logs:PutRetentionPolicy), C(logs:TagResource), C(logs:UntagResource),
    C(logs:DeleteLogGroup), C(logs:DescribeSubscriptionFilters), C(logs:PutSubscriptionFilter),
    C(logs:DeleteSubscriptionFilter); C(lambda:GetFunction), C(lambda:GetFunctionConfiguration), C(lambda:GetPolicy),
    C(lambda:GetFunctionUrlConfig), C(lambda:GetFunctionEventInvokeConfig), C(lambda:CreateFunction),
    C(lambda:UpdateFunctionCode), C(lambda:UpdateFunctionConfiguration), C(lambda:PutFunctionEventInvokeConfig),
    C(lambda:AddPermission), C(lambda:RemovePermission), C(lambda:CreateFunctionUrlConfig),
    C(lambda:UpdateFunctionUrlConfig), C(lambda:TagResource), C(lambda:UntagResource),
    C(lambda:PutFunctionConcurrency), C(lambda:DeleteFunctionConcurrency), C(lambda:DeleteFunction);
    C(dynamodb:DescribeTable), C(dynamodb:DescribeTimeToLive), C(dynamodb:ListTagsOfResource),
    C(dynamodb:CreateTable), C(dynamodb:UpdateTimeToLive), C(dynamodb:UpdateTable), C(dynamodb:TagResource),
    C(dynamodb:UntagResource), C(dynamodb:DeleteTable); C(sqs:GetQueueUrl), C(sqs:GetQueueAttributes),
    C(sqs:ListQueueTags), C(sqs:CreateQueue), C(sqs:SetQueueAttributes), C(sqs:TagQueue), C(sqs:UntagQueue),
    C(sqs:DeleteQueue); C(cloudwatch:DescribeAlarms), C(cloudwatch:ListTagsForResource), C(cloudwatch:PutMetricAlarm),
    C(cloudwatch:TagResource), C(cloudwatch:UntagResource), C(cloudwatch:DeleteAlarms); C(ssm:DescribeParameters),
    C(ssm:ListTagsForResource), C(ssm:PutParameter), C(ssm:AddTagsToResource), C(ssm:RemoveTagsFromResource),
    C(ssm:DeleteParameter). The module never reads the secret's value."
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags.modules
  - amazon.aws.boto3
  - trailwatch.aws._attributes
"""

EXAMPLES = r"""
- name: Every new bucket is announced with its name, region and creator
  trailwatch.aws.notifier:
    name: trailwatch
    log_group_name: aws-cloudtrail-logs-trailwatch
    topic_name: trailwatch-alerts
    code_dir: "{{ role_path }}/files/lambda"
    region: eu-west-1

- name: Messages in Japanese, new buckets tagged, and a one-click lock link (COMPLIANCE, 90 days)
  trailwatch.aws.notifier:
    name: trailwatch
    log_group_name: aws-cloudtrail-logs-trailwatch
    topic_name: trailwatch-alerts
    code_dir: /opt/trailwatch/lambda
    notify_language: ja
    tag_new_buckets: true
    lock_link: true
    lock_mode: COMPLIANCE
    lock_days: 90
    tags:
      team: security

- name: Notifier publishing to a topic the alerts role was given by ARN, lock function capped at 5 at once
  trailwatch.aws.notifier:
    name: trailwatch
    log_group_name: aws-cloudtrail-logs-trailwatch
    topic_arn: arn:aws:sns:eu-west-1:123456789012:security-alerts
    code_dir: /opt/trailwatch/lambda
    lock_link: true
    lock_reserved_concurrency: 5

- name: Notifier is gone, its log groups and failed-events queue too
  trailwatch.aws.notifier:
    state: absent
    name: trailwatch
    log_group_name: aws-cloudtrail-logs-trailwatch
    purge_data: true
"""

RETURN = r"""
notifier_function:
  description: The notifier function after the run (as predicted in check mode); null once deleted.
  returned: always
  type: dict
  contains:
    name:
      description: Function name.
      type: str
      sample: trailwatch-notifier
    arn:
      description: Function ARN.
      type: str
      sample: arn:aws:lambda:eu-west-1:123456789012:function:trailwatch-notifier
    runtime:
      description: Lambda runtime.
      type: str
      sample: python3.12
    handler:
      description: Handler.
      type: str
      sample: notifier.handler
    role:
      description: Execution role ARN.
      type: str
    timeout:
      description: Timeout in seconds.
      type: int
    memory_size:
      description: Memory in MB.
      type: int
    description:
      description: Function description.
      type: str
    environment:
      description: Environment variables.
      type: dict
      sample: {"TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:trailwatch-alerts", "NOTIFY_LANGUAGE": "en"}
    code_sha256:
      description: Base64 SHA-256 of the deployed zip.
      type: str
    tags:
      description: The function's tags.
      type: dict
    reserved_concurrency:
      description: Reserved concurrency, null when none is set.
      type: int
    permissions:
      description: The function's resource policy grants by statement id.
      type: dict
    event_invoke_config:
      description:
        - Asynchronous invocation settings (notifier only) C(maximum_retry_attempts), C(maximum_event_age_seconds),
          C(on_failure) (the failed-events queue's ARN) and C(on_success).
      type: dict
lock_function:
  description:
    - The lock function (same keys as RV(notifier_function), plus C(url) and C(auth_type)); null without
      O(lock_link) or once deleted.
  returned: always
  type: dict
lock_url:
  description: The lock function URL; null without O(lock_link), and in check mode before the URL exists.
  returned: always
  type: str
  sample: https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/
subscription_filter:
  description: The subscription filter on the trail's log group; null once deleted.
  returned: always
  type: dict
  contains:
    name:
      description: Filter name.
      type: str
      sample: trailwatch-notifier
    log_group_name:
      description: The trail's log group.
      type: str
    filter_pattern:
      description: Filter pattern.
      type: str
    destination_arn:
      description: The notifier function's ARN.
      type: str
roles:
  description:
    - The execution roles (name, arn, trust_policy, permissions_policy, tags) by function, C(notifier) and C(lock).
  returned: always
  type: dict
log_groups:
  description: The functions' own log groups (name, arn, retention_in_days, tags) by function; null when absent.
  returned: always
  type: dict
secret_parameter:
  description: The lock secret's name, type (C(SecureString)), key and tags, never its value; null without O(lock_link).
  returned: always
  type: dict
state_table:
  description:
    - The state table (name, arn, status, billing_mode, encryption, kms_key_arn, ttl_attribute, tags); null once
      deleted.
  returned: always
  type: dict
failed_events_queue:
  description:
    - The failed-events queue (name, url, arn, attributes, policy, messages waiting, tags); null once deleted.
  returned: always
  type: dict
alarms:
  description:
    - The notifier's alarms by kind, C(errors) and C(failed_events) (spec as PutMetricAlarm takes it, arn, tags);
      a kind is null once deleted.
  returned: always
  type: dict
changes:
  description: Which parts changed, as C(<resource>) or C(<resource>:<part>).
  returned: always
  type: list
  elements: str
  sample: ["notifier_function:code", "notifier_function:configuration"]
"""

from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule

from ansible_collections.trailwatch.aws.plugins.module_utils._dynamodb import ensure_state_table_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._dynamodb import ensure_state_table_present
from ansible_collections.trailwatch.aws.plugins.module_utils._dynamodb import read_state_table
from ansible_collections.trailwatch.aws.plugins.module_utils._kms import resolve_key_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._lambda import NO_RESERVATION
from ansible_collections.trailwatch.aws.plugins.module_utils._lambda import ConcurrencyRefused
from ansible_collections.trailwatch.aws.plugins.module_utils._lambda import build_zip
from ansible_collections.trailwatch.aws.plugins.module_utils._lambda import ensure_event_invoke_config
from ansible_collections.trailwatch.aws.plugins.module_utils._lambda import ensure_function_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._lambda import ensure_function_present
from ansible_collections.trailwatch.aws.plugins.module_utils._lambda import ensure_permissions
from ansible_collections.trailwatch.aws.plugins.module_utils._lambda import ensure_url_present
from ansible_collections.trailwatch.aws.plugins.module_utils._lambda import event_invoke_config
from ansible_collections.trailwatch.aws.plugins.module_utils._lambda import permission
from ansible_collections.trailwatch.aws.plugins.module_utils._lambda import read_event_invoke_config
from ansible_collections.trailwatch.aws.plugins.module_utils._lambda import read_function
from ansible_collections.trailwatch.aws.plugins.module_utils._lambda import read_permissions
from ansible_collections.trailwatch.aws.plugins.module_utils._lambda import read_url
from ansible_collections.trailwatch.aws.plugins.module_utils._lambda import read_zip
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import retention_problem
from ansible_collections.trailwatch.aws.plugins.module_utils._iam import ensure_role_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._iam import ensure_role_present
from ansible_collections.trailwatch.aws.plugins.module_utils._iam import read_role
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import ensure_log_group_present
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudwatch import alarm_names
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudwatch import ensure_alarms_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudwatch import ensure_alarms_present
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudwatch import notifier_alarms
from ansible_collections.trailwatch.aws.plugins.module_utils._cloudwatch import read_alarms
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import LOCK_POLICY_NAME
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import NOTIFIER_POLICY_NAME
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import failed_events_queue_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import function_log_group_name
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import lambda_trust_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import lock_permissions_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import notifier_permissions_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import delete_log_group
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import ensure_subscription_filter_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import ensure_subscription_filter_present
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import read_log_groups
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import subscription_filter
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import subscription_filter_room
from ansible_collections.trailwatch.aws.plugins.module_utils._logs import describe_subscription_filters
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import log_group_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import topic_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._run import TAG_OPTIONS
from ansible_collections.trailwatch.aws.plugins.module_utils._run import ModuleRun
from ansible_collections.trailwatch.aws.plugins.module_utils._run import UsageError
from ansible_collections.trailwatch.aws.plugins.module_utils._run import converge_module
from ansible_collections.trailwatch.aws.plugins.module_utils._sns import get_topic_attributes
from ansible_collections.trailwatch.aws.plugins.module_utils._sqs import ensure_queue_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._sqs import ensure_queue_present
from ansible_collections.trailwatch.aws.plugins.module_utils._sqs import read_queue
from ansible_collections.trailwatch.aws.plugins.module_utils._ssm import ensure_secret_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._ssm import ensure_secret_present
from ansible_collections.trailwatch.aws.plugins.module_utils._ssm import read_secret_parameter

RUNTIME = "python3.12"
MEMORY_MB = 128
# The default watch's pattern: the alarm and the messages count the same records.
DEFAULT_PATTERN = '{ ($.eventName = "CreateBucket") }'
LOCK_URL_UNKNOWN = "(the lock function URL, known once created)"
# Lambda's asynchronous invocation: retries of a failed event (0-2) and how long an event may wait (60-21600 s).
MAXIMUM_RETRY_ATTEMPTS = 2
MAXIMUM_EVENT_AGE_SECONDS = 21600
LOCK_RESERVED_CONCURRENCY = 2

# Which function is which: the handler, timeout and description of each, and its role's inline policy name.
FUNCTIONS = {
    "notifier": {
        "handler": "notifier.handler",
        "timeout": 60,
        "description": "TrailWatch: one message per CreateBucket, naming the bucket, its region and its creator",
        "policy_name": NOTIFIER_POLICY_NAME,
        "role_description": "TrailWatch notifier: publishes CreateBucket details to the TrailWatch topic",
    },
    "lock": {
        "handler": "lock.handler",
        "timeout": 15,
        "description": "TrailWatch: one-click S3 Object Lock for a new bucket, from a signed link",
        "policy_name": LOCK_POLICY_NAME,
        "role_description": "TrailWatch lock link: versioning and Object Lock for the bucket a signed link names",
    },
}


class _Run(ModuleRun):
    """One invocation of the notifier module: ModuleRun with the names of what it manages."""

    def __init__(self, module):
        super().__init__(module)
        name = self.p["name"]
        self.names = {kind: f"{name}-{kind}" for kind in FUNCTIONS}
        self.filter_name = f"{name}-notifier"
        self.table_name = f"{name}-notifier-state"
        self.queue_name = f"{name}-notifier-failed"
        self.secret_name = self.p["lock_secret_parameter"] or f"/{name}/lock-link-secret"
        self.trail_group_arn = log_group_arn(self.partition, self.region, self.account, self.p["log_group_name"])
        # The trail log group's subscription filters, as _read found them (None: no such log group).
        self.filters = None

    def role_arn(self, kind):
        return f"arn:{self.partition}:iam::{self.account}:role/{self.names[kind]}"

    def function_arn(self, kind):
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:{self.names[kind]}"

    def group_arn(self, kind):
        return log_group_arn(self.partition, self.region, self.account, function_log_group_name(self.names[kind]))

    def table_arn(self):
        return f"arn:{self.partition}:dynamodb:{self.region}:{self.account}:table/{self.table_name}"

    def queue_arn(self):
        return f"arn:{self.partition}:sqs:{self.region}:{self.account}:{self.queue_name}"

    def alarm_arns(self):
        prefix = f"arn:{self.partition}:cloudwatch:{self.region}:{self.account}:alarm:"
        return {kind: prefix + alarm for kind, alarm in alarm_names(self.p["name"]).items()}


def _read(run):
    c = run.clients
    groups = read_log_groups(
        c["logs"],
        [function_log_group_name(run.names[kind]) for kind in FUNCTIONS],
        function_log_group_name(f"{run.p['name']}-"),
    )
    filters = describe_subscription_filters(c["logs"], run.p["log_group_name"])
    state = {
        "roles": {kind: read_role(c["iam"], run.names[kind], FUNCTIONS[kind]["policy_name"]) for kind in FUNCTIONS},
        "log_groups": {kind: groups[function_log_group_name(run.names[kind])] for kind in FUNCTIONS},
        "secret_parameter": read_secret_parameter(c["ssm"], run.secret_name),
        "subscription_filter": subscription_filter(filters, run.filter_name),
        "state_table": read_state_table(c["dynamodb"], run.table_name),
        "failed_events_queue": read_queue(c["sqs"], run.queue_name),
        "alarms": read_alarms(c["cloudwatch"], run.p["name"]),
    }
    for kind in FUNCTIONS:
        function = read_function(c["lambda"], run.names[kind])
        if function is not None:
            function["permissions"] = read_permissions(c["lambda"], run.names[kind])
            if kind == "lock":
                function.update(read_url(c["lambda"], run.names[kind]) or {"url": None, "auth_type": None})
            else:
                function["event_invoke_config"] = read_event_invoke_config(c["lambda"], run.names[kind])
        state[f"{kind}_function"] = function
    run.filters = filters
    return state


def _topic_arn(run):
    """The topic's ARN, from topic_arn (refused unless in this account and region) or topic_name."""
    p = run.p
    if not p["topic_arn"]:
        return topic_arn(run.partition, run.region, run.account, p["topic_name"])
    _arn, _partition, _service, region, account, _name = p["topic_arn"].split(":", 5)
    if account != run.account:
        raise UsageError(
            f"topic_arn: topic {p['topic_arn']} is in account {account}, the notifier in account {run.account}; "
            "its role may publish to, and its alarms notify, a topic of its own account only: use a topic of "
            f"account {run.account} (or run the notifier in account {account})"
        )
    if region != run.region:
        raise UsageError(
            f"topic_arn: topic {p['topic_arn']} is in region {region}, the notifier and its alarms in "
            f"{run.region}; use a topic in {run.region} (or deploy with region {region})"
        )
    return p["topic_arn"]


def _topic(run):
    """The topic's ARN and the ARN of its KMS key (None when not encrypted with a KMS key)."""
    arn = _topic_arn(run)
    attributes = get_topic_attributes(run.clients["sns"], arn)
    if attributes is None:
        if not run.check:
            option, value = ("topic_arn", arn) if run.p["topic_arn"] else ("topic_name", run.p["topic_name"])
            raise UsageError(
                f"{option}: SNS topic {value} does not exist in {run.region} or is not readable; deploy it first "
                "(role trailwatch.aws.alerts)"
            )
        return arn, None
    key = attributes.get("KmsMasterKeyId")
    if not key:
        return arn, None
    if key.startswith("arn:") and ":key/" in key:
        return arn, key
    # An alias: the IAM policy needs the key ARN (DescribeKey resolves it).
    return arn, resolve_key_arn(run.clients["kms"], key) or key


def _code(run):
    p = run.p
    try:
        return read_zip(p["code_zip"]) if p["code_zip"] else build_zip(p["code_dir"])
    except OSError as e:
        raise UsageError(f"cannot read the function code: {e}") from e


def _role(run, before, kind, permissions):
    changed, role, _parts = ensure_role_present(
        run.clients["iam"],
        before["roles"][kind],
        run.names[kind],
        run.role_arn(kind),
        lambda_trust_policy(run.account),
        permissions,
        run.tags,
        run.purge_tags,
        run.check,
        policy_name=FUNCTIONS[kind]["policy_name"],
        description=FUNCTIONS[kind]["role_description"],
    )
    run.changed(f"{kind}_role", changed)
    return role


def _log_group(run, before, kind):
    changed, group, _parts = ensure_log_group_present(
        run.clients["logs"],
        before["log_groups"][kind],
        function_log_group_name(run.names[kind]),
        run.group_arn(kind),
        None,
        run.p["log_retention_days"],
        run.tags,
        run.purge_tags,
        run.check,
        encrypted=False,
    )
    run.changed(f"{kind}_log_group", changed)
    return group


def _function(run, before, kind, role_arn, environment, code, permissions=None, reserved_concurrency=None):
    """The function; its resource policy grants too unless ``permissions`` is None (the caller sees to them)."""
    client = run.clients["lambda"]
    name = run.names[kind]
    spec = {
        "name": name,
        "arn": run.function_arn(kind),
        "runtime": RUNTIME,
        "handler": FUNCTIONS[kind]["handler"],
        "role": role_arn,
        "timeout": FUNCTIONS[kind]["timeout"],
        "memory_size": MEMORY_MB,
        "description": FUNCTIONS[kind]["description"],
        "environment": environment,
    }
    current = before[f"{kind}_function"]
    try:
        _changed, function, parts = ensure_function_present(
            client, current, spec, code, run.tags, run.purge_tags, run.check, reserved_concurrency
        )
    except ConcurrencyRefused as e:
        raise UsageError(
            f"lock_reserved_concurrency: AWS refused to reserve {reserved_concurrency} concurrent executions for "
            f"{name} ({e.message}); request a higher Lambda 'Concurrent executions' quota, or set "
            "lock_reserved_concurrency (role variable trailwatch_lock_reserved_concurrency) to -1 to run the lock "
            "function without a reservation. Its URL was not created."
        ) from e
    run.changed_parts(f"{kind}_function", parts)
    function["permissions"] = (current or {}).get("permissions", {})
    if permissions is not None:
        changed, function["permissions"], _parts = ensure_permissions(
            client, name, function["permissions"], permissions, run.check
        )
        run.changed(f"{kind}_function:permissions", changed)
    return function


def _lock(run, before, code, secret_key_arn, table_arn):
    """The lock function with its public URL; returns (role, log group, function)."""
    p = run.p
    role = _role(
        run,
        before,
        "lock",
        lock_permissions_policy(
            run.partition, run.region, run.account, run.names["lock"], run.secret_name, table_arn, secret_key_arn
        ),
    )
    group = _log_group(run, before, "lock")
    environment = {
        "LOCK_SECRET_PARAMETER": run.secret_name,
        "STATE_TABLE": run.table_name,
        "LOCK_MODE": p["lock_mode"],
        "LOCK_DAYS": str(p["lock_days"]),
        "NOTIFY_LANGUAGE": p["notify_language"],
    }
    # The signed token is the authorisation: anyone may invoke the function, through its URL only.
    permissions = {
        "TrailWatchPublicFunctionUrl": permission("*", "lambda:InvokeFunctionUrl", url_auth_type="NONE"),
        "TrailWatchPublicFunctionUrlInvoke": permission("*", "lambda:InvokeFunction", via_url=True),
    }
    current = before["lock_function"]
    # The reservation first (set with the function), then the URL, then the grants that make it public.
    function = _function(
        run, before, "lock", role["arn"], environment, code, reserved_concurrency=p["lock_reserved_concurrency"]
    )
    have_url = current is not None and current.get("url") is not None
    changed, url, _parts = ensure_url_present(
        run.clients["lambda"],
        run.names["lock"],
        {"url": current["url"], "auth_type": current["auth_type"]} if have_url else None,
        "NONE",
        run.check,
    )
    run.changed("lock_function:url", changed)
    function.update(url)
    changed, function["permissions"], _parts = ensure_permissions(
        run.clients["lambda"], run.names["lock"], function["permissions"], permissions, run.check
    )
    run.changed("lock_function:permissions", changed)
    return role, group, function


def _state_table(run, before):
    result = ensure_state_table_present(
        run.clients["dynamodb"],
        before["state_table"],
        run.table_name,
        run.table_arn(),
        run.tags,
        run.purge_tags,
        run.check,
    )
    run.changed_parts("state_table", result.parts)
    if result.changed and not run.check:
        # Re-read after a write (docs/architecture.md, "The ensure_* contract"): AWS decides part of the table.
        # KMS encryption without a key of ours uses the AWS managed key aws/dynamodb, whose ARN only AWS knows, and
        # the encryption and Time to Live statuses settle after the call. (Should the read not find the table yet,
        # the prediction stands.)
        return read_state_table(run.clients["dynamodb"], run.table_name) or result.after
    return result.after


def _queue(run, before):
    _changed, queue, parts = ensure_queue_present(
        run.clients["sqs"],
        before["failed_events_queue"],
        run.queue_name,
        run.queue_arn(),
        failed_events_queue_policy(run.queue_arn()),
        run.tags,
        run.purge_tags,
        run.check,
    )
    run.changed_parts("failed_events_queue", parts)
    return queue


def _notifier(run, before, after, code, topic, topic_key, secret_key_arn):
    p = run.p
    table_arn = after["state_table"]["arn"]
    queue_arn = after["failed_events_queue"]["arn"]
    after["roles"]["notifier"] = _role(
        run,
        before,
        "notifier",
        notifier_permissions_policy(
            run.partition,
            run.region,
            run.account,
            run.names["notifier"],
            topic,
            table_arn,
            queue_arn,
            topic_key,
            p["tag_new_buckets"],
            run.secret_name if p["lock_link"] else None,
            secret_key_arn,
        ),
    )
    after["log_groups"]["notifier"] = _log_group(run, before, "notifier")
    environment = {
        "TOPIC_ARN": topic,
        "STATE_TABLE": run.table_name,
        "NOTIFY_LANGUAGE": p["notify_language"],
        "TAG_NEW_BUCKETS": "true" if p["tag_new_buckets"] else "false",
        "LOCK_LINK": "true" if p["lock_link"] else "false",
    }
    if p["lock_link"]:
        environment["LOCK_URL"] = after["lock_function"]["url"] or LOCK_URL_UNKNOWN
        environment["LOCK_SECRET_PARAMETER"] = run.secret_name
    logs_invoke = permission(
        "logs.amazonaws.com", "lambda:InvokeFunction", source_arn=f"{run.trail_group_arn}:*", source_account=run.account
    )
    notifier = _function(
        run,
        before,
        "notifier",
        after["roles"]["notifier"]["arn"],
        environment,
        code,
        {"TrailWatchLogsInvoke": logs_invoke},
    )
    # Retries, then the failed-events queue: set before the subscription filter can invoke the function.
    changed, notifier["event_invoke_config"], _parts = ensure_event_invoke_config(
        run.clients["lambda"],
        run.names["notifier"],
        (before["notifier_function"] or {}).get("event_invoke_config"),
        event_invoke_config(p["maximum_retry_attempts"], p["maximum_event_age_seconds"], queue_arn),
        run.check,
    )
    run.changed("notifier_function:async", changed)
    return notifier


def _present(run, before):
    """Converges everything in dependency order and returns the state after the run.

    After a write, what AWS decides is re-read (docs/architecture.md, "The ensure_* contract"): the state table
    (_state_table) and the secret parameter once created. Everything else is reported as written, because the write
    with its answer determines every field its reader reports: the roles (CreateRole answers the ARN; IAM keeps the
    documents as sent), the functions' log groups (the ARN follows from the name), the functions (CreateFunction
    answers the ARN, CodeSha256 is computed here as Lambda computes it, updates are waited on until applied), the
    lock URL (CreateFunctionUrlConfig answers it), the grants (compared in read_permissions' form), the asynchronous
    invocation settings and the alarms (each put whole), the queue (CreateQueue answers the URL, the ARN follows
    from the name) and the subscription filter.
    """
    filters = run.filters
    p = run.p
    room = subscription_filter_room(filters, run.filter_name)
    if room:
        raise UsageError(f"log_group_name: {p['log_group_name']}: {room}")
    if filters is None and not run.check:
        raise UsageError(
            f"log_group_name: log group {p['log_group_name']} does not exist in {run.region}; deploy the trail "
            "first (role trailwatch.aws.trail)"
        )
    topic, topic_key = _topic(run)
    code = _code(run)
    after = {
        "roles": dict(before["roles"]),
        "log_groups": dict(before["log_groups"]),
        "secret_parameter": None,
        "lock_function": None,
    }
    after["state_table"] = _state_table(run, before)
    after["failed_events_queue"] = _queue(run, before)

    secret_key_arn = None
    if p["lock_link"]:
        secret = ensure_secret_present(
            run.clients["ssm"],
            before["secret_parameter"],
            run.secret_name,
            "TrailWatch lock links: HMAC secret (random, created once)",
            run.tags,
            run.purge_tags,
            run.check,
        )
        run.changed("secret_parameter", secret)
        after["secret_parameter"] = secret.after
        if "created" in secret.parts and not run.check:
            # Re-read after the creation (docs/architecture.md, "The ensure_* contract"): PutParameter without a
            # key ID encrypts with the account's default key, which AWS names (alias/aws/ssm); a tag change is
            # fully determined by its write. (Should the read not find the parameter yet, the prediction stands.)
            after["secret_parameter"] = read_secret_parameter(run.clients["ssm"], run.secret_name) or secret.after
        key_id = after["secret_parameter"].get("key_id")
        # The default aws/ssm key needs no statement; a customer managed key does.
        if key_id and key_id not in ("alias/aws/ssm",) and not key_id.endswith(":alias/aws/ssm"):
            secret_key_arn = resolve_key_arn(run.clients["kms"], key_id) or key_id
        after["roles"]["lock"], after["log_groups"]["lock"], after["lock_function"] = _lock(
            run, before, code, secret_key_arn, after["state_table"]["arn"]
        )

    after["notifier_function"] = _notifier(run, before, after, code, topic, topic_key, secret_key_arn)

    changed, after["subscription_filter"], _parts = ensure_subscription_filter_present(
        run.clients["logs"],
        before["subscription_filter"],
        p["log_group_name"],
        run.filter_name,
        p["filter_pattern"],
        after["notifier_function"]["arn"],
        run.check,
    )
    run.changed("subscription_filter", changed)

    _changed, after["alarms"], kinds = ensure_alarms_present(
        run.clients["cloudwatch"],
        before["alarms"],
        notifier_alarms(p["name"], run.names["notifier"], run.queue_name, topic),
        run.alarm_arns(),
        run.tags,
        run.purge_tags,
        run.check,
    )
    run.changes.extend(f"{kind}_alarm" for kind in kinds)

    if not p["lock_link"]:
        # Links already mailed stop working with the lock function: nothing else depends on it.
        _remove_lock(run, before, after, purge=False)
    return after


def _remove_lock(run, before, after, purge):
    c = run.clients
    run.changed(
        "lock_function", ensure_function_absent(c["lambda"], before["lock_function"], run.names["lock"], run.check)
    )
    after["lock_function"] = None
    run.changed(
        "lock_role",
        ensure_role_absent(c["iam"], before["roles"]["lock"], run.names["lock"], run.check, LOCK_POLICY_NAME),
    )
    after["roles"]["lock"] = None
    run.changed(
        "secret_parameter", ensure_secret_absent(c["ssm"], before["secret_parameter"], run.secret_name, run.check)
    )
    after["secret_parameter"] = None
    if purge:
        _purge_log_group(run, before, after, "lock")


def _purge_log_group(run, before, after, kind):
    if before["log_groups"][kind] is not None:
        run.changed(f"{kind}_log_group", True)
        if not run.check:
            delete_log_group(run.clients["logs"], function_log_group_name(run.names[kind]))
    after["log_groups"][kind] = None


def _absent(run, before):
    c = run.clients
    after = dict(before, roles=dict(before["roles"]), log_groups=dict(before["log_groups"]))
    run.changed(
        "subscription_filter",
        ensure_subscription_filter_absent(
            c["logs"], before["subscription_filter"], run.p["log_group_name"], run.filter_name, run.check
        ),
    )
    after["subscription_filter"] = None
    removed = ensure_alarms_absent(c["cloudwatch"], before["alarms"], run.check)
    run.changes.extend(f"{kind}_alarm" for kind in removed.parts)
    after["alarms"] = {kind: None for kind in before["alarms"]}
    run.changed(
        "notifier_function",
        ensure_function_absent(c["lambda"], before["notifier_function"], run.names["notifier"], run.check),
    )
    after["notifier_function"] = None
    run.changed(
        "notifier_role",
        ensure_role_absent(
            c["iam"], before["roles"]["notifier"], run.names["notifier"], run.check, NOTIFIER_POLICY_NAME
        ),
    )
    after["roles"]["notifier"] = None
    _remove_lock(run, before, after, run.p["purge_data"])
    # Announced events and used links only: nothing in the table is worth keeping without the functions.
    run.changed(
        "state_table", ensure_state_table_absent(c["dynamodb"], before["state_table"], run.table_name, run.check)
    )
    after["state_table"] = None
    if run.p["purge_data"]:
        _purge_log_group(run, before, after, "notifier")
        # Events that failed every attempt may wait there: deleted only when asked to.
        run.changed("failed_events_queue", ensure_queue_absent(c["sqs"], before["failed_events_queue"], run.check))
        after["failed_events_queue"] = None
    return after


def _validate(module):
    p = module.params
    problem = retention_problem("log_retention_days", p["log_retention_days"])
    if problem:
        module.fail_json(msg=problem)
    if not 1 <= p["lock_days"] <= 36500:
        module.fail_json(msg=f"lock_days must be between 1 and 36500 (got {p['lock_days']})")
    if p["lock_reserved_concurrency"] != NO_RESERVATION and p["lock_reserved_concurrency"] < 1:
        module.fail_json(
            msg=f"lock_reserved_concurrency must be at least 1, or -1 for no reservation (got "
            f"{p['lock_reserved_concurrency']}; 0 would stop the function: turn lock_link off instead)"
        )
    if not 0 <= p["maximum_retry_attempts"] <= 2:
        module.fail_json(msg=f"maximum_retry_attempts must be 0, 1 or 2 (got {p['maximum_retry_attempts']})")
    if not 60 <= p["maximum_event_age_seconds"] <= 21600:
        module.fail_json(
            msg=f"maximum_event_age_seconds must be between 60 and 21600 (got {p['maximum_event_age_seconds']})"
        )
    if not p["filter_pattern"].strip():
        module.fail_json(msg="filter_pattern must not be empty: it would send every trail record to the notifier")
    if p["topic_arn"]:
        parts = p["topic_arn"].split(":")
        if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sns" or not parts[4].isdigit() or not parts[5]:
            module.fail_json(
                msg=f"topic_arn: '{p['topic_arn']}' is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"
            )
    if p["state"] == "present" and not (p["code_dir"] or p["code_zip"]):
        module.fail_json(msg="one of code_dir or code_zip is required with state=present")


def _result(state):
    """The module's return values: the state, with the lock URL at the top."""
    lock = state.get("lock_function")
    return dict(state, lock_url=(lock or {}).get("url"))


def main():
    argument_spec = dict(
        state=dict(choices=["present", "absent"], default="present"),
        name=dict(required=True),
        log_group_name=dict(required=True),
        topic_name=dict(),
        topic_arn=dict(),
        notify_language=dict(choices=["en", "ja"], default="en"),
        tag_new_buckets=dict(type="bool", default=False),
        lock_link=dict(type="bool", default=False),
        lock_mode=dict(choices=["GOVERNANCE", "COMPLIANCE"], default="GOVERNANCE"),
        lock_days=dict(type="int", default=30),
        lock_secret_parameter=dict(no_log=False),
        lock_reserved_concurrency=dict(type="int", default=LOCK_RESERVED_CONCURRENCY),
        maximum_retry_attempts=dict(type="int", default=MAXIMUM_RETRY_ATTEMPTS),
        maximum_event_age_seconds=dict(type="int", default=MAXIMUM_EVENT_AGE_SECONDS),
        log_retention_days=dict(type="int", default=365),
        filter_pattern=dict(default=DEFAULT_PATTERN),
        code_dir=dict(type="path"),
        code_zip=dict(type="path"),
        purge_data=dict(type="bool", default=False),
        **TAG_OPTIONS,
    )
    module = TrailWatchModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["code_dir", "code_zip"], ["topic_name", "topic_arn"]],
        required_if=[["state", "present", ["topic_name", "topic_arn"], True]],
    )
    _validate(module)
    converge_module(module, _Run, _read, _present, _absent, result=_result)


if __name__ == "__main__":
    main()
