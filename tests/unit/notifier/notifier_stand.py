"""What the notifier's Lambda code runs against in these tests, besides moto: the state table as the module creates
it, Lambda's asynchronous invocation (which no local tool runs), and failing SNS publishes.

Lambda cannot be invoked on this machine (no container engine; moto cannot run functions), so the handlers run
in-process and :class:`AsyncInvoker` plays the part of Lambda's asynchronous event queue exactly as the AWS Lambda
Developer Guide describes it:

- "How Lambda handles errors and retries with asynchronous invocation": when the function returns an error, Lambda
  runs it up to two more times (MaximumRetryAttempts, 0-2), waiting one minute before the first retry and two before
  the second, with the same event; an event older than MaximumEventAgeInSeconds (60 s - 6 h) is not run again.
  "Even if your function doesn't return an error, it's possible for it to receive the same event from Lambda
  multiple times because the queue itself is eventually consistent."
- "Capturing records of Lambda asynchronous invocations": an event that fails all processing attempts (condition
  ``RetriesExhausted``) or is too old (``EventAgeExceeded``) goes to the on-failure destination as an invocation
  record, for an SQS queue the ``MessageBody``: ``version``, ``timestamp``, ``requestContext`` (``requestId``,
  ``functionArn``, ``condition``, ``approximateInvokeCount``), ``requestPayload`` (the event),
  ``responseContext`` (``statusCode``, ``executedVersion``, ``functionError``) and ``responsePayload`` (the error).

The waits are kept on a virtual clock (the event age counts them) instead of being slept.
"""

import datetime
import json
import random
import traceback
import uuid

import boto3
import cloudtrail_samples as samples
from botocore.exceptions import ClientError
from botocore.exceptions import EndpointConnectionError

from ansible_collections.trailwatch.aws.plugins.module_utils._dynamodb import EXPIRES
from ansible_collections.trailwatch.aws.plugins.module_utils._dynamodb import state_table_spec

STATE_TABLE = "trailwatch-notifier-state"
# The waits before the first and the second retry (seconds).
RETRY_WAITS = (60, 120)


def topic_with_subscriber(region="us-east-1"):
    """The TrailWatch topic with an SQS queue subscribed (raw message delivery off, the default): ``(topic ARN,
    sqs client, queue URL)``. Call inside moto's mock_aws; what was published is read back with :func:`received`."""
    sns = boto3.client("sns", region_name=region)
    sqs = boto3.client("sqs", region_name=region)
    topic = sns.create_topic(Name="trailwatch-alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="subscriber")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, sqs, queue


def received(sqs, url):
    """Every message body in the queue (JSON), each once: received messages stay invisible for an hour."""
    bodies = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=3600).get("Messages"):
        bodies.extend(json.loads(message["Body"]) for message in batch)
    return bodies


def create_state_table(region="us-east-1", name=STATE_TABLE):
    """The state table exactly as the notifier module creates it, TTL on; call inside moto's mock_aws."""
    client = boto3.client("dynamodb", region_name=region)
    client.create_table(**state_table_spec(name))
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": EXPIRES})
    return name


class AsyncInvoker:
    """Lambda's asynchronous invocation of ``handler`` with its error handling settings and on-failure queue."""

    def __init__(self, handler, queue_url, max_retry_attempts, max_event_age, duplicate_rate=0.0, seed=0):
        assert 0 <= max_retry_attempts <= 2 and 60 <= max_event_age <= 21600
        self.handler = handler
        self.queue_url = queue_url
        self.max_retry_attempts = max_retry_attempts
        self.max_event_age = max_event_age
        self.duplicate_rate = duplicate_rate
        self.rng = random.Random(seed)
        self.sqs = boto3.client("sqs", region_name=queue_url.split(".")[1] if "sqs." in queue_url else "us-east-1")
        self.invocations = 0
        self.retries = 0
        self.duplicates_delivered = 0
        self.to_destination = 0

    def invoke(self, event):
        """Queues the event: runs it, retries it, and sends it to the destination when every attempt failed."""
        request_id = str(uuid.uuid4())  # one request id for the event, kept across its attempts
        age = 0
        attempts = 0
        error = None
        for attempt in range(1 + self.max_retry_attempts):
            if attempt:
                age += RETRY_WAITS[attempt - 1]
                if age > self.max_event_age:
                    return self._send_to_destination(event, request_id, "EventAgeExceeded", attempts, error)
                self.retries += 1
            attempts += 1
            self.invocations += 1
            try:
                self.handler(json.loads(json.dumps(event)), samples.LambdaContext(request_id=request_id))
            except Exception as exc:  # broad on purpose: any error the function returns counts, as for Lambda
                error = exc
                continue
            if self.rng.random() < self.duplicate_rate:  # the queue delivers the same event once more
                self.duplicates_delivered += 1
                self.invocations += 1
                try:
                    self.handler(json.loads(json.dumps(event)), samples.LambdaContext(request_id=request_id))
                except Exception:  # broad on purpose: a failed duplicate is a duplicate's business
                    pass
            return "succeeded"
        return self._send_to_destination(event, request_id, "RetriesExhausted", attempts, error)

    def _send_to_destination(self, event, request_id, condition, attempts, error):
        self.to_destination += 1
        record = {
            "version": "1.0",
            "timestamp": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "requestContext": {
                "requestId": request_id,
                "functionArn": samples.FUNCTION_ARN + ":$LATEST",
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "stackTrace": traceback.format_exception(error)[-3:] if error else [],
            },
        }
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(record))
        return condition


class PublishFaults:
    """Makes a share of SNS Publish calls fail the way they fail after the SDK's own retries, before they reach
    moto: a throttle, a 5xx, a KMS refusal of an encrypted topic, a dropped connection. ``poison``: buckets whose
    publish always fails (SNS refuses the message: a permanent error). Counts what it did."""

    ERRORS = (
        ("Throttling", "Rate exceeded", 400),
        ("InternalError", "Internal service error", 500),
        ("KMSThrottling", "KMS throttled the request", 400),
        ("ServiceUnavailable", "Service is unavailable", 503),
        (None, None, None),  # a connection that could not be made
    )

    def __init__(self, rate, seed, poison=()):
        self.rate = rate
        self.rng = random.Random(seed)
        self.poison = set(poison)
        self.calls = 0
        self.injected = 0
        self.enabled = True
        self._bucket = None

    def attach(self, client):
        client.meta.events.register("before-parameter-build.sns.Publish", self._see_params)
        client.meta.events.register("before-call.sns.Publish", self._before_call)

    def _see_params(self, params, **_kwargs):
        self._bucket = params.get("MessageAttributes", {}).get("bucket", {}).get("StringValue")

    def _before_call(self, model, **_kwargs):
        self.calls += 1
        if not self.enabled:
            return None
        if self._bucket in self.poison:
            self.injected += 1
            return _error(400, "InvalidParameter", "Invalid parameter: Message", model)
        if self.rng.random() >= self.rate:
            return None
        self.injected += 1
        code, message, status = self.rng.choice(self.ERRORS)
        if code is None:
            raise EndpointConnectionError(endpoint_url="https://sns.us-east-1.amazonaws.com/")
        return _error(status, code, message, model)


def _error(status, code, message, model):
    """A (http_response, parsed) pair botocore turns into the ClientError of ``code``."""

    class _Http:
        status_code = status
        headers = {}

    return _Http(), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4())},
    }


def client_error(code, message, operation):
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)
