"""Least privilege (issue 4, part 2): docs/iam/deployer-policy.json is exactly what TrailWatch needs.

A moto_server of this module's own runs with IAM enforcement on (``/moto-api/reset-auth`` 0). An admin user
(``*:*``) is created before enforcement starts; after that moto answers the default ``testing`` keys with
InvalidClientTokenId, so every later setup step (users, drift, seeding) goes through the admin user.

moto evaluates policies per action only (a resource-scoped Allow is denied, conditions are ignored), so each
user holds its policy *converted for moto* (:func:`moto_policy`): the same actions on ``"Resource": "*"``, plus
the names moto 5.2.5 checks instead of AWS's (``MOTO_NAMES``).

- ``test_policy_files_*``: the shipped policies are well-formed, scoped, and the README maps every action.
- ``test_deployer_lifecycle``: converge (all presets), re-run (no change, no write call), ``--check``, an
  update, a drift repair, a key replaced behind TrailWatch's back, teardown, purge teardown: all as the
  deployer user. The recorder's calls, mapped to the IAM actions AWS authorizes for them
  (``OPERATION_ACTIONS``), are exactly the policy's actions, less ``NOT_OBSERVABLE``: an unused action fails.
- ``test_readonly_*``: a user with the read-only policy checks a deployed stack, a first deploy and a
  teardown, reading exactly its policy's actions, and cannot change anything.
- ``test_removed_action_fails``: one action removed at a time; the run that needs it fails and names it.
  By default a representative set (``REPRESENTATIVE``, every service and every phase; 51 playbook runs in the
  file, about five minutes); with ``TRAILWATCH_LP_ALL=1`` every action moto can show (97 runs, 8 to 10 minutes).

docs/iam/README.md maps every action to the code that calls it and lists what moto cannot show.
"""

import json
import os
import re
import resource
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "helpers"))

import moto_stand  # noqa: E402

pytestmark = pytest.mark.integration

IAM_DOCS = REPO / "docs" / "iam"
DEPLOYER_POLICY = json.loads((IAM_DOCS / "deployer-policy.json").read_text())
READONLY_POLICY = json.loads((IAM_DOCS / "readonly-check-policy.json").read_text())
SITE = "playbooks/site.yml"
TEARDOWN = "playbooks/teardown.yml"
DOCTOR = "playbooks/doctor.yml"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
ALL_PRESETS = ["s3_bucket_created", "cis", "platform"]
EMAIL = "ops@example.com"
TAGS = {"team": "security"}


def policy_actions(policy):
    actions = set()
    for statement in policy["Statement"]:
        listed = statement["Action"]
        actions.update([listed] if isinstance(listed, str) else listed)
    return actions


DEPLOYER = policy_actions(DEPLOYER_POLICY)
READONLY = policy_actions(READONLY_POLICY)
# Reads only the doctor (playbooks/doctor.yml) makes: in the read-only policy, not needed by the deployer.
DOCTOR_ONLY = {
    "cloudtrail:DescribeTrails",  # an existing trail (trailwatch_trail_create: false) is found by its log group
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",  # the delivery role's managed policies, when it has any
    "iam:GetPolicyVersion",
    "cloudwatch:GetMetricStatistics",  # the notifier's invocation errors
    "lambda:GetFunctionEventInvokeConfig",  # the notifier's on-failure destination
    "sqs:GetQueueAttributes",  # messages waiting in the notifier's failed-events queue
}
# Of those, the ones the doctor's runs below cannot show on moto (no managed policy on the role, no notifier).
DOCTOR_NOT_OBSERVED = {"iam:GetPolicy", "iam:GetPolicyVersion", "cloudwatch:GetMetricStatistics"}
DOCTOR_NOT_OBSERVED |= {"lambda:GetFunctionEventInvokeConfig", "sqs:GetQueueAttributes"}

# --------------------------------------------------------------------------------------------------------------
# moto conversion
# --------------------------------------------------------------------------------------------------------------

# moto builds the action name from the SigV4 signing name, which differs from the IAM prefix for two services.
SIGNING_NAMES = {"cloudwatch": "monitoring", "tag": "tagging"}

# What moto 5.2.5 checks for a call that AWS authorizes with the key action. For S3 moto uses a sub-resource
# table that does not know publicAccessBlock, encryption or ownershipControls (GET falls back to s3:ListBucket,
# PUT to s3:CreateBucket), names HeadBucket s3:HeadBucket, and checks DeleteObjects as s3:DeleteObject.
MOTO_NAMES = {
    "s3:ListBucket": ["s3:HeadBucket"],
    "s3:GetBucketPublicAccessBlock": ["s3:ListBucket"],
    "s3:GetEncryptionConfiguration": ["s3:ListBucket"],
    "s3:GetBucketOwnershipControls": ["s3:ListBucket"],
    "s3:PutBucketPublicAccessBlock": ["s3:CreateBucket"],
    "s3:PutEncryptionConfiguration": ["s3:CreateBucket"],
    "s3:PutBucketOwnershipControls": ["s3:CreateBucket"],
    "s3:DeleteObjectVersion": ["s3:DeleteObject"],
}


def moto_actions(actions):
    """The action names moto checks for what ``actions`` allow on AWS (the AWS names are kept too)."""
    names = set(actions)
    for action in actions:
        names.update(MOTO_NAMES.get(action, []))
        service, name = action.split(":", 1)
        if service in SIGNING_NAMES:
            names.add(f"{SIGNING_NAMES[service]}:{name}")
    # sts:GetCallerIdentity needs no permission on AWS, and moto always allows it too: nothing to add.
    return names


