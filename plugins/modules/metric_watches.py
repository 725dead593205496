#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: metric_watches
short_description: Metric filters on a CloudTrail log group and the alarms that notify on them
version_added: 0.1.0
description:
  - A watch is a metric filter on the trail's log group that counts matching events (value C(1), unit
    C(Count)) and an alarm on that metric, Sum over the period, C(>= threshold), missing data
    C(notBreaching) (so the alarm returns to OK and fires again on the next event), ALARM action to the
    given topics and no OK or INSUFFICIENT_DATA actions.
  - All watches of a log group are managed in one invocation, with two bulk reads (filters of the log group,
    alarms by name) plus one tag read per alarm.
  - The filter and the alarm of a watch are both named C(<name_prefix><watch name>).
  - Why not M(amazon.aws.cloudwatchlogs_log_group_metric_filter) and M(amazon.aws.cloudwatch_metric_alarm)?
    The filter module takes a filter name prefix match for an exact match and re-puts a filter that exists,
    which duplicates it on some endpoints; together they need two module invocations per watch.
author:
  - TrailWatch contributors (@trailwatch)
options:
  state:
    description:
      - Whether the watches should exist. V(absent) deletes the named watches, and with O(purge_watches=true)
        every watch TrailWatch created with this O(name_prefix) and O(namespace).
    type: str
    choices: [present, absent]
    default: present
  log_group_name:
    description: Log group the trail delivers to.
    type: str
    required: true
  name_prefix:
    description: Prefix of every filter and alarm name, so that they are recognisable.
    type: str
    default: ""
  namespace:
    description: CloudWatch namespace of the watch metrics.
    type: str
    default: TrailWatch
  purge_watches:
    description:
      - Delete the watches created earlier with the same O(name_prefix) and O(namespace) that are not in
        O(watches) (a watch the user removed). A filter or alarm is only taken for TrailWatch's when its name
        starts with O(name_prefix) B(and) it counts into O(namespace), so nobody else's is touched.
    type: bool
    default: false
  alarm_actions:
    description:
      - ARNs notified when an alarm goes to ALARM (usually one SNS topic). Required with O(state=present) unless
        O(topic) is given.
    type: list
    elements: str
    default: []
  watches:
    description: The watches.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Watch name, lower case letters, digits and dashes.
        type: str
        required: true
      pattern:
        description: CloudWatch Logs filter pattern the CloudTrail events must match.
        type: str
        required: true
      description:
        description: Alarm description.
        type: str
      metric_name:
        description: Metric name; defaults to the watch name in CamelCase (C(s3-bucket-created) is C(S3BucketCreated)).
        type: str
      threshold:
        description: Matching events per period that raise the alarm.
        type: float
        default: 1
      period:
        description: Alarm period in seconds (10, 20, 30 or a multiple of 60).
        type: int
        default: 60
      evaluation_periods:
        description: Periods (and datapoints) that must breach.
        type: int
        default: 1
      accept_blind_spots:
        description:
          - V(true) deploys the watch even when the coverage check finds that the trail does not record some of the
            events it counts (the C(trailwatch.aws.trail) role and M(trailwatch.aws.trail_coverage_info) report
            them as warnings instead of failing). This module deploys the watch the same either way.
        type: bool
        default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags.modules
  - amazon.aws.boto3
  - trailwatch.aws._attributes
  - trailwatch.aws._sns_topic.watches_topic
"""

EXAMPLES = r"""
- name: A mail goes out when someone creates a bucket
  trailwatch.aws.metric_watches:
    log_group_name: aws-cloudtrail-logs-trailwatch
    name_prefix: trailwatch-
    alarm_actions: [arn:aws:sns:eu-west-1:123456789012:trailwatch-alerts]
    watches:
      - name: s3-bucket-created
        pattern: '{ ($.eventName = "CreateBucket") }'
        metric_name: S3BucketCreated

