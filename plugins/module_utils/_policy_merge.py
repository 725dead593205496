# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: merges TrailWatch's statements into someone else's resource policy (pure functions).

Ownership is decided by the statement's ``Sid`` alone: a statement whose Sid starts with the prefix
(``TrailWatch`` unless told otherwise) is TrailWatch's, whoever wrote it, and may be replaced or removed.
Every other statement (another Sid, or no Sid at all) is foreign and is kept exactly as it was, in its place,
even when its content equals one of ours.

Statements are compared by meaning, not by spelling, with amazon.aws's ``compare_policies``: list order, a
string versus a one-element list, ``"*"`` versus ``{"AWS": "*"}``, an account id versus its root ARN and the
order of condition keys make no difference; a different value does.
"""

import copy

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ._policies import SID_PREFIX

DEFAULT_VERSION = "2012-10-17"
ROOT_SID_SUFFIX = "AccountRoot"


class PolicyMergeError(ValueError):
    """The statements given cannot be merged (a Sid without the prefix, a Sid twice...)."""


def is_ours(statement, prefix=SID_PREFIX):
    sid = statement.get("Sid") if isinstance(statement, dict) else None
    return isinstance(sid, str) and sid.startswith(prefix)


def statements_of(policy):
    """The statements of a policy as a list: none for no policy, one for a ``Statement`` given as a single dict."""
    if not policy:
        return []
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        return [statements]
    return list(statements)


def same_statement(a, b):
    return not compare_policies(a, b, default_version=None)


def validate_statements(statements, prefix=SID_PREFIX):
    """Raises PolicyMergeError unless every statement is a dict with its own Sid starting with prefix."""
    if not isinstance(prefix, str) or not prefix:
        raise PolicyMergeError("the statement prefix must be a non-empty string")
    seen = set()
    for number, statement in enumerate(statements or [], start=1):
        if not isinstance(statement, dict):
            raise PolicyMergeError(f"statement {number} is not a dictionary (a policy statement)")
        sid = statement.get("Sid")
        if not isinstance(sid, str) or not sid:
            raise PolicyMergeError(
                f"statement {number} has no Sid: give it a Sid starting with {prefix!r} so that it can be told"
                " apart from the statements that are not TrailWatch's"
            )
        if not sid.startswith(prefix):
            raise PolicyMergeError(
                f"statement {number} has Sid {sid!r}, which does not start with {prefix!r}: only statements"
                f" whose Sid starts with {prefix!r} are managed, so rename it (for example {prefix + sid!r})"
            )
        if sid in seen:
            raise PolicyMergeError(f"Sid {sid!r} is given twice: every statement needs its own Sid")
        seen.add(sid)


def _document(current_policy, statements):
    """The policy with new statements; Version (default 2012-10-17), Id and anything else at the top are kept."""
    document = copy.deepcopy(current_policy) if isinstance(current_policy, dict) else {}
    document.setdefault("Version", DEFAULT_VERSION)
    if not document["Version"]:
        document["Version"] = DEFAULT_VERSION
    document["Statement"] = statements
    return document


def _once(sids):
    return list(dict.fromkeys(sids))


def merge_statements(current_policy, ours, prefix=SID_PREFIX):
    """Merges our statements into current_policy; returns (new policy, added, updated, removed Sids).

    - foreign statements are kept unchanged, in their order;
    - ours that differ in meaning from the statement with the same Sid replace it in place;
    - ours that are not in the policy yet are appended, in the order given;
    - statements with our prefix that are not in ``ours`` are stale and removed (a second statement with the
      same Sid of ours is dropped too, and its Sid reported as updated).

    Nothing changed when the three lists are empty; the policy returned is then equivalent to current_policy
    (a single-dict Statement comes back as a list).
    """
    validate_statements(ours, prefix)
    wanted = {statement["Sid"]: statement for statement in ours}
    result, added, updated, removed, seen = [], [], [], [], set()
    for statement in statements_of(current_policy):
        if not is_ours(statement, prefix):
            result.append(copy.deepcopy(statement))
            continue
        sid = statement["Sid"]
        if sid not in wanted:
            removed.append(sid)
        elif sid in seen:
            updated.append(sid)
        else:
            seen.add(sid)
            if same_statement(statement, wanted[sid]):
                result.append(copy.deepcopy(statement))
            else:
                result.append(copy.deepcopy(wanted[sid]))
                updated.append(sid)
    for statement in ours:
        if statement["Sid"] not in seen:
            result.append(copy.deepcopy(statement))
            added.append(statement["Sid"])
    return _document(current_policy, result), added, _once(updated), _once(removed)


def remove_statements(current_policy, prefix=SID_PREFIX):
    """Drops our statements only; returns (new policy, removed Sids).

    When nothing remains the policy has an empty Statement list: the caller decides what that means for the
    service (S3 deletes the bucket policy, SNS needs some policy, KMS must keep the account root statement).
    """
    policy, _added, _updated, removed = merge_statements(current_policy, [], prefix)
    return policy, removed


# --- KMS: never lock the account out of its key ----------------------------------------------------------


def account_root_arn(account, partition="aws"):
    return f"arn:{partition}:iam::{account}:root"


def root_statement(account, partition="aws", prefix=SID_PREFIX):
    """The statement KMS's own default key policy starts with, under our prefix (``TrailWatchAccountRoot``)."""
    return {
        "Sid": prefix + ROOT_SID_SUFFIX,
        "Effect": "Allow",
        "Principal": {"AWS": account_root_arn(account, partition)},
        "Action": "kms:*",
        "Resource": "*",
    }


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def grants_account_root(statement, account, partition="aws"):
    """Whether the statement, unconditionally, allows the account root every KMS action on the key.

    Deliberately strict: a Condition, NotAction/NotPrincipal/NotResource or a wildcard principal does not
    count. Adding TrailWatch's root statement when in doubt is harmless; a key nobody can manage is not.
    """
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    if any(key in statement for key in ("Condition", "NotAction", "NotPrincipal", "NotResource")):
        return False
    principal = statement.get("Principal")
    if not isinstance(principal, dict):
        return False
    principals = _as_list(principal.get("AWS"))
    if account_root_arn(account, partition) not in principals and account not in principals:
        return False
    if not {"kms:*", "*"} & {a.lower() if isinstance(a, str) else a for a in _as_list(statement.get("Action"))}:
        return False
    return "*" in _as_list(statement.get("Resource"))