def moto_policy(actions):
    """The policy converted for moto: action-level only, so every action on ``"Resource": "*"``."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "MotoActionLevel", "Effect": "Allow", "Action": sorted(actions), "Resource": "*"}],
    }


def own_moto_names(action):
    """The moto names standing for ``action`` alone: itself, its MOTO_NAMES, its signing-name twin."""
    return moto_actions({action})


def removal_actions(action):
    """What a user without ``action`` holds on moto: the converted deployer policy less ``action``'s own names.

    A moto name can stand for several AWS actions (s3:CreateBucket also for PutPublicAccessBlock on moto); it
    goes too, so more than the one action may be missing on moto. The case then asserts that the run stops
    at the call of the removed action and names it, which shows the removal, not a neighbour, failed it.
    """
    return moto_actions(DEPLOYER - {action}) - own_moto_names(action)


# Removing one of these cannot be shown on moto: the call is not checked, not implemented, never fails, or
# moto checks an earlier call under the same name first (the run would name that call instead). See
# docs/iam/README.md, "What moto cannot show". test_policy_files_* keeps this list and the README in step.
NOT_REMOVABLE_ON_MOTO = {
    "iam:PassRole": "moto does not check PassRole on CreateTrail/UpdateTrail; AWS does",
    "kms:Decrypt": "moto does not check the caller's kms:Decrypt on CreateTrail/UpdateTrail (S3 Bucket Key); AWS does",
    "logs:AssociateKmsKey": "moto does not implement AssociateKmsKey (500); only reached when the group's key differs",
    "s3:GetEncryptionConfiguration": "moto checks it as s3:ListBucket, like GetPublicAccessBlock, which comes first",
    "s3:GetBucketOwnershipControls": "moto checks it as s3:ListBucket, like GetPublicAccessBlock, which comes first",
    "s3:DeleteObjectVersion": "moto checks DeleteObjects as s3:DeleteObject only",
}

# --------------------------------------------------------------------------------------------------------------
# Recorded calls -> IAM actions
# --------------------------------------------------------------------------------------------------------------

# Every call the product makes, as moto_stand.classify_request names it, and the IAM actions AWS authorizes it
# with (as TrailWatch makes it: CreateBucket always sends x-amz-object-ownership, CreateKey always a key
# policy, CreateTrail/UpdateTrail always a CloudWatch Logs role, DeleteObjects always version ids).
# The other tag-on-create permissions (logs:TagResource, iam:TagRole, cloudtrail:AddTags, sns:TagResource,
# cloudwatch:TagResource) are not listed: they apply only with trailwatch_tags, and the tag update calls them.
OPERATION_ACTIONS = {
    "sts:GetCallerIdentity": [],  # no permission needed on AWS (always allowed, also on moto)
    # The doctor's own reads (DOCTOR_ONLY)
    "cloudtrail:DescribeTrails": ["cloudtrail:DescribeTrails"],
    "iam:ListRolePolicies": ["iam:ListRolePolicies"],
    "iam:ListAttachedRolePolicies": ["iam:ListAttachedRolePolicies"],
    # KMS
    # CreateKey: the policy lockout check needs PutKeyPolicy; Tags (always: the trailwatch:alias tag) TagResource.
    "kms:CreateKey": ["kms:CreateKey", "kms:PutKeyPolicy", "kms:TagResource"],
    "kms:DescribeKey": ["kms:DescribeKey"],
    "kms:GetKeyPolicy": ["kms:GetKeyPolicy"],
    "kms:GetKeyRotationStatus": ["kms:GetKeyRotationStatus"],
    "kms:ListResourceTags": ["kms:ListResourceTags"],
    "kms:CreateAlias": ["kms:CreateAlias"],
    "kms:UpdateAlias": ["kms:UpdateAlias"],
    "kms:DeleteAlias": ["kms:DeleteAlias"],
    "kms:EnableKeyRotation": ["kms:EnableKeyRotation"],
    "kms:PutKeyPolicy": ["kms:PutKeyPolicy"],
    "kms:TagResource": ["kms:TagResource"],
    "kms:UntagResource": ["kms:UntagResource"],
    "kms:ScheduleKeyDeletion": ["kms:ScheduleKeyDeletion"],
    "tagging:GetResources": ["tag:GetResources"],  # a TrailWatch key without its alias (_kms.find_tagged_keys)
    # S3 (REST: method and sub-resource)
    "s3:PUT": ["s3:CreateBucket", "s3:PutBucketOwnershipControls"],  # CreateBucket with ObjectOwnership
    "s3:HEAD": ["s3:ListBucket"],  # HeadBucket: create_bucket waits until the new bucket answers
    "s3:GET?policy": ["s3:GetBucketPolicy"],
    "s3:GET?publicAccessBlock": ["s3:GetBucketPublicAccessBlock"],
    "s3:GET?versioning": ["s3:GetBucketVersioning"],
    "s3:GET?encryption": ["s3:GetEncryptionConfiguration"],
    "s3:GET?ownershipControls": ["s3:GetBucketOwnershipControls"],
    "s3:GET?tagging": ["s3:GetBucketTagging"],
    "s3:GET?versions": ["s3:ListBucketVersions"],  # ListObjectVersions
    "s3:PUT?publicAccessBlock": ["s3:PutBucketPublicAccessBlock"],
    "s3:PUT?versioning": ["s3:PutBucketVersioning"],
    "s3:PUT?encryption": ["s3:PutEncryptionConfiguration"],
    "s3:PUT?ownershipControls": ["s3:PutBucketOwnershipControls"],
    "s3:PUT?policy": ["s3:PutBucketPolicy"],
    "s3:PUT?tagging": ["s3:PutBucketTagging"],
    "s3:DELETE?tagging": ["s3:PutBucketTagging"],  # DeleteBucketTagging is authorized as PutBucketTagging
    "s3:DELETE?policy": ["s3:DeleteBucketPolicy"],
    "s3:POST?delete": ["s3:DeleteObject", "s3:DeleteObjectVersion"],  # DeleteObjects with VersionId
    "s3:DELETE": ["s3:DeleteBucket"],
    # CloudWatch Logs
    "logs:DescribeLogGroups": ["logs:DescribeLogGroups"],
    "logs:ListTagsForResource": ["logs:ListTagsForResource"],
    "logs:CreateLogGroup": ["logs:CreateLogGroup"],
    "logs:PutRetentionPolicy": ["logs:PutRetentionPolicy"],
    "logs:AssociateKmsKey": ["logs:AssociateKmsKey"],
    "logs:TagResource": ["logs:TagResource"],
    "logs:UntagResource": ["logs:UntagResource"],
    "logs:DeleteLogGroup": ["logs:DeleteLogGroup"],
    "logs:DescribeMetricFilters": ["logs:DescribeMetricFilters"],
    "logs:PutMetricFilter": ["logs:PutMetricFilter"],
    "logs:DeleteMetricFilter": ["logs:DeleteMetricFilter"],
    # Teardown always runs the notifier role, which first looks for a notifier (none in the default stack).
    "logs:DescribeSubscriptionFilters": ["logs:DescribeSubscriptionFilters"],
    "ssm:DescribeParameters": ["ssm:DescribeParameters"],
    "lambda:GetFunction": ["lambda:GetFunction"],
    "dynamodb:DescribeTable": ["dynamodb:DescribeTable"],
    "sqs:GetQueueUrl": ["sqs:GetQueueUrl"],
    # IAM
    "iam:GetRole": ["iam:GetRole"],
    "iam:GetRolePolicy": ["iam:GetRolePolicy"],
    "iam:CreateRole": ["iam:CreateRole"],
    "iam:PutRolePolicy": ["iam:PutRolePolicy"],
    "iam:UpdateAssumeRolePolicy": ["iam:UpdateAssumeRolePolicy"],
    "iam:TagRole": ["iam:TagRole"],
    "iam:UntagRole": ["iam:UntagRole"],
    "iam:DeleteRolePolicy": ["iam:DeleteRolePolicy"],
    "iam:DeleteRole": ["iam:DeleteRole"],
    # CloudTrail
    "cloudtrail:GetTrail": ["cloudtrail:GetTrail"],
    "cloudtrail:GetTrailStatus": ["cloudtrail:GetTrailStatus"],
    "cloudtrail:GetEventSelectors": ["cloudtrail:GetEventSelectors"],
    "cloudtrail:ListTags": ["cloudtrail:ListTags"],
    # With SSE-KMS and a log bucket with an S3 Bucket Key, CloudTrail requires the caller's kms:Decrypt on the key
    # (CloudTrail User Guide, "Configure AWS KMS key policies for CloudTrail"; issue 12, item 6).
    "cloudtrail:CreateTrail": ["cloudtrail:CreateTrail", "iam:PassRole", "iam:GetRole", "kms:Decrypt"],
    "cloudtrail:UpdateTrail": ["cloudtrail:UpdateTrail", "iam:PassRole", "iam:GetRole", "kms:Decrypt"],
    "cloudtrail:PutEventSelectors": ["cloudtrail:PutEventSelectors"],
    "cloudtrail:StartLogging": ["cloudtrail:StartLogging"],
    "cloudtrail:AddTags": ["cloudtrail:AddTags"],
    "cloudtrail:RemoveTags": ["cloudtrail:RemoveTags"],
    "cloudtrail:DeleteTrail": ["cloudtrail:DeleteTrail"],
    # SNS
    "sns:GetTopicAttributes": ["sns:GetTopicAttributes"],
    "sns:ListSubscriptionsByTopic": ["sns:ListSubscriptionsByTopic"],
    "sns:ListTagsForResource": ["sns:ListTagsForResource"],
    "sns:CreateTopic": ["sns:CreateTopic"],
    "sns:SetTopicAttributes": ["sns:SetTopicAttributes"],
    "sns:Subscribe": ["sns:Subscribe"],
    "sns:Unsubscribe": ["sns:Unsubscribe"],
    "sns:TagResource": ["sns:TagResource"],
    "sns:UntagResource": ["sns:UntagResource"],
    "sns:DeleteTopic": ["sns:DeleteTopic"],
    # CloudWatch
    "cloudwatch:DescribeAlarms": ["cloudwatch:DescribeAlarms"],
    "cloudwatch:ListTagsForResource": ["cloudwatch:ListTagsForResource"],
    "cloudwatch:PutMetricAlarm": ["cloudwatch:PutMetricAlarm"],
    "cloudwatch:TagResource": ["cloudwatch:TagResource"],
    "cloudwatch:UntagResource": ["cloudwatch:UntagResource"],
    "cloudwatch:DeleteAlarms": ["cloudwatch:DeleteAlarms"],
}

# In the policy although no recorded call needs it: the call is only made where moto cannot follow.
NOT_OBSERVABLE = {
    "logs:AssociateKmsKey": "only when the log group's key differs from the trail key; moto answers 500",
}

# --------------------------------------------------------------------------------------------------------------
# The stand: moto_server, admin, users, playbook runs
# --------------------------------------------------------------------------------------------------------------

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# moto 5.2.5 checks the SigV4 signature of a GET against its parsed parameters (for Lambda: the request
# headers) instead of the empty body botocore signed, so with enforcement on every Lambda GET
# (GetFunction: teardown looks for a notifier) fails with SignatureDoesNotMatch, whatever the policy. This
# module's own moto_server runs the code below at start-up (moto_stand.start's site_code), which signs the empty
# body instead.
# Test-side only; the product is not touched.
MOTO_SIGNATURE_SHIM = """
from moto.iam import access_control