- name: The topic and its subscribers, then the watches that alarm it, in one invocation
  trailwatch.aws.metric_watches:
    log_group_name: aws-cloudtrail-logs-trailwatch
    name_prefix: trailwatch-
    topic:
      name: trailwatch-alerts
      kms_master_key_id: alias/trailwatch
      install_name: trailwatch
      subscriptions:
        - protocol: email
          endpoint: platform@example.com
    watches:
      - name: s3-bucket-created
        pattern: '{ ($.eventName = "CreateBucket") }'
  register: alerts

- name: Someone still has to click the confirmation link
  ansible.builtin.debug:
    msg: "Waiting for {{ alerts.topic.pending_confirmations | join(', ') }}"
  when: alerts.topic.pending_confirmations | length > 0
"""

RETURN = r"""
watches:
  description: Per watch name, its filter and alarm as they are after the run (as predicted in check mode).
  returned: always
  type: dict
  sample:
    s3-bucket-created:
      filter:
        filterName: trailwatch-s3-bucket-created
        filterPattern: '{ ($.eventName = "CreateBucket") }'
      alarm:
        AlarmName: trailwatch-s3-bucket-created
        Threshold: 1.0
changed_watches:
  description: Names of the watches that were created or changed (with O(state=absent), deleted).
  returned: always
  type: list
  elements: str
removed_watches:
  description: Full names of the filters and alarms deleted because they are no longer wanted (O(purge_watches)).
  returned: always
  type: list
  elements: str
  sample: [trailwatch-old-watch]
