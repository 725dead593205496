"""Puts log data into a deployed TrailWatch stack, so teardown tests can prove it is kept or purged.

    seed_log_data.py [--name trailwatch] [--region R]

Writes object versions and a delete marker into the log bucket and events into the log group, and prints
{"objects": <versions + delete markers>, "events": <log events>}. moto refuses object writes over plain HTTP
once the TLS-only statement is in place, so the bucket policy is lifted for the writes and put back unchanged.
"""

import argparse
import json
import sys
import time

import boto3


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--name", default="trailwatch")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)

    session = boto3.session.Session(region_name=args.region)
    account = session.client("sts").get_caller_identity()["Account"]
    s3 = session.client("s3")
    bucket = f"{args.name}-logs-{account}-{args.region}"
    policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=bucket)
    try:
        key = (
            f"AWSLogs/{account}/CloudTrail/{args.region}/2026/11/28/{account}_CloudTrail_{args.region}_example.json.gz"
        )
        s3.put_object(Bucket=bucket, Key=key, Body=b"first version")
        s3.put_object(Bucket=bucket, Key=key, Body=b"second version")
        s3.put_object(Bucket=bucket, Key=f"AWSLogs/{account}/CloudTrail-Digest/example.json.gz", Body=b"digest")
        s3.delete_object(Bucket=bucket, Key=key)
    finally:
        s3.put_bucket_policy(Bucket=bucket, Policy=policy)

    logs = session.client("logs")
    group = f"aws-cloudtrail-logs-{args.name}"
    stream = f"{account}_CloudTrail_{args.region}"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    events = [
        {"timestamp": now, "message": json.dumps({"eventName": "CreateBucket", "eventSource": "s3.amazonaws.com"})},
        {
            "timestamp": now + 1,
            "message": json.dumps({"eventName": "PutBucketPolicy", "eventSource": "s3.amazonaws.com"}),
        },
    ]
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
    json.dump({"objects": 4, "events": len(events)}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