_create_aws_request = access_control.IAMRequestBase._create_aws_request


def _signed_body_request(self):
    # Only requests that carry no body at all; a form POST's body is read into its parameters instead.
    if self._method in ("GET", "HEAD", "DELETE") and not self._body:
        parsed, self._data = self._data, b""
        try:
            return _create_aws_request(self)
        finally:
            self._data = parsed
    return _create_aws_request(self)


access_control.IAMRequestBase._create_aws_request = _signed_body_request
"""
_DENIED = re.compile(r"not authorized to perform: ([a-z0-9-]+:[A-Za-z0-9]+)")
# S3 REST errors: AccessDenied with an XML body, or a bare 403 for HEAD (no body to carry a code).
_S3_DENIED = re.compile(r"\((?:AccessDenied|403)\) when calling the (\w+) operation: (?:Access Denied|Forbidden)")
# DeleteObjects answers 200 with per-object errors; the product reports them as "<Operation> refused ... AccessDenied".
_S3_REFUSED = re.compile(r"(\w+) refused \d+ object version\(s\), e\.g\. \S+: AccessDenied")


class Run:
    def __init__(self, proc, calls, seconds):
        self.rc = proc.returncode
        self.output = proc.stdout + proc.stderr
        self.calls = calls
        self.seconds = seconds

    @property
    def ok(self):
        return self.rc == 0

    @property
    def changed(self):
        match = re.search(r"changed=(\d+)", self.output)
        return int(match.group(1)) if match else None

    def denied(self):
        """Actions named in AccessDenied messages; S3 names the operation only: ``s3 operation:<Name>``."""
        s3_operations = _S3_DENIED.findall(self.output) + _S3_REFUSED.findall(self.output)
        return set(_DENIED.findall(self.output)) | {f"s3 operation:{op}" for op in s3_operations}

    def tail(self, limit=4000):
        return self.output[-limit:]


def _lambda_operation(record):
    """GetFunction for ``GET /2015-03-31/functions/<name>``; any other Lambda call keeps a name no table maps."""
    path = urlsplit(str(record.get("url", ""))).path
    if record.get("method") == "GET" and re.fullmatch(r"/2015-03-31/functions/[^/]+/?", path):
        return "lambda:GetFunction"
    return f"lambda:{record.get('method')} {path}"


def _process_cpu(pid_file):
    """CPU seconds used so far by the process whose pid is in pid_file (Linux /proc), else 0."""
    try:
        fields = Path(f"/proc/{pid_file.read_text().strip()}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Stand:
    """A moto_server with IAM enforcement, an admin user created before it started, and users made by admin."""

    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.endpoint = moto_stand.start(state_dir, site_code=MOTO_SIGNATURE_SHIM)
        root = {"AccessKeyId": "testing", "SecretAccessKey": "testing"}
        self.admin = self._user(self.client("iam", root), "trailwatch-lp-admin", {"*"}, raw=True)
        self.enforce()
        self.users = {}
        self.runs = []

    def close(self):
        self.server_cpu = _process_cpu(self.state_dir / moto_stand.PID_FILE)
        moto_stand.stop(self.state_dir)

    def enforce(self):
        # Counts the requests still allowed without authentication: 0 means every request is checked from now
        # on. The default "testing" keys belong to no IAM user and get InvalidClientTokenId after this.
        req = urllib.request.Request(
            self.endpoint + "/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
        )
        with _OPENER.open(req, timeout=10) as resp:
            assert resp.status == 200

    def client(self, service, creds=None):
        creds = creds or self.admin
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
        )

    @staticmethod
    def _user(iam, name, actions, raw=False):
        document = (
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
            if raw
            else moto_policy(actions)
        )
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="trailwatch", PolicyDocument=json.dumps(document))
        return iam.create_access_key(UserName=name)["AccessKey"]

    def user(self, name, actions, convert=True):
        """An IAM user holding ``actions`` (converted for moto unless already converted), created once per name."""
        if name not in self.users:
            self.users[name] = self._user(self.client("iam"), name, moto_actions(actions) if convert else actions)
        return self.users[name]

    def playbook(self, playbook, creds, extra_vars, check=False, record=False, label=""):
        env = dict(
            os.environ,
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
            AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
            AWS_REGION=REGION,
            ANSIBLE_COLLECTIONS_PATH=str(REPO / ".venv" / "collections"),
            ANSIBLE_NOCOLOR="1",
        )
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION"):
            env.pop(name, None)
        argv = [str(Path(sys.executable).parent / "ansible-playbook"), str(REPO / playbook)]
        argv += ["-e", json.dumps(extra_vars)] + (["--check"] if check else [])
        if record:
            moto_stand.record_start(self.endpoint)
        started, cpu = time.monotonic(), _children_cpu()
        proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
        seconds = time.monotonic() - started
        calls = self._recorded() if record else None
        self.runs.append((label or playbook, round(seconds, 1), round(_children_cpu() - cpu, 1)))
        return Run(proc, calls, seconds)

    def _recorded(self):
        """moto_stand's summary of the recorded calls, with Lambda's REST calls named by their operation."""
        for path in ("/moto-api/recorder/stop-recording", "/moto-api/recorder/download-recording"):
            req = urllib.request.Request(self.endpoint + path, data=b"" if "stop" in path else None)
            with _OPENER.open(req, timeout=30) as resp:
                text = resp.read().decode("utf-8", errors="replace")
        operations, writes = [], []
        for record in moto_stand.parse_recording(text):
            operation, is_write = moto_stand.classify_request(record)
            if operation is None:
                continue
            if operation.startswith("lambda:"):
                operation = _lambda_operation(record)
            operations.append(operation)
            if is_write:
                writes.append(operation)
        return {"operations": operations, "writes": len(writes), "write_operations": writes}

    def seed(self, name):
        """Object versions, a delete marker and log events, written as admin (tests/helpers/seed_log_data.py)."""
        env = dict(
            os.environ,
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID=self.admin["AccessKeyId"],
            AWS_SECRET_ACCESS_KEY=self.admin["SecretAccessKey"],
        )
        script = REPO / "tests" / "helpers" / "seed_log_data.py"
        proc = subprocess.run(
            [sys.executable, str(script), "--name", name, "--region", REGION],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def stand(tmp_path_factory):
    stand = Stand(tmp_path_factory.mktemp("moto-least-privilege"))
    yield stand
    stand.close()
    wall = sum(run[1] for run in stand.runs)
    cpu = sum(run[2] for run in stand.runs)
    server = stand.server_cpu
    print(f"\n{len(stand.runs)} playbook runs: {wall:.0f} s wall; CPU {cpu:.0f} s ansible, {server:.0f} s moto_server")
    for label, seconds, cpu in stand.runs:
        print(f"  {seconds:6.1f} s  {cpu:5.1f} s CPU  {label}")


@pytest.fixture(scope="module")
def deployer(stand):
    return stand.user("deployer", DEPLOYER)


@pytest.fixture(scope="module")
def readonly(stand):
    return stand.user("readonly", READONLY)


def names(stack):
    return {
        "alias": f"alias/{stack}",
        "bucket": f"{stack}-logs-{ACCOUNT}-{REGION}",
        "group": f"aws-cloudtrail-logs-{stack}",
        "group_arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:aws-cloudtrail-logs-{stack}",
        "role": f"{stack}-cloudtrail-to-logs",
        "trail": stack,
        "trail_arn": f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{stack}",
        "topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{stack}-alerts",
        "watch": f"{stack}-s3-bucket-created",
        "alarm_arn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{stack}-s3-bucket-created",
    }


def stack_vars(stack, **extra):
    # With trailwatch_purge_subscriptions (default false: unlisted subscribers are kept) the stray subscriber the
    # drift adds is removed, so the deployer's sns:Unsubscribe is exercised.
    return {
        "trailwatch_name": stack,
        "trailwatch_notify_emails": [EMAIL],
        "trailwatch_purge_subscriptions": True,
        **extra,
    }


def assert_ok(run, what):
    assert run.ok, f"{what} failed:\n{run.tail()}"
    assert "Traceback" not in run.output, run.tail()


# --------------------------------------------------------------------------------------------------------------
# Drift made by admin behind TrailWatch's back: each one makes the next converge call one particular action
# --------------------------------------------------------------------------------------------------------------


def _key_id(stand, stack):
    return stand.client("kms").describe_key(KeyId=names(stack)["alias"])["KeyMetadata"]["KeyId"]


def _subscription_arn(stand, stack, endpoint):
    subs = stand.client("sns").list_subscriptions_by_topic(TopicArn=names(stack)["topic"])["Subscriptions"]
    return next(s["SubscriptionArn"] for s in subs if s["Endpoint"] == endpoint)


def _alarm(stand, stack, **changes):
    alarm = stand.client("cloudwatch").describe_alarms(AlarmNames=[names(stack)["watch"]])["MetricAlarms"][0]
    fields = ("AlarmName", "AlarmDescription", "AlarmActions", "MetricName", "Namespace", "Statistic", "Period")
    fields += ("EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData")
    return {**{f: alarm[f] for f in fields}, **changes}


STRAY = {"stray": "left-by-hand"}

DRIFT = {
    "kms:PutKeyPolicy": lambda s, n: s.client("kms").put_key_policy(
        KeyId=_key_id(s, n),
        PolicyName="default",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*"}
                ],
            }
        ),
    ),
    "kms:EnableKeyRotation": lambda s, n: s.client("kms").disable_key_rotation(KeyId=_key_id(s, n)),
    "kms:TagResource": lambda s, n: s.client("kms").untag_resource(KeyId=_key_id(s, n), TagKeys=list(TAGS)),
    "kms:UntagResource": lambda s, n: s.client("kms").tag_resource(
        KeyId=_key_id(s, n), Tags=[{"TagKey": k, "TagValue": v} for k, v in STRAY.items()]
    ),
    "s3:PutEncryptionConfiguration": lambda s, n: s.client("s3").delete_bucket_encryption(Bucket=names(n)["bucket"]),
    "s3:PutBucketOwnershipControls": lambda s, n: s.client("s3").put_bucket_ownership_controls(
        Bucket=names(n)["bucket"], OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    ),
    "s3:PutBucketPublicAccessBlock": lambda s, n: s.client("s3").delete_public_access_block(Bucket=names(n)["bucket"]),
    "s3:PutBucketTagging": lambda s, n: s.client("s3").put_bucket_tagging(
        Bucket=names(n)["bucket"], Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in {**TAGS, **STRAY}.items()]}
    ),
    "s3:PutBucketVersioning": lambda s, n: s.client("s3").put_bucket_versioning(
        Bucket=names(n)["bucket"], VersioningConfiguration={"Status": "Suspended"}
    ),
    "logs:PutRetentionPolicy": lambda s, n: s.client("logs").put_retention_policy(
        logGroupName=names(n)["group"], retentionInDays=30
    ),
    "logs:TagResource": lambda s, n: s.client("logs").untag_resource(
        resourceArn=names(n)["group_arn"], tagKeys=list(TAGS)
    ),
    "logs:UntagResource": lambda s, n: s.client("logs").tag_resource(resourceArn=names(n)["group_arn"], tags=STRAY),
    "logs:PutMetricFilter": lambda s, n: s.client("logs").delete_metric_filter(
        logGroupName=names(n)["group"], filterName=names(n)["watch"]
    ),
    "logs:DeleteMetricFilter": lambda s, n: s.client("logs").put_metric_filter(
        logGroupName=names(n)["group"],
        filterName=f"{n}-stale",
        filterPattern='{ $.eventName = "Stale" }',
        metricTransformations=[{"metricName": "Stale", "metricNamespace": "TrailWatch", "metricValue": "1"}],
    ),
    "iam:PutRolePolicy": lambda s, n: s.client("iam").put_role_policy(
        RoleName=names(n)["role"],
        PolicyName="trailwatch-cloudtrail-to-logs",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}],
            }
        ),
    ),
    # The trust an older version wrote (aws:SourceArn, which this role's trust does not support): repaired once.
    "iam:UpdateAssumeRolePolicy": lambda s, n: s.client("iam").update_assume_role_policy(
        RoleName=names(n)["role"],
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "TrailWatchCloudTrailAssume",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceArn": names(n)["trail_arn"]}},
                    }
                ],
            }
        ),
    ),
    "iam:TagRole": lambda s, n: s.client("iam").untag_role(RoleName=names(n)["role"], TagKeys=list(TAGS)),
    "iam:UntagRole": lambda s, n: s.client("iam").tag_role(
        RoleName=names(n)["role"], Tags=[{"Key": k, "Value": v} for k, v in STRAY.items()]
    ),
    "cloudtrail:UpdateTrail": lambda s, n: s.client("cloudtrail").update_trail(
        Name=names(n)["trail"], EnableLogFileValidation=False
    ),
    "cloudtrail:StartLogging": lambda s, n: s.client("cloudtrail").stop_logging(Name=names(n)["trail"]),
    "cloudtrail:PutEventSelectors": lambda s, n: s.client("cloudtrail").put_event_selectors(
        TrailName=names(n)["trail"], EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    ),
    "cloudtrail:AddTags": lambda s, n: s.client("cloudtrail").remove_tags(
        ResourceId=names(n)["trail_arn"], TagsList=[{"Key": k} for k in TAGS]
    ),
    "cloudtrail:RemoveTags": lambda s, n: s.client("cloudtrail").add_tags(
        ResourceId=names(n)["trail_arn"], TagsList=[{"Key": k, "Value": v} for k, v in STRAY.items()]
    ),
    "sns:SetTopicAttributes": lambda s, n: s.client("sns").set_topic_attributes(
        TopicArn=names(n)["topic"], AttributeName="DisplayName", AttributeValue="changed by hand"
    ),
    "sns:Subscribe": lambda s, n: s.client("sns").unsubscribe(SubscriptionArn=_subscription_arn(s, n, EMAIL)),
    "sns:Unsubscribe": lambda s, n: s.client("sns").subscribe(
        TopicArn=names(n)["topic"], Protocol="email", Endpoint="stray@example.com"
    ),
    "sns:TagResource": lambda s, n: s.client("sns").untag_resource(ResourceArn=names(n)["topic"], TagKeys=list(TAGS)),
    "sns:UntagResource": lambda s, n: s.client("sns").tag_resource(
        ResourceArn=names(n)["topic"], Tags=[{"Key": k, "Value": v} for k, v in STRAY.items()]
    ),
    "cloudwatch:PutMetricAlarm": lambda s, n: s.client("cloudwatch").put_metric_alarm(**_alarm(s, n, Threshold=5.0)),
    "cloudwatch:DeleteAlarms": lambda s, n: s.client("cloudwatch").put_metric_alarm(
        **_alarm(s, n, AlarmName=f"{n}-stale", MetricName="Stale")
    ),
    "cloudwatch:TagResource": lambda s, n: s.client("cloudwatch").untag_resource(
        ResourceARN=names(n)["alarm_arn"], TagKeys=list(TAGS)
    ),
    "cloudwatch:UntagResource": lambda s, n: s.client("cloudwatch").tag_resource(
        ResourceARN=names(n)["alarm_arn"], Tags=[{"Key": k, "Value": v} for k, v in STRAY.items()]
    ),
}


def replace_key_behind_trailwatch(stand, stack):
    """Someone schedules the key's deletion by hand (the alias stays) and deletes the log group with it.

    The next converge creates a new key and moves the alias to it (kms:UpdateAlias). The log group is deleted
    too because moving the old group to the new key is AssociateKmsKey, which moto does not implement.
    """
    kms = stand.client("kms")
    kms.schedule_key_deletion(KeyId=_key_id(stand, stack), PendingWindowInDays=7)
    stand.client("logs").delete_log_group(logGroupName=names(stack)["group"])


def drift_everything(stand, stack):
    """Every drift that a converge with the same variables repairs, on the stack of the lifecycle test."""
    for action in (
        "kms:PutKeyPolicy",
        "kms:EnableKeyRotation",
        "kms:UntagResource",
        "s3:PutBucketVersioning",
        "s3:PutEncryptionConfiguration",
        "s3:PutBucketOwnershipControls",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketTagging",
        "logs:PutRetentionPolicy",
        "logs:UntagResource",
        "logs:PutMetricFilter",
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:UntagRole",
        "cloudtrail:UpdateTrail",
        "cloudtrail:StartLogging",
        "cloudtrail:PutEventSelectors",
        "cloudtrail:RemoveTags",
        "sns:SetTopicAttributes",
        "sns:Unsubscribe",
        "sns:UntagResource",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:UntagResource",
    ):
        DRIFT[action](stand, stack)


# --------------------------------------------------------------------------------------------------------------
# Removal cases: which run needs each action
# --------------------------------------------------------------------------------------------------------------

# Every action moto can observe, with the phase whose run needs it, in an order the shared stacks allow:
#   create      a fresh stack, converged                             (1 run)
#   read        --check of the deployed stack lpro                   (1 run)
#   update      DRIFT[action] by admin on lpdrift, then converge     (1 run)
#   update-own  a stack of its own deployed, its key replaced by hand, converge (2 runs)
#   teardown    teardown.yml on lptear (seeded with objects)         (1 run)
#   purge       teardown.yml -e trailwatch_purge_data=true on lptear (1 run)
# teardown and purge cases share one stack and are listed in the order teardown reaches them: each run first
# completes the deletions the earlier cases stopped short of, then fails at its own action (so each case also
# works on its own).
ALL_CASES = [
    ("kms:CreateKey", "create"),
    ("tag:GetResources", "create"),
    ("kms:CreateAlias", "create"),
    ("kms:EnableKeyRotation", "create"),
    ("s3:CreateBucket", "create"),
    ("s3:ListBucket", "create"),
    ("s3:PutBucketVersioning", "create"),
    ("s3:PutBucketPolicy", "create"),
    ("logs:CreateLogGroup", "create"),
    ("logs:PutRetentionPolicy", "create"),
    ("iam:CreateRole", "create"),
    ("iam:PutRolePolicy", "create"),
    ("cloudtrail:CreateTrail", "create"),
    ("cloudtrail:PutEventSelectors", "create"),
    ("cloudtrail:StartLogging", "create"),
    ("sns:CreateTopic", "create"),
    ("sns:Subscribe", "create"),
    ("logs:PutMetricFilter", "create"),
    ("cloudwatch:PutMetricAlarm", "create"),
    ("kms:DescribeKey", "read"),
    ("kms:GetKeyPolicy", "read"),
    ("kms:GetKeyRotationStatus", "read"),
    ("kms:ListResourceTags", "read"),
    ("s3:GetBucketPolicy", "read"),
    ("s3:GetBucketVersioning", "read"),
    ("s3:GetBucketPublicAccessBlock", "read"),
    ("s3:GetBucketTagging", "read"),
    ("logs:DescribeLogGroups", "read"),
    ("logs:ListTagsForResource", "read"),
    ("logs:DescribeMetricFilters", "read"),
    ("iam:GetRole", "read"),
    ("iam:GetRolePolicy", "read"),
    ("cloudtrail:GetTrail", "read"),
    ("cloudtrail:GetTrailStatus", "read"),
    ("cloudtrail:GetEventSelectors", "read"),
    ("cloudtrail:ListTags", "read"),
    ("sns:GetTopicAttributes", "read"),
    ("sns:ListSubscriptionsByTopic", "read"),
    ("sns:ListTagsForResource", "read"),
    ("cloudwatch:DescribeAlarms", "read"),
    ("cloudwatch:ListTagsForResource", "read"),
    ("kms:PutKeyPolicy", "update"),
    ("kms:TagResource", "update"),
    ("kms:UntagResource", "update"),
    # Reverse order of ensure_bucket_present's steps: all three are s3:CreateBucket on moto, and each case's
    # call must come before the drift the earlier cases left unrepaired.
    ("s3:PutEncryptionConfiguration", "update"),
    ("s3:PutBucketOwnershipControls", "update"),
    ("s3:PutBucketPublicAccessBlock", "update"),
    ("s3:PutBucketTagging", "update"),
    ("logs:TagResource", "update"),
    ("logs:UntagResource", "update"),
    ("iam:UpdateAssumeRolePolicy", "update"),
    ("iam:TagRole", "update"),
    ("iam:UntagRole", "update"),
    ("cloudtrail:UpdateTrail", "update"),
    ("cloudtrail:AddTags", "update"),
    ("cloudtrail:RemoveTags", "update"),
    ("sns:SetTopicAttributes", "update"),
    ("sns:Unsubscribe", "update"),
    ("sns:TagResource", "update"),
    ("sns:UntagResource", "update"),
    ("cloudwatch:TagResource", "update"),
    ("cloudwatch:UntagResource", "update"),
    ("kms:UpdateAlias", "update-own"),
    ("logs:DescribeSubscriptionFilters", "teardown"),
    ("ssm:DescribeParameters", "teardown"),
    ("lambda:GetFunction", "teardown"),
    ("dynamodb:DescribeTable", "teardown"),
    ("sqs:GetQueueUrl", "teardown"),
    ("logs:DeleteMetricFilter", "teardown"),
    ("cloudwatch:DeleteAlarms", "teardown"),
    ("sns:DeleteTopic", "teardown"),
    ("cloudtrail:DeleteTrail", "teardown"),
    ("iam:DeleteRolePolicy", "teardown"),
    ("iam:DeleteRole", "teardown"),
    ("logs:DeleteLogGroup", "purge"),
    ("s3:DeleteBucketPolicy", "purge"),
    ("s3:ListBucketVersions", "purge"),
    ("s3:DeleteObject", "purge"),
    ("s3:DeleteBucket", "purge"),
    ("kms:DeleteAlias", "purge"),
    ("kms:ScheduleKeyDeletion", "purge"),
]

# The default run: every service, every phase, about five minutes in all on two cores (see docs/iam/README.md).
REPRESENTATIVE = {
    "kms:CreateKey",
    "tag:GetResources",
    "s3:CreateBucket",
    "logs:CreateLogGroup",
    "iam:CreateRole",
    "cloudtrail:CreateTrail",
    "sns:Subscribe",
    "cloudwatch:PutMetricAlarm",
    "kms:GetKeyPolicy",
    "s3:GetBucketVersioning",
    "logs:DescribeLogGroups",
    "iam:GetRolePolicy",
    "cloudtrail:GetEventSelectors",
    "sns:ListSubscriptionsByTopic",
    "cloudwatch:ListTagsForResource",
    "kms:PutKeyPolicy",
    "s3:PutBucketTagging",
    "logs:UntagResource",
    "iam:UpdateAssumeRolePolicy",
    "cloudtrail:UpdateTrail",
    "sns:Unsubscribe",
    "cloudwatch:TagResource",
    "ssm:DescribeParameters",
    "lambda:GetFunction",
    "dynamodb:DescribeTable",
    "sqs:GetQueueUrl",
    "logs:DeleteMetricFilter",
    "cloudwatch:DeleteAlarms",
    "sns:DeleteTopic",
    "cloudtrail:DeleteTrail",
    "iam:DeleteRole",
    "logs:DeleteLogGroup",
    "s3:ListBucketVersions",
    "s3:DeleteObject",
    "s3:DeleteBucket",
    "kms:ScheduleKeyDeletion",
}

# S3 answers AccessDenied without naming the action (moto and, for many calls, AWS): the message names the
# operation, which is what the case asserts for S3.
S3_OPERATION = {
    "s3:CreateBucket": "CreateBucket",
    "s3:ListBucket": "HeadBucket",
    "s3:PutBucketVersioning": "PutBucketVersioning",
    "s3:PutBucketPolicy": "PutBucketPolicy",
    "s3:GetBucketPolicy": "GetBucketPolicy",
    "s3:GetBucketVersioning": "GetBucketVersioning",
    "s3:GetBucketTagging": "GetBucketTagging",
    "s3:GetBucketPublicAccessBlock": "GetPublicAccessBlock",
    "s3:PutEncryptionConfiguration": "PutBucketEncryption",
    "s3:PutBucketOwnershipControls": "PutBucketOwnershipControls",
    "s3:PutBucketPublicAccessBlock": "PutPublicAccessBlock",
    "s3:PutBucketTagging": "PutBucketTagging",
    "s3:DeleteBucketPolicy": "DeleteBucketPolicy",
    "s3:ListBucketVersions": "ListObjectVersions",
    "s3:DeleteObject": "DeleteObjects",
    "s3:DeleteBucket": "DeleteBucket",
}

KNOWN_BUGS = {}


def expected_denial(action):
    """What the failed run's message names: the moto-checked action, or the operation for S3."""
    if action.startswith("s3:"):
        return {f"s3 operation:{S3_OPERATION[action]}"}
    service, name = action.split(":", 1)
    return {f"{SIGNING_NAMES[service]}:{name}"} if service in SIGNING_NAMES else {action}


