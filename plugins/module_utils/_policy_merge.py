# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: merges TrailWatch's statements into someone else's resource policy (pure functions).

Ownership is decided by an ownership object (:class:`PrefixOwnership` unless told otherwise):

- by prefix (``resource_policy_statements``): a statement whose Sid starts with the prefix (``TrailWatch`` unless
  told otherwise) is the caller's, whoever wrote it, and may be replaced or removed;
- per install (:class:`InstallOwnership`, the trail and topic modules): only the Sids naming the install
  (``TrailWatch<Role>For<Install>``) are its own, so several TrailWatch installs share a resource; an unsuffixed
  statement of an older version (``TrailWatchCloudTrailWrite``) is taken over only by the install it was written
  for (docs/aws-policies.md, "Shared resources").

Every other statement (another Sid, or no Sid at all) is foreign and is kept exactly as it was, in its place,
even when its content equals one of ours.

Statements are compared by meaning, not by spelling, with amazon.aws's ``compare_policies``: list order, a
string versus a one-element list, ``"*"`` versus ``{"AWS": "*"}``, an account id versus its root ARN and the
order of condition keys make no difference; a different value does.
"""

import copy
import fnmatch
from typing import Any
from typing import Tuple
from typing import Dict
from typing import List
from typing import Iterable
from typing import Union

from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies

from ._common import SID_PREFIX
from ._common import is_install_sid
from ._common import sid as statement_sid

DEFAULT_VERSION = "2012-10-17"
ROOT_SID_SUFFIX = "AccountRoot"


class PolicyMergeError(ValueError):
    """The statements given cannot be merged (a Sid without the prefix, a Sid twice...)."""


def is_ours(statement: Dict[str, Any], prefix: str = SID_PREFIX) -> Any:
    sid = statement.get("Sid") if isinstance(statement, dict) else None
    return isinstance(sid, str) and sid.startswith(prefix)


def statements_of(policy: Dict[str, Any]) -> List[Any]:
    """The statements of a policy as a list: none for no policy, one for a ``Statement`` given as a single dict."""
    if not policy:
        return []
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        return [statements]
    return list(statements)


def same_statement(a: Any, b: Any) -> bool:
    return not compare_policies(a, b, default_version=None)


def validate_statements(statements: List[Any], prefix: str = SID_PREFIX) -> None:
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


def _document(current_policy: Dict[str, Any], statements: List[Any]) -> Any:
    """The policy with new statements; Version (default 2012-10-17), Id and anything else at the top are kept."""
    document = copy.deepcopy(current_policy) if isinstance(current_policy, dict) else {}
    document.setdefault("Version", DEFAULT_VERSION)
    if not document["Version"]:
        document["Version"] = DEFAULT_VERSION
    document["Statement"] = statements
    return document


def _once(sids: List[Any]) -> List[Any]:
    return list(dict.fromkeys(sids))


# --- who owns which statement ------------------------------------------------------------------------------


class PrefixOwnership:
    """Owns every statement whose Sid starts with the prefix."""

    def __init__(self, prefix: str = SID_PREFIX) -> None:
        self.prefix = prefix
        self.root_sid = (prefix + ROOT_SID_SUFFIX) if isinstance(prefix, str) else None

    def validate(self, ours: Any) -> None:
        validate_statements(ours, self.prefix)

    def owns(self, statement: Dict[str, Any], wanted: Any, statements: List[Any]) -> bool:  # pylint: disable=unused-argument
        return is_ours(statement, self.prefix)


# Condition keys whose values tell which trail or log group a statement was written for.
_IDENTIFYING_KEYS = ("aws:sourcearn", "kms:encryptioncontext:aws:logs:arn")


def identifying_values(statement: Dict[str, Any]) -> set:
    """The trail and log group ARNs a statement is limited to (no wildcard values): {} for a generic statement."""
    values: set = set()
    condition = statement.get("Condition") if isinstance(statement, dict) else None
    for keys in (condition or {}).values():
        for key, value in (keys or {}).items() if isinstance(keys, dict) else []:
            if key.lower() in _IDENTIFYING_KEYS:
                values.update(v for v in _as_list(value) if isinstance(v, str) and "*" not in v and "?" not in v)
    return values


class InstallOwnership(PrefixOwnership):
    """The statements one TrailWatch install owns in a policy it shares with other installs.

    - its own Sids ``TrailWatch<Role>For<Install>`` for each of its roles (and the shared key root statement);
    - an unsuffixed statement of an older version, ``TrailWatch<Role>`` for one of legacy_roles, when it is limited
      to this install's trail or log group (identities), or when it is generic (no ARN of its own) and either its
      role is no longer written by this caller, or this run writes the same role again, or no other install's
      statement is left in the policy. A generic statement is the same for every install of the account, so
      whoever takes it over keeps an equal grant in place.

    A statement with one of its own Sids that is limited to another trail or log group means two installs spell
    the same name (two trails called alike in two regions): PolicyMergeError, rather than taking turns.
    """

    def __init__(
        self, install: str, roles: Iterable[str], legacy_roles: Iterable[str] = (), identities: Iterable[str] = ()
    ) -> None:
        super().__init__(SID_PREFIX)
        self.install = install
        self.roles = {statement_sid(role, install): role for role in roles}
        self.legacy = {statement_sid(role): role for role in legacy_roles}
        self.identities = set(identities)

    def validate(self, ours: Any) -> None:
        super().validate(ours)
        for statement in ours:
            if statement["Sid"] not in self.roles and statement["Sid"] != self.root_sid:
                raise PolicyMergeError(
                    f"Sid {statement['Sid']!r} is not one of install {self.install!r}: {sorted(self.roles)}"
                )

    def _legacy_of_ours(self, statement: Dict[str, Any]) -> bool:
        values = identifying_values(statement)
        return bool(values) and bool(values & self.identities)

    def _another_install(self, statement: Dict[str, Any]) -> bool:
        """A TrailWatch statement that is neither this install's nor a generic statement of an older version."""
        sid = statement.get("Sid") if isinstance(statement, dict) else None
        if not is_ours(statement, self.prefix) or sid in self.roles or sid == self.root_sid:
            return False
        if sid in self.legacy:
            return bool(identifying_values(statement)) and not self._legacy_of_ours(statement)
        return True

    def owns(self, statement: Dict[str, Any], wanted: Any, statements: List[Any]) -> bool:
        sid = statement.get("Sid") if isinstance(statement, dict) else None
        if sid in self.roles:
            values = identifying_values(statement)
            if values and self.identities and not values & self.identities:
                theirs, ours = ", ".join(sorted(values)), ", ".join(sorted(self.identities))
                raise PolicyMergeError(
                    f"statement {sid} belongs to {theirs}, not to {ours}: two TrailWatch installs named alike"
                    f" ({self.install!r}) share this resource; give one of them another name"
                )
            return True
        if sid is not None and sid == self.root_sid:
            return True
        role = self.legacy.get(sid) if sid is not None else None
        if role is None:
            return False
        if identifying_values(statement):
            return self._legacy_of_ours(statement)
        wanted_roles = {self.roles.get(w) for w in wanted}
        if role not in self.roles.values() or role in wanted_roles:
            return True
        return not any(self._another_install(other) for other in statements if other is not statement)


