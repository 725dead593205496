# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: CloudWatch Logs filter patterns, parsed and evaluated locally.

moto stores filter patterns without ever evaluating them, so this module is what proves that a watch matches the
CloudTrail events it is meant for. It follows the AWS page "Filter pattern syntax for metric filters, subscription
filters, filter log events and Live Tail":

- term patterns: ``ERROR``, ``"exact phrase"``, ``-excluded``, ``?alternative``; case sensitive substring matches;
  a term with anything but letters, digits and ``_`` must be quoted; ``""`` and ``" "`` match every event;
- a regular expression between ``%`` (``%AccessDenied|Unauthorized%``) as the whole pattern;
- JSON patterns ``{ $.a.b[0] = value && ($.c > 3 || $.d IS NULL) }`` with ``=``, ``!=``, ``<``, ``<=``, ``>``,
  ``>=``, ``IS NULL``, ``IS TRUE``, ``IS FALSE``, ``NOT EXISTS``, ``&&`` over ``||``, parentheses;
- space-delimited patterns ``[ip, user, ..., status_code = 4* || status_code = 5*, bytes > 1000]``.

Only what the page documents is accepted; anything else is a FilterPatternError naming the 1-based position.
"""

import json
import re
from collections import namedtuple
from decimal import Decimal
from decimal import InvalidOperation

MAX_LENGTH = 1024  # PutMetricFilter / TestMetricFilter: filterPattern length 0..1024
MAX_REGEXES = 2  # "a limit of 2 regex for each filter pattern" in JSON and space-delimited patterns
# Not an AWS limit (none is documented): the parser recurses three calls per level, so this keeps it far from
# Python's recursion limit; real patterns nest two or three levels.
MAX_NESTING = 100

# --- the parsed form -------------------------------------------------------------------------------------------

MatchAll = namedtuple("MatchAll", [])
Term = namedtuple("Term", "text")
TermGroup = namedtuple("TermGroup", "required excluded")
TermPattern = namedtuple("TermPattern", "groups")
RegexPattern = namedtuple("RegexPattern", "value")
JsonPattern = namedtuple("JsonPattern", "expression")
DelimitedPattern = namedtuple("DelimitedPattern", "fields")
Field = namedtuple("Field", "name expression")  # name None: a field without a name; "...": any number of fields
Or = namedtuple("Or", "operands")
And = namedtuple("And", "operands")
Comparison = namedtuple("Comparison", "target operator value")  # target: Selector (JSON) or a field name
Selector = namedtuple("Selector", "text steps")  # steps: property names (str) and array indexes (int)
Value = namedtuple("Value", "kind text")  # kind: "string" (may hold * wildcards), "number" or "regex"

ELLIPSIS = "..."
RELATIONAL = ("<", "<=", ">", ">=")
CHECKS = ("IS NULL", "IS TRUE", "IS FALSE", "NOT EXISTS")

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_TERM_CHARS = re.compile(r"[A-Za-z0-9_]+\Z")
_NAME_CHAR = re.compile(r"[A-Za-z0-9_-]")
_FIELD_NAME = re.compile(r"[A-Za-z0-9_-]+\Z")
# AWS only documents alphanumeric unquoted values ("@", "$", "\" and unicode need quotes); its own examples use
# dotted names and addresses (kms.amazonaws.com, 123.123.*), so these few separators are let through as well.
_UNQUOTED_VALUE_CHAR = re.compile(r"[A-Za-z0-9_.*:/+-]")
_REGEX_CHAR = re.compile(r"[A-Za-z0-9:_#=@/;,\-^$?\[\]{}|\\*+.]")
_WORD_STOP = frozenset('(){}[],&|=!<>"%')
_CLOSERS = {")": "(", "}": "{", "]": "["}


class FilterPatternError(ValueError):
    """A pattern CloudWatch Logs would refuse; str() is a sentence that names the 1-based position."""

    def __init__(self, message, position, hint=""):
        self.message = message
        self.position = position
        self.hint = hint
        text = f"{message} at position {position}"
        super().__init__(text + (": " + hint if hint else ""))


Token = namedtuple("Token", "kind text position")  # kind: punctuation itself, "op", "quoted", "regex", ...


# --- entry points ----------------------------------------------------------------------------------------------


def pattern_error(pattern):
    """None when CloudWatch Logs would accept the watch pattern, else a sentence naming the problem and position.

    An empty pattern matches every event for CloudWatch Logs, but as a watch it is a mistake, so it is refused.
    """
    if not isinstance(pattern, str) or not pattern.strip():
        return "the pattern is empty"
    try:
        parse(pattern)
    except FilterPatternError as error:
        return str(error)
    return None


def parse(pattern):
    """The parsed form of a filter pattern; raises FilterPatternError where CloudWatch Logs would refuse it."""
    if not isinstance(pattern, str):
        raise FilterPatternError("the pattern is not a string", 1)
    if len(pattern) > MAX_LENGTH:
        raise FilterPatternError(
            f"the pattern goes past the {MAX_LENGTH} characters CloudWatch Logs accepts",
            MAX_LENGTH + 1,
            f"it has {len(pattern)}",
        )
    text = pattern.strip()
    if not text:
        return MatchAll()  # the API's empty pattern: every event matches
    if text[0] in "{[":
        return _Parser(_tokenize(pattern)).parse_structured()
    return _parse_terms(pattern)


def matches(pattern, message):
    """Whether the log event message matches the pattern (a string or what parse() returned)."""
    return _evaluate(_parsed(pattern), message) is not None


def test_metric_filter(pattern, messages):
    """What the TestMetricFilter API answers: the matching events, numbered from 1, with the extracted values.

    extractedValues maps each field of a space-delimited pattern to its text ($name, or $N for an unnamed field
    or one covered by "..."); it is empty for term and JSON patterns, as AWS documents.
    """
    tree = _parsed(pattern)
    found = []
    for number, message in enumerate(messages, start=1):
        extracted = _evaluate(tree, message)
        if extracted is not None:
            found.append({"eventNumber": number, "eventMessage": message, "extractedValues": extracted})
    return {"matches": found}


test_metric_filter.__test__ = False  # its name starts with "test": keep pytest from collecting it


def _parsed(pattern):
    return parse(pattern) if isinstance(pattern, str) else pattern


# --- term patterns ---------------------------------------------------------------------------------------------


def _parse_terms(pattern):
    """Terms separated by white space. Each ?term starts a new alternative (CDK's anyTermGroup writes
    ?a b ?c d for "a and b, or c and d"); plain terms must appear and -terms must not, within their alternative."""
    groups = [TermGroup([], [])]
    regexes = []
    index = _skip_space(pattern, 0)
    while index < len(pattern):
        start = index
        prefix = pattern[index] if pattern[index] in "?-" else ""
        if prefix:
            index = _skip_space(pattern, index + 1)
            if index >= len(pattern):
                raise FilterPatternError(f"'{prefix}' is not followed by a term", start + 1)
        if pattern[index] == "%":
            text, index = _read_regex(pattern, index)
            regexes.append((start, prefix, Value("regex", text)))
        elif pattern[index] == '"':
            text, index = _read_quoted(pattern, index)
            _add_term(groups, prefix, Term(text))
        else:
            text, index = _read_unquoted_term(pattern, index)
            _add_term(groups, prefix, Term(text))
        if index < len(pattern) and not pattern[index].isspace():
            raise FilterPatternError(f"unexpected '{pattern[index]}'", index + 1, "terms are separated by spaces")
        index = _skip_space(pattern, index)
    return _term_pattern(groups, regexes)


def _term_pattern(groups, regexes):
    if regexes:
        start, prefix, value = regexes[0]
        if prefix or len(regexes) > 1 or any(g.required or g.excluded for g in groups):
            raise FilterPatternError(
                "a regular expression cannot be combined with terms", start + 1, "it must be the whole pattern"
            )
        return RegexPattern(value)
    groups = [TermGroup(tuple(g.required), tuple(g.excluded)) for g in groups if g.required or g.excluded]
    return TermPattern(tuple(groups))


def _add_term(groups, prefix, term):
    if prefix == "?":
        groups.append(TermGroup([term], []))
    elif prefix == "-":
        groups[-1].excluded.append(term)
    else:
        groups[-1].required.append(term)


def _read_unquoted_term(pattern, index):
    end = index
    while end < len(pattern) and not pattern[end].isspace():
        end += 1
    text = pattern[index:end]
    if not _TERM_CHARS.match(text):
        bad = next(i for i in range(index, end) if not _TERM_CHARS.match(pattern[i]))
        char = pattern[bad]
        if char in _CLOSERS:
            raise FilterPatternError(f"unbalanced '{char}'", bad + 1)
        raise FilterPatternError(
            f"unexpected '{char}'", bad + 1, "a term with characters other than letters, digits and '_' needs quotes"
        )
    return text, end


def _skip_space(pattern, index):
    while index < len(pattern) and pattern[index].isspace():
        index += 1
    return index


# --- lexing of JSON and space-delimited patterns ---------------------------------------------------------------


def _tokenize(pattern):
    tokens = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char.isspace():
            index += 1
            continue
        token, index = _next_token(pattern, index)
        tokens.append(token)
    tokens.append(Token("end", "", len(pattern) + 1))
    regexes = [t for t in tokens if t.kind == "regex"]
    if len(regexes) > MAX_REGEXES:
        raise FilterPatternError(
            "too many regular expressions", regexes[MAX_REGEXES].position, f"a pattern may hold {MAX_REGEXES}"
        )
    return tokens


def _next_token(pattern, index):
    char = pattern[index]
    position = index + 1
    two = pattern[index : index + 2]
    if char in "(){}[],":
        return Token(char, char, position), index + 1
    if two in ("&&", "||"):
        return Token(two, two, position), index + 2
    if char in "&|":
        raise FilterPatternError(f"unexpected '{char}'", position, f"write '{char * 2}'")
    if two in ("!=", "<=", ">="):
        return Token("op", two, position), index + 2
    if char in "=<>":
        return Token("op", char, position), index + 1
    if char == "!":
        raise FilterPatternError("unexpected '!'", position, "the only negation is '!='")
    if char == '"':
        text, end = _read_quoted(pattern, index)
        return Token("quoted", text, position), end
    if char == "%":
        text, end = _read_regex(pattern, index)
        return Token("regex", text, position), end
    if char == "$":
        return _read_selector(pattern, index)
    end = index
    while end < len(pattern) and not pattern[end].isspace() and pattern[end] not in _WORD_STOP:
        end += 1
    return Token("word", pattern[index:end], position), end


def _read_quoted(pattern, index):
    """A double-quoted string from pattern[index]; backslash escapes '"' and '\\' (as the AWS CDK writes them)."""
    chars = []
    end = index + 1
    while end < len(pattern):
        char = pattern[end]
        if char == "\\" and end + 1 < len(pattern) and pattern[end + 1] in '"\\':
            chars.append(pattern[end + 1])
            end += 2
        elif char == '"':
            return "".join(chars), end + 1
        else:
            chars.append(char)
            end += 1
    raise FilterPatternError("unclosed quote", index + 1)


def _read_regex(pattern, index):
    """A regular expression between % signs, restricted to what CloudWatch Logs documents (no parentheses, ASCII)."""
    end = pattern.find("%", index + 1)
    if end < 0:
        raise FilterPatternError("unclosed regular expression", index + 1, "it must end with '%'")
    text = pattern[index + 1 : end]
    if not text:
        raise FilterPatternError("empty regular expression", index + 1)
    for offset, char in enumerate(text):
        if not _REGEX_CHAR.match(char):
            hint = "parentheses are not supported in regular expressions" if char in "()" else ""
            hint = hint or "CloudWatch Logs regular expressions allow letters, digits, :_#=@/;,- and ^$?[]{}|\\*+."
            raise FilterPatternError(
                f"unsupported character {char!r} in a regular expression", index + 2 + offset, hint
            )
    try:
        re.compile(text)
    except (re.error, OverflowError, RecursionError) as error:
        reason = getattr(error, "msg", None) or str(error)  # re.error's msg leaves out its own (0-based) position
        raise FilterPatternError("invalid regular expression", index + 1, reason) from None
    return text, end + 1


def _read_selector(pattern, index):
    """$ followed by .name and [index] steps; names are letters, digits, '-' and '_', indexes follow a name."""
    steps = []
    end = index + 1
    while end < len(pattern) and pattern[end] in ".[":
        if pattern[end] == ".":
            start = end + 1
            end = start
            while end < len(pattern) and _NAME_CHAR.match(pattern[end]):
                end += 1
            if end == start:
                raise FilterPatternError("expected a property name", start + 1, "names are letters, digits, - and _")
            steps.append(pattern[start:end])
        else:
            step, end = _read_index(pattern, end, steps)
            steps.append(step)
    if not steps:
        raise FilterPatternError("a selector needs a property", index + 1, "such as $.eventName")
    if end < len(pattern) and not pattern[end].isspace() and pattern[end] not in _WORD_STOP:
        raise FilterPatternError(
            f"unexpected {pattern[end]!r} in a selector", end + 1, "names are letters, digits, - and _"
        )
    return Token("selector", Selector(pattern[index:end], tuple(steps)), index + 1), end


def _read_index(pattern, index, steps):
    close = pattern.find("]", index)
    digits = pattern[index + 1 : close] if close > 0 else ""
    if digits == "*":
        raise FilterPatternError("unsupported array wildcard '[*]'", index + 1, "use an index such as [0]")
    if not digits.isdigit() or not digits.isascii():
        raise FilterPatternError("expected an array index such as [0]", index + 1)
    if not steps:
        raise FilterPatternError("an array index must follow a property", index + 1, "such as $.items[0]")
    return int(digits), close + 1


# --- parsing of JSON and space-delimited patterns --------------------------------------------------------------


class _Parser:
    """Recursive descent over the tokens: expression := and ('||' and)*, and := primary ('&&' primary)*."""

    def __init__(self, tokens):
        self.tokens = tokens
        self.index = 0
        self.field_name = None  # inside a space-delimited field: the name its conditions must use
        self.depth = 0  # open parentheses

    def peek(self):
        return self.tokens[self.index]

    def take(self):
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def parse_structured(self):
        opening = self.take()
        tree = self.parse_json(opening) if opening.kind == "{" else self.parse_delimited(opening)
        token = self.take()
        if token.kind != "end":
            raise FilterPatternError(
                f"unexpected {_describe(token)}",
                token.position,
                "the pattern ends with its closing " + ("'}'" if opening.kind == "{" else "']'"),
            )
        return tree

    # JSON

    def parse_json(self, opening):
        expression = self.expression(self.json_condition)
        self.close(opening, "'&&', '||' or '}'")
        return JsonPattern(expression)

    def json_condition(self):
        token = self.take()
        if token.kind != "selector":
            self.fail_condition(token, "a JSON pattern needs a selector such as $.eventName")
        selector = token.text
        token = self.take()
        if token.kind == "op":
            return Comparison(selector, token.text, self.value(token))
        if token.kind == "word" and token.text in ("IS", "NOT"):
            following = self.take()
            check = f"{token.text} {following.text}"
            if following.kind == "word" and check in CHECKS:
                return Comparison(selector, check, None)
            expected = "NULL, TRUE or FALSE" if token.text == "IS" else "EXISTS"
            raise FilterPatternError(f"expected {expected} after {token.text}", following.position)
        raise FilterPatternError(
            f"expected an operator after {selector.text}",
            token.position,
            f"=, !=, <, <=, >, >=, IS NULL, IS TRUE, IS FALSE or NOT EXISTS; found {_describe(token)}",
        )

    # space-delimited

    def parse_delimited(self, opening):
        if self.peek().kind == "]":
            raise FilterPatternError("a space-delimited pattern needs at least one field", self.peek().position)
        fields = []
        while True:
            fields.append(self.delimited_field(fields))
            token = self.peek()
            if token.kind == ",":
                self.take()
                continue
            self.close(opening, "',' or ']'")
            return DelimitedPattern(tuple(fields))

    def delimited_field(self, fields):
        token = self.peek()
        if token.kind in (",", "]"):
            return Field(None, None)  # AWS's own example ends in ", ]": a field that is only extracted, as $N
        following = self.tokens[min(self.index + 1, len(self.tokens) - 1)]
        if token.kind == "word" and token.text == ELLIPSIS:
            self.take()
            if any(f.name == ELLIPSIS for f in fields):
                raise FilterPatternError("a second '...'", token.position, "a pattern may skip fields only once")
            return Field(ELLIPSIS, None)
        if token.kind == "word" and following.kind != "op":
            self.take()  # a name without a condition; what follows must be ',' or ']'
            return Field(self.field(token, fields), None)
        self.field_name = None
        expression = self.expression(lambda: self.delimited_condition(fields))
        return Field(self.field_name, expression)

    def delimited_condition(self, fields):
        token = self.take()
        if token.kind != "word" or token.text == ELLIPSIS:
            self.fail_condition(token, "expected a field name")
        name = self.field(token, fields)
        if self.field_name is None:
            self.field_name = name
        elif name != self.field_name:
            raise FilterPatternError(
                f"the condition on '{name}' is in the field '{self.field_name}'",
                token.position,
                "each field's conditions may only name that field",
            )
        operator = self.take()
        if operator.kind != "op":
            raise FilterPatternError(f"expected an operator after {name}", operator.position, "=, !=, <, <=, > or >=")
        return Comparison(name, operator.text, self.value(operator))

    def field(self, token, fields):
        if not _FIELD_NAME.match(token.text):
            raise FilterPatternError(
                f"invalid field name {token.text!r}", token.position, "names are letters, digits, - and _"
            )
        if any(f.name == token.text for f in fields):
            raise FilterPatternError(f"the field name {token.text!r} is used twice", token.position)
        return token.text

    # shared

    def expression(self, condition):
        operands = [self.conjunction(condition)]
        while self.peek().kind == "||":
            self.take()
            operands.append(self.conjunction(condition))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def conjunction(self, condition):
        operands = [self.primary(condition)]
        while self.peek().kind == "&&":
            self.take()
            operands.append(self.primary(condition))
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def primary(self, condition):
        token = self.peek()
        if token.kind != "(":
            return condition()
        if self.tokens[0].kind == "[":
            # AWS documents && and || inside a space-delimited field, never parentheses
            raise FilterPatternError(
                "unexpected '('", token.position, "parentheses group conditions in JSON patterns only"
            )
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise FilterPatternError("parentheses nested too deep", token.position, f"at most {MAX_NESTING} levels")
        self.take()
        expression = self.expression(condition)
        self.close(token, "'&&', '||' or ')'")
        self.depth -= 1
        return expression

    def value(self, operator):
        token = self.take()
        if token.kind == "word" and token.text:
            self.check_unquoted(token)
            kind = "number" if _NUMBER.match(token.text) else "string"
        elif token.kind in ("quoted", "regex"):
            kind = "string" if token.kind == "quoted" else "regex"
        else:
            raise FilterPatternError(
                f"expected a value after '{operator.text}'", token.position, f"found {_describe(token)}"
            )
        if operator.text in RELATIONAL and kind != "number":
            raise FilterPatternError(f"'{operator.text}' compares numbers", token.position, f"found {_describe(token)}")
        return Value(kind, token.text)

    def check_unquoted(self, token):
        for offset, char in enumerate(token.text):
            if not _UNQUOTED_VALUE_CHAR.match(char):
                raise FilterPatternError(
                    f"unexpected {char!r} in an unquoted value",
                    token.position + offset,
                    "put the value in double quotes",
                )

    def close(self, opening, expected):
        token = self.take()
        closer = {"(": ")", "{": "}", "[": "]"}[opening.kind]
        if token.kind == closer:
            return
        if token.kind == "end":
            raise FilterPatternError(f"unclosed '{opening.kind}'", opening.position)
        if token.kind in _CLOSERS:
            raise FilterPatternError(
                f"unbalanced '{token.kind}'",
                token.position,
                f"'{opening.kind}' at position {opening.position} is still open",
            )
        raise FilterPatternError(f"unexpected {_describe(token)}", token.position, "expected " + expected)

    def fail_condition(self, token, what):
        if token.kind == "end":
            raise FilterPatternError("the pattern ends where a condition is expected", token.position)
        raise FilterPatternError(what, token.position, f"found {_describe(token)}")


def _describe(token):
    if token.kind == "end":
        return "the end of the pattern"
    if token.kind == "quoted":
        return f"the quoted value {json.dumps(token.text)}"
    if token.kind == "regex":
        return f"the regular expression %{token.text}%"
    if token.kind == "selector":
        return f"'{token.text.text}'"
    return f"'{token.text}'"


# --- evaluation ------------------------------------------------------------------------------------------------

_MISSING = object()


class _JsonNumber:
    """A JSON number as written in the event: its text for string and wildcard matches, its exact value."""

    __slots__ = ("text", "value")

    def __init__(self, text):
        self.text = text
        self.value = _number(text)


def _evaluate(tree, message):
    """None when the message does not match, else the extracted values (a dict, empty but for [...] patterns)."""
    if isinstance(tree, MatchAll):
        return {}
    if isinstance(tree, TermPattern):
        return {} if any(_group_matches(group, message) for group in tree.groups) else None
    if isinstance(tree, RegexPattern):
        return {} if re.search(tree.value.text, message) else None
    if isinstance(tree, JsonPattern):
        document = _load_json(message)
        if document is _MISSING:
            return None  # a JSON pattern never matches an event that is not a JSON object
        return {} if _holds(tree.expression, lambda selector: _select(document, selector.steps)) else None
    if isinstance(tree, DelimitedPattern):
        return _evaluate_delimited(tree, message)
    raise TypeError(f"not a parsed filter pattern: {tree!r}")


def _group_matches(group, message):
    return all(_contains(message, t) for t in group.required) and not any(_contains(message, t) for t in group.excluded)


def _contains(message, term):
    # AWS: the pattern " " (a blank quoted phrase) matches everything
    return not term.text.strip() or term.text in message


def _holds(expression, lookup):
    """Truth of an Or / And / Comparison tree; lookup(target) gives the value a comparison looks at."""
    if isinstance(expression, Or):
        return any(_holds(e, lookup) for e in expression.operands)
    if isinstance(expression, And):
        return all(_holds(e, lookup) for e in expression.operands)
    return _compare(expression, lookup(expression.target))


def _compare(comparison, found):
    operator = comparison.operator
    if operator == "NOT EXISTS":
        return found is _MISSING
    if found is _MISSING:
        return False  # a missing property matches neither = nor != (nor IS ...)
    if operator == "IS NULL":
        return found is None
    if operator in ("IS TRUE", "IS FALSE"):
        return found is (operator == "IS TRUE")
    # AWS: the selector must point to a value node (string or number); arrays, objects, booleans and null match
    # neither = nor !=
    if isinstance(found, str):
        text, number = found, None
    elif isinstance(found, _JsonNumber):
        text, number = found.text, found.value
    elif isinstance(found, _Field):
        text, number = found.text, found.number
    else:
        return False
    if operator in RELATIONAL:
        return number is not None and _RELATIONS[operator](number, _number(comparison.value.text))
    equal = _equal(comparison.value, text, number)
    return equal if operator == "=" else not equal


_RELATIONS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _equal(value, text, number):
    if value.kind == "regex":
        return re.search(value.text, text) is not None
    if value.kind == "number" and number is not None:
        return number == _number(value.text)  # 400 = 400.0 = 4e2
    if value.kind == "number":
        return text == value.text  # a number-like string such as "recipientAccountId": "123456789012"
    return _wildcard_equal(value.text, text)


def _number(text):
    """The exact value of a number's text; exponents past what Decimal holds fall back to float (0 or infinity)."""
    try:
        return Decimal(text)
    except InvalidOperation:
        return Decimal(float(text))


