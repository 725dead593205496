# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: CloudWatch Logs filter patterns, parsed, evaluated and printed locally.

moto stores filter patterns without ever evaluating them, so this module is what proves that a watch matches the
CloudTrail events it is meant for. It follows the AWS page "Filter pattern syntax for metric filters, subscription
filters, filter log events, and Live Tail" (and its archived predecessors where they still hold):

- term patterns: ``ERROR``, ``"exact phrase"``, ``-excluded``, ``?optional``; case sensitive substring matches;
  a term with anything but letters, digits and ``_`` must be quoted; ``""`` and ``" "`` match every event. Plain
  and ``-`` terms must all hold; ``?`` terms match when any of them is found, but only when the pattern has no
  other term: "If you combine "?" with other filter patterns, all question mark terms will be ignored";
- a regular expression between ``%`` (``%AccessDenied|Unauthorized%``) as the whole pattern;
- JSON patterns ``{ $.a.b[0] = value && ($.c > 3 || $.d IS NULL) }`` with ``=``, ``!=``, ``<``, ``<=``, ``>``,
  ``>=``, ``IS NULL``, ``IS TRUE``, ``IS FALSE``, ``NOT EXISTS``, ``&&`` over ``||``, parentheses; selectors with
  a wildcard (``$.list[*].x``, ``$.*``: any element / any property satisfies the condition) and bracket names
  (``$.['cluster.name']``);
- space-delimited patterns ``[ip, user, ..., status_code = 4* || status_code = 5*, bytes > 1000]``: one field per
  word, ``...`` for any number of words, and without ``...`` the last field takes the rest of the line.

