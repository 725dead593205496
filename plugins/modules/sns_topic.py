#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: sns_topic
short_description: An SNS topic CloudWatch alarms may publish to, with its subscriptions
version_added: 0.1.0
description:
  - Creates or converges a standard SNS topic with a policy that keeps the account in control of the topic and
    lets CloudWatch alarms of the same account (and only those) publish to it, optional KMS encryption, tags
    and subscriptions.
  - An encrypted topic (O(kms_master_key_id), or an existing topic's own key) is only usable by CloudWatch alarms when
    its key lets the CloudWatch service principal use it. The key is resolved with C(DescribeKey); an AWS managed key
    (C(alias/aws/sns), by any of its names) is refused, since its policy cannot grant CloudWatch and the alarms would
    fail silently. Into a customer managed key's policy the module merges the statement CloudWatch needs
    (C(TrailWatchCloudWatchAlarmsFor<Install>), see O(install_name)) unless a statement that no TrailWatch install may
    take away already grants it (the TrailWatch key's own C(TrailWatchCloudWatchAlarms)); when the key policy cannot
    be read or written the module fails, naming the statement to add.
  - E-mail subscriptions stay pending until the recipient confirms them. A pending subscription is reported
    in RV(topic.pending_confirmations) and never subscribed again, so a re-run sends no new confirmation mail.
    SNS cannot remove a pending subscription; it expires by itself after three days.
  - With O(arn), an existing topic is used instead; it is never created, changed otherwise or deleted. Only the
    statement that lets CloudWatch alarms publish is merged into its policy (by C(Sid), every other statement kept,
    also those of other TrailWatch installs sharing the topic), and only the listed subscriptions are added;
    O(state=absent) removes just that install's statements and those subscriptions. Its encryption is not changed.
  - Why a module of our own? The amazon.aws collection has no SNS topic module and C(community.aws) is not a dependency.
author:
  - TrailWatch contributors (@trailwatch)
options:
  state:
    description: Whether the topic should exist. Deleting a topic removes its subscriptions.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags.modules
  - amazon.aws.boto3
  - trailwatch.aws._attributes
  - trailwatch.aws._sns_topic
"""

EXAMPLES = r"""
- name: Alarms reach the platform team by e-mail
  trailwatch.aws.sns_topic:
    name: trailwatch-alerts
    subscriptions:
      - protocol: email
        endpoint: platform@example.com
  register: topic

- name: Someone still has to click the confirmation link
  ansible.builtin.debug:
    msg: "Waiting for {{ topic.topic.pending_confirmations | join(', ') }}"
  when: topic.topic.pending_confirmations | length > 0
"""

RETURN = r"""
topic:
  description: The topic after the run (as predicted in check mode); null once deleted.
  returned: always
  type: dict
  contains:
    arn:
      description: Topic ARN.
      type: str
      sample: arn:aws:sns:eu-west-1:123456789012:trailwatch-alerts
    name:
      description: Topic name.
      type: str
    policy:
      description: The topic policy.
      type: dict
    kms_master_key_id:
      description: The key that encrypts the topic, as SNS holds it (the key ARN when TrailWatch set it); empty if none.
      type: str
      sample: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    subscriptions:
      description: Subscriptions (protocol, endpoint, subscription_arn, pending_confirmation).
      type: list
      elements: dict
    pending_confirmations:
      description: Endpoints whose subscription still waits for confirmation.
      type: list
      elements: str
      sample: [me@example.com]
    unlisted_subscriptions:
      description:
        - Endpoints subscribed to the topic that are not in O(subscriptions), confirmed or pending. With
          O(purge_subscriptions=false) (and always on an existing topic given by O(arn)) they are kept; with
          O(purge_subscriptions=true) only pending ones remain, because SNS cannot remove a pending subscription.
      type: list
      elements: str
      sample: [former-oncall@example.com]
    tags:
      description: The topic's tags.
      type: dict
"""


from ansible_collections.trailwatch.aws.plugins.module_utils._run import TrailWatchModule

from ansible_collections.trailwatch.aws.plugins.module_utils._run import ModuleRun
from ansible_collections.trailwatch.aws.plugins.module_utils._run import run_module
from ansible_collections.trailwatch.aws.plugins.module_utils._topic_sync import MERGE_FAILURE
from ansible_collections.trailwatch.aws.plugins.module_utils._topic_sync import TOPIC_MUTUALLY_EXCLUSIVE
from ansible_collections.trailwatch.aws.plugins.module_utils._topic_sync import TOPIC_REQUIRED_ONE_OF
from ansible_collections.trailwatch.aws.plugins.module_utils._topic_sync import converge_topic
from ansible_collections.trailwatch.aws.plugins.module_utils._topic_sync import topic_options
from ansible_collections.trailwatch.aws.plugins.module_utils._topic_sync import topic_problems


def main():
    argument_spec = dict(state=dict(choices=["present", "absent"], default="present"), **topic_options())
    module = TrailWatchModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=TOPIC_MUTUALLY_EXCLUSIVE,
        required_one_of=TOPIC_REQUIRED_ONE_OF,
    )
    p = module.params
    problems = topic_problems(p)
    if problems:
        module.fail_json(msg=problems[0])

    def work():
        return converge_topic(ModuleRun(module), p, p["state"] == "present")

    before, result = run_module(module, work, MERGE_FAILURE)
    module.exit_json(
        changed=result.changed, topic=result.after, diff={"before": before or {}, "after": result.after or {}}
    )


if __name__ == "__main__":
    main()