def _wildcard_equal(expected, text):
    """AWS: '*' at the start or the end matches any text there; a '*' in the middle is a literal '*'."""
    core = expected.strip("*")
    if not core:
        return True if expected else text == ""
    leading = expected.startswith("*")
    trailing = expected.endswith("*")
    if leading and trailing:
        return core in text
    if leading:
        return text.endswith(core)
    if trailing:
        return text.startswith(core)
    return text == core


def _load_json(message):
    try:
        document = json.loads(message, parse_int=_JsonNumber, parse_float=_JsonNumber, parse_constant=_not_json)
    except (ValueError, TypeError, RecursionError):
        return _MISSING
    return document if isinstance(document, dict) else _MISSING


def _not_json(name):
    raise ValueError(f"{name} is not JSON")  # json.loads would take NaN and Infinity otherwise


def _select(document, steps):
    node = document
    for step in steps:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return _MISSING
        elif not isinstance(node, dict) or step not in node:
            return _MISSING
        node = node[step]
    return node


# --- space-delimited evaluation --------------------------------------------------------------------------------

_Field = namedtuple("_Field", "text number")


def _evaluate_delimited(tree, message):
    values = _split_fields(message)
    names = _field_names(tree.fields, len(values))
    if names is None:
        return None
    extracted = {}
    by_name = {}
    for position, text in enumerate(values, start=1):
        name = names[position - 1]
        extracted[f"${name or position}"] = text
        if name:
            number = _number(text) if _NUMBER.match(text) else None
            by_name[name] = _Field(text, number)
    for field in tree.fields:
        if field.expression is not None and not _holds(field.expression, lambda name: by_name.get(name, _MISSING)):
            return None
    return extracted


def _field_names(fields, count):
    """The pattern field name of each event field (None for unnamed or skipped ones), or None if counts differ."""
    names = [f.name for f in fields]
    if ELLIPSIS not in names:
        return names if count == len(names) else None
    skip = names.index(ELLIPSIS)
    covered = count - (len(names) - 1)
    if covered < 0:
        return None
    return names[:skip] + [None] * covered + names[skip + 1 :]


def _split_fields(message):
    """Fields separated by white space; text between double quotes or square brackets is one field (unwrapped)."""
    fields = []
    index = _skip_space(message, 0)
    while index < len(message):
        char = message[index]
        if char in '"[':
            close = message.find('"' if char == '"' else "]", index + 1)
            close = len(message) if close < 0 else close
            fields.append(message[index + 1 : close])
            index = close + 1
        else:
            end = index
            while end < len(message) and not message[end].isspace():
                end += 1
            fields.append(message[index:end])
            index = end
        index = _skip_space(message, index)
    return fields