Only what the pages document is accepted; anything else is a FilterPatternError naming the 1-based position.
format_pattern() prints a parsed pattern back as text that parses to the same tree.
"""

import json
import re
from collections import namedtuple
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any
from typing import Callable
from typing import Dict
from typing import Iterator
from typing import List
from typing import Optional
from typing import Tuple
from typing import Union

MAX_LENGTH = 1024  # PutMetricFilter / TestMetricFilter: filterPattern length 0..1024 (botocore model)
MAX_REGEXES = 2  # "a limit of 2 regex for each filter pattern when creating a delimited or JSON filter pattern"
MAX_SELECTOR_WILDCARDS = 1  # "You can only use up to one wildcard selector in a property selector"
MAX_WILDCARDS = 3  # "... and up to three wildcard selectors in a filter pattern with compound expressions"
# Not an AWS limit (none is documented): the parser recurses three calls per level, so this keeps it far from
# Python's recursion limit; real patterns nest two or three levels.
MAX_NESTING = 100

# --- the parsed form -------------------------------------------------------------------------------------------

MatchAll = namedtuple("MatchAll", [])
Term = namedtuple("Term", "text")
# Each a tuple of Term. optional (?terms) only counts when required and excluded are both empty.
TermPattern = namedtuple("TermPattern", "required excluded optional")
RegexPattern = namedtuple("RegexPattern", "value")
JsonPattern = namedtuple("JsonPattern", "expression")
DelimitedPattern = namedtuple("DelimitedPattern", "fields")
Field = namedtuple("Field", "name expression")  # name None: a field without a name; "...": any number of fields
Or = namedtuple("Or", "operands")
And = namedtuple("And", "operands")
Comparison = namedtuple("Comparison", "target operator value")  # target: Selector (JSON) or a field name
# steps: property names (str), array indexes (int) and Wildcard; text: the canonical spelling of the steps
Selector = namedtuple("Selector", "text steps")
Wildcard = namedtuple("Wildcard", "form")  # form ".*" or "[*]"; either selects every element or property
ANY_PROPERTY = Wildcard(".*")
ANY_ELEMENT = Wildcard("[*]")
Value = namedtuple("Value", "kind text")  # kind: "string" (may hold * wildcards), "number" or "regex"

Tree = Union[MatchAll, TermPattern, RegexPattern, JsonPattern, DelimitedPattern]

ELLIPSIS = "..."
RELATIONAL = ("<", "<=", ">", ">=")
CHECKS = ("IS NULL", "IS TRUE", "IS FALSE", "NOT EXISTS")

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_TERM_CHARS = re.compile(r"[A-Za-z0-9_]+\Z")
_NAME_CHAR = re.compile(r"[A-Za-z0-9_-]")
_NAME = re.compile(r"[A-Za-z0-9_-]+\Z")
_FIELD_NAME = re.compile(r"[A-Za-z0-9_-]+\Z")
# AWS only documents alphanumeric unquoted values ("@", "$", "\" and unicode need quotes); its own examples use
# dotted names and addresses (kms.amazonaws.com, 123.123.*), so these few separators are let through as well.
_UNQUOTED_VALUE_CHAR = re.compile(r"[A-Za-z0-9_.*:/+-]")
# The listed characters, plus the space the page's own example %^starting|^initializing|^shutting down% holds.
_REGEX_CHAR = re.compile(r"[A-Za-z0-9 :_#=@/;,\-^$?\[\]{}|\\*+.]")
_WORD_STOP = frozenset('(){}[],&|=!<>"%')
_CLOSERS = {")": "(", "}": "{", "]": "["}
_NAME_HINT = "names are letters, digits, - and _; write $.['a.b'] for any other name"


class FilterPatternError(ValueError):
    """A pattern CloudWatch Logs would refuse; str() is a sentence that names the 1-based position."""

    def __init__(self, message: str, position: int, hint: str = "") -> None:
        self.message = message
        self.position = position
        self.hint = hint
        text = f"{message} at position {position}"
        super().__init__(text + (": " + hint if hint else ""))


Token = namedtuple("Token", "kind text position")  # kind: punctuation itself, "op", "quoted", "regex", ...


# --- entry points ----------------------------------------------------------------------------------------------


def pattern_error(pattern: Any) -> Optional[str]:
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


def parse(pattern: str) -> Tree:
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


def matches(pattern: Union[str, Tree], message: str) -> bool:
    """Whether the log event message matches the pattern (a string or what parse() returned)."""
    return _evaluate(_parsed(pattern), message) is not None


def test_metric_filter(pattern: Union[str, Tree], messages: List[str]) -> Dict[str, List[Dict[str, Any]]]:
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


test_metric_filter.__test__ = False  # type: ignore[attr-defined]  # its name starts with "test": pytest must not collect it


def regex_count(pattern: Union[str, Tree]) -> int:
    """How many regular expressions the pattern holds (what the per-pattern and per-log-group quotas count).

    A pattern that does not parse holds none (its syntax error is reported on its own).
    """
    try:
        tree = _parsed(pattern)
    except FilterPatternError:
        return 0
    if isinstance(tree, RegexPattern):
        return 1
    if isinstance(tree, JsonPattern):
        return sum(c.value is not None and c.value.kind == "regex" for c in _comparisons(tree.expression))
    if isinstance(tree, DelimitedPattern):
        return sum(
            c.value.kind == "regex"
            for field in tree.fields
            if field.expression is not None
            for c in _comparisons(field.expression)
        )
    return 0


def format_pattern(tree: Tree) -> str:
    """The text of a parsed pattern, in one canonical spelling; parse(format_pattern(tree)) == tree."""
    if isinstance(tree, MatchAll):
        return ""
    if isinstance(tree, TermPattern):
        words = [_format_term(t) for t in tree.required]
        words += ["-" + _format_term(t) for t in tree.excluded]
        words += ["?" + _format_term(t) for t in tree.optional]
        return " ".join(words)
    if isinstance(tree, RegexPattern):
        return _format_value(tree.value)
    if isinstance(tree, JsonPattern):
        return "{ " + _format_expression(tree.expression, grouped=True) + " }"
    if isinstance(tree, DelimitedPattern):
        return "[" + ", ".join(_format_field(f) for f in tree.fields) + "]"
    raise TypeError(f"not a parsed filter pattern: {tree!r}")


def _parsed(pattern: Union[str, Tree]) -> Tree:
    return parse(pattern) if isinstance(pattern, str) else pattern


def _comparisons(expression: Any) -> Iterator[Comparison]:
    if isinstance(expression, (Or, And)):
        for operand in expression.operands:
            yield from _comparisons(operand)
    else:
        yield expression


# --- term patterns ---------------------------------------------------------------------------------------------


def _parse_terms(pattern: str) -> Union[TermPattern, RegexPattern]:
    """Terms separated by white space: plain terms must appear, -terms must not, ?terms are alternatives."""
    terms: Dict[str, List[Any]] = {"": [], "-": [], "?": []}
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
            terms[prefix].append(Term(text))
        else:
            text, index = _read_unquoted_term(pattern, index)
            terms[prefix].append(Term(text))
        if index < len(pattern) and not pattern[index].isspace():
            raise FilterPatternError(f"unexpected '{pattern[index]}'", index + 1, "terms are separated by spaces")
        index = _skip_space(pattern, index)
    if regexes:
        start, prefix, value = regexes[0]
        if prefix or len(regexes) > 1 or any(terms.values()):
            raise FilterPatternError(
                "a regular expression cannot be combined with terms", start + 1, "it must be the whole pattern"
            )
        return RegexPattern(value)
    return TermPattern(tuple(terms[""]), tuple(terms["-"]), tuple(terms["?"]))


def _read_unquoted_term(pattern: str, index: int) -> Tuple[str, int]:
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


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index].isspace():
        index += 1
    return index


# --- lexing of JSON and space-delimited patterns ---------------------------------------------------------------


def _tokenize(pattern: str) -> List[Token]:
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
    wildcards = [t for t in tokens if t.kind == "selector" and any(isinstance(s, Wildcard) for s in t.text.steps)]
    if len(wildcards) > MAX_WILDCARDS:
        raise FilterPatternError(
            "too many wildcard selectors",
            wildcards[MAX_WILDCARDS].position,
            f"CloudWatch Logs allows {MAX_WILDCARDS} per pattern",
        )
    return tokens


def _next_token(pattern: str, index: int) -> Tuple[Token, int]:
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


def _read_quoted(pattern: str, index: int) -> Tuple[str, int]:
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


def _read_regex(pattern: str, index: int) -> Tuple[str, int]:
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
        re.compile(text, re.ASCII)
    except (re.error, OverflowError, RecursionError) as error:
        reason = getattr(error, "msg", None) or str(error)  # re.error's msg leaves out its own (0-based) position
        raise FilterPatternError("invalid regular expression", index + 1, reason) from None
    return text, end + 1


def _read_selector(pattern: str, index: int) -> Tuple[Token, int]:
    """$ followed by steps: .name, .['any name'], .* (any property), [N] and [*] (after a step)."""
    steps: List[Any] = []
    step: Any
    end = index + 1
    while end < len(pattern) and pattern[end] in ".[":
        start = end
        if pattern.startswith(".*", end):
            step, end = ANY_PROPERTY, end + 2
        elif pattern.startswith(".[", end):
            step, end = _read_bracket_name(pattern, end + 1)
        elif pattern[end] == ".":
            end += 1
            while end < len(pattern) and _NAME_CHAR.match(pattern[end]):
                end += 1
            if end == start + 1:
                raise FilterPatternError("expected a property name", end + 1, _NAME_HINT)
            step = pattern[start + 1 : end]
        else:
            step, end = _read_index(pattern, end, steps)
        if isinstance(step, Wildcard) and any(isinstance(s, Wildcard) for s in steps):
            raise FilterPatternError(
                "a second wildcard in one selector",
                start + 1,
                "CloudWatch Logs allows one wildcard per property selector",
            )
        steps.append(step)
    if not steps:
        raise FilterPatternError("a selector needs a property", index + 1, "such as $.eventName")
    if end < len(pattern) and not pattern[end].isspace() and pattern[end] not in _WORD_STOP:
        raise FilterPatternError(f"unexpected {pattern[end]!r} in a selector", end + 1, _NAME_HINT)
    path = tuple(steps)
    return Token("selector", Selector(_selector_text(path), path), index + 1), end


def _read_bracket_name(pattern: str, index: int) -> Tuple[str, int]:
    """['name'] from pattern[index] (the '['): any characters but a single quote, as in $.['cluster.name']."""
    if not pattern.startswith("['", index):
        raise FilterPatternError("expected a quoted name such as ['cluster.name']", index + 1)
    close = pattern.find("'", index + 2)
    if close < 0:
        raise FilterPatternError("unclosed quote", index + 2)
    if close == index + 2:
        raise FilterPatternError("an empty property name", index + 2)
    if not pattern.startswith("]", close + 1):
        raise FilterPatternError("expected ']' after the quoted name", close + 2)
    return pattern[index + 2 : close], close + 2


def _read_index(pattern: str, index: int, steps: List[Any]) -> Tuple[Union[int, Wildcard], int]:
    if pattern.startswith("['", index):
        raise FilterPatternError("a quoted name needs a dot before it", index + 1, "write .['name'], as in $.['a.b']")
    close = pattern.find("]", index)
    text = pattern[index + 1 : close] if close > 0 else ""
    if text != "*" and (not text.isdigit() or not text.isascii()):
        raise FilterPatternError("expected an array index such as [0] or [*]", index + 1)
    if not steps:
        raise FilterPatternError("an array index must follow a property", index + 1, "such as $.items[0]")
    return (ANY_ELEMENT if text == "*" else int(text)), close + 1


def _selector_text(steps: Tuple[Any, ...]) -> str:
    text = "$"
    for step in steps:
        if isinstance(step, Wildcard):
            text += step.form
        elif isinstance(step, int):
            text += f"[{step}]"
        elif _NAME.match(step):
            text += "." + step
        else:
            text += ".['" + step + "']"
    return text


# --- parsing of JSON and space-delimited patterns --------------------------------------------------------------


class _Parser:
    """Recursive descent over the tokens: expression := and ('||' and)*, and := primary ('&&' primary)*."""

    def __init__(self, tokens: List[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.field_name: Optional[str] = None  # inside a space-delimited field: the name its conditions must use
        self.depth = 0  # open parentheses

    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def parse_structured(self) -> Union[JsonPattern, DelimitedPattern]:
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

    def parse_json(self, opening: Token) -> JsonPattern:
        expression = self.expression(self.json_condition)
        self.close(opening, "'&&', '||' or '}'")
        return JsonPattern(expression)

    def json_condition(self) -> Comparison:
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

    def parse_delimited(self, opening: Token) -> DelimitedPattern:
        if self.peek().kind == "]":
            raise FilterPatternError("a space-delimited pattern needs at least one field", self.peek().position)
        fields: List[Any] = []
        while True:
            fields.append(self.delimited_field(fields))
            token = self.peek()
            if token.kind == ",":
                self.take()
                continue
            self.close(opening, "',' or ']'")
            return DelimitedPattern(tuple(fields))

    def delimited_field(self, fields: List[Field]) -> Field:
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

    def delimited_condition(self, fields: List[Field]) -> Comparison:
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

    def field(self, token: Token, fields: List[Field]) -> str:
        if not _FIELD_NAME.match(token.text):
            raise FilterPatternError(
                f"invalid field name {token.text!r}", token.position, "names are letters, digits, - and _"
            )
        if any(f.name == token.text for f in fields):
            raise FilterPatternError(f"the field name {token.text!r} is used twice", token.position)
        return token.text

    # shared

    def expression(self, condition: Callable[[], Comparison]) -> Any:
        operands = [self.conjunction(condition)]
        while self.peek().kind == "||":
            self.take()
            operands.append(self.conjunction(condition))
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def conjunction(self, condition: Callable[[], Comparison]) -> Any:
        operands = [self.primary(condition)]
        while self.peek().kind == "&&":
            self.take()
            operands.append(self.primary(condition))
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def primary(self, condition: Callable[[], Comparison]) -> Any:
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

    def value(self, operator: Token) -> Value:
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

    def check_unquoted(self, token: Token) -> None:
        for offset, char in enumerate(token.text):
            if not _UNQUOTED_VALUE_CHAR.match(char):
                raise FilterPatternError(
                    f"unexpected {char!r} in an unquoted value",
                    token.position + offset,
                    "put the value in double quotes",
                )

    def close(self, opening: Token, expected: str) -> None:
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

    def fail_condition(self, token: Token, what: str) -> None:
        if token.kind == "end":
            raise FilterPatternError("the pattern ends where a condition is expected", token.position)
        raise FilterPatternError(what, token.position, f"found {_describe(token)}")


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "the end of the pattern"
    if token.kind == "quoted":
        return f"the quoted value {json.dumps(token.text)}"
    if token.kind == "regex":
        return f"the regular expression %{token.text}%"
    if token.kind == "selector":
        return f"'{token.text.text}'"
    return f"'{token.text}'"


# --- printing --------------------------------------------------------------------------------------------------


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _format_term(term: Term) -> str:
    return term.text if _TERM_CHARS.match(term.text) else _quote(term.text)


def _format_value(value: Value) -> str:
    if value.kind == "regex":
        return f"%{value.text}%"
    if value.kind == "number":
        return value.text
    return _quote(value.text)


def _format_expression(expression: Any, grouped: bool) -> str:
    """grouped (JSON): every compound operand in parentheses, so that nesting survives a round trip.

    Space-delimited fields have no parentheses; the parser only ever makes an Or of Ands there, which precedence
    alone spells."""
    if isinstance(expression, (Or, And)):
        operator = " || " if isinstance(expression, Or) else " && "
        parts = []
        for operand in expression.operands:
            part = _format_expression(operand, grouped)
            parts.append(f"({part})" if grouped and isinstance(operand, (Or, And)) else part)
        return operator.join(parts)
    target = expression.target.text if isinstance(expression.target, Selector) else expression.target
    if expression.value is None:
        return f"{target} {expression.operator}"
    return f"{target} {expression.operator} {_format_value(expression.value)}"


def _format_field(field: Field) -> str:
    if field.expression is not None:
        return _format_expression(field.expression, grouped=False)
    return field.name or ""


# --- evaluation ------------------------------------------------------------------------------------------------

_MISSING = object()


class _JsonNumber:
    """A JSON number as written in the event: its text for string and wildcard matches, its exact value."""

    __slots__ = ("text", "value")

    def __init__(self, text: str) -> None:
        self.text = text
        self.value = _number(text)


def _evaluate(tree: Tree, message: str) -> Optional[Dict[str, str]]:
    """None when the message does not match, else the extracted values (a dict, empty but for [...] patterns)."""
    if isinstance(tree, MatchAll):
        return {}
    if isinstance(tree, TermPattern):
        return {} if _terms_match(tree, message) else None
    if isinstance(tree, RegexPattern):
        return {} if _search(tree.value.text, message) else None
    if isinstance(tree, JsonPattern):
        document = _load_json(message)
        if document is _MISSING:
            return None  # a JSON pattern never matches an event that is not a JSON object
        return {} if _holds(tree.expression, lambda selector: _select(document, selector.steps)) else None
    if isinstance(tree, DelimitedPattern):
        return _evaluate_delimited(tree, message)
    raise TypeError(f"not a parsed filter pattern: {tree!r}")


def _terms_match(tree: TermPattern, message: str) -> bool:
    if tree.required or tree.excluded:
        # AWS: "If you combine "?" with other filter patterns, all question mark terms will be ignored."
        return all(_contains(message, t) for t in tree.required) and not any(
            _contains(message, t) for t in tree.excluded
        )
    return any(_contains(message, t) for t in tree.optional)


def _contains(message: str, term: Term) -> bool:
    # AWS: the pattern " " (a blank quoted phrase) matches everything
    return not term.text.strip() or term.text in message


def _search(regex: str, text: str) -> bool:
    # ASCII classes: the page defines \w as [a-zA-Z_0-9] and \d as [0-9]
    return re.search(regex, text, re.ASCII) is not None


def _holds(expression: Any, lookup: Callable[[Any], List[Any]]) -> bool:
    """Truth of an Or / And / Comparison tree; lookup(target) gives the values a comparison looks at.

    A selector with a wildcard gives one value per element or property: the comparison holds when it holds for
    any of them ("select any array element or any JSON object field").
    """
    if isinstance(expression, Or):
        return any(_holds(e, lookup) for e in expression.operands)
    if isinstance(expression, And):
        return all(_holds(e, lookup) for e in expression.operands)
    return any(_compare(expression, found) for found in lookup(expression.target))


def _compare(comparison: Comparison, found: Any) -> bool:
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


def _equal(value: Value, text: str, number: Optional[Decimal]) -> bool:
    if value.kind == "regex":
        return _search(value.text, text)
    if value.kind == "number" and number is not None:
        return number == _number(value.text)  # 400 = 400.0 = 4e2
    if value.kind == "number":
        return text == value.text  # a number-like string such as "recipientAccountId": "123456789012"
    return _wildcard_equal(value.text, text)


def _number(text: str) -> Decimal:
    """The exact value of a number's text; exponents past what Decimal holds fall back to float (0 or infinity)."""
    try:
        return Decimal(text)
    except InvalidOperation:
        return Decimal(float(text))


