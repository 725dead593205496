# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: structural checks of CloudWatch Logs filter patterns, run before any AWS call."""

_PAIRS = {"(": ")", "{": "}", "[": "]"}


def pattern_error(pattern):
    """Returns a sentence naming the first structural problem of the pattern, or None when it is well formed.

    Checks what can be checked without the full grammar: not empty, quotes closed, brackets balanced and
    nested, a JSON pattern ({ ... }) closed and holding at least one selector ($.field).
    """
    if not isinstance(pattern, str) or not pattern.strip():
        return "the pattern is empty"
    stack = []
    quote = None
    for position, char in enumerate(pattern, start=1):
        if quote:
            if char == quote:
                quote = None
            continue
        if char == '"':
            quote = char
        elif char in _PAIRS:
            stack.append((char, position))
        elif char in _PAIRS.values():
            if not stack or _PAIRS[stack[-1][0]] != char:
                return f"unbalanced '{char}' at position {position}"
            stack.pop()
    if quote:
        return "a quoted value is not closed"
    if stack:
        char, position = stack[-1]
        return f"'{char}' at position {position} is never closed"
    text = pattern.strip()
    if text.startswith("{"):
        if not text.endswith("}"):
            return "a JSON pattern must end with '}'"
        if "$" not in text:
            return "a JSON pattern needs at least one selector such as $.eventName"
    return None
