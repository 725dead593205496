"""Reads the TrailWatch notifier back with boto3 and checks every property, one named check each.

    notifier_checks.py --expect present|removed|purged [--name trailwatch] [--region R]
                       [--language ja] [--lock-days 7] [--lock-mode GOVERNANCE]

Prints a JSON list of {"check": name, "ok": bool, "detail": str} and exits 0: the verify playbook asserts each
check by name, so a failure says exactly what is wrong. Uses AWS_ENDPOINT_URL and the usual credentials.
"""

import argparse
import json
import sys

import boto3
from botocore.exceptions import ClientError

# The default watch's pattern: the notifier gets every record the alarm counts.
PATTERN = '{ ($.eventName = "CreateBucket") }'
LOCK_RESERVED_CONCURRENCY = 2


class Checks:
    def __init__(self):
        self.results = []

    def add(self, name, ok, detail=""):
        self.results.append({"check": name, "ok": bool(ok), "detail": str(detail)[:500]})

    def equal(self, name, actual, expected):
        self.add(name, actual == expected, f"expected {expected!r}, found {actual!r}")


def _missing(call):
    """True when the call answers that the resource does not exist."""
    try:
        call()
    except ClientError as e:
        return e.response["Error"]["Code"] in (
            "ResourceNotFoundException",
            "NoSuchEntity",
            "ParameterNotFound",
            "AWS.SimpleQueueService.NonExistentQueue",
        )
    return False


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _statement(policy, sid):
    for statement in policy.get("Statement", []):
        if statement.get("Sid") == sid:
            return statement
    return {}


def _condition(statement, operator, key, top_level=None):
    for op, pairs in (statement.get("Condition") or {}).items():
        if op.lower() == operator.lower():
            for k, v in pairs.items():
                if k.lower() == key.lower():
                    return v
    # moto keeps FunctionUrlAuthType / InvokedViaFunctionUrl as sent, at the top of the statement.
    return statement.get(top_level) if top_level else None


def _actions(document):
    return sorted({a for s in document.get("Statement", []) for a in _as_list(s.get("Action", []))})