def _wildcard_equal(expected: str, text: str) -> bool:
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


def _load_json(message: str) -> Any:
    try:
        document = json.loads(message, parse_int=_JsonNumber, parse_float=_JsonNumber, parse_constant=_not_json)
    except (ValueError, TypeError, RecursionError):
        return _MISSING
    return document if isinstance(document, dict) else _MISSING


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # json.loads would take NaN and Infinity otherwise


def _select(document: Any, steps: Tuple[Any, ...]) -> List[Any]:
    """Every value the steps reach, _MISSING for each path that ends nowhere.

    A wildcard fans out over the elements of an array or the property values of an object (RFC 9535 JSONPath's
    wildcard: the page does not say which containers each spelling applies to); an empty or scalar one is a path
    that ends nowhere.
    """
    nodes = [document]
    for step in steps:
        reached = []
        for node in nodes:
            if node is _MISSING:
                reached.append(node)
            elif isinstance(step, Wildcard):
                children = list(node.values()) if isinstance(node, dict) else node if isinstance(node, list) else []
                reached.extend(children or [_MISSING])
            elif isinstance(step, int):
                reached.append(node[step] if isinstance(node, list) and step < len(node) else _MISSING)
            else:
                reached.append(node[step] if isinstance(node, dict) and step in node else _MISSING)
        nodes = reached
    return nodes


