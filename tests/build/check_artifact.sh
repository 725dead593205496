#!/usr/bin/env bash
# Builds the collection artifact and installs it the way a Galaxy user does (`ansible-galaxy collection install
# <artifact>` into the default ~/.ansible/collections, from a directory without an ansible.cfg, no ANSIBLE_* settings),
# then proves it works from there, with the README's commands as typed (no inventory, no -i/-c, key=value extra vars):
# ansible-doc renders every module and role; trailwatch.aws.site deploys into a throwaway moto_server, a second run
# changes nothing; trailwatch.aws.doctor (every link ok), trailwatch.aws.drill (cleanup only) and
# trailwatch.aws.teardown run without an inventory too.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin="$repo/.venv/bin"
work=$(mktemp -d)
trap '"$bin/python" "$repo/tests/helpers/moto_stand.py" stop --state-dir "$work/moto" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

cd "$repo"
"$bin/ansible-galaxy" collection build --output-path "$work/dist" --force >/dev/null
artifact=$(find "$work/dist" -name 'trailwatch-aws-*.tar.gz' | head -1)
echo "built $(basename "$artifact") ($(du -k "$artifact" | cut -f1) KiB, $(tar -tzf "$artifact" | wc -l) entries)"
if tar -tzf "$artifact" | grep -E '^(\.venv|\.ee|\.cache|\.hypothesis|\.pytest_cache|tests/output)/'; then
  echo "the artifact holds files that are not collection content"; exit 1
fi

# A user's shell: their own home, no ansible.cfg here, nothing of this checkout configured.
mkdir -p "$work/home" "$work/cwd"
cd "$work/cwd"
while IFS= read -r name; do unset "$name"; done < <(env | sed -n 's/^\(ANSIBLE_[A-Z_]*\)=.*/\1/p')
export HOME="$work/home" ANSIBLE_NOCOLOR=1
# --no-deps: amazon.aws comes from the PyPI package `ansible` (Galaxy is not reachable here).
"$bin/ansible-galaxy" collection install "$artifact" --no-deps >/dev/null
installed="$HOME/.ansible/collections/ansible_collections/trailwatch/aws"
test -f "$installed/MANIFEST.json"
while IFS= read -r module; do
  "$bin/ansible-doc" "trailwatch.aws.$(basename "$module" .py)" >/dev/null
done < <(find "$installed/plugins/modules" -name '*.py')
for role in trail alerts notifier; do "$bin/ansible-doc" -t role "trailwatch.aws.$role" >/dev/null; done
echo "ansible-doc renders every module and role of the installed artifact"

endpoint=$("$bin/python" "$repo/tests/helpers/moto_stand.py" start --state-dir "$work/moto")
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN
export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1
run() {  # run LOG PLAYBOOK ARGS...: the playbook as the README types it, its output kept in LOG
  local log="$work/$1"; shift
  "$bin/ansible-playbook" "$@" > "$log" 2>&1 || { tail -40 "$log"; echo "ansible-playbook $* failed"; exit 1; }
  if grep -q "no hosts matched" "$log"; then tail -20 "$log"; echo "ansible-playbook $* ran on no host"; exit 1; fi
}
run first.log trailwatch.aws.site -e trailwatch_notify_emails=me@example.com
grep -q "subscribers  me@example.com" "$work/first.log" || { tail -40 "$work/first.log"; echo "no summary"; exit 1; }
run second.log trailwatch.aws.site -e trailwatch_notify_emails=me@example.com
grep -q "changed=0 " "$work/second.log" || { tail -40 "$work/second.log"; echo "second run changed something"; exit 1; }
echo "installed playbook trailwatch.aws.site deploys without an inventory; the second run changes nothing"
run doctor.log trailwatch.aws.doctor -e trailwatch_notify_emails=me@example.com
grep -q "every link ok" "$work/doctor.log" || { tail -40 "$work/doctor.log"; echo "the doctor found a broken link"; exit 1; }
run drill.log trailwatch.aws.drill -e trailwatch_drill_id=artifact1 -e trailwatch_drill_cleanup_only=true
run teardown.log trailwatch.aws.teardown
grep -q "removed        topic" "$work/teardown.log" || { tail -30 "$work/teardown.log"; echo "teardown removed nothing"; exit 1; }
echo "installed playbooks trailwatch.aws.doctor, trailwatch.aws.drill (cleanup only) and trailwatch.aws.teardown run without an inventory"