# What decides which statements are ours: a Sid prefix, or an ownership object.
Ownership = Union[str, PrefixOwnership]


def as_ownership(prefix: Ownership) -> PrefixOwnership:
    """An ownership object for a prefix string (or the object itself)."""
    return prefix if isinstance(prefix, PrefixOwnership) else PrefixOwnership(prefix)


def merge_statements(
    current_policy: Dict[str, Any], ours: Any, prefix: Ownership = SID_PREFIX
) -> Tuple[Dict[str, Any], List[str], List[str], List[str]]:
    """Merges our statements into current_policy; returns (new policy, added, updated, removed Sids).

    - foreign statements are kept unchanged, in their order;
    - ours that differ in meaning from the statement with the same Sid replace it in place;
    - ours that are not in the policy yet are appended, in the order given;
    - statements with our prefix that are not in ``ours`` are stale and removed (a second statement with the
      same Sid of ours is dropped too, and its Sid reported as updated).

    Nothing changed when the three lists are empty; the policy returned is then equivalent to current_policy
    (a single-dict Statement comes back as a list). prefix is a Sid prefix or an ownership object
    (:class:`InstallOwnership`): "ours" and "with our prefix" above then mean "owned".
    """
    owner = as_ownership(prefix)
    owner.validate(ours)
    wanted = {statement["Sid"]: statement for statement in ours}
    result, added, updated, removed, seen = [], [], [], [], set()
    current = statements_of(current_policy)
    for statement in current:
        if not owner.owns(statement, wanted, current):
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


def remove_statements(
    current_policy: Dict[str, Any], prefix: Ownership = SID_PREFIX
) -> Tuple[Dict[str, Any], List[str]]:
    """Drops our statements only; returns (new policy, removed Sids).

    When nothing remains the policy has an empty Statement list: the caller decides what that means for the
    service (S3 deletes the bucket policy, SNS needs some policy, KMS must keep the account root statement).
    """
    policy, _added, _updated, removed = merge_statements(current_policy, [], prefix)
    return policy, removed