def _cases():
    run_all = os.environ.get("TRAILWATCH_LP_ALL", "") not in ("", "0")
    cases = []
    for action, phase in ALL_CASES:
        if not run_all and action not in REPRESENTATIVE:
            continue
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[action])] if action in KNOWN_BUGS else []
        cases.append(pytest.param(action, phase, id=f"{phase}-{action}", marks=marks))
    return cases


def _slug(action):
    return re.sub(r"[^a-z0-9]+", "-", action.lower())


# --------------------------------------------------------------------------------------------------------------
# Stacks shared by several cases
# --------------------------------------------------------------------------------------------------------------


def _deploy(stand, deployer, stack, **extra):
    run = stand.playbook(SITE, deployer, stack_vars(stack, **extra), label=f"deploy {stack}")
    assert_ok(run, f"deploying {stack} with the deployer policy")
    return stack


@pytest.fixture(scope="module")
def ro_stack(stand, deployer):
    return _deploy(stand, deployer, "lpro")


@pytest.fixture(scope="module")
def drift_stack(stand, deployer):
    return _deploy(stand, deployer, "lpdrift", trailwatch_tags=TAGS)


@pytest.fixture(scope="module")
def teardown_stack(stand, deployer):
    stack = _deploy(stand, deployer, "lptear")
    assert stand.seed(stack)["objects"] > 0
    return stack


