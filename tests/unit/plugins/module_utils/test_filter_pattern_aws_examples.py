"""Every example of the AWS filter pattern page, as one table: pattern, event, expected match, extracted values.

Sources, by title (the page has been rewritten several times; an example of an older version is kept where the
current version does not contradict it):

- CURRENT: "Filter pattern syntax for metric filters, subscription filters, filter log events, and Live Tail"
  (docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html), with its sections;
- JSON_PAGE: "Using filter patterns to match terms in JSON log events", the JSON section of the current page as
  AWS now publishes it on a page of its own;
- ARCHIVED_2022, ARCHIVED_2021, ARCHIVED_2018: the versions of the page in the archived GitHub repository
  awsdocs/amazon-cloudwatch-logs-user-guide, doc_source/FilterAndPatternSyntax.md ("Filter and pattern syntax",
  2022-03-25, commit 5bd7d24; "Filter and Pattern Syntax", 2021-12-20, commit 5f9d4b2, and 2018-08-30, 1487b94).

A row whose expectation the page does not state says what it is derived from (``derived``). A row where an
archived version states another outcome than the one pinned here says why (``disagrees``); those rows are listed
in KNOWN_DISAGREEMENTS so that the number is pinned as well.
"""

import json
from collections import namedtuple
from pathlib import Path

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import matches
from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import parse
from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import pattern_error
from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import test_metric_filter

CURRENT = "Filter pattern syntax for metric filters, subscription filters, filter log events, and Live Tail"
JSON_PAGE = "Using filter patterns to match terms in JSON log events"
ARCHIVED_2022 = "Filter and pattern syntax (archived 2022-03-25)"
ARCHIVED_2021 = "Filter and Pattern Syntax (archived 2021-12-20)"
ARCHIVED_2018 = "Filter and Pattern Syntax (archived 2018-08-30)"
SOURCES = (CURRENT, JSON_PAGE, ARCHIVED_2022, ARCHIVED_2021, ARCHIVED_2018)

REGEX_SYNTAX = CURRENT + " > Supported regular expressions (regex) syntax"
REGEX_TERMS = CURRENT + " > Using filter patterns to match terms with a regular expression (regex)"
UNSTRUCTURED = CURRENT + " > Using filter patterns to match terms in unstructured log events"
JSON_CURRENT = CURRENT + " > Using filter patterns to match terms in JSON log events"
DELIMITED = CURRENT + " > Using filter patterns to match terms in space-delimited log events"
UNSTRUCTURED_2022 = ARCHIVED_2022 + " > Using filter patterns to match terms in log events"
JSON_2022 = ARCHIVED_2022 + " > Using metric filters to match terms and extract values from JSON log events"
DELIMITED_2022 = ARCHIVED_2022 + " > Using metric filters to extract values from space-delimited log events"
DIMENSIONS_2022 = (
    ARCHIVED_2022 + " > Publishing dimensions with metrics from values in JSON or space-delimited log events"
)
VALUES_2022 = ARCHIVED_2022 + " > Using values in log events to increment a metric's value"
TERMS_2021 = ARCHIVED_2021 + " > Matching Terms in Log Events"
OR_2021 = ARCHIVED_2021 + " > OR Pattern Matching"
JSON_2021 = ARCHIVED_2021 + " > JSON Metric Filter Examples"
COMPOUND_2021 = ARCHIVED_2021 + " > JSON Compound Conditions"
SPECIAL_2021 = ARCHIVED_2021 + " > JSON Special Considerations"
NUMERIC_2021 = ARCHIVED_2021 + " > Numeric Comparisons"
DELIMITED_2021 = ARCHIVED_2021 + " > Using Metric Filters to Extract Values from Space-Delimited Log Events"
TERMS_2018 = ARCHIVED_2018 + " > Matching Terms in Log Events"
DELIMITED_2018 = ARCHIVED_2018 + " > Using Metric Filters to Extract Values from Space-Delimited Log Events"

Example = namedtuple("Example", "source pattern event matched extracted derived disagrees")
Refusal = namedtuple("Refusal", "source pattern error derived disagrees")

EXAMPLES = []
REFUSALS = []


def ex(source, pattern, event, matched, extracted=None, derived=None, disagrees=None):
    EXAMPLES.append(Example(source, pattern, event, matched, extracted, derived, disagrees))


def refused(source, pattern, error, derived=None, disagrees=None):
    REFUSALS.append(Refusal(source, pattern, error, derived, disagrees))


def each(source, pattern, events, matching, **kwargs):
    """One row per event; matching holds the 0-based numbers of the events the page says match."""
    for number, event in enumerate(events):
        ex(source, pattern, event, number in matching, **kwargs)


# --- regular expressions -----------------------------------------------------------------------------------------