# --- space-delimited evaluation --------------------------------------------------------------------------------

_Field = namedtuple("_Field", "text number")
_Word = namedtuple("_Word", "text start")  # text: unwrapped from its quotes or brackets; start: offset in the line


def _evaluate_delimited(tree: DelimitedPattern, message: str) -> Optional[Dict[str, str]]:
    values = _field_values(tree.fields, message)
    if values is None:
        return None
    extracted = {}
    by_name = {}
    for position, (name, text) in enumerate(values, start=1):
        extracted[f"${name or position}"] = text
        if name:
            number = _number(text) if _NUMBER.match(text) else None
            by_name[name] = _Field(text, number)
    for field in tree.fields:
        if field.expression is not None and not _holds(field.expression, lambda name: [by_name[name]]):
            return None
    return extracted


def _field_values(fields: Tuple[Field, ...], message: str) -> Optional[List[Tuple[Optional[str], str]]]:
    """(pattern field name or None, text) for each field of the line, or None when the line has too few words.

    Each field takes one word (a run between double quotes or square brackets is one word, unwrapped). '...'
    takes as many words as the other fields leave, none included. Without '...' the last field takes the rest of
    the line as written ([w1=ERROR, w2] matches "ERROR 09/25/2014 12:00:02 Failed to process request").
    """
    words = _split_words(message)
    names = [f.name for f in fields]
    if ELLIPSIS in names:
        skip = names.index(ELLIPSIS)
        covered = len(words) - (len(names) - 1)
        if covered < 0:
            return None
        names = names[:skip] + [None] * covered + names[skip + 1 :]
        return [(name, word.text) for name, word in zip(names, words, strict=True)]
    if len(words) < len(names):
        return None
    values = [(name, word.text) for name, word in zip(names[:-1], words, strict=False)]
    last = words[len(names) - 1]
    rest = last.text if len(words) == len(names) else message[last.start :].rstrip()
    return values + [(names[-1], rest)]


def _split_words(message: str) -> List[_Word]:
    """Words separated by white space; text between double quotes or square brackets is one word (unwrapped)."""
    words = []
    index = _skip_space(message, 0)
    while index < len(message):
        start = index
        char = message[index]
        if char in '"[':
            close = message.find('"' if char == '"' else "]", index + 1)
            close = len(message) if close < 0 else close
            words.append(_Word(message[index + 1 : close], start))
            index = close + 1
        else:
            while index < len(message) and not message[index].isspace():
                index += 1
            words.append(_Word(message[start:index], start))
        index = _skip_space(message, index)
    return words
