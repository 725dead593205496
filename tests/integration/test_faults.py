"""TrailWatch survives AWS's bad days (issue 4, part 3: faults).

site.yml and teardown.yml run against moto_server through tests/helpers/fault_proxy.py, which answers a
share of the API requests with throttling, 5xx or a dropped connection, or answers CreateTrail with the
"Access denied" CloudTrail gives while a new IAM role propagates.  Converges are also killed at seeded random
times and at exact API calls, then re-run or torn down.  A kill is SIGKILL to ansible-playbook and every
process it started: ansible's workers call setsid(), so killing the playbook's process group alone leaves the
running module alive and calling AWS (fault_runs.kill_run finds the run's processes by an environment marker).

Everything is deterministic for a given seed except the wall-clock kill points (the machine's speed decides
which call a kill at N seconds interrupts; the proxy's log says which one it was).
"""

import random
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "helpers"))

import moto_stand  # noqa: E402
from fault_proxy import FaultProxy, Targeted, role_propagation  # noqa: E402
from fault_runs import (  # noqa: E402
    NAME,
    FirstCall,
    KillSwitch,
    inventory,
    run_and_kill,
    run_playbook,
    stack_checks,
)

pytestmark = pytest.mark.integration

SITE = "playbooks/site.yml"
TEARDOWN = "playbooks/teardown.yml"
FAULT_KINDS = ("throttle", "5xx", "drop")
# 20 % of all API requests fail (throttle, 5xx and drop in equal shares).  Seeds 1-30 at 20 %: 26 converge,
# 7, 15, 17 and 24 fail because one call met three faults in a row, the last a drop (the bug
# test_dropped_connections_on_one_call_are_retried pins down).  Seed 1 converges.
FAULT_RATE = 0.2
FAULT_SEED = 1
KILL_SEEDS = (3, 5, 6)  # kills at 19 %, 50 % and 63 % of the kill window (u = 0.24, 0.62, 0.79 of 80 %)
# The kill tests deploy 15 watches (the cis preset), so that a kill can land between a watch's filter and alarm.
KILL_VARS = {"trailwatch_watch_presets": ["s3_bucket_created", "cis"]}


def _watch_names(presets):
    data = yaml.safe_load((REPO / "roles" / "alerts" / "vars" / "main.yml").read_text())["trailwatch__presets"]
    return sorted(f"{NAME}-{watch['name']}" for preset in presets for watch in data[preset])


def _tail(text, lines=60):
    return "\n".join(text.splitlines()[-lines:])


def _report(label, **values):
    """One line per run for `pytest -s` (fault rates, timings and injections go into the issue's closing note)."""
    print(f"\n[faults] {label}: " + ", ".join(f"{k}={v}" for k, v in values.items()))


@pytest.fixture
def moto(moto_endpoint):
    """The session's moto_server, emptied."""
    moto_stand.reset(moto_endpoint)
    return moto_endpoint


@pytest.fixture(scope="module")
def kill_window(moto_endpoint):
    """Seconds from the first to the last API call of a clean converge (with KILL_VARS) on this machine.

    Random kills are timed from the first API call: the 2-4 s Ansible takes to start are no interesting kill
    point, and on a loaded machine they vary so much that kills timed from the process start mostly landed
    there.  A kill is drawn in [0, 80 %] of this window.
    """
    moto_stand.reset(moto_endpoint)
    with FaultProxy(moto_endpoint) as proxy:
        run = run_playbook(proxy.endpoint, SITE, KILL_VARS)
        log = proxy.stats()["log"]
    assert run.returncode == 0, _tail(run.output)
    moto_stand.reset(moto_endpoint)
    window = log[-1]["t"] - log[0]["t"]
    _report("clean converge", seconds=f"{run.seconds:.1f}", api_calls=len(log), api_window=f"{window:.1f}s")
    return window


def _assert_one_of_each(endpoint, watches):
    found = inventory(endpoint)
    assert found["trails"] == 1, found
    assert found["filters"] == dict.fromkeys(watches, 1), found["filters"]
    assert found["alarms"] == dict.fromkeys(watches, 1), found["alarms"]
    assert found["topics"] == [f"arn:aws:sns:eu-west-1:{found['account']}:{NAME}-alerts"], found["topics"]
    return found


def _assert_nothing_left(endpoint):
    found = inventory(endpoint)
    assert found["trails"] == 0, found
    assert found["roles"] == [], found
    assert found["alarms"] == {}, found
    assert found["filters"] == {}, found
    assert found["topics"] == [], found
    assert found["log_groups"] == [], found
    assert found["buckets"] == [], found
    assert found["aliases"] == [], found
    assert all(key["state"] == "PendingDeletion" for key in found["keys"]), found["keys"]
    return found