# --------------------------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------------------------


def test_policy_files_are_scoped_and_documented():
    readme = (IAM_DOCS / "README.md").read_text()
    star_ok = {"kms:CreateKey", "kms:TagResource", "tag:GetResources", "logs:DescribeLogGroups", "sns:Unsubscribe"}
    star_ok |= {"ssm:DescribeParameters", "cloudwatch:GetMetricStatistics", "cloudtrail:DescribeTrails"}
    for policy in (DEPLOYER_POLICY, READONLY_POLICY):
        assert policy["Version"] == "2012-10-17"
        sids = [s["Sid"] for s in policy["Statement"]]
        assert len(sids) == len(set(sids)) and all(sids)
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow"
            assert statement["Action"] == sorted(set(statement["Action"])), statement["Sid"]
            for action in statement["Action"]:
                assert re.fullmatch(r"[a-z0-9-]+:[A-Z][A-Za-z0-9]+", action), action
            if statement["Resource"] == "*":
                assert set(statement["Action"]) <= star_ok, statement["Sid"]
    assert READONLY - DOCTOR_ONLY <= DEPLOYER and DOCTOR_ONLY <= READONLY
    assert all(re.match(r"[a-z0-9]+:(Get|List|Describe)", action) for action in READONLY)
    # Every action is mapped in the README; every exception is explained there.
    for action in DEPLOYER | READONLY | set(NOT_REMOVABLE_ON_MOTO) | set(NOT_OBSERVABLE):
        assert f"`{action}`" in readme, f"{action} missing from docs/iam/README.md"
    # Each action is either removal-tested (TRAILWATCH_LP_ALL=1) or listed with its reason, never both.
    tested = [action for action, _phase in ALL_CASES]
    assert len(tested) == len(set(tested))
    assert set(tested) | set(NOT_REMOVABLE_ON_MOTO) == DEPLOYER
    assert not set(tested) & set(NOT_REMOVABLE_ON_MOTO)
    assert REPRESENTATIVE <= set(tested)
    # Every removal case knows what the failed run must name.
    assert all(expected_denial(action) for action in tested)
    # The representative set covers every service and every phase.
    phases = dict(ALL_CASES)
    assert {a.split(":")[0] for a in REPRESENTATIVE} == {a.split(":")[0] for a in DEPLOYER}
    assert {phases[a] for a in REPRESENTATIVE} >= {"create", "read", "update", "teardown", "purge"}
    # Mapped actions are all in the policy.
    assert set().union(*map(set, OPERATION_ACTIONS.values())) <= DEPLOYER | DOCTOR_ONLY


