#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: alert_chain_info
short_description: Proves every link of the live TrailWatch alert chain, read-only, and names the first broken one
version_added: 0.3.0
description:
  - The doctor of TrailWatch. For each watch it checks, in the order an event travels, every link from the API call
    to a subscriber, and returns per watch and per link C(ok), C(broken) or C(unverified) (the doctor could not read
    what it needs), with a one-line fix for each link that is not ok. C(playbooks/doctor.yml) prints it and fails when
    a link is not ok.
  - It only reads (Get, List and Describe calls), in check mode or not, and never reports C(changed).
  - "Links, in chain order (public identifiers): C(trail-logging) the trail exists and is logging;
    C(trail-multi-region) it records every region; C(trail-records-events) its selectors record the events the
    watch counts (the coverage check); C(delivery-to-logs) it delivers to the log group with a role CloudTrail can
    assume and write with, and C(GetTrailStatus) reports no C(LatestCloudWatchLogsDeliveryError); C(log-group) the
    group exists; C(key) the trail's and the group's KMS key is enabled, not pending deletion, and its policy admits
    CloudTrail and the regional CloudWatch Logs principal; C(metric-filter) the watch's filter is there with its
    pattern, namespace, metric and value; C(alarm) the alarm is there on that metric with the watch's statistic,
    period, threshold and comparison; C(alarm-actions) its actions are enabled and notify the topic;
    C(topic-policy) the topic policy lets C(cloudwatch.amazonaws.com) publish for this alarm; C(topic-key) the topic
    is unencrypted or encrypted with a customer managed key CloudWatch may use; C(subscription) at least one
    subscription is confirmed (pending ones are listed); C(notifier), with O(notifier_function_name), for the
    watches that count S3 CreateBucket events: the notifier's subscription filter on the log group with the
    watch's pattern, the function C(Active) with its last update C(Successful), no invocation C(Errors) in the last
    O(error_window_hours), its asynchronous invocation's on-failure destination being the failed-events queue
    C(<function>-failed), and that queue empty (C(ApproximateNumberOfMessages))."
  - Resource policies (topic, keys, the delivery role's trust and permissions) are evaluated for the request the
    service makes, with its principal, action, resource and condition keys (C(aws:SourceArn), C(aws:SourceAccount),
    C(kms:EncryptionContext:*)), following the IAM policy evaluation logic; statements are never recognised by Sid.
author:
  - TrailWatch contributors (@trailwatch)
options:
  trail_name:
    description:
      - The trail TrailWatch manages. When not set (an existing trail, C(trailwatch_trail_create=false)), the trails
        of the region that deliver to O(log_group_name) are checked, and the one that is logging is reported.
    type: str
  log_group_name:
    description: The CloudWatch Logs group the trail delivers to and the metric filters live on.
    type: str
    required: true
  topic_arn:
    description: The topic the alarms notify. Either this or O(topic_name).
    type: str
  topic_name:
    description: The topic's name in this account and region, when O(topic_arn) is not given.
    type: str
  name_prefix:
    description: Filters and alarms are named O(name_prefix) followed by the watch name.
    type: str
    required: true
  namespace:
    description: CloudWatch namespace of the watch metrics.
    type: str
    default: TrailWatch
  watches:
    description:
      - The watches to check, as C(trailwatch_watches) gives them (after presets are merged).
    type: list
    elements: dict
    required: true
  notifier_function_name:
    description: The notifier function; when set, the C(notifier) link is checked.
    type: str
  error_window_hours:
    description: With O(notifier_function_name), how many hours back the notifier's invocation errors count.
    type: int
    default: 24
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - trailwatch.aws._attributes.info_module
  - trailwatch.aws._attributes
notes:
  - "IAM actions: C(cloudtrail:GetTrail), C(cloudtrail:DescribeTrails) (without O(trail_name)),
    C(cloudtrail:GetTrailStatus), C(cloudtrail:GetEventSelectors); C(iam:GetRole), C(iam:ListRolePolicies),
    C(iam:GetRolePolicy), C(iam:ListAttachedRolePolicies), C(iam:GetPolicy), C(iam:GetPolicyVersion) (the delivery
    role); C(logs:DescribeLogGroups), C(logs:DescribeMetricFilters); C(kms:DescribeKey), C(kms:GetKeyPolicy);
    C(cloudwatch:DescribeAlarms); C(sns:GetTopicAttributes), C(sns:ListSubscriptionsByTopic); with the notifier
    C(logs:DescribeSubscriptionFilters), C(lambda:GetFunction), C(lambda:GetFunctionEventInvokeConfig),
    C(cloudwatch:GetMetricStatistics), C(sqs:GetQueueUrl), C(sqs:GetQueueAttributes).
    C(docs/iam/readonly-check-policy.json) holds them."
  - A read AWS refuses (a key in another account whose policy cannot be read, a missing permission) makes the links
    that depend on it C(unverified), with AWS's message, instead of failing the module.
seealso:
  - module: trailwatch.aws.metric_watches
  - module: trailwatch.aws.drill_probe
"""

EXAMPLES = r"""
- name: Every link of every watch is proven
  trailwatch.aws.alert_chain_info:
    trail_name: trailwatch
    log_group_name: aws-cloudtrail-logs-trailwatch
    topic_name: trailwatch-alerts
    name_prefix: trailwatch-
    watches:
      - name: s3-bucket-created
        pattern: '{ ($.eventName = "CreateBucket") }'
        metric_name: S3BucketCreated
  register: chain

- name: Broken links are named
  ansible.builtin.debug:
    msg: "{{ chain.broken }}"
  when: not chain.ok

- name: An existing trail (found by its log group), a topic by ARN, and the notifier
  trailwatch.aws.alert_chain_info:
    log_group_name: org-trail-logs
    topic_arn: arn:aws:sns:eu-west-1:123456789012:security-alerts
    name_prefix: trailwatch-
    notifier_function_name: trailwatch-notifier
    error_window_hours: 6
    watches:
      - name: s3-bucket-created
        pattern: '{ ($.eventName = "CreateBucket") }'
        metric_name: S3BucketCreated
  register: chain
"""

RETURN = r"""
ok:
  description: Whether every link of every watch is ok.
  returned: always
  type: bool
watches:
  description: Per watch, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The watch.
      type: str
      sample: s3-bucket-created
    ok:
      description: Whether every link of this watch is ok.
      type: bool
    first_broken:
      description: The first link (in chain order) that is not ok; null when all are.
      type: str
      sample: alarm-actions
    fix:
      description: What to do about the first broken link, in one sentence.
      type: str
    alarm_state:
      description:
        - The alarm's C(value) (OK, ALARM, INSUFFICIENT_DATA), C(reason), C(since) (its last state transition,
          C(StateTransitionedTimestamp)), C(updated) (C(StateUpdatedTimestamp)) and C(arn); null without an alarm.
      type: dict
    links:
      description: Every link, in chain order, as C(link), C(status) (ok, broken, unverified), C(detail), C(fix).
      type: list
      elements: dict
      sample:
        - link: trail-logging
          status: ok
          detail: trail trailwatch is logging (since 2026-11-28T10:02:11Z)
          fix: null