each(REGEX_TERMS, "%AUTHORIZED%", ["[ERROR 401] UNAUTHORIZED REQUEST", "[SUCCESS 200] AUTHORIZED REQUEST"], {0, 1})
ex(REGEX_TERMS, "%AUTHORIZED%", "[SUCCESS 200] authorized", False, derived="filter patterns are case sensitive")
S = REGEX_SYNTAX + " > Usage of supported operators"
each(S, "%^[hc]at%", ["hat trick", "cat", "the cat"], {0, 1}, derived="'only at the beginning': the third event")
each(S, "%[hc]at$%", ["a hat", "the cat", "cats"], {0, 1}, derived="'only at the end': the third event")
each(S, "%colou?r%", ["color", "colour", "colouur"], {0, 1}, derived="zero or one u: the third event")
each(S, "%[abc]%", ["a", "b", "c", "d"], {0, 1, 2}, derived="a character class of a, b, c: the fourth event")
each(S, "%[a-z]%", ["q", "Q7"], {0}, derived="lowercase letters only: the second event")
each(S, "%[abcx-z]%", ["a", "b", "c", "x", "y", "z", "d"], {0, 1, 2, 3, 4, 5}, derived="the last event is not listed")
each(S, "%a{3,5}%", ["aaa", "aaaa", "aaaaa", "aa"], {0, 1, 2}, derived="'at least m': the fourth event")
ex(S, "%a{3,}%", "aaaaaaa", True, derived="'Either m or n can be omitted' (no maximum)")
each(S, "%xa{,2}y%", ["xy", "xaay", "xaaay"], {0, 1}, derived="'Either m or n can be omitted' (no minimum)")
each(S, "%gra|ey%", ["gray", "grey", "green"], {0, 1}, derived="green holds neither side of the bar")
each(
    S,
    "%^starting|^initializing|^shutting down%",
    ["starting the service", "initializing the cache", "shutting down now", "skipping initializing the cache"],
    {0, 1, 2},
)
each(
    S,
    "%abcc|ab[^c]$%",
    ["abcc and more", "aba", "aac"],
    {0, 1},
    derived="the page prints %abcc|ab[^c]$ without its closing %; 'aba ...' read as the line aba",
)
each(S, "%\\[.\\]%", ["[a]", "[b]", "[7]", "[@]", "[]]", "[ ]", "[ab]"], {0, 1, 2, 3, 4, 5}, derived="[ab]: two")
each(S, "%10\\.10\\.0\\.1%", ["10.10.0.1", "10010,051"], {0}, derived="the escaped dot only matches a dot")
ex(S, "%10.10.0.1%", "10010,051", True)
each(S, "%ab*c%", ["ac", "abc", "abbbc"], {0, 1, 2})
each(S, "%ab[0-9]*%", ["ab", "ab0", "ab129"], {0, 1, 2})
each(S, "%ab+c%", ["abc", "abbc", "abbbc", "ac"], {0, 1, 2})
each(S, "%.at%", ["hat", "cat", "bat", "4at", "#at", " at", "at"], {0, 1, 2, 3, 4, 5}, derived="at: two characters")
each(S, "%\\d%", ["a1", "ab"], {0}, derived="\\d is [0-9]")
each(S, "%\\D%", ["12", "1a"], {1}, derived="\\D is [^0-9]")
each(S, "%a\\sb%", ["a b", "a\tb", "ab"], {0, 1}, derived="whitespace includes the tab and the space")
each(S, "%\\S%", ["   ", " x "], {1}, derived="\\S is the inverse of \\s")
each(S, "%\\w%", ["_", "-", "é"], {0}, derived="\\w is [a-zA-Z_0-9]: é is not")
each(S, "%\\W%", ["-", "a"], {0}, derived="\\W is [^a-zA-Z_0-9]")
ex(S, "%\\x3A%", "a:b", True)
ex(S, "%\\x28%", "f(x)", True)
refused(REGEX_SYNTAX, "%something!%", "unsupported character '!' in a regular expression at position 11")
refused(REGEX_SYNTAX, "%(ab)%", "parentheses are not supported", derived="'The ( and ) operators are not supported'")
refused(REGEX_SYNTAX, "%é%", "unsupported character 'é'", derived="'Multi-byte characters are not supported'")
refused(S, "%abcc|ab[^c]$", "unclosed regular expression", derived="the page's typo, as printed")
refused(
    REGEX_SYNTAX + " > Quotas",
    "{ $.a = %a% || $.b = %b% || $.c = %c% }",
    "too many regular expressions at position 35: a pattern may hold 2",
    derived="'a limit of 2 regex for each filter pattern when creating a delimited or JSON filter pattern'",
)
refused(
    REGEX_SYNTAX + " > Quotas",
    "[a = %a%, b = %b%, c = %c%]",
    "too many regular expressions at position 24: a pattern may hold 2",
    derived="'a limit of 2 regex for each filter pattern when creating a delimited or JSON filter pattern'",
)

