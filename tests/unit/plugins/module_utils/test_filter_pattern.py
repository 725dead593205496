"""_filter_pattern.pattern_error: the structural checks run before any AWS call."""

import pytest

from ansible_collections.trailwatch.aws.plugins.module_utils._filter_pattern import pattern_error

# docs cis-watches.md: the CIS / Security Hub CloudWatch.1-14 patterns, verbatim.
CIS_PATTERNS = {
    "CloudWatch.1": (
        '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}'
    ),
    "CloudWatch.2": '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}',
    "CloudWatch.3": (
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
        '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'
    ),
    "CloudWatch.4": (
        "{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || "
        "($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || "
        "($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || "
        "($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || "
        "($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || "
        "($.eventName=DetachGroupPolicy)}"
    ),
    "CloudWatch.5": (
        "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || "
        "($.eventName=StartLogging) || ($.eventName=StopLogging)}"
    ),
    "CloudWatch.6": '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
    "CloudWatch.7": (
        "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}"
    ),
    "CloudWatch.8": (
        "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || "
        "($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || "
        "($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || "
        "($.eventName=DeleteBucketReplication))}"
    ),
    "CloudWatch.9": (
        "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || "
        "($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || "
        "($.eventName=PutConfigurationRecorder))}"
    ),
    "CloudWatch.10": (
        "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || "
        "($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || "
        "($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}"
    ),
    "CloudWatch.11": (
        "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || "
        "($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || "
        "($.eventName=ReplaceNetworkAclAssociation)}"
    ),
    "CloudWatch.12": (
        "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || "
        "($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || "
        "($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}"
    ),
    "CloudWatch.13": (
        "{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || "
        "($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || "
        "($.eventName=DisassociateRouteTable)}"
    ),
    "CloudWatch.14": (
        "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || "
        "($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || "
        "($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || "
        "($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || "
        "($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}"
    ),
}

CREATE_BUCKET = '{ ($.eventName = "CreateBucket") }'


def test_all_fourteen_cis_controls_are_listed():
    assert sorted(CIS_PATTERNS, key=lambda c: int(c.split(".")[1])) == [f"CloudWatch.{n}" for n in range(1, 15)]


@pytest.mark.parametrize("control", sorted(CIS_PATTERNS))
def test_cis_patterns_are_accepted(control):
    assert pattern_error(CIS_PATTERNS[control]) is None


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param(CREATE_BUCKET, id="create-bucket-default-watch"),
        pytest.param('{ $.eventName = "CreateBucket" }', id="json-without-parens"),
        pytest.param("ERROR", id="single-term"),
        pytest.param('"Failed authentication"', id="quoted-phrase"),
        pytest.param('?ERROR ?WARN', id="or-terms"),
        pytest.param("[ip, user, username, timestamp, request, status_code = 4*, bytes]", id="space-delimited"),
        pytest.param('{ $.errorMessage = "Access (denied" }', id="open-paren-inside-quotes"),
        pytest.param('{ $.errorMessage = "denied)" }', id="close-paren-inside-quotes"),
        pytest.param('{ $.requestParameters.name = "a}b{c" }', id="braces-inside-quotes"),
        pytest.param('[w1, w2 = "x]"]', id="bracket-inside-quotes"),
        pytest.param('"unbalanced ( in a term"', id="paren-inside-quoted-term"),
        pytest.param("%AUTHORIZED%", id="regex-term"),
        pytest.param("{ $.eventName = %Delete[A-Za-z]+% }", id="regex-in-json"),
        pytest.param("  { $.eventName = CreateBucket }  \n", id="surrounding-whitespace"),
        pytest.param("{ ((($.a = 1))) && [$.b = 2] }", id="deep-nesting"),
    ],
)
def test_good_patterns(pattern):
    assert pattern_error(pattern) is None


@pytest.mark.parametrize(
    "pattern, message",
    [
        pytest.param("", "the pattern is empty", id="empty"),
        pytest.param("   ", "the pattern is empty", id="blank"),
        pytest.param("\t\n ", "the pattern is empty", id="whitespace"),
        pytest.param(None, "the pattern is empty", id="none"),
        pytest.param(42, "the pattern is empty", id="not-a-string"),
        pytest.param('{ ($.eventName = "CreateBucket") ', "'{' at position 1 is never closed", id="unclosed-brace"),
        pytest.param('{ ($.eventName = "CreateBucket" }', "unbalanced '}' at position 33", id="unclosed-paren"),
        pytest.param("{ $.a = 1 ))", "unbalanced ')' at position 11", id="extra-close-paren"),
        pytest.param("($.a = 1", "'(' at position 1 is never closed", id="open-paren"),
        pytest.param("[ip, user", "'[' at position 1 is never closed", id="unclosed-bracket"),
        pytest.param("ip, user]", "unbalanced ']' at position 9", id="extra-close-bracket"),
        pytest.param("{ ( $.a = 1 } )", "unbalanced '}' at position 13", id="crossed-nesting"),
        pytest.param('{ $.eventName = "CreateBucket }', "a quoted value is not closed", id="unclosed-quote"),
        pytest.param('"Failed authentication', "a quoted value is not closed", id="unclosed-quoted-term"),
        pytest.param(
            "{ eventName = CreateBucket }",
            "a JSON pattern needs at least one selector such as $.eventName",
            id="json-without-selector",
        ),
        pytest.param('{ "CreateBucket" }', "a JSON pattern needs at least one selector such as $.eventName",
                     id="json-only-a-string"),
        pytest.param("{ $.a = 1 } ERROR", "a JSON pattern must end with '}'", id="json-trailing-text"),
        pytest.param('"a" ( "b)"', "'(' at position 5 is never closed", id="close-paren-only-inside-quotes"),
    ],
)
def test_bad_patterns(pattern, message):
    assert pattern_error(pattern) == message