# --- KMS: never lock the account out of its key ----------------------------------------------------------


def account_root_arn(account: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:root"


def root_statement(account: str, partition: str = "aws", prefix: str = SID_PREFIX) -> Dict[str, Any]:
    """The statement KMS's own default key policy starts with, under our prefix (``TrailWatchAccountRoot``)."""
    return {
        "Sid": prefix + ROOT_SID_SUFFIX,
        "Effect": "Allow",
        "Principal": {"AWS": account_root_arn(account, partition)},
        "Action": "kms:*",
        "Resource": "*",
    }


def _as_list(value: Any) -> List[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def grants_account_root(statement: Dict[str, Any], account: str, partition: str = "aws") -> bool:
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


def policy_grants_account_root(policy: Dict[str, Any], account: str, partition: str = "aws") -> bool:
    return any(grants_account_root(s, account, partition) for s in statements_of(policy))


def merge_kms_statements(
    current_policy: Dict[str, Any], ours: Any, account: str, partition: str = "aws", prefix: Ownership = SID_PREFIX
) -> Any:
    """merge_statements for a key policy; returns (new policy, added, updated, removed, root_guarded).

    When neither a foreign statement nor one of ours grants the account root ``kms:*``, TrailWatch's root
    statement (Sid prefix + ``AccountRoot``) is merged in as one of ours: added if missing, kept if present
    (so ``ours=[]``, the removal, keeps it). root_guarded tells whether that happened.
    """
    owner = as_ownership(prefix)
    owner.validate(ours)
    root = root_statement(account, partition, owner.prefix)
    current = statements_of(current_policy)
    foreign = [s for s in current if not owner.owns(s, {}, current)]
    guarded = not any(grants_account_root(s, account, partition) for s in list(foreign) + list(ours))
    if guarded:
        if any(s["Sid"] == root["Sid"] for s in ours):
            raise PolicyMergeError(
                f"statement {root['Sid']!r} must allow {account_root_arn(account, partition)} kms:* on '*' without"
                " a condition when no other statement does: without it nobody could manage the key"
            )
        ours = list(ours) + [root]
    return (*merge_statements(current_policy, ours, prefix), guarded)


def remove_kms_statements(
    current_policy: Dict[str, Any], account: str, partition: str = "aws", prefix: str = SID_PREFIX
) -> Any:
    """remove_statements for a key policy; returns (new policy, added, updated, removed, root_guarded).

    Our root statement stays when it is the only one that lets the account manage the key (it is added, or
    reported updated, only if the policy had no working root grant at all).
    """
    return merge_kms_statements(current_policy, [], account, partition, prefix)


def ensure_root_statement(
    policy: Dict[str, Any], account: str, partition: str = "aws", prefix: str = SID_PREFIX
) -> Any:
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


# --- does someone else's statement already grant it? ---------------------------------------------------------


def _covers(patterns: Any, wanted_action: Any) -> bool:
    return any(fnmatch.fnmatchcase(wanted_action.lower(), p.lower()) for p in patterns if isinstance(p, str))


def grants_as_much(statement: Dict[str, Any], wanted: Any) -> bool:
    """Whether statement allows, without more conditions, the wanted (Allow, service principal) statement.

    Deliberately strict, like grants_account_root: the same service principal(s), every wanted action covered
    by an action pattern, Resource "*", and no condition or exactly the wanted one. In doubt we add our own.
    """
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    if any(key in statement for key in ("NotAction", "NotPrincipal", "NotResource")):
        return False
    principal = statement.get("Principal")
    services = set(_as_list(principal.get("Service"))) if isinstance(principal, dict) else set()
    if not set(_as_list(wanted["Principal"]["Service"])) <= services:
        return False
    actions = _as_list(statement.get("Action"))
    if not all(_covers(actions, action) for action in _as_list(wanted["Action"])):
        return False
    if "*" not in _as_list(statement.get("Resource")):
        return False
    condition = statement.get("Condition")
    return not condition or not compare_policies(
        {"Condition": condition}, {"Condition": wanted.get("Condition") or {}}, default_version=None
    )


def granted_elsewhere(policy: Dict[str, Any], wanted: Any) -> bool:
    """Whether a statement that no TrailWatch install may take away (no ``...For<Install>`` Sid) grants wanted.

    The owner's own statement, or the one in a key policy TrailWatch writes whole (``TrailWatchCloudWatchAlarms``
    of the TrailWatch key), stays while this install needs it; another install's statement may go with that
    install, so it does not count.
    """
    return any(
        grants_as_much(s, wanted) and not is_install_sid(s.get("Sid") if isinstance(s, dict) else None)
        for s in statements_of(policy)
    )
