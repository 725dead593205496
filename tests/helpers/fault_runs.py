"""Running playbooks against moto_server (directly or through fault_proxy) and reading the stack back.

Helpers for tests/integration/test_faults.py; boto3 is only needed by the read-back functions.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import moto_stand  # beside this file

REPO = Path(__file__).resolve().parents[2]
REGION = "eu-west-1"
NAME = "trailwatch"
PLAYBOOK_TIMEOUT = 300

_RECAP_RE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$", re.MULTILINE)


@dataclass
class Run:
    playbook: str
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    recap: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def counts(self, host: str = "localhost") -> dict[str, int]:
        return self.recap.get(host, {})

    @property
    def changed(self) -> int | None:
        return self.counts().get("changed")

    def __str__(self) -> str:
        return f"{self.playbook}: rc={self.returncode} in {self.seconds:.1f}s, recap {self.recap}"


def parse_recap(output: str) -> dict[str, dict[str, int]]:
    """The PLAY RECAP lines as {host: {ok: n, changed: n, ...}} (the last recap wins)."""
    _head, sep, tail = output.rpartition("PLAY RECAP")
    if not sep:
        return {}
    recap = {}
    for match in _RECAP_RE.finditer(tail):
        counts = dict(pair.split("=") for pair in match.group("counts").split())
        recap[match.group("host")] = {k: int(v) for k, v in counts.items()}
    return recap


def aws_env(endpoint: str) -> dict[str, str]:
    """Environment for boto3 / Ansible talking to ``endpoint`` with moto's dummy credentials."""
    env = moto_stand.playbook_env(endpoint, REGION, AWS_DEFAULT_REGION=REGION, ANSIBLE_FORCE_COLOR="0")
    for name in ("AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        env.pop(name, None)
    return env


def _command(playbook: str, extra_vars: dict | None) -> list[str]:
    command = [str(Path(sys.executable).parent / "ansible-playbook"), str(REPO / playbook)]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    return command


def run_playbook(
    endpoint: str, playbook: str, extra_vars: dict | None = None, timeout: float = PLAYBOOK_TIMEOUT
) -> Run:
    started = time.monotonic()
    proc = subprocess.run(
        _command(playbook, extra_vars),
        cwd=REPO,
        env=aws_env(endpoint),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    seconds = time.monotonic() - started
    return Run(playbook, proc.returncode, proc.stdout, proc.stderr, seconds, parse_recap(proc.stdout))


# Every process of a killable run carries this variable (with a fresh value) in its environment.
RUN_MARKER = "TRAILWATCH_FAULT_RUN"


def marked_processes(marker: str) -> list[int]:
    """Pids of live (non-zombie) processes whose environment holds RUN_MARKER=marker (Linux /proc).

    ansible-playbook's workers call setsid(): they and the module processes they start are in sessions and
    process groups of their own, so the playbook's process group does not reach them; the inherited
    environment does.
    """
    needle = f"{RUN_MARKER}={marker}".encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle not in (entry / "environ").read_bytes():
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


def kill_run(marker: str, timeout: float = 5.0) -> list[int]:
    """SIGKILL every process of the run until none is left (a fork in between is caught by the next pass).

    Returns the pids still alive after ``timeout`` (empty when the kill worked).
    """
    deadline = time.monotonic() + timeout
    while True:
        pids = marked_processes(marker)
        if not pids or time.monotonic() > deadline:
            return pids
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)


@dataclass
class Killed:
    playbook: str
    delay: float
    killed: bool
    returncode: int
    survivors: list[int]
    stdout: str

    def last_task(self) -> str:
        tasks = re.findall(r"^TASK \[(.*?)\]", self.stdout, re.MULTILINE)
        return tasks[-1] if tasks else "(none)"


class KillSwitch:
    """A fault_proxy ``on_request`` hook that kills the running playbook at an exact API call.

    It fires on the first API request that follows ``after_operation`` (that call was answered and the module
    went on to its next step), or, with ``at_operation``, when that operation arrives.  Either way the request
    in hand is still forwarded once the playbook is dead: AWS got it, the caller never saw the answer.
    The kill happens on the proxy's thread before the request is forwarded, so the module cannot go further.
    """

    def __init__(self, after_operation: str | None = None, at_operation: str | None = None):
        if (after_operation is None) == (at_operation is None):
            raise ValueError("give exactly one of after_operation and at_operation")
        self.after_operation = after_operation
        self.at_operation = at_operation
        self.marker: str | None = None
        self.fired_at: tuple[int, str] | None = None
        self.survivors: list[int] = []
        self._armed = False

    def __call__(self, number: int, operation: str) -> None:
        if self.fired_at is not None or self.marker is None:
            return
        if self._armed or operation == self.at_operation:
            self.fired_at = (number, operation)
            self.survivors = kill_run(self.marker)
        elif operation == self.after_operation:
            self._armed = True


class FirstCall:
    """A fault_proxy ``on_request`` hook that records when the first API call arrived."""

    def __init__(self):
        self.event = threading.Event()

    def __call__(self, number: int, operation: str) -> None:
        self.event.set()


def run_and_kill(
    endpoint: str,
    playbook: str,
    delay: float | None = None,
    extra_vars: dict | None = None,
    switch: KillSwitch | None = None,
    first_call: FirstCall | None = None,
) -> Killed:
    """Start ansible-playbook and SIGKILL it with all its workers and modules: ``delay`` seconds after the
    start (or after the first API call, when ``first_call`` is the proxy's on_request hook), or when
    ``switch`` (the proxy's on_request hook) fires.

    ``killed`` is False when the run ended first.  ``survivors`` lists processes of the run still alive after
    the kill (a module outliving it would keep calling AWS behind the re-run's back).
    """
    marker = uuid.uuid4().hex
    env = dict(aws_env(endpoint), **{RUN_MARKER: marker})
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(
            _command(playbook, extra_vars),
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        survivors: list[int] = []
        if switch is not None:
            switch.marker = marker
        try:
            if delay is None:
                proc.wait(timeout=PLAYBOOK_TIMEOUT)
                killed = switch is not None and switch.fired_at is not None
                survivors = switch.survivors if switch is not None else []
            else:
                if first_call is not None:
                    deadline = time.monotonic() + PLAYBOOK_TIMEOUT
                    while not first_call.event.wait(0.05) and proc.poll() is None and time.monotonic() < deadline:
                        pass
                try:
                    proc.wait(timeout=delay)
                    killed = False
                except subprocess.TimeoutExpired:
                    killed = True
                    survivors = kill_run(marker)
        finally:
            if switch is not None:
                switch.marker = None
            # Whatever happened above, nothing of this run may outlive it.
            left = kill_run(marker)
            proc.wait(timeout=30)
        out.seek(0)
        stdout = out.read()
    return Killed(playbook, delay or 0.0, killed, proc.returncode, sorted(set(survivors) | set(left)), stdout)


def stack_checks(endpoint: str, expect: str = "present") -> list[dict]:
    """tests/helpers/stack_checks.py against ``endpoint``: the list of {check, ok, detail}."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "tests" / "helpers" / "stack_checks.py"), "--expect", expect, "--region", REGION],
        cwd=REPO,
        env=aws_env(endpoint),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if proc.returncode != 0:
        raise AssertionError(f"stack_checks.py failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout)


def _clients(endpoint: str):
    import boto3

    session = boto3.session.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    services = ("sts", "kms", "s3", "logs", "iam", "cloudtrail", "sns", "cloudwatch")
    return {name: session.client(name, endpoint_url=endpoint) for name in services}


def inventory(endpoint: str, name: str = NAME) -> dict:
    """Everything TrailWatch-named in the account, counted so that duplicates show.

    moto's describe_trails ignores trailNameList: trails are counted by name from the full list.
    """
    c = _clients(endpoint)
    account = c["sts"].get_caller_identity()["Account"]
    log_group = f"aws-cloudtrail-logs-{name}"
    trails = [t for t in c["cloudtrail"].describe_trails()["trailList"] if t["Name"] == name]
    groups = [g for g in c["logs"].describe_log_groups()["logGroups"] if name in g["logGroupName"]]
    filters = []
    for group in groups:
        filters += c["logs"].describe_metric_filters(logGroupName=group["logGroupName"])["metricFilters"]
    alarms = c["cloudwatch"].describe_alarms(AlarmNamePrefix=f"{name}-")["MetricAlarms"]
    topics = [t["TopicArn"] for t in c["sns"].list_topics()["Topics"] if t["TopicArn"].split(":")[-1].startswith(name)]
    roles = [r["RoleName"] for r in c["iam"].list_roles()["Roles"] if r["RoleName"].startswith(name)]
    buckets = [b["Name"] for b in c["s3"].list_buckets().get("Buckets", []) if b["Name"].startswith(name)]
    aliases = [a for a in c["kms"].list_aliases()["Aliases"] if a["AliasName"] == f"alias/{name}"]
    keys = []
    for key in c["kms"].list_keys()["Keys"]:
        meta = c["kms"].describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if meta.get("Description", "").startswith("TrailWatch"):
            keys.append({"id": meta["KeyId"], "state": meta["KeyState"]})

    def per_name(items, key):
        counts: dict[str, int] = {}
        for item in items:
            counts[item[key]] = counts.get(item[key], 0) + 1
        return counts

    return {
        "account": account,
        "trails": len(trails),
        "log_groups": [g["logGroupName"] for g in groups],
        "log_group_exists": any(g["logGroupName"] == log_group for g in groups),
        "filters": per_name(filters, "filterName"),
        "alarms": per_name(alarms, "AlarmName"),
        "topics": topics,
        "roles": roles,
        "buckets": buckets,
        "aliases": [a["AliasName"] for a in aliases],
        "keys": keys,
    }
