"""Benchmarks playbooks/site.yml against a local moto_server; writes docs/benchmarks.md.

    python tests/bench/bench.py [--runs 5] [--out docs/benchmarks.md]

For 1 watch and for the cis preset (15 watches): converge on an empty account, the no-op re-run, check mode and
the doctor (playbooks/doctor.yml, read-only) on the deployed stack, each as median/min/max wall time of --runs
runs, with API calls per run (total and write) from moto's recorder; the same for a one-task playbook calling
amazon.aws.aws_caller_info (the floor).

Many accounts (--accounts 1,4,12, --account-runs 3): site.yml over an inventory of N accounts reached by AssumeRole
(moto acts in the account of the role's ARN), with Ansible's default 5 forks: converge and no-op wall time, the
cost per account, the figure to size AWX job slices with, and the marginal cost of each added account.

--baseline REF (for example main) measures the same runs of another commit in the same bench run, interleaved with
this checkout's (a temporary git worktree linked into its own collections path): on a shared, busy machine only
figures taken side by side compare. The ratios to the floor are what the targets (issue 10) are set in.
"""

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
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


def _ratio(case, kind):
    return lambda r: r[case][kind]["median"] / r["floor"]["median"]


# (target, measured value of a results dict, limit); issue 10's targets.
TARGETS = [
    ("no-op, 1 watch <= 2.5x floor", _ratio("1 watch", "no-op"), 2.5),
    ("check mode, 1 watch <= 2.5x floor", _ratio("1 watch", "check mode"), 2.5),
    ("converge, 1 watch <= 3x floor", _ratio("1 watch", "converge"), 3),
    ("no-op, 1 watch <= 26 API calls", lambda r: r["1 watch"]["no-op"]["calls"], 26),
    (
        "no-op, 15 watches <= 1.25x no-op, 1 watch",
        lambda r: r["cis preset (15 watches)"]["no-op"]["median"] / r["1 watch"]["no-op"]["median"],
        1.25,
    ),
]
PER_ADDED_ACCOUNT_LIMIT = 1.2  # seconds of no-op wall time per account added (issue 10), on a 2-core machine


def _env(endpoint, root=REPO):
    env = moto_stand.playbook_env(endpoint, region="us-east-1")
    if root != REPO:
        env["ANSIBLE_COLLECTIONS_PATH"] = str(root / ".venv" / "collections")
    return env


def _run(endpoint, playbook, extra_vars, check=False, inventory=None, root=REPO, broken_allowed=()):
    """One timed ansible-playbook run of ``root``'s playbook (this checkout's, or the baseline's) with its API calls
    recorded: (seconds, calls, writes). A doctor run may fail when the links it names broken are all in
    ``broken_allowed`` (the bench deploys without subscribers, so the doctor's ``subscription`` link is broken)."""
    command = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        str(root / playbook),
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
        command, cwd=root, env=_env(endpoint, root), capture_output=True, text=True, timeout=900, check=False
    )
    elapsed = time.perf_counter() - start
    calls = moto_stand.record_stop(endpoint)
    broken = set(re.findall(r'"  BROKEN\s+(\S+)', proc.stdout))
    if proc.returncode != 0 and not (broken_allowed and broken and broken <= set(broken_allowed)):
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


def measure(endpoint, runs, roots):
    """{"floor": stats, label: {case: {kind: stats}}} for each (label, root) in ``roots``, their runs interleaved."""
    floor = []
    results = {}
    for case, extra_vars in CASES.items():
        samples = {label: {"converge": [], "no-op": [], "check mode": [], "doctor": []} for label, _root in roots}
        for _unused in range(runs):
            floor.append(_run(endpoint, "tests/bench/floor.yml", {}))  # interleaved: the load drifts
            for label, root in roots:
                moto_stand.reset(endpoint)
                samples[label]["converge"].append(_run(endpoint, "playbooks/site.yml", extra_vars, root=root))
                samples[label]["no-op"].append(_run(endpoint, "playbooks/site.yml", extra_vars, root=root))
                samples[label]["check mode"].append(
                    _run(endpoint, "playbooks/site.yml", extra_vars, check=True, root=root)
                )
                if (root / "playbooks" / "doctor.yml").exists():  # a baseline older than the doctor has none
                    samples[label]["doctor"].append(
                        _run(endpoint, "playbooks/doctor.yml", extra_vars, root=root, broken_allowed=("subscription",))
                    )
        for label, _root in roots:
            results.setdefault(label, {})[case] = {kind: _stats(s) for kind, s in samples[label].items() if s}
    results["floor"] = _stats(floor)
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


