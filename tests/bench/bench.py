"""Benchmarks playbooks/site.yml against a local moto_server; writes docs/benchmarks.md.

    python tests/bench/bench.py [--runs 5] [--out docs/benchmarks.md]

For 1 watch and for the cis preset (15 watches): converge on an empty account, the no-op re-run and check
mode, each as median/min/max wall time of --runs runs, with API calls per run (total and write) from
moto's recorder; the same for a one-task playbook calling amazon.aws.aws_caller_info (the floor).

Many accounts (--accounts 1,4,12, --account-runs 3): site.yml over an inventory of N accounts reached by AssumeRole
(moto acts in the account of the role's ARN), with Ansible's default 5 forks: converge and no-op wall time and the
cost per account, the figure to size AWX job slices with.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "helpers"))

import moto_stand  # noqa: E402

CASES = {
    "1 watch": {},
    "cis preset (15 watches)": {"trailwatch_watch_presets": ["s3_bucket_created", "cis"]},
}
TARGETS = [
    ("no-op, 1 watch <= 3.5x floor", lambda r: r["1 watch"]["no-op"]["median"] / r["floor"]["median"], 3.5),
    ("no-op, 1 watch <= 30 API calls", lambda r: r["1 watch"]["no-op"]["calls"], 30),
    (
        "no-op, 15 watches <= 1.25x no-op, 1 watch",
        lambda r: r["cis preset (15 watches)"]["no-op"]["median"] / r["1 watch"]["no-op"]["median"],
        1.25,
    ),
    ("converge, 1 watch <= 6x floor", lambda r: r["1 watch"]["converge"]["median"] / r["floor"]["median"], 6),
]


def _env(endpoint):
    return moto_stand.playbook_env(endpoint, region="us-east-1")


def _run(endpoint, playbook, extra_vars, check=False, inventory=None):
    """One timed ansible-playbook run with its API calls recorded: (seconds, calls, writes)."""
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(REPO / playbook),
        "-e",
        json.dumps(extra_vars),
    ]
    if inventory:
        command += ["-i", str(inventory), "--forks", str(FORKS)]
    if check:
        command.append("--check")
    moto_stand.record_start(endpoint)
    start = time.perf_counter()
    proc = subprocess.run(
        command, cwd=REPO, env=_env(endpoint), capture_output=True, text=True, timeout=600, check=False
    )
    elapsed = time.perf_counter() - start
    calls = moto_stand.record_stop(endpoint)
    if proc.returncode != 0:
        raise SystemExit(f"{playbook} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return elapsed, calls["total"], calls["writes"]


def _stats(samples):
    times = [s[0] for s in samples]
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "calls": statistics.median(s[1] for s in samples),
        "writes": statistics.median(s[2] for s in samples),
    }


def measure(endpoint, runs):
    results = {"floor": _stats([_run(endpoint, "tests/bench/floor.yml", {}) for _unused in range(runs)])}
    for case, extra_vars in CASES.items():
        samples = {"converge": [], "no-op": [], "check mode": []}
        for _unused in range(runs):
            moto_stand.reset(endpoint)
            samples["converge"].append(_run(endpoint, "playbooks/site.yml", extra_vars))
            samples["no-op"].append(_run(endpoint, "playbooks/site.yml", extra_vars))
            samples["check mode"].append(_run(endpoint, "playbooks/site.yml", extra_vars, check=True))
        results[case] = {kind: _stats(s) for kind, s in samples.items()}
    return results


FORKS = 5  # Ansible's default, and AWX's


def _deployer_role(account):
    return f"arn:aws:iam::{account}:role/TrailWatchDeployer"


def _accounts_inventory(directory, count):
    """An inventory of `count` accounts, 100000000001 and up, each reached by AssumeRole."""
    hosts = "".join(
        f"    account-{n:02d}:\n      trailwatch_assume_role_arn: {_deployer_role(100000000000 + n)}\n"
        for n in range(1, count + 1)
    )
    path = Path(directory) / f"accounts-{count}.yml"
    path.write_text(
        "all:\n  vars:\n    ansible_connection: local\n"
        '    ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        f"  hosts:\n{hosts}"
    )
    return path


def measure_accounts(endpoint, counts, runs):
    """{count: {"converge": stats, "no-op": stats}} of site.yml over `count` accounts."""
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        for count in counts:
            inventory = _accounts_inventory(directory, count)
            samples = {"converge": [], "no-op": []}
            for _unused in range(runs):
                moto_stand.reset(endpoint)
                samples["converge"].append(_run(endpoint, "playbooks/site.yml", {}, inventory=inventory))
                samples["no-op"].append(_run(endpoint, "playbooks/site.yml", {}, inventory=inventory))
            results[count] = {kind: _stats(s) for kind, s in samples.items()}
    return results


def report_accounts(results, runs):
    lines = [
        "",
        "## Many accounts",
        "",
        f"`playbooks/site.yml` over an inventory of N accounts (AssumeRole into each), {FORKS} forks, median of {runs} "
        "runs. moto_server and Ansible share the machine's cores, so the per-account figure is what one controller "
        "of this size spends per account: size AWX job slices with it.",
        "",
        "| accounts | converge s | per account s | no-op s | per account s | API calls (no-op) | writes (converge) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for count, r in results.items():
        converge, noop = r["converge"], r["no-op"]
        lines.append(
            f"| {count} | {converge['median']:.1f} | {converge['median'] / count:.2f} | {noop['median']:.1f} | "
            f"{noop['median'] / count:.2f} | {noop['calls']:.0f} | {converge['writes']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def _versions():
    names = ("ansible-core", "ansible", "boto3", "botocore", "moto")
    versions = {name: metadata.version(name) for name in names}
    manifest = sys.modules["json"].loads(
        (Path(metadata.distribution("ansible").locate_file("ansible_collections/amazon/aws/MANIFEST.json"))).read_text()
    )
    versions["amazon.aws"] = manifest["collection_info"]["version"]
    return versions


def _cpu():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def report(results, runs):
    lines = [
        "# Benchmarks",
        "",
        "`make bench` (tests/bench/bench.py): `playbooks/site.yml` against a local moto_server, "
        f"median of {runs} runs (min-max), API calls per run from moto's request recorder.",
        "",
        f"Machine: {os.cpu_count()} cores, {_cpu()}, Python {platform.python_version()}, "
        + ", ".join(f"{k} {v}" for k, v in _versions().items())
        + ".",
        f"Measured: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "| run | median s | min s | max s | API calls | write calls |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    floor = results["floor"]
    lines.append(
        f"| floor: one task, amazon.aws.aws_caller_info | {floor['median']:.2f} | {floor['min']:.2f} | "
        f"{floor['max']:.2f} | {floor['calls']:.0f} | {floor['writes']:.0f} |"
    )
    for case in CASES:
        for kind, s in results[case].items():
            lines.append(
                f"| {kind}, {case} | {s['median']:.2f} | {s['min']:.2f} | {s['max']:.2f} | "
                f"{s['calls']:.0f} | {s['writes']:.0f} |"
            )
    lines += ["", "| target | measured | limit | met |", "|---|---:|---:|---|"]
    for name, value, limit in TARGETS:
        measured = value(results)
        lines.append(f"| {name} | {measured:.2f} | {limit} | {'yes' if measured <= limit else 'NO'} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"))
    parser.add_argument("--accounts", default="1,4,12", help="account counts for the many-accounts table ('' skips it)")
    parser.add_argument("--account-runs", type=int, default=3)
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.accounts.split(",") if c.strip()]
    with tempfile.TemporaryDirectory() as state:
        endpoint = moto_stand.start(state)
        try:
            results = measure(endpoint, args.runs)
            accounts = measure_accounts(endpoint, counts, args.account_runs) if counts else {}
        finally:
            moto_stand.stop(state)
    text = report(results, args.runs) + (report_accounts(accounts, args.account_runs) if accounts else "")
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
