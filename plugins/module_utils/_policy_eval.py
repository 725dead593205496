# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: decides whether one resource policy lets one request through, as AWS would.

Pure functions, no AWS call. A request is what a service principal sends when it uses a resource:
``{"principal": {"Service": "cloudwatch.amazonaws.com"}, "action": "sns:Publish", "resource": ARN,
"context": {"aws:SourceAccount": "123456789012", ...}}``. ``evaluate(policy, request)`` applies the IAM User Guide's
"Policy evaluation logic" to the statements of that one policy: an explicit ``Deny`` that matches wins, else an
``Allow`` that matches allows, else the request is implicitly denied. A statement matches when its principal,
action, resource and every condition match (IAM User Guide: "IAM JSON policy elements reference", "Condition
operators").

Supported: ``Principal``/``NotPrincipal`` (``*``, ``AWS``, ``Service``), ``Action``/``NotAction`` and
``Resource``/``NotResource`` with ``*`` and ``?`` wildcards (actions case-insensitive), and the condition operators
``String*``, ``Arn*``, ``Bool``, ``Null`` and ``Numeric*``, each with ``...IfExists`` and the ``ForAnyValue:`` /
``ForAllValues:`` set prefixes. A condition this module cannot evaluate (another operator, a policy variable such
as ``${aws:username}``) is treated pessimistically: it never makes an ``Allow`` match and always makes a ``Deny``
match, and the result says which statement it was, so an undecidable policy is reported, never passed.
"""

import re
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Optional

ALLOW = "allow"
EXPLICIT_DENY = "explicit-deny"
IMPLICIT_DENY = "implicit-deny"


@dataclass
class Decision:
    """The outcome for one request: ``allowed``, and the statements (Sid or ``statement N``) that decided it."""

    decision: str
    statements: list = field(default_factory=list)
    undecidable: list = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOW

    def describe(self) -> str:
        """One line: why the request is allowed or not."""
        if self.decision == ALLOW:
            return f"allowed by {', '.join(self.statements)}"
        if self.decision == EXPLICIT_DENY:
            text = f"denied by {', '.join(self.statements)}"
        else:
            text = "no statement allows it"
        if self.undecidable:
            text += f" (could not evaluate: {'; '.join(self.undecidable)})"
        return text


class _Undecidable(Exception):
    """A condition this module cannot evaluate."""


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


_WILDCARD_CACHE: dict = {}


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """``*`` matches any run of characters, ``?`` one character; everything else literally."""
    key = (pattern, ignore_case)
    regex = _WILDCARD_CACHE.get(key)
    if regex is None:
        parts = ("." if c == "?" else ".*" if c == "*" else re.escape(c) for c in pattern)
        regex = re.compile("^" + "".join(parts) + "$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))
        _WILDCARD_CACHE[key] = regex
    return bool(regex.match(value))


def arn_match(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals: each of the six colon-separated parts is compared on its own, with wildcards."""
    if pattern == "*":
        return True
    want = pattern.split(":", 5)
    have = value.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return False
    return all(wildcard_match(w, h) for w, h in zip(want, have, strict=True))


def _principal_matches(element: Any, principal: dict) -> bool:
    """Whether a Principal element names the request's principal ({"Service": ...} or {"AWS": ARN})."""
    if element == "*":
        return True
    if not isinstance(element, dict):
        return False
    for kind, values in element.items():
        for value in _as_list(values):
            if kind == "AWS" and value == "*":
                # "AWS": "*" is everyone, the same as "Principal": "*" (IAM User Guide: Principal element).
                return True
            if kind == "Service" and principal.get("Service"):
                if value.lower() == principal["Service"].lower():
                    return True
            if kind == "AWS" and principal.get("AWS"):
                arn = principal["AWS"]
                account = arn.split(":")[4] if arn.count(":") >= 5 else arn
                if value == arn or value in (account, f"arn:{arn.split(':')[1]}:iam::{account}:root"):
                    return True
    return False


def _actions_match(patterns: Any, action: str) -> bool:
    return any(wildcard_match(p, action, ignore_case=True) for p in _as_list(patterns))


def _resources_match(patterns: Any, resource: str) -> bool:
    return any(wildcard_match(p, resource) for p in _as_list(patterns))


def _context_values(context: dict, key: str) -> Optional[list]:
    """The request's values for a condition key (keys are case-insensitive); None when the key is absent."""
    for name, value in context.items():
        if name.lower() == key.lower():
            return [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(value)]
    return None


def _number(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError) as e:
        raise _Undecidable(f"{text!r} is not a number") from e


_NUMERIC = {
    "NumericEquals": lambda a, b: a == b,
    "NumericNotEquals": lambda a, b: a != b,
    "NumericLessThan": lambda a, b: a < b,
    "NumericLessThanEquals": lambda a, b: a <= b,
    "NumericGreaterThan": lambda a, b: a > b,
    "NumericGreaterThanEquals": lambda a, b: a >= b,
}


def _value_matches(operator: str, policy_value: str, value: str) -> bool:
    """Whether one request value satisfies one policy value under a non-negated operator."""
    if "${" in policy_value:
        raise _Undecidable(f"policy variable in {policy_value!r}")
    if operator == "StringEquals":
        return value == policy_value
    if operator == "StringEqualsIgnoreCase":
        return value.lower() == policy_value.lower()
    if operator == "StringLike":
        return wildcard_match(policy_value, value)
    if operator in ("ArnEquals", "ArnLike"):
        return arn_match(policy_value, value)
    if operator == "Bool":
        return value.lower() == policy_value.lower()
    if operator in _NUMERIC:
        return _NUMERIC[operator](_number(value), _number(policy_value))
    raise _Undecidable(f"operator {operator}")


# Negated operators: the condition holds when the value matches none of the policy values.
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


_SUPPORTED = frozenset(
    ["StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool", "Null"]
    + list(_NUMERIC)
    + list(_NEGATED)
)


def _condition_holds(operator: str, key: str, policy_values: Any, context: dict) -> bool:
    """One operator/key entry of a Condition block against the request context."""
    set_prefix = None
    if ":" in operator:
        set_prefix, operator = operator.split(":", 1)
        if set_prefix not in ("ForAnyValue", "ForAllValues"):
            raise _Undecidable(f"operator {set_prefix}:{operator}")
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[: -len("IfExists")]
    wanted = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(policy_values)]
    if operator not in _SUPPORTED:
        raise _Undecidable(f"operator {operator}")
    values = _context_values(context, key)

    if operator == "Null":
        # "true": the key must be absent; "false": present.
        return any((values is None) == (w.lower() == "true") for w in wanted)
    if values is None:
        # A missing key matches nothing, except with IfExists, a negated operator, or ForAllValues (vacuous truth).
        return if_exists or operator in _NEGATED or set_prefix == "ForAllValues"
    negated = operator in _NEGATED
    base = _NEGATED.get(operator, operator)

    def one(value: Any) -> Any:
        hit = any(_value_matches(base, w, value) for w in wanted)
        return not hit if negated else hit

    if set_prefix == "ForAllValues":
        return all(one(v) for v in values)
    # Single-valued keys and ForAnyValue: any request value will do.
    return any(one(v) for v in values)


