"""Several TrailWatch installs sharing one bucket, key or topic (issue 12, item 4), and the key of an encrypted topic
(item 5): InstallOwnership in _policy_merge, ensure_topic_key in _resource_policies.

Before per-install Sids, two installs wrote the same Sids (TrailWatchCloudTrailWrite...): the second merge replaced
the first install's statements, a re-run of the first flipped them back, and removing one removed the other's.
"""

import json

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils import _policies
from ansible_collections.trailwatch.aws.plugins.module_utils import _resource_policies
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import InstallOwnership
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import PolicyMergeError
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import grants_as_much
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import granted_elsewhere
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import merge_kms_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import merge_statements
from ansible_collections.trailwatch.aws.plugins.module_utils._policy_merge import statements_of

ACCOUNT = "123456789012"
REGION = "eu-west-1"
BUCKET = "corp-audit-logs"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:corp-alerts"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b5f3c9e-1111-2222-3333-444455556666"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"

AUDITORS = {
    "Sid": "AuditorsRead",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/auditor"},
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}
KEY_ROOT = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*"}
KEY_ROOT["Resource"] = "*"


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def sids(policy):
    return [s.get("Sid") for s in statements_of(policy)]


def trail_arn(trail, region=REGION):
    return _policies.trail_arn("aws", region, ACCOUNT, trail)


def group_arn(trail, region=REGION):
    return _policies.log_group_arn("aws", region, ACCOUNT, f"aws-cloudtrail-logs-{trail}")


def bucket_install(trail, region=REGION):
    statements = _policies.byo_bucket_statements("aws", region, ACCOUNT, trail, BUCKET)
    owner = InstallOwnership(trail, _policies.BYO_BUCKET_ROLES, _policies.BYO_BUCKET_ROLES, [trail_arn(trail, region)])
    return statements, owner


def key_install(trail):
    statements = _policies.byo_key_statements("aws", REGION, ACCOUNT, trail, f"aws-cloudtrail-logs-{trail}")
    identities = [trail_arn(trail), group_arn(trail)]
    return statements, InstallOwnership(trail, _policies.BYO_KEY_ROLES, _policies.BYO_KEY_LEGACY_ROLES, identities)


def topic_install(name):
    statements = _policies.byo_topic_statements("aws", REGION, ACCOUNT, TOPIC_ARN, name)
    return statements, InstallOwnership(name, _policies.TOPIC_ROLES, _policies.TOPIC_ROLES)


def merge(policy, install):
    statements, owner = install
    return merge_statements(policy, statements, owner)


def remove(policy, install):
    return merge_statements(policy, [], install[1])


def legacy(statements):
    """What the version before per-install Sids wrote: the same statements, Sid TrailWatch<Role>."""
    return [dict(s, Sid=s["Sid"].split(_policies.INSTALL_SEPARATOR)[0]) for s in statements]


# --- two installs on one resource ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, foreign",
    [(bucket_install, AUDITORS), (topic_install, AUDITORS)],
    ids=["bucket", "topic"],
)
def test_two_installs_keep_each_others_statements(make, foreign):
    alpha, beta = make("alpha"), make("beta")
    policy, added, _updated, removed = merge(doc(foreign), alpha)
    assert removed == [] and added == [s["Sid"] for s in alpha[0]]
    policy, added, _updated, removed = merge(policy, beta)
    assert removed == [] and added == [s["Sid"] for s in beta[0]]
    assert sids(policy) == [foreign["Sid"]] + [s["Sid"] for s in alpha[0] + beta[0]]
    # Re-running either install changes nothing.
    assert merge(policy, alpha)[1:] == ([], [], [])
    assert merge(policy, beta)[1:] == ([], [], [])
    # Removing alpha leaves beta's statements, which then converge unchanged.
    after, added, updated, removed = remove(policy, alpha)
    assert removed == [s["Sid"] for s in alpha[0]] and not (added or updated)
    assert sids(after) == [foreign["Sid"]] + [s["Sid"] for s in beta[0]]
    assert merge(after, beta)[1:] == ([], [], [])


