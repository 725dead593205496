"""Realistic CloudTrail CreateBucket records and CloudWatch Logs subscription payloads for the notifier tests.

The records follow what CloudTrail writes for ``s3.amazonaws.com`` CreateBucket (eventVersion 1.09/1.10): console
and CLI calls by an IAM user, an assumed role (IAM Identity Center), the root user, a refused attempt and a
cross-region call. The subscription payload is built the way CloudWatch Logs builds it: JSON, gzip, base64.
"""

import base64
import copy
import gzip
import json
import random

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111111111111"
HOME_REGION = "us-east-1"
LOG_GROUP = "/trailwatch/cloudtrail"
FUNCTION_ARN = f"arn:aws:lambda:{HOME_REGION}:{ACCOUNT}:function:trailwatch-notifier"

_ADDITIONAL = {
    "SignatureVersion": "SigV4",
    "CipherSuite": "TLS_AES_128_GCM_SHA256",
    "bytesTransferredIn": 0,
    "AuthenticationMethod": "AuthHeader",
    "x-amz-id-2": "Q2hlY2tzdW1zIGFyZSBub3QgaW1wb3J0YW50IGhlcmU=",
    "bytesTransferredOut": 0,
}
_TLS = {
    "tlsVersion": "TLSv1.3",
    "cipherSuite": "TLS_AES_128_GCM_SHA256",
    "clientProvidedHostHeader": "s3.amazonaws.com",
}


def _base(bucket, region, event_id, event_time, identity, source_ip, user_agent, constraint=None):
    params = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com"}
    if constraint is not None:
        params["CreateBucketConfiguration"] = {
            "LocationConstraint": constraint,
            "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
        }
    return {
        "eventVersion": "1.10",
        "userIdentity": identity,
        "eventTime": event_time,
        "eventSource": "s3.amazonaws.com",
        "eventName": "CreateBucket",
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent,
        "requestParameters": params,
        "responseElements": None,
        "additionalEventData": dict(_ADDITIONAL),
        "requestID": "8XXQ7Z1N2B3V4C5X",
        "eventID": event_id,
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": dict(_TLS),
    }


def iam_user_with_mfa():
    """Console session of IAM user alice, signed in with MFA."""
    return _base(
        "alice-reports-2024",
        "us-east-1",
        "6f1c7a2e-1b2c-4d3e-9f40-0a1b2c3d4e5f",
        "2024-05-01T09:15:42Z",
        {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLEALICE0001",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLEALICE0001",
            "userName": "alice",
            "sessionContext": {
                "attributes": {"creationDate": "2024-05-01T08:58:10Z", "mfaAuthenticated": "true"},
            },
        },
        "203.0.113.10",
        "[Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4]",
    )


def assumed_role_no_mfa():
    """CLI call through an IAM Identity Center permission set (assumed role), no MFA in the session."""
    role = "AWSReservedSSO_DataEngineer_0123456789abcdef"
    return _base(
        "etl-staging-bucket",
        "ap-northeast-1",
        "0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d",
        "2024-05-01T10:02:03Z",
        {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEROLE00001:bob@example.com",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/bob@example.com",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLEBOB000001",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLEROLE00001",
                    "arn": f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/{role}",
                    "accountId": ACCOUNT,
                    "userName": role,
                },
                "attributes": {"creationDate": "2024-05-01T09:59:00Z", "mfaAuthenticated": "false"},
            },
        },
        "198.51.100.23",
        "[aws-cli/2.15.40 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 "
        "md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 "
        "md/prompt#off md/command#s3api.create-bucket]",
        constraint="ap-northeast-1",
    )


def root_user():
    return _base(
        "root-made-this",
        "us-east-1",
        "11111111-2222-4333-8444-555555555555",
        "2024-05-01T11:30:00Z",
        {
            "type": "Root",
            "principalId": ACCOUNT,
            "arn": f"arn:aws:iam::{ACCOUNT}:root",
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLEROOT00001",
            "sessionContext": {
                "attributes": {"creationDate": "2024-05-01T11:20:00Z", "mfaAuthenticated": "true"},
            },
        },
        "192.0.2.44",
        "[Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0]",
    )