def _conditions_hold(condition: Any, context: dict) -> bool:
    if not condition:
        return True
    if not isinstance(condition, dict):
        raise _Undecidable("Condition is not an object")
    for operator, pairs in condition.items():
        if not isinstance(pairs, dict):
            raise _Undecidable(f"{operator} is not an object")
        for key, policy_values in pairs.items():
            if not _condition_holds(operator, key, policy_values, context):
                return False
    return True


def _statement_applies(statement: dict, request: dict) -> bool:
    """Principal, action and resource match; conditions are checked separately (they may be undecidable)."""
    principal = request["principal"]
    if "Principal" in statement and not _principal_matches(statement["Principal"], principal):
        return False
    if "NotPrincipal" in statement and _principal_matches(statement["NotPrincipal"], principal):
        return False
    if "Principal" not in statement and "NotPrincipal" not in statement:
        return False  # a resource policy statement without a principal grants nobody
    if "Action" in statement and not _actions_match(statement["Action"], request["action"]):
        return False
    if "NotAction" in statement and _actions_match(statement["NotAction"], request["action"]):
        return False
    if "Resource" in statement and not _resources_match(statement["Resource"], request["resource"]):
        return False
    if "NotResource" in statement and _resources_match(statement["NotResource"], request["resource"]):
        return False
    return True


def statements(policy: Any) -> list:
    """The statements of a policy document (a dict, or None for no policy)."""
    if not policy:
        return []
    return [s for s in _as_list(policy.get("Statement")) if isinstance(s, dict)]


def evaluate(policy: Any, request: dict) -> Decision:
    """Applies one resource policy to one request; see the module docstring."""
    allowed, denied, undecidable = [], [], []
    for index, statement in enumerate(statements(policy)):
        label = statement.get("Sid") or f"statement {index + 1}"
        if not _statement_applies(statement, request):
            continue
        effect = statement.get("Effect")
        try:
            holds = _conditions_hold(statement.get("Condition"), request.get("context") or {})
        except _Undecidable as e:
            undecidable.append(f"{label}: {e}")
            # Pessimistic: an undecidable Deny may apply, an undecidable Allow is not proof.
            holds = effect == "Deny"
        if not holds:
            continue
        if effect == "Deny":
            denied.append(label)
        elif effect == "Allow":
            allowed.append(label)
    if denied:
        return Decision(EXPLICIT_DENY, denied, undecidable)
    if allowed:
        return Decision(ALLOW, allowed, undecidable)
    return Decision(IMPLICIT_DENY, [], undecidable)
