"""Every IAM and resource policy document the collection writes or ships, linted with parliament (issue 12).

moto accepts any policy. parliament (PyPI, pinned in requirements.txt) checks each document offline against its
bundled copy of AWS's Service Authorization Reference: unknown actions and prefixes, malformed ARNs, resources no
action applies to, condition keys an action does not support, operator/type mismatches, invalid Sids.

DOCUMENTS is the one table of what is linted: every builder in plugins/module_utils/_policies.py, with
representative inputs (organization trail, key prefix, every notifier option), the documents the merge adds
(_policy_merge, _resource_policies) and every file in docs/iam/. A new builder is one line there;
test_every_builder_is_in_the_table fails until it is. A finding fails the test unless ALLOWED lists it with its
reason; an ALLOWED entry no document needs any more fails too.
"""

import inspect
import json
import re
import runpy
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
runpy.run_path(str(REPO / "tests" / "unit" / "plugins" / "conftest.py"))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # parliament 1.6.4 imports pkg_resources, which warns that it is deprecated
    import parliament

from ansible_collections.trailwatch.aws.plugins.module_utils import _policies  # noqa: E402
from ansible_collections.trailwatch.aws.plugins.module_utils import _policy_merge  # noqa: E402
from ansible_collections.trailwatch.aws.plugins.module_utils import _resource_policies  # noqa: E402

P, R, A = "aws", "eu-west-1", "123456789012"
TRAIL, GROUP, BUCKET, ORG = (
    "trailwatch",
    "aws-cloudtrail-logs-trailwatch",
    "trailwatch-logs-123456789012-eu-west-1",
    "o-a1b2c3d4e5",
)
TOPIC_ARN = f"arn:{P}:sns:{R}:{A}:trailwatch-alerts"
KEY_ARN = f"arn:{P}:kms:{R}:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET = "/trailwatch/lock-link-secret"
TABLE_ARN = f"arn:{P}:dynamodb:{R}:{A}:table/trailwatch-notifier-state"
QUEUE_ARN = f"arn:{P}:sqs:{R}:{A}:trailwatch-notifier-failed"