def _actions_of(calls):
    unknown = sorted({op for op in calls["operations"] if op not in OPERATION_ACTIONS})
    assert not unknown, f"calls not mapped to IAM actions (new API call? update the policy): {unknown}"
    return set().union(*(set(OPERATION_ACTIONS[op]) for op in calls["operations"]))


def test_deployer_lifecycle(stand, deployer):
    """Everything the deployer does works with exactly the policy, and needs every action in it."""
    base = {"trailwatch_watch_presets": ALL_PRESETS, "trailwatch_notify_emails": [EMAIL]}
    runs = {}

    def step(label, playbook, extra, check=False):
        run = stand.playbook(playbook, deployer, extra, check=check, record=True, label=f"lifecycle {label}")
        assert_ok(run, label)
        runs[label] = run
        return run

    assert step("converge", SITE, base).changed > 0
    rerun = step("re-run", SITE, base)
    assert rerun.changed == 0 and rerun.calls["writes"] == 0, rerun.calls["write_operations"]
    assert step("check", SITE, base, check=True).changed == 0
    update = dict(
        base,
        trailwatch_tags=TAGS,
        trailwatch_log_retention_days=400,
        trailwatch_notify_emails=["secops@example.com"],
        trailwatch_purge_subscriptions=True,  # the former address is unsubscribed: sns:Unsubscribe is needed
        trailwatch_watch_presets=["s3_bucket_created", "cis"],
        trailwatch_watches=[{"name": "root-account-used", "threshold": 2}],
        trailwatch_read_write_type="All",
    )
    assert step("update", SITE, update).changed > 0
    drift_everything(stand, "trailwatch")
    assert step("drift repaired, tags removed", SITE, base).changed > 0
    replace_key_behind_trailwatch(stand, "trailwatch")
    assert step("key replaced by hand", SITE, base).changed > 0
    assert step("teardown", TEARDOWN, base).changed > 0
    assert stand.seed("trailwatch")["objects"] > 0
    assert step("purge", TEARDOWN, dict(base, trailwatch_purge_data=True)).changed > 0

    used = set()
    for run in runs.values():
        used |= _actions_of(run.calls)
    assert DEPLOYER - used - set(NOT_OBSERVABLE) == set(), "in the policy, never needed"
    assert used - DEPLOYER == set(), "needed, not in the policy"