changes:
  description:
    - The parts that changed (or would, in check mode). C(watch:<name>) a watch created, changed or (with
      O(state=absent)) deleted, C(removed:<full name>) a filter or alarm removed by O(purge_watches); with O(topic),
      C(topic) the topic created (or deleted) and C(topic:<part>) a part of it converged (C(attributes), C(policy),
      C(subscriptions), C(key) for the key policy's statement).
  returned: always
  type: list
  elements: str
  sample: [topic, "topic:key", "watch:s3-bucket-created"]
topic:
  description:
    - With O(topic), the topic after the run (as predicted in check mode), null once deleted, exactly as
      M(trailwatch.aws.sns_topic) returns it as C(topic) (arn, name, display_name, policy, kms_master_key_id,
      subscriptions, pending_confirmations, unlisted_subscriptions, tags).
    - With O(topic), the diff's C(before) and C(after) are C({topic, watches}) instead of the watches alone.
  returned: when O(topic) is given
  type: dict
  sample:
    arn: arn:aws:sns:eu-west-1:123456789012:trailwatch-alerts
    name: trailwatch-alerts
    pending_confirmations: [platform@example.com]
    unlisted_subscriptions: []
"""

from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule

from ansible_collections.trailwatch.aws.plugins.module_utils._run import TAG_OPTIONS
from ansible_collections.trailwatch.aws.plugins.module_utils._run import ModuleRun
from ansible_collections.trailwatch.aws.plugins.module_utils._run import run_module
from ansible_collections.trailwatch.aws.plugins.module_utils._topic_sync import MERGE_FAILURE
from ansible_collections.trailwatch.aws.plugins.module_utils._topic_sync import TOPIC_MUTUALLY_EXCLUSIVE
from ansible_collections.trailwatch.aws.plugins.module_utils._topic_sync import TOPIC_REQUIRED_ONE_OF
from ansible_collections.trailwatch.aws.plugins.module_utils._topic_sync import converge_topic
from ansible_collections.trailwatch.aws.plugins.module_utils._topic_sync import topic_options
from ansible_collections.trailwatch.aws.plugins.module_utils._topic_sync import topic_problems
from ansible_collections.trailwatch.aws.plugins.module_utils._watch_sync import ensure_watches_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._watch_sync import ensure_watches_present
from ansible_collections.trailwatch.aws.plugins.module_utils._watch_sync import read_watches
from ansible_collections.trailwatch.aws.plugins.module_utils._watches import desired_watches
from ansible_collections.trailwatch.aws.plugins.module_utils._watches import validation_errors
from ansible_collections.trailwatch.aws.plugins.module_utils._watches import watch_options


def _converge(run):
    """The topic (when given) before the watches, whose alarms notify it; on removal the alarms go first.

    Returns the module's result without changed and changes (run.changes holds them).
    """
    p, present = run.p, run.p["state"] == "present"
    topic_before = topic = None
    if p["topic"] and present:
        topic_before, topic = converge_topic(run, p["topic"], True, "topic.")
        run.changed_parts("topic", topic.parts)
    actions = [topic.after["arn"]] if topic else p["alarm_actions"]
    desired = desired_watches(p["watches"], p["name_prefix"], p["namespace"], actions)
    names = [w["filter"]["filterName"] for w in desired]
    owned = (p["name_prefix"], p["namespace"]) if p["purge_watches"] else None
    logs, cloudwatch = run.clients["logs"], run.clients["cloudwatch"]
    before = read_watches(logs, cloudwatch, p["log_group_name"], names, owned=owned)
    if present:
        result = ensure_watches_present(
            logs, cloudwatch, p["log_group_name"], desired, before, run.tags, run.purge_tags, run.check
        )
        changed_watches, after = list(result.parts), result.after
        removed = ensure_watches_absent(logs, cloudwatch, p["log_group_name"], before, run.check, names).parts
    else:
        removed = ensure_watches_absent(logs, cloudwatch, p["log_group_name"], before, run.check).parts
        changed_watches = [w["name"] for w in desired if w["filter"]["filterName"] in removed]
        after = {}
    stale = [name for name in removed if name not in names]
    run.changed_parts("watch", changed_watches)
    run.changed_parts("removed", stale)
    if p["topic"] and not present:
        # Alarms go before the topic they notify.
        topic_before, topic = converge_topic(run, p["topic"], False, "topic.")
        run.changed_parts("topic", topic.parts)
    result = {"changed_watches": changed_watches, "removed_watches": stale, "watches": after}
    if not p["topic"]:
        return dict(result, diff={"before": before, "after": after})
    return dict(
        result,
        topic=topic.after,
        diff={
            "before": {"topic": topic_before or {}, "watches": before},
            "after": {"topic": topic.after or {}, "watches": after},
        },
    )


def main():
    argument_spec = dict(
        state=dict(choices=["present", "absent"], default="present"),
        log_group_name=dict(required=True),
        name_prefix=dict(default=""),
        namespace=dict(default="TrailWatch"),
        alarm_actions=dict(type="list", elements="str", default=[]),
        topic=dict(
            type="dict",
            options=topic_options(),
            mutually_exclusive=TOPIC_MUTUALLY_EXCLUSIVE,
            required_one_of=TOPIC_REQUIRED_ONE_OF,
        ),
        watches=dict(
            type="list",
            elements="dict",
            required=True,
            options=watch_options(),
        ),
        purge_watches=dict(type="bool", default=False),
        **TAG_OPTIONS,
    )
    module = TrailWatchModule(
        argument_spec=argument_spec, supports_check_mode=True, mutually_exclusive=[["alarm_actions", "topic"]]
    )
    p = module.params
    problems = topic_problems(p["topic"], "topic.") if p["topic"] else []
    if problems:
        module.fail_json(msg="; ".join(problems), errors=problems)
    errors = [f"watches: {error}" for error in validation_errors(p["watches"])]
    if p["state"] == "present" and not p["alarm_actions"] and not p["topic"]:
        errors.append(
            "alarm_actions: at least one ARN (the SNS topic) is needed, or give topic; else the alarms notify nobody"
        )
    if errors:
        module.fail_json(msg="; ".join(errors), errors=errors)

    run = ModuleRun(module)
    result = run_module(module, lambda: _converge(run), MERGE_FAILURE)
    module.exit_json(changed=bool(run.changes), changes=run.changes, **result)


if __name__ == "__main__":
    main()
