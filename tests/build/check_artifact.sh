#!/usr/bin/env bash
# Builds the collection artifact, installs it into a fresh collections path (nothing of this checkout on the
# path) and proves its roles and modules work from there: ansible-doc renders every module, and the installed
# playbook trailwatch.aws.site deploys into a throwaway moto_server and changes nothing on a second run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin="$repo/.venv/bin"
work=$(mktemp -d)
trap '"$bin/python" "$repo/tests/helpers/moto_stand.py" stop --state-dir "$work/moto" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

cd "$repo"
"$bin/ansible-galaxy" collection build --output-path "$work/dist" --force >/dev/null
artifact=$(ls "$work"/dist/trailwatch-aws-*.tar.gz)
echo "built $(basename "$artifact") ($(du -k "$artifact" | cut -f1) KiB, $(tar -tzf "$artifact" | wc -l) entries)"
if tar -tzf "$artifact" | grep -E '^(\.venv|\.cache|\.hypothesis|\.pytest_cache|tests/output)/'; then
  echo "the artifact holds files that are not collection content"; exit 1
fi

cd "$work"   # away from this checkout's ansible.cfg and its collections path
export ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_CONFIG="$work/ansible.cfg" ANSIBLE_NOCOLOR=1
printf '[defaults]\ncollections_path = %s\n' "$work/collections" > "$work/ansible.cfg"
# --no-deps: amazon.aws comes from the PyPI package `ansible` (Galaxy is not reachable here).
"$bin/ansible-galaxy" collection install "$artifact" -p "$work/collections" --no-deps >/dev/null
installed="$work/collections/ansible_collections/trailwatch/aws"
test -f "$installed/MANIFEST.json"
for module in $(ls "$installed/plugins/modules" | sed -n 's/\.py$//p'); do
  "$bin/ansible-doc" "trailwatch.aws.$module" >/dev/null
done
"$bin/ansible-doc" -t role trailwatch.aws.trail >/dev/null
echo "ansible-doc renders every module and role of the installed artifact"

endpoint=$("$bin/python" "$repo/tests/helpers/moto_stand.py" start --state-dir "$work/moto")
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN
export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1
"$bin/ansible-playbook" -i localhost, -c local -e ansible_python_interpreter="$bin/python" trailwatch.aws.site > "$work/first.log" || { tail -40 "$work/first.log"; exit 1; }
"$bin/ansible-playbook" -i localhost, -c local -e ansible_python_interpreter="$bin/python" trailwatch.aws.site > "$work/second.log" || { tail -40 "$work/second.log"; exit 1; }
grep -q "changed=0 " "$work/second.log" || { tail -40 "$work/second.log"; echo "second run changed something"; exit 1; }
echo "installed playbook trailwatch.aws.site deploys from the artifact; the second run changes nothing"