# --- terms in unstructured log events ----------------------------------------------------------------------------

LOG = ["[ERROR 400] BAD REQUEST", "[ERROR 401] UNAUTHORIZED REQUEST", "[ERROR 419] MISSING ARGUMENTS"]
LOG.append("[ERROR 420] INVALID ARGUMENTS")
BOTH = (UNSTRUCTURED, UNSTRUCTURED_2022)
each(BOTH, "ERROR", LOG, {0, 1, 2, 3})
ex(UNSTRUCTURED, "ERROR", "[error 400] bad request", False, derived="'Filter patterns are case sensitive'")
each(BOTH, "ERROR ARGUMENTS", LOG, {2, 3})
each(BOTH, "?ERROR ?ARGUMENTS", LOG, {0, 1, 2, 3})
ex(UNSTRUCTURED, "?ERROR ?ARGUMENTS", "[INFO] REQUEST FAILED", False, derived="it holds neither term")
Q = UNSTRUCTURED + " > Example: Match optional terms (Note)"
each(Q, "?ERROR ?ARGUMENTS REQUEST", ["[INFO] REQUEST FAILED", "[WARN] UNAUTHORIZED REQUEST"], {0, 1})
ex(Q, "?ERROR ?ARGUMENTS REQUEST", "[ERROR] 400 BAD REQUEST", True)
ex(Q, "?ERROR ?ARGUMENTS REQUEST", LOG[2], False, derived="'all question mark terms will be ignored': no REQUEST")
ex(Q, "?ERROR -ARGUMENTS", LOG[2], False, derived="'such as include and exclude terms': only -ARGUMENTS counts")
ex(Q, "?ERROR -ARGUMENTS", "[INFO] OK", True, derived="'such as include and exclude terms': only -ARGUMENTS counts")
ex(BOTH, '"INTERNAL SERVER ERROR"', "[ERROR 500] INTERNAL SERVER ERROR", True)
ex(UNSTRUCTURED, '"INTERNAL SERVER ERROR"', "[ERROR 500] INTERNAL ERROR", False, derived="an exact phrase")
each(BOTH, "ERROR -ARGUMENTS", LOG, {0, 1})
each(BOTH, '" "', ["[ERROR 400] BAD REQUEST", "anything at all"], {0, 1})
each(ARCHIVED_2021 + " > Example 1: Match everything", "", ["[ERROR 400] BAD REQUEST", ""], {0, 1})
each(
    ARCHIVED_2021 + " > Example 1: Match everything",
    '""',
    ["[ERROR 400] BAD REQUEST", ""],
    {0, 1},
    derived='the page\'s "" read as the two-character pattern',
)
FATAL = ["[ERROR] A fatal exception has occurred", "Exiting with ERRORCODE: -1"]
each((TERMS_2021, TERMS_2018), '"ERROR"', FATAL, {0, 1})
each((TERMS_2021, TERMS_2018), '"ERROR" - "Exiting"', FATAL, {0})
EXCEPTIONS = ["[ERROR] Caught IllegalArgumentException", "[ERROR] Unhandled Exception"]
each(TERMS_2021, '"ERROR" "Exception"', EXCEPTIONS, {0, 1})
each(
    TERMS_2018,
    '"ERROR Exception"',
    EXCEPTIONS,
    set(),
    disagrees="read literally, the 2018 text says this quoted pattern matches both; quotes make one exact phrase "
    '(current page), which neither event holds, and the 2021 text rewrote it as "ERROR" "Exception"',
)
each(TERMS_2018, "ERROR Exception", EXCEPTIONS, {0, 1}, derived="the 2018 text without its quotes")
PROCESS = ["[WARN] Failed to process the request", "[ERROR] Unable to continue: Failed to process the request"]
each((TERMS_2021, TERMS_2018), "Failed to process the request", PROCESS, {0, 1})
each(
    (TERMS_2021, TERMS_2018),
    '"Failed to process the request"',
    PROCESS,
    {0, 1},
    derived="the page's quotes read as part of the pattern: the exact phrase is in both",
)
OR_LOG = ["ERROR WARN message", "ERROR message", "WARN message"]
each(OR_2021, "ERROR", OR_LOG, {0, 1})
each(OR_2021, "?ERROR ?WARN", OR_LOG, {0, 1, 2})
each(OR_2021, "ERROR WARN", OR_LOG, {0})
each(OR_2021, "ERROR -WARN", OR_LOG, {1})

# --- JSON log events ---------------------------------------------------------------------------------------------