def measure_accounts(endpoint, counts, runs, roots):
    """{label: {count: {"converge": stats, "no-op": stats}}} of site.yml over `count` accounts, roots interleaved."""
    results = {label: {} for label, _root in roots}
    with tempfile.TemporaryDirectory() as directory:
        for count in counts:
            inventory = _accounts_inventory(directory, count)
            samples = {label: {"converge": [], "no-op": []} for label, _root in roots}
            floor = []
            for _unused in range(runs):
                floor.append(_run(endpoint, "tests/bench/floor_accounts.yml", {}, inventory=inventory))
                for label, root in roots:
                    moto_stand.reset(endpoint)
                    for kind in ("converge", "no-op"):
                        samples[label][kind].append(
                            _run(endpoint, "playbooks/site.yml", {}, inventory=inventory, root=root)
                        )
            for label, _root in roots:
                results[label][count] = {kind: _stats(s) for kind, s in samples[label].items()}
                results[label][count]["floor"] = _stats(floor)
    return results


def per_added_account(results, kind="no-op"):
    """{count: seconds of ``kind`` (no-op, or the accounts floor) per account added beyond the smallest count}."""
    counts = sorted(results)
    first = counts[0]
    return {
        count: (results[count][kind]["median"] - results[first][kind]["median"]) / (count - first)
        for count in counts[1:]
    }