def failed_already_exists():
    """Long-term access key of IAM user ci-deployer; the name is taken (BucketAlreadyExists)."""
    record = _base(
        "my-bucket",
        "us-east-1",
        "99999999-8888-4777-a666-555555555555",
        "2024-05-01T12:00:01Z",
        {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLECIDEPLOY1",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/ci-deployer",
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAEXAMPLECIDEPLOY1",
            "userName": "ci-deployer",
        },
        "203.0.113.99",
        "[Boto3/1.34.100 md/Botocore#1.34.100 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.12.3 "
        "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.100]",
    )
    record["errorCode"] = "BucketAlreadyExists"
    record["errorMessage"] = (
        "The requested bucket name is not available. The bucket namespace is shared by all users of the system. "
        "Please select a different name and try again."
    )
    return record


def cross_region():
    """Bucket created in eu-west-1 (call sent to eu-west-1) while the trail's home region is us-east-1."""
    record = _base(
        "eu-analytics-landing",
        "eu-west-1",
        "abcdefab-cdef-4abc-8def-abcdefabcdef",
        "2024-05-01T13:45:10Z",
        {
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLECAROL0001",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/carol",
            "accountId": ACCOUNT,
            "accessKeyId": "AKIAEXAMPLECAROL0001",
            "userName": "carol",
        },
        "203.0.113.77",
        "[aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.2 md/GOOS#linux md/GOARCH#amd64 api/s3#1.53.1]",
        constraint="eu-west-1",
    )
    return record


def not_create_bucket():
    """An S3 management event that the subscription filter would not even send (PutBucketTagging)."""
    record = copy.deepcopy(iam_user_with_mfa())
    record["eventName"] = "PutBucketTagging"
    record["eventID"] = "deadbeef-0000-4000-8000-000000000000"
    return record


def lightsail_create_bucket():
    """Lightsail also has a CreateBucket call: same eventName, another eventSource; not an S3 bucket event."""
    record = copy.deepcopy(iam_user_with_mfa())
    record["eventSource"] = "lightsail.amazonaws.com"
    record["requestParameters"] = {"bucketName": "lightsail-bucket", "bundleId": "small_1_0"}
    record["eventID"] = "feedface-0000-4000-8000-000000000000"
    return record


# A line cut off in the middle, as a truncated or corrupted record would arrive.
MALFORMED_MESSAGE = '{"eventVersion":"1.10","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/'

ALL_CREATE_BUCKET = {
    "iam_user_mfa": iam_user_with_mfa,
    "assumed_role": assumed_role_no_mfa,
    "root": root_user,
    "failed": failed_already_exists,
    "cross_region": cross_region,
}


def _event_id(rng):
    return "".join(rng.choice("0123456789") for _digit in range(56))


def subscription_payload(messages, message_type="DATA_MESSAGE", seed=7):
    """The decoded JSON CloudWatch Logs sends to a subscription destination."""
    rng = random.Random(seed)
    log_events = []
    timestamp = 1714554942000
    for message in messages:
        text = message if isinstance(message, str) else json.dumps(message)
        log_events.append({"id": _event_id(rng), "timestamp": timestamp, "message": text})
        timestamp += 1000
    return {
        "messageType": message_type,
        "owner": ACCOUNT,
        "logGroup": LOG_GROUP,
        "logStream": f"{ACCOUNT}_CloudTrail_{HOME_REGION}",
        "subscriptionFilters": ["trailwatch-create-bucket"],
        "logEvents": log_events,
    }


def encode(payload):
    """``{"awslogs": {"data": base64(gzip(json))}}``, exactly the Lambda event of a subscription filter."""
    data = base64.b64encode(gzip.compress(json.dumps(payload).encode("utf-8"))).decode("ascii")
    return {"awslogs": {"data": data}}


def subscription_event(messages, **kwargs):
    return encode(subscription_payload(messages, **kwargs))


def control_message_event():
    return encode(
        {
            "messageType": "CONTROL_MESSAGE",
            "owner": "CloudwatchLogs",
            "logGroup": "",
            "logStream": "",
            "subscriptionFilters": [],
            "logEvents": [
                {
                    "id": "",
                    "timestamp": 1714554942000,
                    "message": "CWL CONTROL MESSAGE: Checking health of destination Lambda function.",
                }
            ],
        }
    )


class LambdaContext:
    """The attributes of the Lambda context object the handlers read."""

    def __init__(self, function_arn=FUNCTION_ARN, request_id="c0ffee00-0000-4000-8000-000000000001"):
        self.invoked_function_arn = function_arn
        self.function_name = function_arn.rsplit(":", 1)[-1]
        self.aws_request_id = request_id
        self.memory_limit_in_mb = 128

    def get_remaining_time_in_millis(self):
        return 30000