JSON_EVENT = {
    "eventType": "UpdateTrail",
    "sourceIPAddress": "111.111.111.111",
    "arrayKey": ["value", "another value"],
    "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
    "SomeObject": None,
}
CURRENT_EVENT = json.dumps(dict(JSON_EVENT, **{"cluster.name": "c"}))  # current page and JSON_PAGE
EVENT_2022 = json.dumps(JSON_EVENT)
EVENT_2021 = json.dumps(dict(JSON_EVENT, ThisFlag=True))
J = (JSON_CURRENT, JSON_PAGE)
for pattern in (
    '{ $.eventType = "UpdateTrail" }',
    "{ $.sourceIPAddress != 123.123.* }",
    '{ $.arrayKey[0] = "value" }',
    "{ $.eventType = %Trail% }",
    "{ $.arrayKey[*] = %val.{2}% }",
    "{ $.* = %111\\.111\\.111\\.1[0-9]{1,2}% }",
    "{ $.['cluster.name'] = \"c\" }",
    "{ $.SomeObject IS NULL }",
    "{ $.SomeOtherObject NOT EXISTS }",
):
    ex(J, pattern, CURRENT_EVENT, True)
for pattern in (
    '{ $.eventType = "UpdateTrail" }',
    "{ $.sourceIPAddress != 123.123.* }",
    '{ $.arrayKey[0] = "value" }',
    "{ $.objectList[1].id = 2 }",
    "{ $.SomeObject IS NULL }",
    "{ $.SomeOtherObject NOT EXISTS }",
):
    ex(JSON_2022, pattern, EVENT_2022, True)
for pattern in (
    '{ $.eventType = "UpdateTrail" }',
    "{ $.sourceIPAddress != 123.123.* }",
    '{ $.arrayKey[0] = "value" }',
    "{ $.objectList[1].id = 2 }",
    "{ $.SomeObject IS NULL }",
    "{ $.SomeOtherObject NOT EXISTS }",
    "{ $.ThisFlag IS TRUE }",
):
    ex(JSON_2021, pattern, EVENT_2021, True)
ex(
    JSON_2021,
    "{ $.ThisFlag IS FALSE }",
    EVENT_2021,
    False,
    derived="'also works for boolean filters which check for FALSE'",
)
COMPOUND = {
    "user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
    "actions": ["GET", "PUT", "DELETE"],
    "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
}
STRINGS_2021 = ARCHIVED_2021 + " > Matching JSON Terms Using Metric Filters"
NAMED = "the page names the values, not the property"
each(
    STRINGS_2021,
    "{ $.eventName = *Event }",
    [json.dumps({"eventName": v}) for v in ("PutEvent", "GetEvent")],
    {0, 1},
    derived=NAMED,
)
each(
    STRINGS_2021,
    "{ $.eventName = Event* }",
    [json.dumps({"eventName": v}) for v in ("EventId", "EventName")],
    {0, 1},
    derived=NAMED,
)
each(
    STRINGS_2021,
    "{ $.eventName = Ev*ent }",
    [json.dumps({"eventName": v}) for v in ("Ev*ent", "Event", "EvXent")],
    {0},
    derived="'Ev*ent will only match the actual string Ev*ent'",
)
ex(
    STRINGS_2021,
    '{ $.eventName = "a@b$c\\\\d" }',
    json.dumps({"eventName": "a@b$c\\d"}),
    True,
    derived="quoted, they are valid",
)
refused(STRINGS_2021, "{ $.eventName = a@b }", "unexpected '@' in an unquoted value", derived="'@' must be quoted")
refused(STRINGS_2021, "{ $.eventName = a$b }", "unexpected '$' in an unquoted value", derived="'$' must be quoted")
refused(STRINGS_2021, "{ $.eventName = é }", "unexpected 'é' in an unquoted value", derived="unicode must be quoted")
SELECTOR_2021 = STRINGS_2021 + " (SELECTOR)"
ex(SELECTOR_2021, "{ $.users[0].id = 2 }", json.dumps(COMPOUND), True, derived="one of the page's selectors")
ex(SELECTOR_2021, "{ $.users[0] != 1 }", json.dumps(COMPOUND), False, derived="$.users[0] is an object")
ex(
    SELECTOR_2021,
    "{ $.requestParameters.instanceId = i-* }",
    json.dumps({"requestParameters": {"instanceId": "i-0abc"}}),
    True,
    derived="one of the page's selectors",
)
ex(SELECTOR_2021, "{ $.eventId NOT EXISTS }", json.dumps({"eventID": "x"}), True, derived="names are case sensitive")
refused(SELECTOR_2021, "{ $[0] = 1 }", "an array index must follow a property", derived="'must follow a property'")
refused(SELECTOR_2021, "{ $.a b = 1 }", "expected an operator after $.a", derived="names are alphanumeric, '-' and '_'")