broken:
  description: Every watch with a link that is not ok, as C(watch), C(link) (the first one) and C(fix).
  returned: always
  type: list
  elements: dict
trail_arn:
  description: The trail that was checked; null when there is none.
  returned: always
  type: str
last_delivery:
  description: When CloudTrail last delivered to CloudWatch Logs (C(LatestCloudWatchLogsDeliveryTime)), ISO 8601 UTC.
  returned: always
  type: str
report:
  description: The result as printable lines, one per link of each watch and a fix under each first broken link.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule
from ansible_collections.trailwatch.aws.plugins.module_utils._run import run_module

from ansible_collections.trailwatch.aws.plugins.module_utils._alert_chain import diagnose
from ansible_collections.trailwatch.aws.plugins.module_utils._alert_chain import notifier_serves
from ansible_collections.trailwatch.aws.plugins.module_utils._alert_chain import read_chain
from ansible_collections.trailwatch.aws.plugins.module_utils._alert_chain import report_lines
from ansible_collections.trailwatch.aws.plugins.module_utils._common import aws_errors
from ansible_collections.trailwatch.aws.plugins.module_utils._common import caller_identity
from ansible_collections.trailwatch.aws.plugins.module_utils._common import retry
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import topic_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._watches import desired_watches
from ansible_collections.trailwatch.aws.plugins.module_utils._watches import validation_errors


def _clients(module):
    cache = {}

    def client(service, region):
        key = (service, region or module.region)
        if key not in cache:
            cache[key] = module.client(service, region=key[1], retry_decorator=retry())
        return cache[key]

    return client


def main():
    argument_spec = dict(
        trail_name=dict(),
        log_group_name=dict(required=True),
        topic_arn=dict(),
        topic_name=dict(),
        name_prefix=dict(required=True),
        namespace=dict(default="TrailWatch"),
        watches=dict(type="list", elements="dict", required=True),
        notifier_function_name=dict(),
        error_window_hours=dict(type="int", default=24),
    )
    module = TrailWatchModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[["topic_arn", "topic_name"]],
        mutually_exclusive=[["topic_arn", "topic_name"]],
    )
    p = module.params
    problems = validation_errors(p["watches"])
    if not p["watches"]:
        problems.append("no watch given")
    if p["error_window_hours"] < 1:
        problems.append(f"error_window_hours must be at least 1 (got {p['error_window_hours']})")
    if problems:
        module.fail_json(msg="alert_chain_info: " + "; ".join(problems))

    def work():
        with aws_errors("TrailWatch doctor: read the alert chain"):
            clients = _clients(module)
            account, partition = caller_identity(clients("sts", None))
            arn = p["topic_arn"] or topic_arn(partition, module.region, account, p["topic_name"])
            spec = {
                "account": account,
                "partition": partition,
                "region": module.region,
                "trail_name": p["trail_name"],
                "log_group_name": p["log_group_name"],
                "topic_arn": arn,
                "watches": desired_watches(p["watches"], p["name_prefix"], p["namespace"], [arn]),
                "notifier_function_name": p["notifier_function_name"],
                "inputs": {w["name"]: w for w in p["watches"]},
                "notifier_watches": [w["name"] for w in p["watches"] if notifier_serves(w["pattern"])],
                "error_window_hours": p["error_window_hours"],
            }
            return diagnose(read_chain(clients, spec), spec), spec

    result, spec = run_module(module, work)
    broken = [
        {"watch": w["name"], "link": w["first_broken"], "fix": w["fix"]} for w in result["watches"] if not w["ok"]
    ]
    module.exit_json(
        changed=False,
        ok=not broken,
        watches=result["watches"],
        broken=broken,
        trail_arn=result["trail"],
        last_delivery=result["last_delivery"],
        report=report_lines(result, spec),
    )


if __name__ == "__main__":
    main()