def test_readonly_policy_checks_a_deployed_stack_and_a_first_deploy(stand, readonly, ro_stack):
    run = stand.playbook(SITE, readonly, stack_vars(ro_stack), check=True, record=True, label="read-only check")
    assert_ok(run, "site.yml --check with the read-only policy")
    assert run.changed == 0
    reads = _actions_of(run.calls)
    # Before the first deploy a check run also looks for a key that lost its alias (tag:GetResources).
    first = stand.playbook(SITE, readonly, stack_vars("lpnew"), check=True, record=True, label="read-only check new")
    assert_ok(first, "site.yml --check before the first deploy with the read-only policy")
    assert first.changed > 0
    reads |= _actions_of(first.calls)
    # Teardown also looks for a notifier (functions, roles, secret parameter, log filter, state table, queue).
    run = stand.playbook(
        TEARDOWN, readonly, stack_vars(ro_stack), check=True, record=True, label="read-only teardown check"
    )
    assert_ok(run, "teardown.yml --check with the read-only policy")
    reads |= _actions_of(run.calls)
    assert reads == READONLY - DOCTOR_ONLY, "the read-only policy is exactly what check runs (and the doctor) read"


def test_readonly_policy_runs_the_doctor(stand, readonly, ro_stack):
    """The doctor needs nothing but the read-only policy, for TrailWatch's trail and for an existing one."""
    reads = set()
    for label, extra in (
        ("doctor", {}),
        ("doctor, existing trail, notifier", {"trailwatch_trail_create": False, "trailwatch_notifier": True}),
    ):
        run = stand.playbook(DOCTOR, readonly, stack_vars(ro_stack, **extra), record=True, label=label)
        # The chain may be broken on moto (the doctor then fails); what matters is that every read was allowed.
        assert "Each link of each watch is shown" in run.output and not run.denied(), run.tail()
        assert "Traceback" not in run.output and run.calls["writes"] == 0, run.tail()
        reads |= _actions_of(run.calls)
    assert reads <= READONLY
    assert reads >= DOCTOR_ONLY - DOCTOR_NOT_OBSERVED


