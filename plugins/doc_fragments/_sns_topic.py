# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this doc fragment is **PRIVATE** to the collection. It can change at any time.
# Do not use it from other collections.
#
# The options of the SNS topic CloudWatch alarms publish to (module_utils/_topic_sync.py: TOPIC_OPTIONS):
# trailwatch.aws.sns_topic's own options (DOCUMENTATION) and metric_watches' topic sub-options (WATCHES_TOPIC).
# Both are plain strings, as ansible-test's yamllint sanity test requires of a doc fragment; the topic options are
# written in both, and tests/unit/test_doc_fragments.py fails when the two texts of an option differ.


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  name:
    description: Name of the topic TrailWatch manages. One of O(name) and O(arn) is required.
    type: str
  arn:
    description: ARN of an existing topic to use (bring your own topic).
    type: str
  display_name:
    description: Display name, used as the sender name of e-mails.
    type: str
    default: ""
  kms_master_key_id:
    description:
      - Customer managed KMS key (key id, key ARN, alias or alias ARN) that encrypts the topic TrailWatch manages
        (Security Hub SNS.1). The topic is set to the key's ARN. An AWS managed key (C(alias/aws/sns)) is refused.
        Empty means unencrypted. Ignored with O(arn), since an existing topic keeps its own encryption.
      - Given by alias name or key ID, the key is the caller's own account's (KMS resolves those in the caller's
        account only), so its ARN also gives the account the topic's ARN and policy name, without
        C(sts:GetCallerIdentity). A key ARN or alias ARN may be another account's and tells nothing.
      - Whoever publishes to an encrypted topic needs C(kms:GenerateDataKey*) and C(kms:Decrypt) on the key (the
        notifier's role gets them); subscribers such as e-mail and unencrypted SQS queues need nothing.
    type: str
    default: ""
  install_name:
    description:
      - Name of the TrailWatch install (C(trailwatch_name)) whose statements this is. It is part of their C(Sid),
        so that installs sharing a topic or a key keep each other's statements, and O(state=absent) removes only
        its own.
    type: str
    default: trailwatch
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
"""

    WATCHES_TOPIC = r"""
options:
  topic:
    description:
      - The SNS topic the alarms notify, converged in the same invocation by the same code as
        M(trailwatch.aws.sns_topic) (its options but O(state), which follows this module's O(state)). Its ARN is then
        the alarms' only action.
      - With O(state=present) the topic is converged before the watches; with O(state=absent) the watches' alarms are
        deleted first, then the topic (or, with O(topic.arn), only this install's statements and subscriptions).
      - Mutually exclusive with O(alarm_actions).
    type: dict
    suboptions:
      name:
        description: Name of the topic TrailWatch manages. One of O(topic.name) and O(topic.arn) is required.
        type: str
      arn:
        description: ARN of an existing topic to use (bring your own topic).
        type: str
      display_name:
        description: Display name, used as the sender name of e-mails.
        type: str
        default: ""
      kms_master_key_id:
        description:
          - Customer managed KMS key (key id, key ARN, alias or alias ARN) that encrypts the topic TrailWatch manages
            (Security Hub SNS.1). The topic is set to the key's ARN. An AWS managed key (C(alias/aws/sns)) is refused.
            Empty means unencrypted. Ignored with O(topic.arn), since an existing topic keeps its own encryption.
          - Given by alias name or key ID, the key is the caller's own account's (KMS resolves those in the caller's
            account only), so its ARN also gives the account the topic's ARN and policy name, without
            C(sts:GetCallerIdentity). A key ARN or alias ARN may be another account's and tells nothing.
          - Whoever publishes to an encrypted topic needs C(kms:GenerateDataKey*) and C(kms:Decrypt) on the key (the
            notifier's role gets them); subscribers such as e-mail and unencrypted SQS queues need nothing.
        type: str
        default: ""
      install_name:
        description:
          - Name of the TrailWatch install (C(trailwatch_name)) whose statements this is. It is part of their C(Sid),
            so that installs sharing a topic or a key keep each other's statements, and O(state=absent) removes only
            its own.
        type: str
        default: trailwatch
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
        description: Remove confirmed subscriptions that are not listed in O(topic.subscriptions).
        type: bool
        default: true

      tags:
        description:
          - Tags of the topic. Without it, the topic's tags are left alone.
        type: dict
        aliases: [resource_tags]
      purge_tags:
        description: Remove the topic's tags that are not in O(topic.tags) (only when O(topic.tags) is given).
        type: bool
        default: true
"""