W = JSON_PAGE + " > Monitor application data with wildcards"
ex(W, "{ $.arrayKey[*] = %val.{2}% }", json.dumps({"arrayKey": ["x", "valid"]}), True, derived="any element")
ex(W, "{ $.arrayKey[*] = %val.{2}% }", json.dumps({"arrayKey": ["x", "val"]}), False, derived="no element")
ex(W, "{ $.arrayKey[*] = %val.{2}% }", json.dumps({"arrayKey": []}), False, derived="no element at all")
ex(W, "{ $.arrayKey[*] = %val.{2}% }", json.dumps({"arrayKey": "value"}), False, derived="not an array")
ex(W, '{ $.objectList[*].name = "b" }', CURRENT_EVENT, True, derived="any element, then its property")
ex(W, '{ $.objectList[*].name = "c" }', CURRENT_EVENT, False, derived="no element has it")
ex(W, '{ $.objectList[*].name != "a" }', CURRENT_EVENT, True, derived="any element: the second one is b")
ex(
    JSON_PAGE + " > Track network traffic patterns",
    "{ $.* = %111\\.111\\.111\\.1[0-9]{1,2}% }",
    json.dumps({"eventType": "UpdateTrail", "sourceIPAddress": "10.0.0.1"}),
    False,
    derived="no property holds such an address",
)
ex(
    JSON_PAGE + " > Track network traffic patterns",
    "{ $.*.id = 1 }",
    json.dumps({"user": {"id": 1}}),
    True,
    derived="any property, then its property",
)
E = JSON_PAGE + " > Monitor application events by type"
each(
    E,
    '{ $.eventType = "UpdateTrail" }',
    [
        json.dumps({"eventType": "UserLogin", "userId": "123"}),
        json.dumps({"eventType": "ConfigUpdate", "component": "database"}),
        json.dumps({"eventType": "UpdateTrail", "source": "cloudtrail"}),
    ],
    {2},
    derived="the page lists the three as logs the pattern 'works with'; equality is exact, so only UpdateTrail",
)
ex(
    JSON_CURRENT + " > Handle JSON properties with special characters",
    '{ $.cluster.name = "c" }',
    CURRENT_EVENT,
    False,
    derived="without the bracket notation the period separates two properties",
)
refused(JSON_CURRENT, "{ $.SomeObject IS NOT NULL }", "expected NULL, TRUE or FALSE after IS at position 19")
refused(JSON_CURRENT, "{ $.SomeOtherObject EXISTS }", "expected an operator after $.SomeOtherObject at position 21")
QUOTAS = JSON_CURRENT + " > Quotas"
refused(QUOTAS, "{ $.objectList[*].tags[*] = x }", "a second wildcard in one selector at position 23")
refused(QUOTAS, "{ $.*.ids[*] = 1 }", "a second wildcard in one selector at position 10")
ex(QUOTAS, "{ $.a[*] = 1 || $.b.* = 1 || $.* = 1 }", json.dumps({"c": 1}), True, derived="three are allowed")
refused(
    QUOTAS,
    "{ $.a[*] = 1 || $.b.* = 1 || $.* = 1 || $.d[*] = 1 }",
    "too many wildcard selectors at position 41: CloudWatch Logs allows 3 per pattern",
)

NUMBERS = JSON_CURRENT + " > Writing filter patterns that match numeric values"
for pattern, hit, miss in (
    ("{ $.bandwidth > 75 }", 76, 75),
    ("{ $.latency < 50 }", 49, 50),
    ("{ $.refreshRate >= 60 }", 60, 59),
    ("{ $.responseTime <= 5 }", 5, 6),
    ("{ $.errorCode = 400}", 400, 401),
    ("{ $.errorCode != 500 }", 400, 500),
):
    name = pattern.split(".")[1].split()[0]
    ex((NUMBERS, JSON_2022), pattern, json.dumps({name: hit}), True, derived="the page gives no event")
    ex((NUMBERS, JSON_2022), pattern, json.dumps({name: miss}), False, derived="the page gives no event")
for source, pattern, hit, miss in (
    (NUMBERS, "{ $.number[0] = 1e+3 }", 1000, 1001),
    (NUMBERS, "{ $.number[0] != 1e-3 }", 1, 0.001),
    (JSON_2022, "{ $.number[0] = 1e-3 }", 0.001, 0.01),
    (JSON_2022, "{ $.number[0] != 1e+3 }", 999, 1e3),
):
    ex(source, pattern, json.dumps({"number": [hit]}), True, derived="the page gives no event")
    ex(source, pattern, json.dumps({"number": [miss]}), False, derived="the page gives no event")
