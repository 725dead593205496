"""_policy_merge (pure) and the key policy writer of _resource_policies (botocore Stubber).

Every merge case also checks two properties: each foreign statement of the input is in the output unchanged and
in its order, and merging the result again changes nothing.
"""

import copy
import json

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _policies
from ansible_collections.trailwatch.aws.plugins.module_utils import _resource_policies
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import PolicyMergeError
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import ensure_root_statement
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import grants_account_root
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import is_ours
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import merge_kms_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import merge_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import policy_grants_account_root
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import remove_kms_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import remove_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import root_statement
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import statements_of

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "corp-audit-logs"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/trailwatch"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
KEY_ID = "0b5f3c9e-1111-2222-3333-444455556666"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"

AUDITORS = {
    "Sid": "ReadOnlyForAuditors",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/auditor"},
    "Action": ["s3:ListBucket", "s3:GetObject"],
    "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
}
NO_SID = {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": BUCKET_ARN}
REPLICATION = {
    "Sid": "Replication",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/replication"},
    "Action": ["s3:ReplicateObject", "s3:ReplicateDelete"],
    "Resource": f"{BUCKET_ARN}/*",
    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
}
# Looks like ours, but the prefix is not at the start: foreign.
LOOKALIKE = {
    "Sid": "LegacyTrailWatchRead",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": f"{BUCKET_ARN}/public/*",
}

ACL = {
    "Sid": "TrailWatchCloudTrailAclCheck",
    "Effect": "Allow",
    "Principal": {"Service": "cloudtrail.amazonaws.com"},
    "Action": "s3:GetBucketAcl",
    "Resource": BUCKET_ARN,
    "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_ARN}},
}
WRITE = {
    "Sid": "TrailWatchCloudTrailWrite",
    "Effect": "Allow",
    "Principal": {"Service": "cloudtrail.amazonaws.com"},
    "Action": "s3:PutObject",
    "Resource": f"{BUCKET_ARN}/AWSLogs/{ACCOUNT}/*",
    "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": TRAIL_ARN}},
}
TLS = {
    "Sid": "TrailWatchDenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
STALE = {
    "Sid": "TrailWatchOldWrite",
    "Effect": "Allow",
    "Principal": {"Service": "cloudtrail.amazonaws.com"},
    "Action": "s3:PutObject",
    "Resource": f"{BUCKET_ARN}/*",
}


def changed(statement, **changes):
    result = copy.deepcopy(statement)
    result.update(changes)
    return result


def doc(*statements, **top):
    return {"Version": "2012-10-17", **top, "Statement": list(statements)}


# The same statements as AWS or a person might spell them: one-element lists, other list and key orders.
ACL_RESPELLED = {
    "Condition": {"StringEquals": {"aws:SourceArn": [TRAIL_ARN]}},
    "Resource": [BUCKET_ARN],
    "Action": ["s3:GetBucketAcl"],
    "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
    "Effect": "Allow",
    "Sid": "TrailWatchCloudTrailAclCheck",
}
WRITE_RESPELLED = changed(
    WRITE, Condition={"StringEquals": {"aws:SourceArn": TRAIL_ARN, "s3:x-amz-acl": "bucket-owner-full-control"}}
)
TLS_RESPELLED = changed(
    TLS,
    Principal={"AWS": "*"},
    Resource=[f"{BUCKET_ARN}/*", BUCKET_ARN],
    Action=["s3:*"],
    Condition={"Bool": {"aws:SecureTransport": False}},
)

# id, current policy, ours, expected statements, added, updated, removed
MERGE_CASES = [
    (
        "no policy",
        None,
        [ACL, WRITE],
        [ACL, WRITE],
        ["TrailWatchCloudTrailAclCheck", "TrailWatchCloudTrailWrite"],
        [],
        [],
    ),
    ("empty dict", {}, [ACL], [ACL], ["TrailWatchCloudTrailAclCheck"], [], []),
    ("empty statement list", doc(), [ACL], [ACL], ["TrailWatchCloudTrailAclCheck"], [], []),
    (
        "statement as a single dict",
        {"Version": "2012-10-17", "Statement": AUDITORS},
        [ACL],
        [AUDITORS, ACL],
        ["TrailWatchCloudTrailAclCheck"],
        [],
        [],
    ),
    (
        "same sid changed, updated in place",
        doc(AUDITORS, changed(ACL, Resource=f"{BUCKET_ARN}/*"), NO_SID),
        [ACL],
        [AUDITORS, ACL, NO_SID],
        [],
        ["TrailWatchCloudTrailAclCheck"],
        [],
    ),
    (
        "foreign statement equal to ours under another sid: both kept",
        doc(changed(ACL, Sid="AllowCloudTrailAcl")),
        [ACL],
        [changed(ACL, Sid="AllowCloudTrailAcl"), ACL],
        ["TrailWatchCloudTrailAclCheck"],
        [],
        [],
    ),
    (
        "list versus string forms: no change, spelling kept",
        doc(AUDITORS, ACL_RESPELLED, TLS_RESPELLED),
        [ACL, TLS],
        [AUDITORS, ACL_RESPELLED, TLS_RESPELLED],
        [],
        [],
        [],
    ),
    ("condition key order is irrelevant", doc(WRITE_RESPELLED), [WRITE], [WRITE_RESPELLED], [], [], []),
    (
        "condition value differs",
        doc(
            changed(
                WRITE, Condition={"StringEquals": {"s3:x-amz-acl": "bucket-owner-read", "aws:SourceArn": TRAIL_ARN}}
            )
        ),
        [WRITE],
        [WRITE],
        [],
        ["TrailWatchCloudTrailWrite"],
        [],
    ),
    (
        "condition operator differs",
        doc(changed(ACL, Condition={"StringLike": {"aws:SourceArn": TRAIL_ARN}})),
        [ACL],
        [ACL],
        [],
        ["TrailWatchCloudTrailAclCheck"],
        [],
    ),
    ("our stale sid removed", doc(AUDITORS, STALE, ACL), [ACL], [AUDITORS, ACL], [], [], ["TrailWatchOldWrite"]),
    (
        "foreign statements with and without sid keep order and content",
        doc(AUDITORS, NO_SID, REPLICATION, changed(ACL, Effect="Deny"), LOOKALIKE, STALE),
        [WRITE, ACL],
        [AUDITORS, NO_SID, REPLICATION, ACL, LOOKALIKE, WRITE],
        ["TrailWatchCloudTrailWrite"],
        ["TrailWatchCloudTrailAclCheck"],
        ["TrailWatchOldWrite"],
    ),
    (
        "a sid of ours twice: one kept",
        doc(ACL, AUDITORS, ACL),
        [ACL],
        [ACL, AUDITORS],
        [],
        ["TrailWatchCloudTrailAclCheck"],
        [],
    ),
    (
        "nothing of ours wanted: all of ours removed",
        doc(ACL, AUDITORS, WRITE),
        [],
        [AUDITORS],
        [],
        [],
        ["TrailWatchCloudTrailAclCheck", "TrailWatchCloudTrailWrite"],
    ),
    ("already merged", doc(AUDITORS, ACL, WRITE), [ACL, WRITE], [AUDITORS, ACL, WRITE], [], [], []),
]


def foreign(policy, prefix="TrailWatch"):
    return [s for s in statements_of(policy) if not is_ours(s, prefix)]


@pytest.mark.parametrize("case", MERGE_CASES, ids=[c[0] for c in MERGE_CASES])
def test_merge_statements(case):
    _id, current, ours, expected, added, updated, removed = case
    snapshot = copy.deepcopy(current)
    policy, got_added, got_updated, got_removed = merge_statements(current, ours)
    assert policy["Statement"] == expected
    assert (got_added, got_updated, got_removed) == (added, updated, removed)
    assert policy["Version"] == "2012-10-17"
    assert current == snapshot, "the input policy must not be modified"


@pytest.mark.parametrize("case", MERGE_CASES, ids=[c[0] for c in MERGE_CASES])
def test_merge_never_loses_a_foreign_statement(case):
    _id, current, ours = case[:3]
    policy = merge_statements(current, ours)[0]
    # The same statements, unchanged, in the same order (other statements may sit in between).
    assert foreign(policy) == foreign(current)
    for statement in foreign(current):
        assert json.dumps(statement) in [json.dumps(s) for s in policy["Statement"]]


@pytest.mark.parametrize("case", MERGE_CASES, ids=[c[0] for c in MERGE_CASES])
def test_merge_is_idempotent(case):
    _id, current, ours = case[:3]
    once = merge_statements(current, ours)[0]
    twice, added, updated, removed = merge_statements(once, ours)
    assert (added, updated, removed) == ([], [], [])
    assert twice == once


def test_merge_keeps_version_and_id():
    policy = merge_statements({"Version": "2008-10-17", "Id": "corp-bucket-policy", "Statement": [AUDITORS]}, [ACL])[0]
    assert policy == {"Version": "2008-10-17", "Id": "corp-bucket-policy", "Statement": [AUDITORS, ACL]}


def test_merge_defaults_the_version():
    assert merge_statements({"Statement": [AUDITORS]}, [])[0] == {"Version": "2012-10-17", "Statement": [AUDITORS]}


def test_merge_with_another_prefix_leaves_other_trailwatch_statements_alone():
    alerts = changed(ACL, Sid="TrailWatchAlertsPublish")
    policy, added, updated, removed = merge_statements(doc(ACL, WRITE), [alerts], prefix="TrailWatchAlerts")
    assert policy["Statement"] == [ACL, WRITE, alerts]
    assert (added, updated, removed) == (["TrailWatchAlertsPublish"], [], [])


def test_merged_statements_are_copies():
    ours = [copy.deepcopy(ACL)]
    policy = merge_statements(None, ours)[0]
    policy["Statement"][0]["Action"] = "s3:*"
    assert ours[0]["Action"] == "s3:GetBucketAcl"


@pytest.mark.parametrize(
    "ours, message",
    [
        ([changed(ACL, Sid="CloudTrailAclCheck")], r"statement 1 has Sid 'CloudTrailAclCheck', which does not start"),
        ([ACL, {k: v for k, v in WRITE.items() if k != "Sid"}], r"statement 2 has no Sid"),
        ([ACL, ACL], r"Sid 'TrailWatchCloudTrailAclCheck' is given twice"),
        (["not a statement"], r"statement 1 is not a dictionary"),
        ([changed(ACL, Sid="trailwatchLowerCase")], r"'trailwatchLowerCase', which does not start with 'TrailWatch'"),
    ],
)
def test_merge_refuses_statements_that_are_not_ours(ours, message):
    with pytest.raises(PolicyMergeError, match=message):
        merge_statements(doc(AUDITORS), ours)


def test_empty_prefix_is_refused():
    with pytest.raises(PolicyMergeError, match="prefix"):
        merge_statements(doc(AUDITORS), [ACL], prefix="")


# --- remove_statements ------------------------------------------------------------------------------------

REMOVE_CASES = [
    ("no policy", None, [], []),
    ("empty", {}, [], []),
    ("only foreign", doc(AUDITORS, NO_SID), [AUDITORS, NO_SID], []),
    (
        "mixed",
        doc(ACL, AUDITORS, WRITE, NO_SID, LOOKALIKE),
        [AUDITORS, NO_SID, LOOKALIKE],
        ["TrailWatchCloudTrailAclCheck", "TrailWatchCloudTrailWrite"],
    ),
    (
        "only ours",
        doc(ACL, WRITE, TLS),
        [],
        ["TrailWatchCloudTrailAclCheck", "TrailWatchCloudTrailWrite", "TrailWatchDenyInsecureTransport"],
    ),
    ("single dict of ours", {"Statement": ACL}, [], ["TrailWatchCloudTrailAclCheck"]),
]


@pytest.mark.parametrize("case", REMOVE_CASES, ids=[c[0] for c in REMOVE_CASES])
def test_remove_statements(case):
    _id, current, expected, removed = case
    policy, got_removed = remove_statements(current)
    assert policy["Statement"] == expected
    assert got_removed == removed
    assert foreign(policy) == foreign(current)
    assert remove_statements(policy) == (policy, [])


def test_remove_keeps_version_and_id():
    current = {"Version": "2008-10-17", "Id": "x", "Statement": [ACL, AUDITORS]}
    assert remove_statements(current)[0] == {"Version": "2008-10-17", "Id": "x", "Statement": [AUDITORS]}


# --- KMS: the account root guard ----------------------------------------------------------------------------

KMS_DEFAULT_ROOT = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": ROOT},
    "Action": "kms:*",
    "Resource": "*",
}
KEY_ADMINS = {
    "Sid": "Allow access for Key Administrators",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/key-admin"},
    "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:PutKeyPolicy"],
    "Resource": "*",
}
OUR_ROOT = root_statement(ACCOUNT)
KEY_POLICY = _policies.kms_key_policy("aws", REGION, ACCOUNT, "trailwatch", "aws-cloudtrail-logs-trailwatch")
OUR_KMS = [s for s in KEY_POLICY["Statement"] if s["Sid"] != "TrailWatchAccountRoot"]
ALARMS = next(s for s in OUR_KMS if s["Sid"] == "TrailWatchCloudWatchAlarms")


@pytest.mark.parametrize(
    "statement, expected",
    [
        (KMS_DEFAULT_ROOT, True),
        (OUR_ROOT, True),
        (changed(KMS_DEFAULT_ROOT, Principal={"AWS": ACCOUNT}), True),
        (changed(KMS_DEFAULT_ROOT, Principal={"AWS": [f"arn:aws:iam::{ACCOUNT}:role/x", ROOT]}), True),
        (changed(KMS_DEFAULT_ROOT, Action=["kms:Decrypt", "kms:*"]), True),
        (changed(KMS_DEFAULT_ROOT, Action="*"), True),
        (changed(KMS_DEFAULT_ROOT, Resource=["*"]), True),
        (changed(KMS_DEFAULT_ROOT, Effect="Deny"), False),
        (changed(KMS_DEFAULT_ROOT, Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}), False),
        (changed(KMS_DEFAULT_ROOT, Principal="*"), False),
        (changed(KMS_DEFAULT_ROOT, Principal={"AWS": "arn:aws:iam::111111111111:root"}), False),
        (changed(KMS_DEFAULT_ROOT, Action="kms:Decrypt"), False),
        ({k: v for k, v in changed(KMS_DEFAULT_ROOT, NotAction="kms:Decrypt").items() if k != "Action"}, False),
        (KEY_ADMINS, False),
        ("not a statement", False),
    ],
)
def test_grants_account_root(statement, expected):
    assert grants_account_root(statement, ACCOUNT, "aws") is expected


def test_root_statement_in_another_partition():
    assert root_statement(ACCOUNT, "aws-cn")["Principal"] == {"AWS": f"arn:aws-cn:iam::{ACCOUNT}:root"}
    assert grants_account_root(root_statement(ACCOUNT, "aws-cn"), ACCOUNT, "aws-cn")
    assert not grants_account_root(root_statement(ACCOUNT, "aws-cn"), ACCOUNT, "aws")


# id, current, ours, expected statements, added, updated, removed, guarded
KMS_MERGE_CASES = [
    (
        "foreign root grant: ours only",
        doc(KMS_DEFAULT_ROOT, KEY_ADMINS),
        [ALARMS],
        [KMS_DEFAULT_ROOT, KEY_ADMINS, ALARMS],
        ["TrailWatchCloudWatchAlarms"],
        [],
        [],
        False,
    ),
    (
        "no root grant: ours plus our root",
        doc(KEY_ADMINS),
        [ALARMS],
        [KEY_ADMINS, ALARMS, OUR_ROOT],
        ["TrailWatchCloudWatchAlarms", "TrailWatchAccountRoot"],
        [],
        [],
        True,
    ),
    (
        "no policy: our root too",
        None,
        [ALARMS],
        [ALARMS, OUR_ROOT],
        ["TrailWatchCloudWatchAlarms", "TrailWatchAccountRoot"],
        [],
        [],
        True,
    ),
    (
        "ours carry the root statement",
        doc(KEY_ADMINS),
        KEY_POLICY["Statement"],
        [KEY_ADMINS] + KEY_POLICY["Statement"],
        [s["Sid"] for s in KEY_POLICY["Statement"]],
        [],
        [],
        False,
    ),
    (
        "our root already there and still needed: kept",
        doc(KEY_ADMINS, OUR_ROOT, ALARMS),
        [ALARMS],
        [KEY_ADMINS, OUR_ROOT, ALARMS],
        [],
        [],
        [],
        True,
    ),
    (
        "our root no longer needed: removed",
        doc(KMS_DEFAULT_ROOT, OUR_ROOT, ALARMS),
        [ALARMS],
        [KMS_DEFAULT_ROOT, ALARMS],
        [],
        [],
        ["TrailWatchAccountRoot"],
        False,
    ),
    (
        "a conditioned root grant does not count",
        doc(changed(KMS_DEFAULT_ROOT, Condition={"StringEquals": {"aws:PrincipalTag/team": "x"}})),
        [ALARMS],
        [changed(KMS_DEFAULT_ROOT, Condition={"StringEquals": {"aws:PrincipalTag/team": "x"}}), ALARMS, OUR_ROOT],
        ["TrailWatchCloudWatchAlarms", "TrailWatchAccountRoot"],
        [],
        [],
        True,
    ),
    (
        "our root altered and needed: restored in place",
        doc(KEY_ADMINS, changed(OUR_ROOT, Action="kms:Decrypt")),
        [ALARMS],
        [KEY_ADMINS, OUR_ROOT, ALARMS],
        ["TrailWatchCloudWatchAlarms"],
        ["TrailWatchAccountRoot"],
        [],
        True,
    ),
]


@pytest.mark.parametrize("case", KMS_MERGE_CASES, ids=[c[0] for c in KMS_MERGE_CASES])
def test_merge_kms_statements(case):
    _id, current, ours, expected, added, updated, removed, guarded = case
    policy, got_added, got_updated, got_removed, got_guarded = merge_kms_statements(current, ours, ACCOUNT, "aws")
    assert policy["Statement"] == expected
    assert (got_added, got_updated, got_removed, got_guarded) == (added, updated, removed, guarded)
    assert policy_grants_account_root(policy, ACCOUNT, "aws")
    assert foreign(policy) == foreign(current)
    again = merge_kms_statements(policy, ours, ACCOUNT, "aws")
    assert again[:4] == (policy, [], [], [])


# id, current, expected statements, added, removed, guarded
KMS_REMOVE_CASES = [
    ("key made by trail_key: our root stays", KEY_POLICY, [OUR_ROOT], [], [s["Sid"] for s in OUR_KMS], True),
    (
        "foreign root grant: all of ours go",
        doc(KMS_DEFAULT_ROOT, OUR_ROOT, ALARMS, KEY_ADMINS),
        [KMS_DEFAULT_ROOT, KEY_ADMINS],
        [],
        ["TrailWatchAccountRoot", "TrailWatchCloudWatchAlarms"],
        False,
    ),
    (
        "no root grant at all (moto allows it): ours go, our root comes",
        doc(KEY_ADMINS, ALARMS),
        [KEY_ADMINS, OUR_ROOT],
        ["TrailWatchAccountRoot"],
        ["TrailWatchCloudWatchAlarms"],
        True,
    ),
    ("nothing of ours: no change", doc(KMS_DEFAULT_ROOT, KEY_ADMINS), [KMS_DEFAULT_ROOT, KEY_ADMINS], [], [], False),
]


@pytest.mark.parametrize("case", KMS_REMOVE_CASES, ids=[c[0] for c in KMS_REMOVE_CASES])
def test_remove_kms_statements(case):
    _id, current, expected, added, removed, guarded = case
    policy, got_added, _updated, got_removed, got_guarded = remove_kms_statements(current, ACCOUNT, "aws")
    assert policy["Statement"] == expected
    assert (got_added, got_removed, got_guarded) == (added, removed, guarded)
    assert policy_grants_account_root(policy, ACCOUNT, "aws")
    assert remove_kms_statements(policy, ACCOUNT, "aws")[:4] == (policy, [], [], [])


def test_kms_root_sid_follows_the_prefix():
    ours = [changed(ALARMS, Sid="TrailWatchAlertsAlarms")]
    policy, added, _u, _r, guarded = merge_kms_statements(doc(KEY_ADMINS), ours, ACCOUNT, "aws", "TrailWatchAlerts")
    assert added == ["TrailWatchAlertsAlarms", "TrailWatchAlertsAccountRoot"]
    assert guarded


def test_our_root_sid_that_does_not_grant_root_is_refused_when_it_is_needed():
    ours = [changed(OUR_ROOT, Action="kms:Decrypt")]
    with pytest.raises(PolicyMergeError, match="TrailWatchAccountRoot"):
        merge_kms_statements(doc(KEY_ADMINS), ours, ACCOUNT, "aws")


def test_ensure_root_statement():
    assert ensure_root_statement(doc(KMS_DEFAULT_ROOT), ACCOUNT, "aws") == (doc(KMS_DEFAULT_ROOT), None)
    assert ensure_root_statement(doc(KEY_ADMINS), ACCOUNT, "aws") == (
        doc(KEY_ADMINS, OUR_ROOT),
        "TrailWatchAccountRoot",
    )
    assert ensure_root_statement(None, ACCOUNT, "aws") == (doc(OUR_ROOT), "TrailWatchAccountRoot")
    broken = doc(changed(OUR_ROOT, Effect="Deny"), KEY_ADMINS)
    assert ensure_root_statement(broken, ACCOUNT, "aws") == (doc(OUR_ROOT, KEY_ADMINS), "TrailWatchAccountRoot")


# --- the key policy writer never sends a policy without the root grant (Stubber) ----------------------------

KEY_CURRENT_BASE = {
    "resource_id": KEY_ARN,
    "key_id": KEY_ID,
    "account": ACCOUNT,
    "partition": "aws",
    "key_manager": "CUSTOMER",
    "key_state": "Enabled",
}


@pytest.fixture
def kms(stubbed):
    return stubbed("kms")


def sent_policies(client):
    """Every Policy the client sends with PutKeyPolicy, parsed."""
    sent = []

    def capture(params, **_kwargs):
        sent.append(json.loads(params["Policy"]))

    client.meta.events.register("before-parameter-build.kms.PutKeyPolicy", capture)
    return sent


def test_write_key_policy_refuses_a_policy_without_the_root_grant(kms):
    client, _stub = kms  # nothing queued: any call would fail the test
    with pytest.raises(_resource_policies.ResourcePolicyError, match=f"does not allow {ROOT} kms:"):
        _resource_policies.write_key_policy(client, KEY_ID, doc(KEY_ADMINS, ALARMS), ACCOUNT, "aws")


def test_write_key_policy_sends_a_policy_with_the_root_grant(kms):
    client, stub = kms
    policy = doc(KMS_DEFAULT_ROOT, ALARMS)
    stub.add_response("put_key_policy", {}, {"KeyId": KEY_ID, "PolicyName": "default", "Policy": json.dumps(policy)})
    _resource_policies.write_key_policy(client, KEY_ID, policy, ACCOUNT, "aws")


@pytest.mark.parametrize(
    "current, ours",
    [
        (doc(KEY_ADMINS), [ALARMS]),
        (doc(KEY_ADMINS, OUR_ROOT, ALARMS), []),
        (KEY_POLICY, []),
        (doc(KEY_ADMINS, ALARMS), []),
        (doc(KMS_DEFAULT_ROOT, KEY_ADMINS), [ALARMS]),
        (doc(KMS_DEFAULT_ROOT, OUR_ROOT, ALARMS), []),
        (doc(changed(KMS_DEFAULT_ROOT, Condition={"Bool": {"aws:ViaAWSService": "true"}})), OUR_KMS),
    ],
    ids=[
        "no root",
        "absent with our root only",
        "absent on a trail_key policy",
        "absent without any root",
        "foreign root",
        "absent with foreign root",
        "conditioned root only",
    ],
)
def test_ensure_statements_on_a_key_never_sends_a_policy_without_root(kms, current, ours):
    client, stub = kms
    sent = sent_policies(client)
    stub.add_response("put_key_policy", {})
    result = _resource_policies.ensure_statements(
        client, "kms_key", {**KEY_CURRENT_BASE, "policy": current}, ours, "TrailWatch", check_mode=False
    )
    assert result["changed"]
    assert len(sent) == 1
    assert sent[0] == result["policy"]
    assert policy_grants_account_root(sent[0], ACCOUNT, "aws")
    assert foreign(sent[0]) == foreign(current)


def test_ensure_statements_on_a_key_in_check_mode_writes_nothing(kms):
    client, _stub = kms
    result = _resource_policies.ensure_statements(
        client, "kms_key", {**KEY_CURRENT_BASE, "policy": doc(KEY_ADMINS)}, [ALARMS], "TrailWatch", check_mode=True
    )
    assert result["changed"] and result["root_statement_guarded"]
    assert result["statements_added"] == ["TrailWatchCloudWatchAlarms", "TrailWatchAccountRoot"]


def test_ensure_statements_unchanged_key_makes_no_call(kms):
    client, _stub = kms
    current = doc(KMS_DEFAULT_ROOT, ALARMS)
    result = _resource_policies.ensure_statements(
        client, "kms_key", {**KEY_CURRENT_BASE, "policy": current}, [ALARMS], "TrailWatch", check_mode=False
    )
    assert not result["changed"]
    assert result["policy"] is current


# --- what "no statements left" means per service (Stubber) --------------------------------------------------


def test_bucket_left_without_statements_loses_its_policy(stubbed):
    client, stub = stubbed("s3")
    stub.add_response("delete_bucket_policy", {}, {"Bucket": BUCKET})
    result = _resource_policies.ensure_statements(
        client, "s3_bucket", {"resource_id": BUCKET, "policy": doc(ACL, WRITE)}, [], "TrailWatch", check_mode=False
    )
    assert result["changed"] and result["policy"] is None
    assert result["statements_removed"] == ["TrailWatchCloudTrailAclCheck", "TrailWatchCloudTrailWrite"]


def test_bucket_without_policy_and_nothing_to_add_is_left_alone(stubbed):
    client, _stub = stubbed("s3")
    result = _resource_policies.ensure_statements(
        client, "s3_bucket", {"resource_id": BUCKET, "policy": None}, [], "TrailWatch", check_mode=False
    )
    assert not result["changed"] and result["policy"] is None


def test_topic_left_without_statements_gets_the_owner_default(stubbed):
    client, stub = stubbed("sns")
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:security-alerts"
    expected = _resource_policies.default_topic_policy(topic)
    stub.add_response(
        "set_topic_attributes",
        {},
        {"TopicArn": topic, "AttributeName": "Policy", "AttributeValue": json.dumps(expected)},
    )
    current = {
        "resource_id": topic,
        "account": ACCOUNT,
        "partition": "aws",
        "policy": _policies.topic_policy("aws", REGION, ACCOUNT, "security-alerts"),
    }
    result = _resource_policies.ensure_statements(client, "sns_topic", current, [], "TrailWatch", check_mode=False)
    assert result["policy"] == expected
    assert expected["Statement"][0]["Sid"] == "__default_statement_ID"
    assert expected["Statement"][0]["Principal"] == {"AWS": ROOT}
    assert expected["Statement"][0]["Resource"] == topic


@pytest.mark.parametrize(
    "resource, expected",
    [
        (f"arn:aws:sns:{REGION}:{ACCOUNT}:t", ("aws", REGION, ACCOUNT)),
        (f"arn:aws-cn:sns:cn-north-1:{ACCOUNT}:t", ("aws-cn", "cn-north-1", ACCOUNT)),
        ("security-alerts", None),
        (f"arn:aws:sqs:{REGION}:{ACCOUNT}:t", None),
        (f"arn:aws:sns:{REGION}::t", None),
    ],
)
def test_parse_topic_arn(resource, expected):
    assert _resource_policies.parse_topic_arn(resource) == expected


def test_bucket_name_and_key_region():
    assert _resource_policies.bucket_name(BUCKET_ARN) == BUCKET
    assert _resource_policies.bucket_name(BUCKET) == BUCKET
    assert _resource_policies.key_region(KEY_ARN) == REGION
    assert _resource_policies.key_region("alias/corp") is None
    assert _resource_policies.key_region(KEY_ID) is None