def policy_grants_account_root(policy, account, partition="aws"):
    return any(grants_account_root(s, account, partition) for s in statements_of(policy))


def merge_kms_statements(current_policy, ours, account, partition="aws", prefix=SID_PREFIX):
    """merge_statements for a key policy; returns (new policy, added, updated, removed, root_guarded).

    When neither a foreign statement nor one of ours grants the account root ``kms:*``, TrailWatch's root
    statement (Sid prefix + ``AccountRoot``) is merged in as one of ours: added if missing, kept if present
    (so ``ours=[]``, the removal, keeps it). root_guarded tells whether that happened.
    """
    validate_statements(ours, prefix)
    root = root_statement(account, partition, prefix)
    foreign = [s for s in statements_of(current_policy) if not is_ours(s, prefix)]
    guarded = not any(grants_account_root(s, account, partition) for s in list(foreign) + list(ours))
    if guarded:
        if any(s["Sid"] == root["Sid"] for s in ours):
            raise PolicyMergeError(
                f"statement {root['Sid']!r} must allow {account_root_arn(account, partition)} kms:* on '*' without"
                " a condition when no other statement does: without it nobody could manage the key"
            )
        ours = list(ours) + [root]
    return (*merge_statements(current_policy, ours, prefix), guarded)


def remove_kms_statements(current_policy, account, partition="aws", prefix=SID_PREFIX):
    """remove_statements for a key policy; returns (new policy, added, updated, removed, root_guarded).

    Our root statement stays when it is the only one that lets the account manage the key (it is added, or
    reported updated, only if the policy had no working root grant at all).
    """
    return merge_kms_statements(current_policy, [], account, partition, prefix)


def ensure_root_statement(policy, account, partition="aws", prefix=SID_PREFIX):
    """The key policy with a statement granting the account root kms:*; returns (policy, Sid added or None).

    A statement with the root Sid that does not grant it is replaced in place; otherwise the root statement
    is appended. A policy that already grants it is returned as it is.
    """
    if policy_grants_account_root(policy, account, partition):
        return policy, None
    root = root_statement(account, partition, prefix)
    statements, placed = [], False
    for statement in statements_of(policy):
        if isinstance(statement, dict) and statement.get("Sid") == root["Sid"]:
            if not placed:
                statements.append(root)
                placed = True
            continue
        statements.append(copy.deepcopy(statement))
    if not placed:
        statements.append(root)
    return _document(policy, statements), root["Sid"]