ex(
    NUMBERS,
    "{ $.errorCode = 4* }",
    json.dumps({"errorCode": 404}),
    True,
    derived="'asterisk as a wild card to match numbers'",
)
ex(
    NUMBERS,
    "{ $.errorCode = 4* }",
    json.dumps({"errorCode": 504}),
    False,
    derived="'asterisk as a wild card to match numbers'",
)
for pattern, hit, miss in (
    ("{ $.latency >= 500 }", {"latency": 500}, {"latency": 499.99}),
    ("{ $.numbers[0] < 10e3 }", {"numbers": [9999]}, {"numbers": [10000]}),
    ("{ $.numbers[0] < 10e-3 }", {"numbers": [0.009]}, {"numbers": [0.01]}),
    ("{ $.processes[4].averageRuntime <= 55.5 }", {"processes": [0, 0, 0, 0, {"averageRuntime": 55.5}]}, {}),
    ("{ $.errorCode = 400 }", {"errorCode": 400}, {"errorCode": 500}),
    ("{ $.errorCode != 500 }", {"errorCode": 400}, {"errorCode": 500}),
    ("{ $.latency > +1000 }", {"latency": 1000.5}, {"latency": 1000}),
):
    ex(NUMERIC_2021, pattern, json.dumps(hit), True, derived="the page gives no event")
    ex(NUMERIC_2021, pattern, json.dumps(miss), False, derived="the page gives no event")

C = (JSON_CURRENT, JSON_PAGE, JSON_2022, COMPOUND_2021)
ex(C, '{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', json.dumps(COMPOUND), True)
ex(C, '{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', json.dumps(COMPOUND), False)
ex(
    (JSON_CURRENT, JSON_PAGE, JSON_2022),
    '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }',
    json.dumps(COMPOUND),
    True,
)
ex(
    (JSON_CURRENT, JSON_PAGE, JSON_2022),
    '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }',
    json.dumps(COMPOUND),
    False,
)
ex(
    COMPOUND_2021,
    '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }',
    json.dumps(COMPOUND),
    True,
)
ex(
    COMPOUND_2021,
    '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }',
    json.dumps(COMPOUND),
    False,
)
for pattern in ("{$.users = 1}", "{$.users != 1}"):
    ex(SPECIAL_2021, pattern, json.dumps({"users": [1, 2, 3]}), False)
FOO = [json.dumps({"foo": "bar"}), json.dumps({"foo": "baz"})]
each(OR_2021, "{$.foo = bar}", FOO, {0})
each(OR_2021, "{$.foo = baz }", FOO, {1})
each(OR_2021, "{$.foo = bar || $.foo = baz }", FOO, {0, 1})
DIMENSION_EVENT = {k: v for k, v in JSON_EVENT.items() if k != "SomeObject"}
ex(DIMENSIONS_2022, '{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }', json.dumps(DIMENSION_EVENT), True)
ex(
    DIMENSIONS_2022,
    '{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }',
    json.dumps(dict(DIMENSION_EVENT, sourceIPAddress="123.123.0.9")),
    False,
    derived="inside the 123.123 prefix",
)
each(
    (VALUES_2022, ARCHIVED_2021 + " > Publishing Numerical Values Found in Log Entries"),
    "{ $.latency = * }",
    [json.dumps({"latency": 50, "requestType": "GET"}), "{}"],
    {0},
)

# A watch for bucket policies granting everyone, as the issue that asked for wildcards writes it (not on the page):
# any-element semantics from the page's "Wildcard selector" note.
POLICY_WATCH = (
    '{ ($.eventName = "PutBucketPolicy") && ($.requestParameters.bucketPolicy.Statement[*].Principal = "*") }'
)
SAMPLE = json.loads(
    (Path(__file__).resolve().parents[4] / "tests/samples/cloudtrail/s3-bucket-policy-changed.json").read_text()
)[0]
PUBLIC_STATEMENT = {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}


def with_statements(record, statements):
    record = json.loads(json.dumps(record))
    record["requestParameters"]["bucketPolicy"]["Statement"] = statements
    return json.dumps(record)


WATCH_SOURCE = JSON_CURRENT + " > Wildcard selector (the PutBucketPolicy watch)"
ANY = "'select any array element': the comparison holds for any statement"
private = SAMPLE["requestParameters"]["bucketPolicy"]["Statement"]
ex(WATCH_SOURCE, POLICY_WATCH, with_statements(SAMPLE, private + [PUBLIC_STATEMENT]), True, derived=ANY)
ex(WATCH_SOURCE, POLICY_WATCH, with_statements(SAMPLE, [PUBLIC_STATEMENT] + private), True, derived=ANY)
ex(WATCH_SOURCE, POLICY_WATCH, json.dumps(SAMPLE), False, derived="Principal is an object, not the value *")
ex(WATCH_SOURCE, POLICY_WATCH, with_statements(SAMPLE, []), False, derived="no statement at all")
ex(
    WATCH_SOURCE,
    POLICY_WATCH,
    json.dumps(dict(SAMPLE, eventName="GetBucketPolicy")),
    False,
    derived="another event name",
)

# --- space-delimited log events ----------------------------------------------------------------------------------

