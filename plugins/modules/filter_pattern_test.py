#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: filter_pattern_test
short_description: Test a CloudWatch Logs filter pattern against log events, locally
version_added: 0.1.0
description:
  - Evaluates a CloudWatch Logs filter pattern against sample log event messages on the managed node and answers
    like the CloudWatch Logs C(TestMetricFilter) API, without any AWS call or credentials.
  - Useful to prove that a watch pattern matches the CloudTrail events it is meant for (and no others) before
    it is deployed, and against endpoints such as moto that store filter patterns without evaluating them.
  - Supports the syntax AWS documents for metric filters, subscription filters, filter log events and Live Tail.
    Term patterns (V(ERROR), V("exact phrase"), V(-excluded), V(?optional)); a regular expression between C(%)
    as the whole pattern; JSON patterns (V({ $.a.b[0] = "x*" && $.n > 10 || $.c NOT EXISTS }) with C(=),
    C(!=), C(<), C(<=), C(>), C(>=), C(IS NULL), C(IS TRUE), C(IS FALSE), C(NOT EXISTS), C(&&), C(||),
    parentheses, wildcard selectors V($.list[*].x) and V($.*), and bracket names V($.['cluster.name']));
    space-delimited patterns (V([ip, user, ..., status_code = 4*, bytes > 1000])).
  - C(?) terms only count in a pattern made of C(?) terms alone. As AWS documents, when a pattern combines C(?)
    terms with other terms, the C(?) terms are ignored, so V(?ERROR ?ARGUMENTS REQUEST) matches every event
    holding V(REQUEST).
  - A selector with a wildcard matches when the condition holds for any element of the array or any property of
    the object it selects, also for C(!=) and C(NOT EXISTS); V($.list[*] != "a") matches when any element is not
    V(a).
  - In a space-delimited pattern each field takes one word of the line (a run between double quotes or square
    brackets is one word), C(...) takes as many words as the other fields leave, and without C(...) the last field
    takes the rest of the line, so V([w1=ERROR, w2]) matches C(ERROR 09/25/2014 12:00:02 Failed to process request)
    with C($w2) = C(09/25/2014 12:00:02 Failed to process request). A line with fewer words than fields does not
    match.
  - A pattern CloudWatch Logs would refuse fails the task with a message that names the position of the problem;
    syntax AWS does not document, more than 1024 characters, more than 2 regular expressions in a JSON or
    space-delimited pattern, more than one wildcard in a selector or more than 3 wildcard selectors in a pattern.
author:
  - TrailWatch contributors (@trailwatch)
options:
  filter_pattern:
    description:
      - The filter pattern, as given to a metric filter or to C(TestMetricFilter).
      - An empty pattern matches every event, as it does for CloudWatch Logs.
    type: str
    required: true
  log_event_messages:
    description: The log event messages to test, for CloudTrail one JSON record each.
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    description:
      - Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    support: full
    details:
      - This action does not modify state.
notes:
  - Behaviour that the AWS documentation leaves open follows it as closely as possible. A property that is missing,
    or that holds an array, an object, a boolean or null, matches neither C(=) nor C(!=). Numeric comparisons
    only match JSON numbers. A C(*) in the middle of a value is a literal C(*), as AWS documents. Regular
    expressions use ASCII character classes (C(\w) is C([a-zA-Z_0-9])), as the AWS page defines them.
  - C(.*) and C([*]) both select every element of an array and every property value of an object (the JSONPath
    wildcard of RFC 9535); the AWS page shows C([*]) on an array and C(.*) on an object only.
  - Quotas that concern a whole log group (100 metric filters, 5 filter patterns with a regular expression) are
    checked by M(trailwatch.aws.metric_watches) and the alerts role, not here.
seealso:
  - name: Filter pattern syntax for metric filters, subscription filters, filter log events, and Live Tail
    description: The AWS page this module follows.
    link: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
  - name: Using filter patterns to match terms in JSON log events
    description: The JSON part of that page, wildcard selectors and their quotas included.
    link: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/matching-terms-json-log-events.html
  - module: trailwatch.aws.metric_watches
"""

EXAMPLES = r"""
- name: The root watch matches a root console sign-in
  trailwatch.aws.filter_pattern_test:
    filter_pattern: >-
      {$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}
    log_event_messages:
      - '{"eventName": "ConsoleLogin", "eventType": "AwsConsoleSignIn", "userIdentity": {"type": "Root"}}'
  register: root_watch

- name: Fail unless it did
  ansible.builtin.assert:
    that: root_watch.matched

- name: Only the first record is a bucket policy change
  trailwatch.aws.filter_pattern_test:
    filter_pattern: >-
      {($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketPolicy) || ($.eventName=DeleteBucketPolicy))}
    log_event_messages:
      - '{"eventSource": "s3.amazonaws.com", "eventName": "PutBucketPolicy"}'
      - '{"eventSource": "s3.amazonaws.com", "eventName": "GetBucketPolicy"}'
      - 'not a JSON record: never matches a JSON pattern'
  register: policy_watch
  failed_when: policy_watch.matches | map(attribute='eventNumber') | list != [1]

- name: Values extracted by a space-delimited pattern
  trailwatch.aws.filter_pattern_test:
    filter_pattern: "[ip, user, username, timestamp, request, status_code = 4*, bytes]"
    log_event_messages:
      - '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'

- name: A bucket policy that grants everyone (any statement of the policy)
  trailwatch.aws.filter_pattern_test:
    filter_pattern: >-
      { ($.eventName = "PutBucketPolicy") && ($.requestParameters.bucketPolicy.Statement[*].Principal = "*") }
    log_event_messages:
      - '{"eventName": "PutBucketPolicy", "requestParameters": {"bucketPolicy": {"Statement": [{"Principal": "*"}]}}}'
  register: public_policy
  failed_when: not public_policy.matched
"""

RETURN = r"""
matched:
  description: Whether at least one of the messages matches the pattern.
  returned: success
  type: bool
  sample: true
matches:
  description:
    - The matching messages, in the shape of the C(matches) answer of the C(TestMetricFilter) API.
  returned: success
  type: list
  elements: dict
  contains:
    eventNumber:
      description: Position of the message in O(log_event_messages), from 1.
      type: int
      sample: 1
    eventMessage:
      description: The message.
      type: str
      sample: '{"eventName": "ConsoleLogin"}'
    extractedValues:
      description:
        - For a space-delimited pattern, the text of every field of the message, by C($name) of the pattern
          field, or C($N) (its position) for a field without a name or one skipped by C(...).
        - Empty for term and JSON patterns.
      type: dict
      sample:
        $1: 127.0.0.1
        $status_code: "404"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import FilterPatternError
from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import parse
from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import test_metric_filter


def main():
    argument_spec = dict(
        filter_pattern=dict(type="str", required=True),
        log_event_messages=dict(type="list", elements="str", required=True),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        tree = parse(module.params["filter_pattern"])
    except FilterPatternError as error:
        module.fail_json(msg=f"filter_pattern: {error}", position=error.position)
    found = test_metric_filter(tree, module.params["log_event_messages"])["matches"]
    module.exit_json(changed=False, matched=bool(found), matches=found)


if __name__ == "__main__":
    main()