def report_accounts(accounts, runs):
    lines = [
        "",
        "## Many accounts",
        "",
        f"`playbooks/site.yml` over an inventory of N accounts (AssumeRole into each), {FORKS} forks, median of {runs} "
        "runs. moto_server and Ansible share the machine's cores, so the per-account figure is what one controller "
        "of this size spends per account: size AWX job slices with it. *Per added account* is the marginal no-op "
        f"cost, (no-op(N) - no-op(1)) / (N - 1); target <= {PER_ADDED_ACCOUNT_LIMIT} s. The accounts floor "
        "(tests/bench/floor_accounts.yml: AssumeRole and one aws_caller_info call per account, the least a playbook "
        "that reaches each account costs) is measured in the same runs, with its own cost per added account.",
    ]
    for label, results in accounts.items():
        added = per_added_account(results)
        floor_added = per_added_account(results, "floor")
        lines += [
            "",
            f"### {label}",
            "",
            "| accounts | converge s | per account s | no-op s | per account s | per added account s "
            "| accounts floor s | floor per added account s | API calls (no-op) | writes (converge) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for count, r in results.items():
            converge, noop, floor = r["converge"], r["no-op"], r["floor"]
            marginal = f"{added[count]:.2f}" if count in added else "-"
            floor_marginal = f"{floor_added[count]:.2f}" if count in floor_added else "-"
            lines.append(
                f"| {count} | {converge['median']:.1f} | {converge['median'] / count:.2f} | {noop['median']:.1f} | "
                f"{noop['median'] / count:.2f} | {marginal} | {floor['median']:.1f} | {floor_marginal} | "
                f"{noop['calls']:.0f} | {converge['writes']:.0f} |"
            )
        if added:
            worst = max(added.values())
            verdict = "yes" if worst <= PER_ADDED_ACCOUNT_LIMIT else f"NO, {worst - PER_ADDED_ACCOUNT_LIMIT:+.2f} s"
            floor_worst = max(floor_added.values())
            lines += [
                "",
                f"No-op cost per added account <= {PER_ADDED_ACCOUNT_LIMIT} s: {worst:.2f} s, met: {verdict} "
                f"(the accounts floor: {floor_worst:.2f} s per added account, so {worst / floor_worst:.2f}x it).",
            ]
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


def _load():
    return "load average " + " / ".join(f"{v:.1f}" for v in os.getloadavg()) + f" on {os.cpu_count()} cores"


def report(results, runs, roots, loads):
    lines = [
        "# Benchmarks",
        "",
        "`make bench` (tests/bench/bench.py): `playbooks/site.yml` against a local moto_server, "
        f"median of {runs} runs (min-max; the floor {runs * len(CASES)} runs, interleaved), API calls per run from "
        "moto's request recorder; the ratios are to the floor "
        "(one task calling amazon.aws.aws_caller_info) measured in the same run.",
        "",
        f"Machine: {os.cpu_count()} cores, {_cpu()}, Python {platform.python_version()}, "
        + ", ".join(f"{k} {v}" for k, v in _versions().items())
        + ".",
        f"Measured: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {loads[0]} before, {loads[1]} after"
        + (" (a busy machine: absolute times are inflated, the ratios to the floor less so)." if _busy(loads) else "."),
        "",
        "| run | median s | min s | max s | x floor | API calls | write calls |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    floor = results["floor"]
    lines.append(
        f"| floor: one task, amazon.aws.aws_caller_info | {floor['median']:.2f} | {floor['min']:.2f} | "
        f"{floor['max']:.2f} | 1.00 | {floor['calls']:.0f} | {floor['writes']:.0f} |"
    )
    for label, _root in roots:
        for case in CASES:
            for kind, s in results[label][case].items():
                lines.append(
                    f"| {label}: {kind}, {case} | {s['median']:.2f} | {s['min']:.2f} | {s['max']:.2f} | "
                    f"{s['median'] / floor['median']:.2f} | {s['calls']:.0f} | {s['writes']:.0f} |"
                )
    labels = [label for label, _root in roots]
    lines += [
        "",
        "| target | limit | " + " | ".join(f"{label} | met" for label in labels) + " |",
        "|---|---:|" + "---:|---|" * len(labels),
    ]
    for name, value, limit in TARGETS:
        cells = []
        for label in labels:
            measured = value(dict(results[label], floor=floor))
            cells.append(f"{measured:.2f} | {'yes' if measured <= limit else f'NO, by {measured - limit:.2f}'}")
        lines.append(f"| {name} | {limit} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _busy(loads):
    return any(float(text.split()[2]) > (os.cpu_count() or 1) * 0.75 for text in loads)


class _Baseline:
    """The files of commit ``ref`` (git archive) in a temporary directory, linked into its own collections path as
    trailwatch.aws; nothing of the repository's worktrees or refs is touched."""

    def __init__(self, ref):
        self.ref = ref
        self.path = Path(tempfile.mkdtemp(prefix="trailwatch-bench-"))

    def __enter__(self):
        tree = self.path / "tree"
        tree.mkdir()
        archive = subprocess.run(["git", "archive", self.ref], cwd=REPO, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        link = tree / ".venv" / "collections" / "ansible_collections" / "trailwatch" / "aws"
        link.parent.mkdir(parents=True)
        link.symlink_to(tree)
        return tree

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"))
    parser.add_argument("--accounts", default="1,4,12", help="account counts for the many-accounts table ('' skips it)")
    parser.add_argument("--account-runs", type=int, default=3)
    parser.add_argument("--baseline", help="a git ref measured side by side with this checkout (for example main)")
    parser.add_argument("--notes", help="a file whose text is added under the tables (what the figures mean)")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.accounts.split(",") if c.strip()]
    with tempfile.TemporaryDirectory() as state, contextlib.ExitStack() as stack:
        roots = [("this checkout", REPO)]
        if args.baseline:
            roots.append((f"baseline {args.baseline}", stack.enter_context(_Baseline(args.baseline))))
        endpoint = moto_stand.start(state)
        loads = [_load()]
        try:
            results = measure(endpoint, args.runs, roots)
            accounts = measure_accounts(endpoint, counts, args.account_runs, roots) if counts else {}
        finally:
            moto_stand.stop(state)
        loads.append(_load())
    text = report(results, args.runs, roots, loads) + (report_accounts(accounts, args.account_runs) if counts else "")
    if args.notes:
        text += "\n" + Path(args.notes).read_text()
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