PROD = '127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'
PROD_VALUES = {
    "$ip": "127.0.0.1",
    "$user": "Prod",
    "$username": "frank",
    "$timestamp": "10/Oct/2000:13:25:15 -0700",
    "$request": "GET /index.html HTTP/1.0",
    "$status_code": "404",
    "$bytes": "1534",
}
ex(
    DELIMITED,
    "[ip=%127\\.0\\.0\\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
    PROD,
    True,
)
ex(
    DELIMITED,
    "[ip=%127\\.0\\.0\\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
    PROD.replace("127.0.0.1", "10.0.0.1"),
    False,
    derived="outside the 127.0.0.1 - 127.0.0.9 range",
)
ex(
    DELIMITED_2022,
    "[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
    PROD,
    True,
    extracted=PROD_VALUES,
)
ex(
    (DELIMITED, DELIMITED_2022),
    "[..., request =*.html*, status_code = 4*, bytes]",
    PROD,
    True,
    extracted={
        "$1": "127.0.0.1",
        "$2": "Prod",
        "$3": "frank",
        "$4": "10/Oct/2000:13:25:15 -0700",
        "$request": "GET /index.html HTTP/1.0",
        "$status_code": "404",
        "$bytes": "1534",
    },
    derived="extracted values: $N for the fields '...' covers, as in the 2021 example",
)
ex(
    (DELIMITED, DELIMITED_2022),
    "[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]",
    PROD,
    True,
)
ex(
    DIMENSIONS_2022,
    "[ip, server, username, timestamp, request, status_code, bytes > 1000]",
    PROD,
    True,
    extracted=dict({k: v for k, v in PROD_VALUES.items() if k != "$user"}, **{"$server": "Prod"}),
)
LINES = [
    "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200",
    "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310",
    "WARNING 09/25/2014 12:00:02 Invalid user request",
    "ERROR 09/25/2014 12:00:02 Failed to process request",
]
ORDER = DELIMITED + " > Example: Match terms in order"
each((ORDER, DELIMITED_2022), "[w1=ERROR, w2]", LINES, {3}, derived="the events are the current page's")
ex(
    ORDER,
    "[w1=ERROR, w2]",
    LINES[3],
    True,
    extracted={"$w1": "ERROR", "$w2": "09/25/2014 12:00:02 Failed to process request"},
    derived="the last field takes the rest of the line, so that a blank indicator can follow the last term",
)
each(ORDER + " (Note)", "[w1=ERROR]", LINES, set(), derived="'you must include a blank indicator': w1 is the line")
each(ORDER + " (Note)", "[w1=ERROR, w2]", ["ERROR"], set(), derived="the blank indicator w2 still needs a word")
ANDOR = DELIMITED + " > Example: Match terms with AND (&&) and OR (||)"
each(
    (ANDOR, DELIMITED_2022), "[w1=ERROR || w1=WARNING, w2]", LINES, {2, 3}, derived="the events are the current page's"
)
EXCLUDE = DELIMITED + " > Example: Exclude terms from matches"
each((EXCLUDE, DELIMITED_2022), "[w1!=ERROR && w1!=WARNING, w2]", LINES, {0, 1}, derived="the events are the current")
TOP = DELIMITED + " > Example: Match the top level item in a resource URI"
each(TOP, "[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]", LINES, {0})
CHILD = DELIMITED + " > Example: Match the child level item in a resource URI"
each(CHILD, "[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]", LINES, {1})

APACHE = [
    '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
    '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
    '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355',
]
D21 = (DELIMITED_2021, DELIMITED_2018)
FIT = "the page gives these patterns for these events"
for pattern in (
    "[ip, user, username, timestamp, request, status_code, bytes]",
    "[..., status_code, bytes]",
    "[ip, user, ..., status_code, bytes]",
    "[ip, user, ...]",
    "[ip, user, username, timestamp, request, status_code, bytes > 1000]",
):
    each(D21, pattern, APACHE, {0, 1, 2}, derived=FIT)