def test_readonly_policy_cannot_change_anything(stand, readonly, ro_stack):
    run = stand.playbook(
        SITE, readonly, stack_vars(ro_stack, trailwatch_log_retention_days=400), label="read-only converge"
    )
    assert not run.ok, run.tail()
    assert run.denied() == {"logs:PutRetentionPolicy"}, run.tail()
    assert "Traceback" not in run.output


@pytest.mark.parametrize("action, phase", _cases())
def test_removed_action_fails(request, stand, deployer, action, phase):
    assert action in DEPLOYER and action not in NOT_REMOVABLE_ON_MOTO
    assert removal_actions(action) < moto_actions(DEPLOYER)
    user = stand.user(f"without-{_slug(action)}", removal_actions(action), convert=False)
    label = f"without {action}"
    if phase == "create":
        stack = f"lpc{[a for a, _phase in ALL_CASES].index(action):02d}"
        run = stand.playbook(SITE, user, stack_vars(stack), label=label)
    elif phase == "read":
        stack = request.getfixturevalue("ro_stack")
        run = stand.playbook(SITE, user, stack_vars(stack), check=True, label=label)
    elif phase == "update":
        stack = request.getfixturevalue("drift_stack")
        DRIFT[action](stand, stack)
        run = stand.playbook(SITE, user, stack_vars(stack, trailwatch_tags=TAGS), label=label)
    elif phase == "update-own":
        stack = _deploy(stand, deployer, f"lpu{[a for a, _phase in ALL_CASES].index(action):02d}")
        replace_key_behind_trailwatch(stand, stack)
        run = stand.playbook(SITE, user, stack_vars(stack), label=label)
    else:
        stack = request.getfixturevalue("teardown_stack")
        extra = stack_vars(stack, trailwatch_purge_data=phase == "purge")
        run = stand.playbook(TEARDOWN, user, extra, label=label)
    assert not run.ok, f"the run succeeded without {action}:\n{run.tail()}"
    assert "Traceback" not in run.output, run.tail()
    assert run.denied() == expected_denial(action), run.tail()