def doc(statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


# name -> document. The name starts with the builder's name (test_every_builder_is_in_the_table relies on it).
DOCUMENTS = {
    "kms_key_policy": _policies.kms_key_policy(P, R, A, TRAIL, GROUP),
    "log_bucket_policy": _policies.log_bucket_policy(P, R, A, TRAIL, BUCKET),
    "log_bucket_policy (organization trail, key prefix)": _policies.log_bucket_policy(
        P, R, A, TRAIL, BUCKET, "audit", ORG
    ),
    "cloudtrail_role_trust_policy": _policies.cloudtrail_role_trust_policy(),
    "cloudtrail_role_permissions_policy": _policies.cloudtrail_role_permissions_policy(P, R, A, GROUP),
    "cloudtrail_role_permissions_policy (organization trail)": _policies.cloudtrail_role_permissions_policy(
        P, R, A, GROUP, ORG
    ),
    "topic_policy": _policies.topic_policy(P, R, A, "trailwatch-alerts"),
    "byo_bucket_statements": doc(_policies.byo_bucket_statements(P, R, A, "audit", BUCKET, "audit", ORG)),
    "byo_key_statements": doc(_policies.byo_key_statements(P, R, A, "audit", GROUP)),
    "byo_topic_statements": doc(_policies.byo_topic_statements(P, R, A, TOPIC_ARN, "audit")),
    "topic_key_statements": doc(_policies.topic_key_statements(P, R, A, "audit")),
    "root_statement (key root guard)": doc([_policy_merge.root_statement(A, P)]),
    "default_topic_policy": _resource_policies.default_topic_policy(TOPIC_ARN),
    "lambda_trust_policy": _policies.lambda_trust_policy(A),
    "notifier_permissions_policy": _policies.notifier_permissions_policy(
        P, R, A, "trailwatch-notifier", TOPIC_ARN, TABLE_ARN, QUEUE_ARN
    ),
    "notifier_permissions_policy (every option)": _policies.notifier_permissions_policy(
        P,
        R,
        A,
        "trailwatch-notifier",
        TOPIC_ARN,
        TABLE_ARN,
        QUEUE_ARN,
        topic_key_arn=KEY_ARN,
        tag_new_buckets=True,
        secret_parameter=SECRET,
        secret_key_arn=KEY_ARN,
    ),
    "lock_permissions_policy": _policies.lock_permissions_policy(
        P, R, A, "trailwatch-lock", SECRET, TABLE_ARN, KEY_ARN
    ),
    "failed_events_queue_policy": _policies.failed_events_queue_policy(QUEUE_ARN),
    **{
        f"docs/iam/{path.name}": json.loads(path.read_text()) for path in sorted((REPO / "docs" / "iam").glob("*.json"))
    },
}

KEY_POLICIES = r"^(kms_key_policy|byo_key_statements|topic_key_statements|root_statement)"
LOGS_KEY_STATEMENT = r"^(kms_key_policy|byo_key_statements)"

# (document name pattern, issue, detail pattern, reason). Keep each reason a fact with its AWS source.
ALLOWED = [
    (
        KEY_POLICIES,
        "RESOURCE_STAR",
        r"kms:",
        'In a key policy "Resource": "*" means the key the policy is attached to; no other value is valid '
        '(AWS KMS Developer Guide, "Key policies in AWS KMS").',
    ),
    (
        r"_trust_policy$",
        "MALFORMED",
        r"neither Resource nor NotResource",
        "A role's trust policy has no Resource element: the resource is the role (IAM User Guide, "
        '"IAM JSON policy elements: Principal", role trust policies).',
    ),
    (
        LOGS_KEY_STATEMENT,
        "UNKNOWN_CONDITION_FOR_ACTION",
        r"kms:EncryptionContext:aws:logs:arn for action kms:Describe",
        "The CloudWatch Logs statement is AWS's own (CloudWatch Logs User Guide, \"Encrypt log data in CloudWatch "
        "Logs using AWS KMS\"): kms:Describe* under the log group's encryption-context condition, which binds the "
        "key's use to that one log group.",
    ),
    (
        LOGS_KEY_STATEMENT,
        "MISMATCHED_TYPE",
        r"ArnEquals requires a value of type Arn but given String",
        "kms:EncryptionContext:aws:logs:arn is a string key holding an ARN; AWS's documented statement compares it "
        'with an ARN operator (CloudWatch Logs User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS").',
    ),
    (
        r"^default_topic_policy$",
        "INVALID_SID",
        r"",
        "A topic left without TrailWatch's statements gets SNS's own default policy back, whose statement SNS itself"
        ' names __default_statement_ID (Amazon SNS Developer Guide, "Overview of managing access"); SNS accepts it.',
    ),
    (
        r"^docs/iam/deployer-policy\.json$",
        "RESOURCE_POLICY_PRIVILEGE_ESCALATION",
        r"arn:aws:s3:::\*-logs-\*",
        "The deployer writes the log bucket's policy (s3:PutBucketPolicy) by design, without object access: that "
        "policy is TrailWatch's, linted here as log_bucket_policy.",
    ),
    (
        r"^docs/iam/deployer-policy\.json$",
        "RESOURCE_STAR",
        r"kms:TagResource",
        'KMS accepts tags on CreateKey only from an IAM policy "that isn\'t restricted to particular KMS keys" '
        '(AWS KMS Developer Guide, "Tagging keys": controlling access to tags); every key is created with its tag.',
    ),
]


def findings(name):
    policy = parliament.analyze_policy_string(json.dumps(DOCUMENTS[name]))
    return [(f.issue, str(f.detail)) for f in policy.findings]


def allowed(name, issue, detail):
    return [
        entry for entry in ALLOWED if re.search(entry[0], name) and entry[1] == issue and re.search(entry[2], detail)
    ]


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_document_lints_clean_or_with_a_listed_reason(name):
    unexplained = [(issue, detail) for issue, detail in findings(name) if not allowed(name, issue, detail)]
    assert not unexplained, f"{name}: parliament findings without a reason in ALLOWED: {unexplained}"


def test_every_allowance_is_still_needed():
    used = {
        id(entry) for name in DOCUMENTS for issue, detail in findings(name) for entry in allowed(name, issue, detail)
    }
    stale = [entry[:3] for entry in ALLOWED if id(entry) not in used]
    assert not stale, f"ALLOWED entries no document needs any more: {stale}"


def test_every_builder_is_in_the_table():
    """Each public *_policy / *_statements builder of _policies has a line in DOCUMENTS."""
    builders = {
        name
        for module in (_policies,)
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
        and not name.startswith("_")
        and (name.endswith("_policy") or name.endswith("_statements"))
    }
    missing = sorted(b for b in builders if not any(key.split(" ")[0] == b for key in DOCUMENTS))
    assert not missing, f"add a line to DOCUMENTS for: {missing}"


@pytest.mark.parametrize(
    "statement, issue",
    [
        ({"Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::b/*"}, "UNKNOWN_ACTION"),
        ({"Action": "s3:GetObject", "Resource": "arn:aws:s3:b/*"}, "INVALID_ARN"),
        (
            {
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/*",
                "Condition": {"StringEquals": {"kms:CallerAccount": A}},
            },
            "UNKNOWN_CONDITION_FOR_ACTION",
        ),
        ({"Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Sid": "Not-Alnum"}, "INVALID_SID"),
    ],
    ids=["unknown action", "malformed ARN", "unsupported condition key", "invalid Sid"],
)
def test_the_linter_finds_what_it_is_here_for(statement, issue):
    document = doc([dict({"Effect": "Allow"}, **statement)])
    assert issue in {f.issue for f in parliament.analyze_policy_string(json.dumps(document)).findings}