each(D21, "[ip, user, username, timestamp, request, status_code = 200, bytes]", APACHE, {0, 2}, derived=FIT)
each(D21, "[ip, user, username, timestamp, request, status_code = 4*, bytes]", APACHE, set(), derived=FIT)
each(D21, "[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", APACHE, set(), derived=FIT)
LINE_404 = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'
each(
    DELIMITED_2018,
    "[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]",
    APACHE + [LINE_404],
    {3},
    derived=FIT + ", and a 404 line",
)
each(
    DELIMITED_2021,
    "[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]",
    APACHE + [LINE_404],
    {3},
    derived=FIT + ", and a 404 line",
)
ex(
    DELIMITED_2021,
    "[..., request=*.html*, status_code=4*,]",
    LINE_404,
    True,
    extracted={
        "$status_code": "404",
        "$request": "GET /index.html HTTP/1.0",
        "$7": "1534",
        "$4": "10/Oct/2000:13:25:15 -0700",
        "$3": "frank",
        "$2": "-",
        "$1": "127.0.0.1",
    },
    disagrees="the page prints $request as GET /products/index.html HTTP/1.0, which its own event does not hold",
)
refused(
    DELIMITED_2021,
    "[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]",
    "the condition on 'bytes' is in the field 'status_code' at position 62",
    derived="AWS answers 'Invalid filter pattern' (awsdocs/amazon-cloudwatch-logs-user-guide issue 21)",
)
SUPERSEDED = "the current page matches [w1=ERROR, w2] on seven-word lines: the last field takes the rest of the line"
each(OR_2021, "[w1=ERROR, w2]", OR_LOG, {0, 1}, disagrees="the page says pattern 2 only; " + SUPERSEDED)
each(OR_2021, "[w1=ERROR || w1=WARN, w2]", OR_LOG, {0, 1, 2}, disagrees="the page says 2 and 3; " + SUPERSEDED)
each(
    OR_2021,
    "[w1!=ERROR&&w1!=WARN, w2]",
    OR_LOG,
    set(),
    disagrees="the page says pattern 1, whose first word is ERROR; w1!=ERROR cannot hold for it",
)
refused(
    DELIMITED_2022,
    "[w1=ERROR || W1=WARNING, w2]",
    "the condition on 'W1' is in the field 'w1' at position 14",
    disagrees="field names are case sensitive here; the current page spells it w1=WARNING",
)
refused(
    ARCHIVED_2018 + " > OR Pattern Matching",
    "[w1=!ERROR&&w1=!WARN, w2]",
    "unexpected '!' at position 5",
    disagrees="corrected to w1!=ERROR in 2021; '=!' is not an operator",
)

# Space-delimited logs the issue names: Lambda's "timestamp<TAB>request id<TAB>message" lines.
LAMBDA = "2024-05-01T12:00:00.123Z\t3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b\tERROR\tInvoke Error {'errorType': 'x'}"
LAMBDA_SOURCE = DELIMITED + " (the Lambda log pattern)"
ex(
    LAMBDA_SOURCE,
    '[timestamp=*Z, request_id="*-*", event]',
    LAMBDA,
    True,
    extracted={
        "$timestamp": "2024-05-01T12:00:00.123Z",
        "$request_id": "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b",
        "$event": "ERROR\tInvoke Error {'errorType': 'x'}",
    },
    derived="the last field takes the rest of the line; * at the start or the end of a value is a wildcard",
)
ex(
    LAMBDA_SOURCE,
    '[timestamp=*Z, request_id="*-*", event]',
    "START RequestId: 3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b Version: $LATEST",
    False,
    derived="START does not end with Z",
)


# --- the tests ---------------------------------------------------------------------------------------------------


def sources_of(row):
    return (row.source,) if isinstance(row.source, str) else row.source


def row_id(prefix, number, row):
    return f"{prefix}{number:03d}-{row.pattern[:40]}"


@pytest.mark.parametrize("row", [pytest.param(r, id=row_id("example", n, r)) for n, r in enumerate(EXAMPLES, start=1)])
def test_documented_example(row):
    assert matches(row.pattern, row.event) is row.matched
    if row.extracted is not None:
        [found] = test_metric_filter(row.pattern, [row.event])["matches"]
        assert found["extractedValues"] == row.extracted


@pytest.mark.parametrize("row", [pytest.param(r, id=row_id("refused", n, r)) for n, r in enumerate(REFUSALS, start=1)])
def test_documented_refusal(row):
    problem = pattern_error(row.pattern)
    assert problem is not None and row.error in problem, problem


def test_every_row_names_a_page_section():
    for row in EXAMPLES + REFUSALS:
        assert all(source.startswith(SOURCES) for source in sources_of(row)), row


def test_every_documented_pattern_prints_back_to_itself():
    # format_pattern is what the hypothesis property checks in general; here on every pattern of the page
    from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import format_pattern

    for pattern in {row.pattern for row in EXAMPLES}:
        tree = parse(pattern)
        assert parse(format_pattern(tree)) == tree, pattern


# Examples of an archived version pinned here with another outcome than that version states (see the rows).
KNOWN_DISAGREEMENTS = {
    '"ERROR Exception"',
    "[..., request=*.html*, status_code=4*,]",
    "[w1=ERROR, w2]",
    "[w1=ERROR || w1=WARN, w2]",
    "[w1!=ERROR&&w1!=WARN, w2]",
    "[w1=ERROR || W1=WARNING, w2]",
    "[w1=!ERROR&&w1=!WARN, w2]",
}


def test_the_disagreements_are_the_known_ones():
    found = {row.pattern for row in EXAMPLES + REFUSALS if row.disagrees}
    assert found == KNOWN_DISAGREEMENTS
    assert all(
        not source.startswith(CURRENT) for row in EXAMPLES + REFUSALS if row.disagrees for source in sources_of(row)
    )