class Notifier:
    def __init__(self, args):
        session = boto3.session.Session(region_name=args.region)
        self.c = {
            s: session.client(s) for s in ("sts", "lambda", "iam", "logs", "ssm", "dynamodb", "sqs", "cloudwatch")
        }
        self.account = self.c["sts"].get_caller_identity()["Account"]
        self.args = args
        name = args.name
        self.notifier = f"{name}-notifier"
        self.lock = f"{name}-lock"
        self.trail_group = f"aws-cloudtrail-logs-{name}"
        self.secret = f"/{name}/lock-link-secret"
        self.table = f"{name}-notifier-state"
        self.queue = f"{name}-notifier-failed"
        self.queue_arn = f"arn:aws:sqs:{args.region}:{self.account}:{self.queue}"
        self.table_arn = f"arn:aws:dynamodb:{args.region}:{self.account}:table/{self.table}"
        self.alarms = {f"{name}-notifier-errors": "Errors", f"{name}-notifier-failed-events": "Queue"}
        self.topic_arn = f"arn:aws:sns:{args.region}:{self.account}:{name}-alerts"
        self.trail_group_arn = f"arn:aws:logs:{args.region}:{self.account}:log-group:{self.trail_group}"

    def role_arn(self, function):
        return f"arn:aws:iam::{self.account}:role/{function}"

    def log_group(self, function):
        name = f"/aws/lambda/{function}"
        groups = self.c["logs"].describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        return next((g for g in groups if g["logGroupName"] == name), None)

    # --- present ---------------------------------------------------------------------------------------------

    def check_functions(self, ck):
        lam = self.c["lambda"]
        nf = lam.get_function(FunctionName=self.notifier)["Configuration"]
        lk = lam.get_function(FunctionName=self.lock)["Configuration"]
        url = lam.get_function_url_config(FunctionName=self.lock)
        for label, config, handler, timeout in (
            ("notifier", nf, "notifier.handler", 60),
            ("lock", lk, "lock.handler", 15),
        ):
            ck.equal(f"{label} function runtime", config["Runtime"], "python3.12")
            ck.equal(f"{label} function handler", config["Handler"], handler)
            ck.equal(f"{label} function timeout", config["Timeout"], timeout)
            ck.equal(f"{label} function memory", config["MemorySize"], 128)
            ck.equal(f"{label} function role", config["Role"], self.role_arn(config["FunctionName"]))
            ck.add(f"{label} function has code", config.get("CodeSize", 0) > 0, config.get("CodeSize"))
        ck.equal("both functions run the same zip", nf["CodeSha256"], lk["CodeSha256"])
        ck.equal(
            "notifier environment",
            nf.get("Environment", {}).get("Variables"),
            {
                "TOPIC_ARN": self.topic_arn,
                "STATE_TABLE": self.table,
                "NOTIFY_LANGUAGE": self.args.language,
                "TAG_NEW_BUCKETS": "true",
                "LOCK_LINK": "true",
                "LOCK_URL": url["FunctionUrl"],
                "LOCK_SECRET_PARAMETER": self.secret,
            },
        )
        ck.equal(
            "lock environment",
            lk.get("Environment", {}).get("Variables"),
            {
                "LOCK_SECRET_PARAMETER": self.secret,
                "STATE_TABLE": self.table,
                "LOCK_MODE": self.args.lock_mode,
                "LOCK_DAYS": str(self.args.lock_days),
                "NOTIFY_LANGUAGE": self.args.language,
            },
        )
        ck.equal("lock function URL auth type", url["AuthType"], "NONE")
        ck.add("lock function URL is https", url["FunctionUrl"].startswith("https://"), url["FunctionUrl"])
        ck.equal(
            "lock function has a small reserved concurrency",
            lam.get_function(FunctionName=self.lock).get("Concurrency", {}).get("ReservedConcurrentExecutions"),
            LOCK_RESERVED_CONCURRENCY,
        )
        ck.equal(
            "notifier function is not capped",
            lam.get_function(FunctionName=self.notifier).get("Concurrency"),
            None,
        )
        config = lam.get_function_event_invoke_config(FunctionName=self.notifier)
        ck.equal("notifier retries a failed event twice", config.get("MaximumRetryAttempts"), 2)
        ck.equal("notifier keeps an event up to 6 hours", config.get("MaximumEventAgeInSeconds"), 21600)
        ck.equal(
            "notifier sends failed events to the failed-events queue",
            config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
            self.queue_arn,
        )

    def check_failed_events_path(self, ck):
        ddb = self.c["dynamodb"]
        table = ddb.describe_table(TableName=self.table)["Table"]
        ck.equal("state table key", table["KeySchema"], [{"AttributeName": "id", "KeyType": "HASH"}])
        ck.equal("state table on demand", table.get("BillingModeSummary", {}).get("BillingMode"), "PAY_PER_REQUEST")
        sse = table.get("SSEDescription", {})
        ck.equal("state table encrypted with KMS", (sse.get("Status"), sse.get("SSEType")), ("ENABLED", "KMS"))
        ttl = ddb.describe_time_to_live(TableName=self.table)["TimeToLiveDescription"]
        ck.equal(
            "state table TTL on expires_at",
            (ttl.get("TimeToLiveStatus"), ttl.get("AttributeName")),
            ("ENABLED", "expires_at"),
        )
        sqs = self.c["sqs"]
        url = sqs.get_queue_url(QueueName=self.queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        ck.equal("failed-events queue encrypted (SSE-SQS)", attributes.get("SqsManagedSseEnabled"), "true")
        ck.equal("failed-events queue keeps messages 14 days", attributes.get("MessageRetentionPeriod"), "1209600")
        deny = _statement(json.loads(attributes.get("Policy") or "{}"), "TrailWatchDenyInsecureTransport")
        ck.equal(
            "failed-events queue refuses requests without TLS",
            (deny.get("Effect"), deny.get("Condition")),
            ("Deny", {"Bool": {"aws:SecureTransport": "false"}}),
        )
        alarms = {
            a["AlarmName"]: a
            for a in self.c["cloudwatch"].describe_alarms(AlarmNames=list(self.alarms))["MetricAlarms"]
        }
        ck.equal("notifier alarms exist", sorted(alarms), sorted(self.alarms))
        for name, alarm in alarms.items():
            ck.equal(f"{name} notifies the topic", alarm.get("AlarmActions"), [self.topic_arn])
            ck.equal(
                f"{name} threshold",
                (alarm.get("ComparisonOperator"), alarm.get("Threshold")),
                (
                    "GreaterThanOrEqualToThreshold",
                    1.0,
                ),
            )
        errors = alarms.get(f"{self.args.name}-notifier-errors", {})
        ck.equal(
            "errors alarm watches the notifier's Errors",
            (errors.get("Namespace"), errors.get("MetricName"), errors.get("Dimensions")),
            ("AWS/Lambda", "Errors", [{"Name": "FunctionName", "Value": self.notifier}]),
        )
        depth = alarms.get(f"{self.args.name}-notifier-failed-events", {})
        ck.equal(
            "failed-events alarm watches the queue's depth",
            (depth.get("Namespace"), depth.get("MetricName"), depth.get("Dimensions")),
            ("AWS/SQS", "ApproximateNumberOfMessagesVisible", [{"Name": "QueueName", "Value": self.queue}]),
        )

    def check_permissions(self, ck):
        lam = self.c["lambda"]
        nf = json.loads(lam.get_policy(FunctionName=self.notifier)["Policy"])
        st = _statement(nf, "TrailWatchLogsInvoke")
        ck.equal("logs invoke principal", st.get("Principal"), {"Service": "logs.amazonaws.com"})
        ck.equal("logs invoke action", st.get("Action"), "lambda:InvokeFunction")
        ck.equal("logs invoke source ARN", _condition(st, "ArnLike", "AWS:SourceArn"), f"{self.trail_group_arn}:*")
        ck.equal("logs invoke source account", _condition(st, "StringEquals", "AWS:SourceAccount"), self.account)
        ck.equal(
            "notifier policy holds only the logs grant",
            [s.get("Sid") for s in nf["Statement"]],
            ["TrailWatchLogsInvoke"],
        )

        lk = json.loads(lam.get_policy(FunctionName=self.lock)["Policy"])
        url = _statement(lk, "TrailWatchPublicFunctionUrl")
        ck.equal("public URL grant principal", url.get("Principal"), "*")
        ck.equal("public URL grant action", url.get("Action"), "lambda:InvokeFunctionUrl")
        ck.equal(
            "public URL grant only for AuthType NONE",
            _condition(url, "StringEquals", "lambda:FunctionUrlAuthType", "FunctionUrlAuthType"),
            "NONE",
        )
        invoke = _statement(lk, "TrailWatchPublicFunctionUrlInvoke")
        ck.equal("public invoke grant principal", invoke.get("Principal"), "*")
        ck.equal("public invoke grant action", invoke.get("Action"), "lambda:InvokeFunction")
        ck.equal(
            "public invoke grant only through the URL",
            str(_condition(invoke, "Bool", "lambda:InvokedViaFunctionUrl", "InvokedViaFunctionUrl")).lower(),
            "true",
        )

    def check_subscription_filter(self, ck):
        filters = self.c["logs"].describe_subscription_filters(logGroupName=self.trail_group)["subscriptionFilters"]
        ours = [f for f in filters if f["filterName"] == self.notifier]
        ck.equal("one subscription filter of ours", len(ours), 1)
        if ours:
            ck.equal("subscription filter pattern", ours[0]["filterPattern"], PATTERN)
            ck.equal(
                "subscription filter destination",
                ours[0]["destinationArn"],
                f"arn:aws:lambda:{self.args.region}:{self.account}:function:{self.notifier}",
            )

    def check_secret(self, ck):
        meta = self.c["ssm"].describe_parameters(
            ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [self.secret]}]
        )["Parameters"]
        ck.equal("lock secret exists once", len(meta), 1)
        if meta:
            ck.equal("lock secret is a SecureString", meta[0]["Type"], "SecureString")
            ck.equal("lock secret was never rewritten", meta[0].get("Version"), 1)
        value = self.c["ssm"].get_parameter(Name=self.secret, WithDecryption=True)["Parameter"]["Value"]
        ck.add("lock secret is long and random enough", len(value) >= 43, f"{len(value)} characters")

    def check_roles(self, ck):
        iam = self.c["iam"]
        wanted = {
            self.notifier: (
                "trailwatch-notifier",
                [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    # The topic is encrypted with the TrailWatch key (SNS.1): a publisher needs both on the key.
                    "kms:Decrypt",
                    "kms:GenerateDataKey*",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "s3:GetBucketTagging",
                    "s3:PutBucketTagging",
                    "sns:Publish",
                    "sqs:SendMessage",
                    "ssm:GetParameter",
                ],
            ),
            self.lock: (
                "trailwatch-lock",
                [
                    "dynamodb:DeleteItem",
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "s3:GetBucketObjectLockConfiguration",
                    "s3:GetBucketVersioning",
                    "s3:PutBucketObjectLockConfiguration",
                    "s3:PutBucketVersioning",
                    "ssm:GetParameter",
                ],
            ),
        }
        for role, (policy_name, actions) in wanted.items():
            trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
            st = trust["Statement"][0] if trust.get("Statement") else {}
            ck.equal(f"{role} trusted by Lambda", st.get("Principal"), {"Service": "lambda.amazonaws.com"})
            ck.equal(
                f"{role} trust limited to this account",
                _condition(st, "StringEquals", "aws:SourceAccount"),
                self.account,
            )
            ck.equal(f"{role} has one trust statement", len(trust.get("Statement", [])), 1)
            document = iam.get_role_policy(RoleName=role, PolicyName=policy_name)["PolicyDocument"]
            ck.equal(f"{role} inline policy actions", _actions(document), actions)
            logs = _statement(document, "TrailWatchOwnLogs")
            ck.equal(
                f"{role} logs only to its own log group",
                logs.get("Resource"),
                f"arn:aws:logs:{self.args.region}:{self.account}:log-group:/aws/lambda/{role}:*",
            )
            ck.add(
                f"{role} grants no wildcard action but the SNS publisher's kms:GenerateDataKey*",
                not [a for a in _actions(document) if "*" in a and a != "kms:GenerateDataKey*"],
                _actions(document),
            )
            if role == self.notifier:
                ck.equal(
                    "notifier publishes to the topic only",
                    _statement(document, "TrailWatchPublish").get("Resource"),
                    self.topic_arn,
                )
            buckets = [s for s in document.get("Statement", []) if str(s.get("Resource", "")).startswith("arn:aws:s3:")]
            ck.add(
                f"{role} reaches this account's buckets only",
                buckets
                and all(s.get("Condition") == {"StringEquals": {"aws:ResourceAccount": self.account}} for s in buckets),
                buckets,
            )
            state = [s for s in document.get("Statement", []) if s.get("Resource") == self.table_arn]
            prefix = "event#*" if role == self.notifier else "token#*"
            ck.equal(
                f"{role} reaches its own state items only",
                [s.get("Condition") for s in state],
                [{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [prefix]}}],
            )
            secret = _statement(document, "TrailWatchReadLockSecret").get("Resource")
            ck.equal(
                f"{role} reads the lock secret only",
                secret,
                f"arn:aws:ssm:{self.args.region}:{self.account}:parameter{self.secret}",
            )

    def check_log_groups(self, ck, expect_kept):
        for function in (self.notifier, self.lock):
            group = self.log_group(function)
            if expect_kept:
                ck.add(f"log group of {function} exists", group is not None, group)
                ck.equal(f"log group of {function} retention", (group or {}).get("retentionInDays"), 365)
            else:
                ck.add(f"log group of {function} is gone", group is None, group)

    # --- removed -------------------------------------------------------------------------------------------

    def check_removed(self, ck, expect_queue_kept):
        lam, iam = self.c["lambda"], self.c["iam"]
        ck.add("state table is gone", _missing(lambda: self.c["dynamodb"].describe_table(TableName=self.table)))
        alarms = self.c["cloudwatch"].describe_alarms(AlarmNames=list(self.alarms))["MetricAlarms"]
        ck.equal("notifier alarms are gone", [a["AlarmName"] for a in alarms], [])
        queue_gone = _missing(lambda: self.c["sqs"].get_queue_url(QueueName=self.queue))
        if expect_queue_kept:
            ck.add("failed-events queue is kept (it may hold failed events)", not queue_gone)
        else:
            ck.add("failed-events queue is gone", queue_gone)
        for function in (self.notifier, self.lock):
            ck.add(f"function {function} is gone", _missing(lambda f=function: lam.get_function(FunctionName=f)))
            ck.add(f"role {function} is gone", _missing(lambda f=function: iam.get_role(RoleName=f)))
        ck.add("lock secret is gone", _missing(lambda: self.c["ssm"].get_parameter(Name=self.secret)))
        try:
            filters = self.c["logs"].describe_subscription_filters(logGroupName=self.trail_group)["subscriptionFilters"]
        except ClientError:
            filters = []
        ck.equal(
            "no subscription filter of ours", [f["filterName"] for f in filters if f["filterName"] == self.notifier], []
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--expect", choices=["present", "removed", "purged"], required=True)
    parser.add_argument("--name", default="trailwatch")
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--language", default="en")
    parser.add_argument("--lock-mode", default="GOVERNANCE")
    parser.add_argument("--lock-days", type=int, default=30)
    args = parser.parse_args(argv)
    stack = Notifier(args)
    ck = Checks()
    if args.expect == "present":
        stack.check_functions(ck)
        stack.check_permissions(ck)
        stack.check_subscription_filter(ck)
        stack.check_secret(ck)
        stack.check_roles(ck)
        stack.check_failed_events_path(ck)
        stack.check_log_groups(ck, expect_kept=True)
    else:
        stack.check_removed(ck, expect_queue_kept=args.expect == "removed")
        stack.check_log_groups(ck, expect_kept=args.expect == "removed")
    print(json.dumps(ck.results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
