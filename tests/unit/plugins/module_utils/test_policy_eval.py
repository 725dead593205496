"""_policy_eval: one resource policy, one request, the decision AWS's evaluation logic reaches (a table of cases)."""

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _policies
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_eval import arn_match
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_eval import evaluate
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_eval import wildcard_match

ACCOUNT = "123456789012"
OTHER = "210987654321"
REGION = "eu-west-1"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:trailwatch-alerts"
ALARM = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:trailwatch-s3-bucket-created"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
TRAIL = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/trailwatch"
LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:aws-cloudtrail-logs-trailwatch"

PUBLISH = {
    "principal": {"Service": "cloudwatch.amazonaws.com"},
    "action": "sns:Publish",
    "resource": TOPIC,
    "context": {"aws:SourceAccount": ACCOUNT, "aws:SourceArn": ALARM},
}


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(**extra):
    statement = {
        "Sid": "S",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "sns:Publish",
        "Resource": TOPIC,
    }
    statement.update(extra)
    return statement


def deny(**extra):
    statement = dict(allow(**extra), Effect="Deny", Sid="D")
    statement.update(extra)
    return statement


def cond(operator, key, value):
    return {"Condition": {operator: {key: value}}}


CASES = [
    # (id, policy, request changes, allowed)
    ("no policy", None, {}, False),
    ("empty statements", doc(), {}, False),
    ("plain allow", doc(allow()), {}, True),
    ("allow other service", doc(allow(Principal={"Service": "events.amazonaws.com"})), {}, False),
    (
        "service in a list",
        doc(allow(Principal={"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]})),
        {},
        True,
    ),
    ("principal star", doc(allow(Principal="*")), {}, True),
    ("principal AWS star", doc(allow(Principal={"AWS": "*"})), {}, True),
    ("account root does not admit a service", doc(allow(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"})), {}, False),
    ("no principal at all", doc({"Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC}), {}, False),
    (
        "NotPrincipal excludes someone else",
        doc(allow(Principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{OTHER}:root"})),
        {},
        True,
    ),
    ("action wildcard sns:*", doc(allow(Action="sns:*")), {}, True),
    ("action wildcard Pub*", doc(allow(Action="sns:Pub*")), {}, True),
    ("action case-insensitive", doc(allow(Action="SNS:publish")), {}, True),
    ("action ? wildcard", doc(allow(Action="sns:Publis?")), {}, True),
    ("other action", doc(allow(Action="sns:Subscribe")), {}, False),
    ("NotAction excluding Publish", doc(allow(Action=None, NotAction="sns:Publish")), {}, False),
    ("NotAction excluding others", doc(allow(Action=None, NotAction=["sns:Subscribe"])), {}, True),
    ("resource star", doc(allow(Resource="*")), {}, True),
    ("resource wildcard", doc(allow(Resource=f"arn:aws:sns:{REGION}:{ACCOUNT}:*")), {}, True),
    ("other topic", doc(allow(Resource=f"arn:aws:sns:{REGION}:{ACCOUNT}:other")), {}, False),
    ("resource case-sensitive", doc(allow(Resource=TOPIC.upper())), {}, False),
    ("NotResource", doc(allow(Resource=None, NotResource=TOPIC)), {}, False),
    ("StringEquals source account", doc(allow(**cond("StringEquals", "aws:SourceAccount", ACCOUNT))), {}, True),
    ("StringEquals other account", doc(allow(**cond("StringEquals", "aws:SourceAccount", OTHER))), {}, False),
    ("StringEquals any of a list", doc(allow(**cond("StringEquals", "aws:SourceAccount", [OTHER, ACCOUNT]))), {}, True),
    ("condition key case-insensitive", doc(allow(**cond("StringEquals", "AWS:SOURCEACCOUNT", ACCOUNT))), {}, True),
    ("StringEquals on a missing key", doc(allow(**cond("StringEquals", "aws:PrincipalOrgID", "o-abc"))), {}, False),
    (
        "StringEqualsIfExists on a missing key",
        doc(allow(**cond("StringEqualsIfExists", "aws:PrincipalOrgID", "o-abc"))),
        {},
        True,
    ),
    (
        "StringNotEquals on a missing key",
        doc(allow(**cond("StringNotEquals", "aws:PrincipalOrgID", "o-abc"))),
        {},
        True,
    ),
    ("StringNotEquals own account", doc(allow(**cond("StringNotEquals", "aws:SourceAccount", ACCOUNT))), {}, False),
    (
        "StringLike alarm prefix",
        doc(allow(**cond("StringLike", "aws:SourceArn", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:trailwatch-*"))),
        {},
        True,
    ),
    (
        "StringLike other prefix",
        doc(allow(**cond("StringLike", "aws:SourceArn", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:prod-*"))),
        {},
        False,
    ),
    ("StringNotLike", doc(allow(**cond("StringNotLike", "aws:SourceArn", "*:alarm:prod-*"))), {}, True),
    (
        "ArnLike any alarm",
        doc(allow(**cond("ArnLike", "aws:SourceArn", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"))),
        {},
        True,
    ),
    (
        "ArnLike any region",
        doc(allow(**cond("ArnLike", "aws:SourceArn", f"arn:aws:cloudwatch:*:{ACCOUNT}:alarm:*"))),
        {},
        True,
    ),
    (
        "ArnLike other region",
        doc(allow(**cond("ArnLike", "aws:SourceArn", f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:*"))),
        {},
        False,
    ),
    (
        "ArnLike other account",
        doc(allow(**cond("ArnLike", "aws:SourceArn", f"arn:aws:cloudwatch:{REGION}:{OTHER}:alarm:*"))),
        {},
        False,
    ),
    (
        "ArnLike wrong service",
        doc(allow(**cond("ArnLike", "aws:SourceArn", f"arn:aws:events:{REGION}:{ACCOUNT}:*"))),
        {},
        False,
    ),
    ("ArnEquals exact alarm", doc(allow(**cond("ArnEquals", "aws:SourceArn", ALARM))), {}, True),
    ("ArnNotEquals exact alarm", doc(allow(**cond("ArnNotEquals", "aws:SourceArn", ALARM))), {}, False),
    ("ArnNotLike on a missing key", doc(allow(**cond("ArnNotLike", "aws:SourceVpc", "*"))), {}, True),
    ("Null true on a missing key", doc(allow(**cond("Null", "aws:PrincipalOrgID", "true"))), {}, True),
    ("Null false on a missing key", doc(allow(**cond("Null", "aws:PrincipalOrgID", "false"))), {}, False),
    ("Null false on a present key", doc(allow(**cond("Null", "aws:SourceArn", "false"))), {}, True),
    (
        "Bool secure transport string",
        doc(allow(**cond("Bool", "aws:SecureTransport", "true"))),
        {"context": {"aws:SecureTransport": True}},
        True,
    ),
    (
        "Bool secure transport JSON bool",
        doc(allow(**cond("Bool", "aws:SecureTransport", True))),
        {"context": {"aws:SecureTransport": "true"}},
        True,
    ),
    (
        "Bool mismatch",
        doc(allow(**cond("Bool", "aws:SecureTransport", "false"))),
        {"context": {"aws:SecureTransport": True}},
        False,
    ),
    (
        "NumericLessThan",
        doc(allow(**cond("NumericLessThan", "s3:max-keys", "10"))),
        {"context": {"s3:max-keys": 5}},
        True,
    ),
    (
        "NumericLessThan not a number",
        doc(allow(**cond("NumericLessThan", "s3:max-keys", "ten"))),
        {"context": {"s3:max-keys": 5}},
        False,
    ),
    (
        "two operators both hold",
        doc(
            allow(
                Condition={
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:*:alarm:*"},
                }
            )
        ),
        {},
        True,
    ),
    (
        "two operators one fails",
        doc(
            allow(
                Condition={
                    "StringEquals": {"aws:SourceAccount": OTHER},
                    "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:*:alarm:*"},
                }
            )
        ),
        {},
        False,
    ),
    (
        "two keys of one operator, one missing",
        doc(allow(Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT, "aws:SourceOwner": ACCOUNT}})),
        {},
        False,
    ),
    ("explicit deny wins", doc(allow(), deny()), {}, False),
    ("deny on another action does not apply", doc(allow(), deny(Action="sns:DeleteTopic")), {}, True),
    (
        "deny with a condition that holds",
        doc(allow(), deny(**cond("StringNotEquals", "aws:SourceAccount", OTHER))),
        {},
        False,
    ),
    (
        "deny with a condition that does not hold",
        doc(allow(), deny(**cond("StringNotEquals", "aws:SourceAccount", ACCOUNT))),
        {},
        True,
    ),
    (
        "TLS-only deny: the service uses TLS",
        doc(allow(), deny(Principal="*", Action="sns:*", **cond("Bool", "aws:SecureTransport", "false"))),
        {"context": {"aws:SecureTransport": True}},
        True,
    ),
    (
        "policy variable is undecidable: no allow",
        doc(allow(**cond("StringEquals", "aws:SourceAccount", "${aws:PrincipalAccount}"))),
        {},
        False,
    ),
    (
        "unknown operator in a deny: denied",
        doc(allow(), deny(**cond("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z"))),
        {},
        False,
    ),
    ("unknown set prefix", doc(allow(**cond("ForSomeValues:StringEquals", "aws:SourceAccount", ACCOUNT))), {}, False),
    (
        "ForAnyValue matches one of several",
        doc(allow(**cond("ForAnyValue:StringEquals", "aws:TagKeys", ["a", "b"]))),
        {"context": {"aws:TagKeys": ["b", "c"]}},
        True,
    ),
    (
        "ForAllValues with an extra value",
        doc(allow(**cond("ForAllValues:StringEquals", "aws:TagKeys", ["a", "b"]))),
        {"context": {"aws:TagKeys": ["b", "c"]}},
        False,
    ),
    ("ForAllValues on a missing key", doc(allow(**cond("ForAllValues:StringEquals", "aws:TagKeys", ["a"]))), {}, True),
    ("statement as a single object", {"Version": "2012-10-17", "Statement": allow()}, {}, True),
]


@pytest.mark.parametrize("policy, changes, allowed", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decision(policy, changes, allowed):
    request = dict(PUBLISH)
    if "context" in changes:
        request["context"] = dict(PUBLISH["context"], **changes["context"])
    # Cases that set Principal/Action/Resource to None drop that element (to exercise Not* elements).
    if policy:
        for statement in policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]:
            for element in [k for k, v in statement.items() if v is None]:
                del statement[element]
    assert evaluate(policy, request).allowed is allowed


def test_decision_names_the_deciding_statements():
    decision = evaluate(doc(allow(Sid="Publish"), deny(Sid="NoPublish")), PUBLISH)
    assert decision.decision == "explicit-deny"
    assert decision.describe() == "denied by NoPublish"
    allowed = evaluate(doc({**allow(), "Sid": None}), PUBLISH)
    assert allowed.describe() == "allowed by statement 1"
    assert evaluate(doc(), PUBLISH).describe() == "no statement allows it"


def test_undecidable_conditions_are_reported():
    decision = evaluate(doc(allow(**cond("DateGreaterThan", "aws:CurrentTime", "2020-01-01T00:00:00Z"))), PUBLISH)
    assert not decision.allowed
    assert decision.describe() == "no statement allows it (could not evaluate: S: operator DateGreaterThan)"


# The statements TrailWatch itself writes, as _policies builds them, admit exactly the requests AWS makes.
TRAILWATCH_CASES = [
    (
        "topic policy admits this account's alarms",
        _policies.topic_policy("aws", REGION, ACCOUNT, "trailwatch-alerts"),
        PUBLISH,
        True,
    ),
    (
        "topic policy refuses another account's alarm",
        _policies.topic_policy("aws", REGION, ACCOUNT, "trailwatch-alerts"),
        dict(PUBLISH, context={"aws:SourceAccount": OTHER, "aws:SourceArn": ALARM.replace(ACCOUNT, OTHER)}),
        False,
    ),
    (
        "key policy lets CloudTrail encrypt for its trail",
        _policies.kms_key_policy("aws", REGION, ACCOUNT, "trailwatch", "aws-cloudtrail-logs-trailwatch"),
        {
            "principal": {"Service": "cloudtrail.amazonaws.com"},
            "action": "kms:GenerateDataKey",
            "resource": KEY,
            "context": {
                "kms:EncryptionContext:aws:cloudtrail:arn": TRAIL,
                "aws:SourceArn": TRAIL,
                "aws:SourceAccount": ACCOUNT,
            },
        },
        True,
    ),
    (
        "key policy refuses CloudTrail for another trail",
        _policies.kms_key_policy("aws", REGION, ACCOUNT, "trailwatch", "aws-cloudtrail-logs-trailwatch"),
        {
            "principal": {"Service": "cloudtrail.amazonaws.com"},
            "action": "kms:GenerateDataKey",
            "resource": KEY,
            "context": {
                "kms:EncryptionContext:aws:cloudtrail:arn": TRAIL + "2",
                "aws:SourceArn": TRAIL + "2",
                "aws:SourceAccount": ACCOUNT,
            },
        },
        False,
    ),
    (
        "key policy lets the regional logs principal encrypt the log group",
        _policies.kms_key_policy("aws", REGION, ACCOUNT, "trailwatch", "aws-cloudtrail-logs-trailwatch"),
        {
            "principal": {"Service": f"logs.{REGION}.amazonaws.com"},
            "action": "kms:GenerateDataKey",
            "resource": KEY,
            "context": {"kms:EncryptionContext:aws:logs:arn": LOG_GROUP},
        },
        True,
    ),
    (
        "key policy refuses the logs principal of another region",
        _policies.kms_key_policy("aws", REGION, ACCOUNT, "trailwatch", "aws-cloudtrail-logs-trailwatch"),
        {
            "principal": {"Service": "logs.us-east-1.amazonaws.com"},
            "action": "kms:GenerateDataKey",
            "resource": KEY,
            "context": {"kms:EncryptionContext:aws:logs:arn": LOG_GROUP},
        },
        False,
    ),
    (
        "key policy lets alarms use the key for an encrypted topic",
        _policies.kms_key_policy("aws", REGION, ACCOUNT, "trailwatch", "aws-cloudtrail-logs-trailwatch"),
        dict(PUBLISH, action="kms:GenerateDataKey", resource=KEY),
        True,
    ),
]


@pytest.mark.parametrize(
    "policy, request_, allowed", [c[1:] for c in TRAILWATCH_CASES], ids=[c[0] for c in TRAILWATCH_CASES]
)
def test_trailwatch_policies(policy, request_, allowed):
    assert evaluate(policy, request_).allowed is allowed


@pytest.mark.parametrize(
    "pattern, value, matched",
    [
        ("*", "", True),
        ("a*c", "abbbc", True),
        ("a?c", "abc", True),
        ("a?c", "abbc", False),
        ("a.c", "abc", False),
        ("[ab]", "a", False),
        ("[ab]", "[ab]", True),
    ],
)
def test_wildcard_match(pattern, value, matched):
    assert wildcard_match(pattern, value) is matched


@pytest.mark.parametrize(
    "pattern, value, matched",
    [
        ("arn:aws:cloudwatch:*:*:alarm:*", ALARM, True),
        ("arn:aws:cloudwatch:*:*:alarm:*", "arn:aws:cloudwatch:eu-west-1:1:dashboard/x", False),
        ("arn:aws:*", ALARM, False),  # fewer than six parts: no match (ArnLike compares part by part)
        ("*", ALARM, True),
        ("arn:aws:cloudwatch:eu-west-?:123456789012:alarm:trailwatch-*", ALARM, True),
    ],
)
def test_arn_match(pattern, value, matched):
    assert arn_match(pattern, value) is matched
