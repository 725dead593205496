"""The execution environment's build context is what we test: `ansible-builder create`, then its content checked.

    python tests/build/check_ee.py            # make ee runs it; part of make test

Builds the collection artifact into .ee/dist, runs `ansible-builder create` on execution-environment.yml into
.ee/context and checks that the context (what `podman build .ee/context` would turn into an image; building it needs
a container runtime, which our machines lack) holds:

- the artifact just built, byte for byte, under the name and version of galaxy.yml;
- amazon.aws pinned to the version the pinned `ansible` package ships, ansible-core and ansible-runner pinned as in
  requirements.txt, boto3 and botocore pinned as in requirements.txt;
- after ansible-builder's own introspection of the collections the image installs (this artifact and amazon.aws),
  only the AWS SDK as Python dependencies: none of the repository's development requirements (moto, pytest, ...).
"""

import filecmp
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EE_DIR = REPO / ".ee"
CONTEXT = EE_DIR / "context"


def _pins(path):
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.\[\]-]+)==([^\s#]+)", line.strip())
        if match:
            pins[match[1].lower()] = match[2]
    return pins


def _run(*argv, **kwargs):
    return subprocess.run([str(a) for a in argv], check=True, capture_output=True, text=True, **kwargs)


def main():
    problems = []
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))
    artifact_name = f"{galaxy['namespace']}-{galaxy['name']}-{galaxy['version']}.tar.gz"
    dist = EE_DIR / "dist"
    dist.mkdir(parents=True, exist_ok=True)
    _run(BIN / "ansible-galaxy", "collection", "build", "--output-path", dist, "--force", cwd=REPO)
    _run(
        BIN / "ansible-builder",
        "create",
        "--file",
        REPO / "execution-environment.yml",
        "--context",
        CONTEXT,
        "--output-filename",
        "Containerfile",
        cwd=REPO,
    )
    containerfile = (CONTEXT / "Containerfile").read_text(encoding="utf-8")
    requirements = _pins(REPO / "requirements.txt")

    # The collection: the artifact just built, installed from the file.
    in_context = CONTEXT / "_build" / "trailwatch" / artifact_name
    if not in_context.exists():
        problems.append(
            f"the build context has no {artifact_name} (galaxy.yml version and execution-environment.yml differ?)"
        )
    elif not filecmp.cmp(in_context, dist / artifact_name, shallow=False):
        problems.append(f"{in_context} is not the artifact just built")
    galaxy_reqs = yaml.safe_load((CONTEXT / "_build" / "requirements.yml").read_text(encoding="utf-8"))
    collections = {c["name"]: c for c in galaxy_reqs["collections"]}
    if collections.get(f"trailwatch/{artifact_name}", {}).get("type") != "file":
        problems.append(f"requirements.yml does not install trailwatch/{artifact_name} as a file: {collections}")

    # amazon.aws: the version the pinned ansible package ships.
    import ansible_collections.amazon.aws as amazon_aws

    manifest = json.loads((Path(list(amazon_aws.__path__)[0]) / "MANIFEST.json").read_text(encoding="utf-8"))
    wanted = f"=={manifest['collection_info']['version']}"
    if str(collections.get("amazon.aws", {}).get("version")) != wanted:
        problems.append(f"amazon.aws is not pinned to {wanted}: {collections.get('amazon.aws')}")

    # ansible-core, ansible-runner and the AWS SDK as requirements.txt pins them.
    for package in ("ansible-core", "ansible-runner"):
        pin = f"{package}=={requirements.get(package) or _installed(package)}"
        if pin not in containerfile:
            problems.append(f"the Containerfile does not install {pin}")
    ee_python = _pins(CONTEXT / "_build" / "requirements.txt")
    for package in ("boto3", "botocore"):
        if ee_python.get(package) != requirements.get(package):
            problems.append(
                f"{package} is pinned to {ee_python.get(package)} in the image, {requirements.get(package)} here"
            )

    # What ansible-builder's introspection adds from the installed collections: the AWS SDK only.
    with tempfile.TemporaryDirectory() as collections_path:
        _run(
            BIN / "ansible-galaxy",
            "collection",
            "install",
            dist / artifact_name,
            "-p",
            collections_path,
            "--no-deps",
            "--force",
            cwd=collections_path,
        )
        amazon = Path(collections_path, "ansible_collections", "amazon")
        amazon.mkdir()
        (amazon / "aws").symlink_to(Path(list(amazon_aws.__path__)[0]))
        found = yaml.safe_load(
            _run(
                sys.executable, CONTEXT / "_build" / "scripts" / "introspect.py", "introspect", collections_path
            ).stdout
        )
    packages = {re.split(r"[<>=!\[ ]", line, maxsplit=1)[0].lower() for line in found.get("python") or []}
    if packages - {"boto3", "botocore"}:
        problems.append(f"the image would also install {sorted(packages - {'boto3', 'botocore'})} from the collections")

    if problems:
        print("execution environment build context:\n- " + "\n- ".join(problems))
        return 1
    print(
        f"ansible-builder create: build context in {CONTEXT.relative_to(REPO)} holds {artifact_name},"
        f" amazon.aws {wanted}, ansible-core {requirements.get('ansible-core')},"
        f" boto3/botocore {requirements.get('boto3')}; the collections add only {', '.join(sorted(packages))}"
    )
    return 0


def _installed(package):
    from importlib import metadata

    return metadata.version(package)


if __name__ == "__main__":
    sys.exit(main())