# --------------------------------------------------------------------------
# The proxy itself
# --------------------------------------------------------------------------


def test_proxy_forwards_unchanged_counts_and_is_bounded(moto):
    import json
    import urllib.request

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    no_env_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    session = boto3.session.Session(region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t")
    with FaultProxy(moto, max_requests=2) as proxy:
        sts = session.client("sts", endpoint_url=proxy.endpoint)
        assert sts.get_caller_identity()["Account"] == "123456789012"
        moto_stand.record_start(moto)
        session.client("s3", endpoint_url=proxy.endpoint).list_buckets()
        recording = no_env_proxy.open(f"{moto}/moto-api/recorder/download-recording").read().decode()
        assert moto_stand.record_stop(moto)["operations"] == ["s3:GET"]
        host = proxy.endpoint.split("//", 1)[1]
        assert f'"Host": "{host}"' in recording, "the Host header boto3 signed reaches moto unchanged"
        with no_env_proxy.open(proxy.endpoint + "/__proxy/stats") as answer:
            stats = json.load(answer)
        assert stats["forwarded_by_operation"] == {"sts:GetCallerIdentity": 1, "s3:GET": 1}
        assert stats["injected"] == {}
        with pytest.raises((ClientError, BotoCoreError)):  # the third request is over the bound
            sts.get_caller_identity()
        assert proxy.wait(5) and proxy.stats()["stop_reason"] == "max_requests"


def test_proxy_faults_are_deterministic_for_a_seed(moto):
    import http.client

    def outcomes(seed):
        with FaultProxy(moto, rate=0.5, seed=seed) as proxy:
            host, port = proxy.endpoint.split("//", 1)[1].split(":")
            for _attempt in range(30):
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
                try:
                    conn.request(
                        "POST",
                        "/",
                        body="Action=GetCallerIdentity&Version=2011-06-15",
                        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
                    )
                    conn.getresponse().read()
                except (OSError, http.client.HTTPException):
                    pass  # a drop
                finally:
                    conn.close()
            stats = proxy.stats()
        return [entry["outcome"] for entry in stats["log"]], stats["injected"]

    first, injected = outcomes(7)
    assert first == outcomes(7)[0]
    assert first != outcomes(8)[0]
    assert set(injected) == set(FAULT_KINDS)


# --------------------------------------------------------------------------
# Converge under faults
# --------------------------------------------------------------------------


def test_site_converges_and_is_idempotent_with_20_percent_faults(moto):
    with FaultProxy(moto, rate=FAULT_RATE, kinds=FAULT_KINDS, seed=FAULT_SEED) as proxy:
        first = run_playbook(proxy.endpoint, SITE)
        first_stats = proxy.stats()
        proxy.reset_stats()
        second = run_playbook(proxy.endpoint, SITE) if first.returncode == 0 else None
        second_stats = proxy.stats()
    _report(
        f"converge with {FAULT_RATE:.0%} faults (seed {FAULT_SEED})",
        seconds=f"{first.seconds:.1f}",
        api_requests=first_stats["api_requests"],
        injected=first_stats["injected"],
    )
    assert first.returncode == 0, _tail(first.output)
    _report(
        f"re-run with {FAULT_RATE:.0%} faults",
        seconds=f"{second.seconds:.1f}",
        api_requests=second_stats["api_requests"],
        injected=second_stats["injected"],
    )
    assert second.returncode == 0, _tail(second.output)
    assert second.changed == 0, second.recap

    injected = Counter(first_stats["injected"]) + Counter(second_stats["injected"])
    assert all(injected[kind] > 0 for kind in FAULT_KINDS), injected
    assert injected.total() >= 8, injected  # about 20 % of ~65 calls

    failed = [check for check in stack_checks(moto) if not check["ok"]]
    assert failed == []


def test_create_trail_access_denied_while_the_role_propagates_is_retried(moto):
    with FaultProxy(moto, targeted=[role_propagation(3)]) as proxy:
        run = run_playbook(proxy.endpoint, SITE)
        stats = proxy.stats()
    create_trail = [entry["outcome"] for entry in stats["log"] if entry["op"] == "cloudtrail:CreateTrail"]
    _report("CreateTrail denied 3 times", seconds=f"{run.seconds:.1f}", create_trail=create_trail)
    assert run.returncode == 0, _tail(run.output)
    assert stats["injected"] == {"role_propagation": 3}
    assert create_trail == ["role_propagation"] * 3 + ["forwarded"]
    assert stats["forwarded_by_operation"]["cloudtrail:CreateTrail"] == 1
    assert inventory(moto)["trails"] == 1


def test_dropped_connections_on_one_call_are_retried(moto):
    # Three drops in a row on one call: botocore gives up after its third attempt.  At 20 % faults with a
    # third of them drops this happens to about 1 call in 375, i.e. to roughly one converge in ten.
    with FaultProxy(moto, targeted=[Targeted("drop_streak", ":CreateRole", 3, kind="drop")]) as proxy:
        run = run_playbook(proxy.endpoint, SITE)
        stats = proxy.stats()
    assert stats["injected"] == {"drop_streak": 3}
    assert run.returncode == 0, _tail(run.output)
    assert inventory(moto)["roles"] == [f"{NAME}-cloudtrail-to-logs"]


def test_throttled_head_bucket_after_create_bucket_is_retried(moto):
    # Seeds 1-10 at 30 % faults: seed 3 fails this way.
    with FaultProxy(moto, targeted=[Targeted("slowdown_streak", "s3:HEAD", 3, kind="throttle")]) as proxy:
        run = run_playbook(proxy.endpoint, SITE)
        stats = proxy.stats()
    assert stats["injected"] == {"slowdown_streak": 3}
    assert run.returncode == 0, _tail(run.output)
    assert inventory(moto)["buckets"] == [f"{NAME}-logs-123456789012-eu-west-1"]


# --------------------------------------------------------------------------
# Killed converges
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", KILL_SEEDS)
def test_killed_converge_rerun_leaves_exactly_one_of_each(moto, kill_window, seed):
    delay = random.Random(seed).uniform(0.0, 0.8 * kill_window)
    for _attempt in range(3):  # a machine faster than during calibration may finish first: halve the delay
        moto_stand.reset(moto)
        first_call = FirstCall()
        with FaultProxy(moto, on_request=first_call) as proxy:  # no faults: it times the kill, logs where it landed
            killed = run_and_kill(proxy.endpoint, SITE, delay, KILL_VARS, first_call=first_call)
            log = proxy.stats()["log"]
        if killed.killed:
            break
        delay /= 2
    landed = f"after {len(log)} API calls (last {log[-1]['op'] if log else 'none'}), task {killed.last_task()!r}"
    _report(f"kill seed {seed}", delay=f"{delay:.2f}s after the first API call", landed=landed)
    assert killed.killed, f"the converge ended before the kill, {delay:.2f}s after its first API call"
    assert killed.survivors == [], "processes of the run outlived the SIGKILL"

    rerun = run_playbook(moto, SITE, KILL_VARS)
    assert rerun.returncode == 0, _tail(rerun.output)
    _assert_one_of_each(moto, _watch_names(KILL_VARS["trailwatch_watch_presets"]))

    again = run_playbook(moto, SITE, KILL_VARS)
    assert again.returncode == 0, _tail(again.output)
    assert again.changed == 0, again.recap


@pytest.mark.parametrize(
    "switch",
    [
        pytest.param(lambda: KillSwitch(at_operation="iam:CreateRole"), id="key-bucket-log-group-only"),
        pytest.param(lambda: KillSwitch(at_operation="logs:PutMetricFilter"), id="filter-without-alarm"),
    ],
)
def test_teardown_after_a_partial_converge(moto, switch):
    switch = switch()
    with FaultProxy(moto, on_request=switch) as proxy:
        killed = run_and_kill(proxy.endpoint, SITE, extra_vars=KILL_VARS, switch=switch)
        assert proxy.stats()["api_requests"] > 0
    assert killed.killed, "the kill switch never fired"
    assert killed.survivors == []
    partial = inventory(moto)
    _report("teardown after a kill", killed_at=switch.fired_at, left_behind=partial)

    teardown = run_playbook(moto, TEARDOWN, dict(KILL_VARS, trailwatch_purge_data=True))
    assert teardown.returncode == 0, _tail(teardown.output)
    _assert_nothing_left(moto)


def test_kill_between_create_key_and_alias_leaves_no_orphan_key(moto):
    switch = KillSwitch(after_operation="kms:CreateKey")
    with FaultProxy(moto, on_request=switch) as proxy:
        killed = run_and_kill(proxy.endpoint, SITE, switch=switch)
    assert killed.killed and switch.fired_at[1] == "kms:DescribeKey"  # CreateKey answered, no alias yet
    assert inventory(moto)["aliases"] == []

    rerun = run_playbook(moto, SITE)
    assert rerun.returncode == 0, _tail(rerun.output)
    _assert_one_of_each(moto, _watch_names(["s3_bucket_created"]))
    keys = inventory(moto)["keys"]
    assert len(keys) == 1, f"TrailWatch keys after the re-run: {keys}"

    teardown = run_playbook(moto, TEARDOWN, {"trailwatch_purge_data": True})
    assert teardown.returncode == 0, _tail(teardown.output)
    _assert_nothing_left(moto)
