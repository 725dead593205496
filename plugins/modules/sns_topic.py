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
  - E-mail subscriptions stay pending until the recipient confirms them. A pending subscription is reported
    in RV(topic.pending_confirmations) and never subscribed again, so a re-run sends no new confirmation mail.
    SNS cannot remove a pending subscription; it expires by itself after three days.
  - Why a module of our own? M(amazon.aws) has no SNS topic module and C(community.aws) is not a dependency.
author:
  - TrailWatch contributors
options:
  state:
    description: Whether the topic should exist. Deleting a topic removes its subscriptions.
    type: str
    choices: [present, absent]
    default: present
  name:
    description: Topic name.
    type: str
    required: true
  display_name:
    description: Display name, used as the sender name of e-mails.
    type: str
    default: ""
  kms_master_key_id:
    description:
      - Customer managed KMS key that encrypts the topic (SNS.1). Its key policy must let
        C(cloudwatch.amazonaws.com) use it; C(alias/aws/sns) cannot, so it is refused. Empty means unencrypted.
    type: str
    default: ""
  subscriptions:
    description: Subscriptions the topic must have.
    type: list
    elements: dict
    default: []
    suboptions:
      protocol:
        description: Delivery protocol.
        type: str
        required: true
        choices: [email, email-json, sqs, https, http, lambda, sms, application, firehose]
      endpoint:
        description: Address, URL or ARN for the protocol.
        type: str
        required: true
  purge_subscriptions:
    description: Remove confirmed subscriptions that are not listed in O(subscriptions).
    type: bool
    default: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags.modules
  - amazon.aws.boto3
  - trailwatch.aws._attributes
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
    subscriptions:
      description: Subscriptions (protocol, endpoint, subscription_arn, pending_confirmation).
      type: list
      elements: dict
    pending_confirmations:
      description: Endpoints whose subscription still waits for confirmation.
      type: list
      elements: str
      sample: [me@example.com]
    tags:
      description: The topic's tags.
      type: dict
"""

import json

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.trailwatch.aws.plugins.module_utils._common import TrailWatchError
from ansible_collections.trailwatch.aws.plugins.module_utils._common import caller_identity
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import topic_arn
from ansible_collections.trailwatch.aws.plugins.module_utils._policies import topic_policy
from ansible_collections.trailwatch.aws.plugins.module_utils._sns import ensure_topic_absent
from ansible_collections.trailwatch.aws.plugins.module_utils._sns import ensure_topic_present
from ansible_collections.trailwatch.aws.plugins.module_utils._sns import read_topic


def _with_pending(topic):
    if topic is not None:
        topic["pending_confirmations"] = sorted(
            s["endpoint"] for s in topic["subscriptions"] if s["pending_confirmation"]
        )
    return topic


def main():
    argument_spec = dict(
        state=dict(choices=["present", "absent"], default="present"),
        name=dict(required=True),
        display_name=dict(default=""),
        kms_master_key_id=dict(default=""),
        subscriptions=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                protocol=dict(
                    required=True,
                    choices=["email", "email-json", "sqs", "https", "http", "lambda", "sms", "application", "firehose"],
                ),
                endpoint=dict(required=True),
            ),
        ),
        purge_subscriptions=dict(type="bool", default=True),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    if p["kms_master_key_id"] in ("alias/aws/sns",) or p["kms_master_key_id"].endswith(":alias/aws/sns"):
        module.fail_json(
            msg="kms_master_key_id: alias/aws/sns cannot grant CloudWatch access, so alarms would fail silently; "
            "use a customer managed key"
        )

    sns = module.client("sns")
    try:
        account, partition = caller_identity(module.client("sts"))
        arn = topic_arn(partition, module.region, account, p["name"])
        before = _with_pending(read_topic(sns, arn))
        if p["state"] == "absent":
            changed = ensure_topic_absent(sns, before, module.check_mode)
            after = None
        else:
            attributes = {
                "DisplayName": p["display_name"],
                "KmsMasterKeyId": p["kms_master_key_id"],
                "Policy": json.dumps(topic_policy(partition, module.region, account, p["name"])),
            }
            changed, after = ensure_topic_present(
                sns,
                before,
                arn,
                p["name"],
                attributes,
                p["tags"] or {},
                p["purge_tags"] if p["tags"] is not None else False,
                p["subscriptions"],
                p["purge_subscriptions"],
                module.check_mode,
            )
            if changed and not module.check_mode:
                # Whether SNS holds a new subscription as pending is only known by asking it.
                after = read_topic(sns, arn)
            after = _with_pending(after)
    except TrailWatchError as e:
        module.fail_json_aws_error(e)

    module.exit_json(changed=changed, topic=after, diff={"before": before or {}, "after": after or {}})


if __name__ == "__main__":
    main()