def test_two_installs_share_a_key_and_its_root_guard():
    """No foreign root grant: the first install adds TrailWatchAccountRoot, which every install then keeps."""
    alpha, beta = key_install("alpha"), key_install("beta")
    admins = {"Sid": "KeyAdmins", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/a"}}
    admins.update(Action="kms:Describe*", Resource="*")
    policy, _added, _updated, _removed, guarded = merge_kms_statements(doc(admins), alpha[0], ACCOUNT, "aws", alpha[1])
    assert guarded and "TrailWatchAccountRoot" in sids(policy)
    policy, added, _updated, removed, _guarded = merge_kms_statements(policy, beta[0], ACCOUNT, "aws", beta[1])
    assert removed == [] and added == [s["Sid"] for s in beta[0]]
    assert merge_kms_statements(policy, alpha[0], ACCOUNT, "aws", alpha[1])[1:4] == ([], [], [])
    after, _added, _updated, removed, _guarded = merge_kms_statements(policy, [], ACCOUNT, "aws", alpha[1])
    assert removed == [s["Sid"] for s in alpha[0]]
    assert sids(after) == ["KeyAdmins", "TrailWatchAccountRoot"] + [s["Sid"] for s in beta[0]]


def test_two_trails_named_alike_are_refused_rather_than_taking_turns():
    """Trails called trailwatch in two regions sharing a bucket would write the same Sids for different trails."""
    policy = merge(doc(), bucket_install("trailwatch", "us-east-1"))[0]
    with pytest.raises(PolicyMergeError, match="two TrailWatch installs named alike"):
        merge(policy, bucket_install("trailwatch", "eu-west-1"))


def test_an_install_only_writes_its_own_sids():
    alpha_statements, _owner = bucket_install("alpha")
    with pytest.raises(PolicyMergeError, match="not one of install 'beta'"):
        merge_statements(doc(), alpha_statements, bucket_install("beta")[1])


# --- statements an older version wrote (TrailWatch<Role>, no install) ----------------------------------------


def test_older_bucket_statements_are_taken_over_by_their_trail_only():
    """gamma's and alpha's old statements share the Sids; alpha's run takes over exactly its own."""
    alpha = bucket_install("alpha")
    gamma_old = legacy(bucket_install("gamma")[0])
    policy, added, _updated, removed = merge(doc(AUDITORS, *gamma_old), alpha)
    assert removed == [] and sids(policy) == ["AuditorsRead"] + [s["Sid"] for s in gamma_old + alpha[0]]
    # alpha's own old statements (the last version wrote alpha's) are replaced by the per-install ones.
    policy, added, _updated, removed = merge(doc(AUDITORS, *legacy(alpha[0])), alpha)
    assert removed == ["TrailWatchCloudTrailAclCheck", "TrailWatchCloudTrailWrite"]
    assert sids(policy) == ["AuditorsRead"] + [s["Sid"] for s in alpha[0]]
    assert merge(policy, alpha)[1:] == ([], [], [])


def test_older_key_statements_migrate_without_removing_another_installs():
    """The old key statements of gamma: its trail's and log group's stay; generic ones go to whoever writes them."""
    alpha = key_install("alpha")
    gamma_old = legacy(key_install("gamma")[0]) + [
        {**_policies.topic_key_statements("aws", REGION, ACCOUNT, "gamma")[0], "Sid": "TrailWatchCloudWatchAlarms"}
    ]
    policy, added, _updated, removed, _guarded = merge_kms_statements(
        doc(KEY_ROOT, *gamma_old), alpha[0], ACCOUNT, "aws", alpha[1]
    )
    # Readers decrypt (account-wide) is taken over by alpha, which writes its own; CloudWatchAlarms left the
    # trail's statements (the topic's key gets it from sns_topic), so the trail takes it out.
    assert sorted(removed) == ["TrailWatchAccountReadersDecrypt", "TrailWatchCloudWatchAlarms"]
    assert "TrailWatchCloudTrailEncrypt" in sids(policy) and "TrailWatchCloudWatchLogs" in sids(policy)
    assert merge_kms_statements(policy, alpha[0], ACCOUNT, "aws", alpha[1])[1:4] == ([], [], [])


def test_older_topic_statement_is_taken_over_and_the_last_removal_cleans_up():
    alpha = topic_install("alpha")
    old = legacy(alpha[0])
    policy, _added, _updated, removed = merge(doc(AUDITORS, *old), alpha)
    assert removed == ["TrailWatchCloudWatchAlarmsPublish"]
    # An install removed before it ever ran this version: the generic old statement goes when no other install's
    # statement is left, and stays while one is.
    beta = topic_install("beta")
    assert remove(doc(AUDITORS, *old), alpha)[0] == doc(AUDITORS)
    with_beta = merge(doc(AUDITORS, *old), beta)[0]
    assert "TrailWatchCloudWatchAlarmsPublish" not in sids(with_beta)  # beta took it over
    kept = remove(doc(AUDITORS, *old, *beta[0]), alpha)[0]
    assert sids(kept) == ["AuditorsRead", "TrailWatchCloudWatchAlarmsPublish", beta[0][0]["Sid"]]


# --- does a statement that stays already grant what the alarms need? ------------------------------------------

ALARMS = _policies.topic_key_statements("aws", REGION, ACCOUNT, "alpha")[0]


@pytest.mark.parametrize(
    "statement, expected",
    [
        (dict(ALARMS, Sid="TrailWatchCloudWatchAlarms"), True),
        (dict(ALARMS, Sid="Mine", Action="kms:*"), True),
        ({k: v for k, v in ALARMS.items() if k != "Condition"}, True),
        (dict(ALARMS, Action="kms:Decrypt"), False),
        (dict(ALARMS, Action=["kms:GenerateDataKey", "kms:Decrypt"]), False),
        (dict(ALARMS, Principal={"Service": "events.amazonaws.com"}), False),
        (dict(ALARMS, Effect="Deny"), False),
        (dict(ALARMS, Condition={"StringEquals": {"aws:SourceAccount": "999999999999"}}), False),
        (dict(ALARMS, Resource=KEY_ARN), False),
    ],
    ids=["same", "kms-star", "unconditional", "decrypt-only", "no-star", "other-service", "deny", "other-cond", "arn"],
)
def test_grants_as_much(statement, expected):
    assert grants_as_much(statement, ALARMS) is expected


def test_another_installs_grant_does_not_count():
    """It goes with that install; the TrailWatch key's own TrailWatchCloudWatchAlarms (written whole) does count."""
    beta_alarms = _policies.topic_key_statements("aws", REGION, ACCOUNT, "beta")[0]
    assert not granted_elsewhere(doc(KEY_ROOT, beta_alarms), ALARMS)
    managed = _policies.kms_key_policy("aws", REGION, ACCOUNT, "trailwatch", "aws-cloudtrail-logs-trailwatch")
    assert granted_elsewhere(managed, ALARMS)


# --- ensure_topic_key with the Stubber: the key behind an encrypted topic --------------------------------------


def key_metadata(manager, state="Enabled"):
    return {
        "KeyMetadata": {
            "AWSAccountId": ACCOUNT,
            "KeyId": KEY_ARN.rsplit("/", 1)[1],
            "Arn": KEY_ARN,
            "KeyManager": manager,
            "KeyState": state,
        }
    }


@pytest.fixture
def kms(stubbed):
    return stubbed("kms", REGION)


def topic_key(client, key_id, present=True, check_mode=False, install="alpha"):
    statements = _policies.topic_key_statements("aws", REGION, ACCOUNT, install) if present else []
    owner = InstallOwnership(install, _policies.TOPIC_KEY_ROLES)
    return _resource_policies.ensure_topic_key(client, key_id, statements, owner, check_mode)


@pytest.mark.parametrize("key_id", ["alias/aws/sns", KEY_ARN])
def test_aws_managed_topic_key_is_refused(kms, key_id):
    """moto has no alias/aws/sns: what DescribeKey answers for it on AWS (KeyManager AWS) is pinned here."""
    client, stub = kms
    stub.add_response("describe_key", key_metadata("AWS"), {"KeyId": key_id})
    with pytest.raises(_resource_policies.ResourcePolicyError, match="AWS managed key"):
        topic_key(client, key_id)


def test_aws_managed_topic_key_on_removal_is_left_alone(kms):
    client, stub = kms
    stub.add_response("describe_key", key_metadata("AWS"), {"KeyId": "alias/aws/sns"})
    assert topic_key(client, "alias/aws/sns", present=False)["changed"] is False


def test_customer_key_gets_the_alarms_statement_once(kms):
    client, stub = kms
    stub.add_response("describe_key", key_metadata("CUSTOMER"), {"KeyId": "alias/corp"})
    stub.add_response(
        "get_key_policy",
        {"Policy": json.dumps(doc(KEY_ROOT))},
        {"KeyId": KEY_ARN.rsplit("/", 1)[1], "PolicyName": "default"},
    )
    expected = doc(KEY_ROOT, ALARMS)
    stub.add_response(
        "put_key_policy",
        {},
        {"KeyId": KEY_ARN.rsplit("/", 1)[1], "PolicyName": "default", "Policy": json.dumps(expected)},
    )
    result = topic_key(client, "alias/corp")
    assert result["changed"] and result["key_arn"] == KEY_ARN and result["statements_added"] == [ALARMS["Sid"]]


def test_key_that_already_grants_it_is_not_written(kms):
    client, stub = kms
    managed = _policies.kms_key_policy("aws", REGION, ACCOUNT, "trailwatch", "aws-cloudtrail-logs-trailwatch")
    stub.add_response("describe_key", key_metadata("CUSTOMER"), {"KeyId": "alias/trailwatch"})
    stub.add_response(
        "get_key_policy", {"Policy": json.dumps(managed)}, {"KeyId": KEY_ARN.rsplit("/", 1)[1], "PolicyName": "default"}
    )
    assert topic_key(client, "alias/trailwatch")["changed"] is False


def test_unwritable_key_policy_names_the_statement_to_add(kms):
    client, stub = kms
    stub.add_response("describe_key", key_metadata("CUSTOMER"), {"KeyId": "alias/corp"})
    stub.add_client_error("get_key_policy", "AccessDeniedException", "not authorized to perform kms:GetKeyPolicy")
    with pytest.raises(_resource_policies.ResourcePolicyError) as raised:
        topic_key(client, "alias/corp")
    assert "add this statement to the key policy yourself" in str(raised.value)
    assert json.dumps(ALARMS, sort_keys=True) in str(raised.value)


def test_missing_key_is_none(kms):
    client, stub = kms
    stub.add_client_error("describe_key", "NotFoundException", "Alias alias/nope is not found.")
    assert topic_key(client, "alias/nope") is None
