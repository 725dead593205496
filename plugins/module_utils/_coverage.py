# -*- coding: utf-8 -*-
# Copyright: Contributors to the TrailWatch project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to trailwatch.aws: the coverage check, whether a trail records the events a watch counts.

A watch is a metric filter on the log group a trail delivers to. It can only count the events the trail records:
a trail that drops read-only calls, excludes KMS, records no data events, or covers one region only leaves
watches that never fire and no error anywhere. This module decides it on the controller, from the watch's filter
pattern and the trail's recording settings, without any AWS call. Pure functions, no boto3.

Public API (stable: the role filters, ``trailwatch.aws.trail_coverage_info`` and the doctor's
``trail-records-events`` link use it):

- ``recording_from_variables(read_write_type, exclude_management_event_sources, region)``: the trail TrailWatch
  creates, from its role variables (multi-region, global service events, management events only).
- ``recording_from_trail(trail, event_selectors, advanced_event_selectors)``: an existing trail, from its
  ``DescribeTrails`` entry and its ``GetEventSelectors`` answer (basic ``EventSelectors`` or
  ``AdvancedEventSelectors``; ``None`` for selectors that could not be read).
- ``merge_recordings(recordings)``: several trails delivering to the same log group (an event is recorded when
  any of them records it); ``no_trail(log_group_name, region)``: no trail delivers to the log group at all.
- ``needs_of(pattern, region)`` -> ``Needs``: the events a pattern can count (see "How needs are derived").
- ``blind_spots(watch, recording)`` -> ``[Finding(setting, reason, fix, certain)]``: one finding per trail setting
  that drops events the watch counts. ``certain`` is False for what TrailWatch cannot decide (the events a
  non-JSON pattern needs, whether an unknown API name is read-only, a selector limited to some resources): report
  those as warnings. An empty list: the trail records everything the watch needs.
- ``coverage_report(watches, recording)`` -> ``{"errors": [...], "warnings": [...], "watches": {name: {...}}}``:
  one-line messages naming the watch, the setting and the fix. A watch with ``accept_blind_spots: true`` has its
  findings reported as warnings, not errors.
- ``trail_defaults(watches, region)`` -> ``{"read_write_type", "exclude_management_event_sources"}``: the trail
  role's defaults, the article's ``WriteOnly`` / ``[kms.amazonaws.com, rdsdata.amazonaws.com]`` minus what a watch
  needs (``All`` / ``[]`` with the ``cis`` preset).
- ``dropped_by(recording, record)`` -> ``[(setting, fix)]``: why a CloudTrail record (a dict as CloudTrail writes
  it) does not reach the log group; empty when it does.

How needs are derived (no sample records at run time: ``tests/`` is not shipped). A JSON filter pattern is put in
disjunctive normal form; in each alternative, the comparisons on ``eventSource``, ``eventName``, ``readOnly``,
``eventCategory``, ``managementEvent`` and ``awsRegion`` are evaluated with the filter-pattern evaluator against a
finite set of representative events: the API names of the services whose events a trail setting can drop
(KMS and the RDS Data API, which ``ExcludeManagementEventSources`` can exclude; IAM, STS and AWS sign-in, which
are global service events), the data events of the table ``DATA_EVENTS`` (CloudTrail User Guide "Logging data
events"), the names and sources written in the pattern, and a read and a write call of any other service.
Comparisons on other fields (``errorCode``, ``userIdentity``, ...) do not narrow which events are needed.
An alternative that can match a management event is taken to watch management events (a CIS watch on
``errorCode`` also matches denied data events; it does not need them); one that can only match data events needs
data events. Whether a call is read-only (``readOnly`` in the record) comes from the pattern when it says so,
else from the API name's verb (``Get``, ``List``, ``Describe``, ... read; ``Create``, ``Put``, ``Delete``, ...
write; the CloudTrail User Guide "Logging management events" defines read-only events as those that read
resources without changing them); a name with another verb may be either (``certain`` False).
Term, regular-expression and space-delimited patterns: the needs cannot be derived (one uncertain finding).

Errors: none raised for watch input; a pattern that does not parse is reported as undetermined. The functions
reading AWS answers raise ``ValueError`` for a shape they do not know.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import lru_cache
from itertools import product
from typing import Any
from typing import Dict
from typing import Iterable
from typing import List
from typing import NamedTuple
from typing import Optional
from typing import Sequence
from typing import Tuple

from ansible.module_utils.parsing.convert_bool import boolean

from ._filter_pattern import And
from ._filter_pattern import Comparison
from ._filter_pattern import FilterPatternError
from ._filter_pattern import JsonPattern
from ._filter_pattern import Or
from ._filter_pattern import matches
from ._filter_pattern import parse

# --- AWS facts (docs/aws-rules.md, section CloudTrail) ----------------------------------------------------------

MANAGEMENT = "Management"
DATA = "Data"
# The article's trail settings, TrailWatch's defaults while no watch needs more.
ARTICLE_READ_WRITE_TYPE = "WriteOnly"
ARTICLE_EXCLUDED_SOURCES = ("kms.amazonaws.com", "rdsdata.amazonaws.com")
# EventSelector.ExcludeManagementEventSources (CloudTrail API Reference): "the list can be empty (disables the
# filter), or it can filter out AWS Key Management Service or Amazon RDS Data API events".
EXCLUDABLE_SOURCES = ARTICLE_EXCLUDED_SOURCES
# CloudTrail concepts, "Global service events": IAM, AWS STS and CloudFront events (and, per AWS's 2021 notice,
# AWS sign-in) are delivered to trails that include global services and are recorded in us-east-1; a
# single-region trail outside us-east-1 does not receive them. STS regional endpoints and IAM user sign-ins
# also produce events in other regions ("AWS Security Token Service and CloudTrail", "AWS console sign-in events").
GLOBAL_EVENTS_REGION = "us-east-1"
GLOBAL_SOURCES = {
    "iam.amazonaws.com": "global",
    "cloudfront.amazonaws.com": "global",
    "sts.amazonaws.com": "both",
    "signin.amazonaws.com": "both",
}


def _names(text: str) -> Tuple[str, ...]:
    return tuple(text.split())


# API operation names as CloudTrail writes them in eventName (botocore's service models; pinned by
# tests/unit/plugins/module_utils/test_coverage.py::test_operation_tables_hold_every_botocore_operation).
KMS_EVENTS = _names(
    """CancelKeyDeletion ConnectCustomKeyStore CreateAlias CreateCustomKeyStore CreateGrant CreateKey Decapsulate
    Decrypt DeleteAlias DeleteCustomKeyStore DeleteImportedKeyMaterial DeriveSharedSecret DescribeCustomKeyStores
    DescribeKey DisableKey DisableKeyRotation DisconnectCustomKeyStore EnableKey EnableKeyRotation Encapsulate Encrypt
    GenerateDataKey GenerateDataKeyPair GenerateDataKeyPairWithoutPlaintext GenerateDataKeyWithoutPlaintext
    GenerateMac GenerateRandom GetKeyLastUsage GetKeyPolicy GetKeyRotationStatus GetParametersForImport GetPublicKey
    ImportKeyMaterial ListAliases ListGrants ListKeyPolicies ListKeyRotations ListKeys ListResourceTags
    ListRetirableGrants PutKeyPolicy ReEncrypt ReplicateKey RetireGrant RevokeGrant RotateKeyOnDemand
    ScheduleKeyDeletion Sign TagResource UntagResource UpdateAlias UpdateCustomKeyStore UpdateKeyDescription
    UpdatePrimaryRegion Verify VerifyMac
    DeleteExpiredKeyMaterial DeleteKey RotateKey SynchronizeMultiRegionKey"""
)  # the last line: KMS's own service events (AWS KMS Developer Guide, "Logging AWS KMS API calls with CloudTrail")
RDS_DATA_EVENTS = _names(
    "BatchExecuteStatement BeginTransaction CommitTransaction ExecuteSql ExecuteStatement RollbackTransaction"
)
IAM_EVENTS = _names(
    """AcceptDelegationRequest AcquireRole AddClientIDToOpenIDConnectProvider AddRoleToInstanceProfile AddUserToGroup
    AssociateDelegationRequest AttachGroupPolicy AttachRolePolicy AttachUserPolicy ChangePassword CreateAccessKey
    CreateAccountAlias CreateDelegationRequest CreateGroup CreateInstanceProfile CreateLoginProfile
    CreateOpenIDConnectProvider CreatePolicy CreatePolicyVersion CreateRole CreateSAMLProvider
    CreateServiceLinkedRole CreateServiceSpecificCredential CreateUser CreateVirtualMFADevice DeactivateMFADevice
    DeleteAccessKey DeleteAccountAlias DeleteAccountPasswordPolicy DeleteGroup DeleteGroupPolicy
    DeleteInstanceProfile DeleteLoginProfile DeleteOpenIDConnectProvider DeletePolicy DeletePolicyVersion DeleteRole
    DeleteRolePermissionsBoundary DeleteRolePolicy DeleteSAMLProvider DeleteSSHPublicKey DeleteServerCertificate
    DeleteServiceLinkedRole DeleteServiceSpecificCredential DeleteSigningCertificate DeleteUser
    DeleteUserPermissionsBoundary DeleteUserPolicy DeleteVirtualMFADevice DetachGroupPolicy DetachRolePolicy
    DetachUserPolicy DisableOrganizationsRootCredentialsManagement DisableOrganizationsRootSessions
    DisableOutboundWebIdentityFederation EnableMFADevice EnableOrganizationsRootCredentialsManagement
    EnableOrganizationsRootSessions EnableOutboundWebIdentityFederation GenerateCredentialReport
    GenerateOrganizationsAccessReport GenerateServiceLastAccessedDetails GetAccessKeyLastUsed
    GetAccountAuthorizationDetails GetAccountPasswordPolicy GetAccountProperties GetAccountSummary
    GetContextKeysForCustomPolicy GetContextKeysForPrincipalPolicy GetCredentialReport GetDelegationRequest GetGroup
    GetGroupPolicy GetHumanReadableSummary GetInstanceProfile GetLoginProfile GetMFADevice GetOpenIDConnectProvider
    GetOrganizationsAccessReport GetOutboundWebIdentityFederationInfo GetPolicy GetPolicyVersion GetRole
    GetRolePolicy GetRoleTemplateVersion GetSAMLProvider GetSSHPublicKey GetServerCertificate
    GetServiceLastAccessedDetails GetServiceLastAccessedDetailsWithEntities GetServiceLinkedRoleDeletionStatus
    GetUser GetUserPolicy ListAccessKeys ListAccountAliases ListAttachedGroupPolicies ListAttachedRolePolicies
    ListAttachedUserPolicies ListDelegationRequests ListEntitiesForPolicy ListGroupPolicies ListGroups
    ListGroupsForUser ListInstanceProfileTags ListInstanceProfiles ListInstanceProfilesForRole ListMFADeviceTags
    ListMFADevices ListOpenIDConnectProviderTags ListOpenIDConnectProviders ListOrganizationsFeatures ListPolicies
    ListPoliciesGrantingServiceAccess ListPolicyTags ListPolicyVersions ListRolePolicies ListRoleTags ListRoles
    ListSAMLProviderTags ListSAMLProviders ListSSHPublicKeys ListServerCertificateTags ListServerCertificates
    ListServiceSpecificCredentials ListSigningCertificates ListUserPolicies ListUserTags ListUsers
    ListVirtualMFADevices PutAccountProperties PutGroupPolicy PutRolePermissionsBoundary PutRolePolicy
    PutUserPermissionsBoundary PutUserPolicy RejectDelegationRequest RemoveClientIDFromOpenIDConnectProvider
    RemoveRoleFromInstanceProfile RemoveUserFromGroup ResetServiceSpecificCredential ResyncMFADevice
    SendDelegationToken SetDefaultPolicyVersion SetSecurityTokenServicePreferences SimulateCustomPolicy
    SimulatePrincipalPolicy TagInstanceProfile TagMFADevice TagOpenIDConnectProvider TagPolicy TagRole
    TagSAMLProvider TagServerCertificate TagUser UntagInstanceProfile UntagMFADevice UntagOpenIDConnectProvider
    UntagPolicy UntagRole UntagSAMLProvider UntagServerCertificate UntagUser UpdateAccessKey
    UpdateAccountPasswordPolicy UpdateAssumeRolePolicy UpdateDelegationRequest UpdateGroup UpdateLoginProfile
    UpdateOpenIDConnectProvider UpdateOpenIDConnectProviderThumbprint UpdateRole UpdateRoleDescription
    UpdateSAMLProvider UpdateSSHPublicKey UpdateServerCertificate UpdateServiceSpecificCredential
    UpdateSigningCertificate UpdateUser UploadSSHPublicKey UploadServerCertificate UploadSigningCertificate"""
)
STS_EVENTS = _names(
    """AssumeRole AssumeRoleWithSAML AssumeRoleWithWebIdentity AssumeRoot DecodeAuthorizationMessage GetAccessKeyInfo
    GetCallerIdentity GetDelegatedAccessToken GetFederationToken GetScopedCredentials GetSessionToken
    GetWebIdentityToken"""
)
# Sign-in events are not API operations (CloudTrail User Guide, "AWS console sign-in events").
SIGNIN_EVENTS = _names(
    """ConsoleLogin CheckMfa CredentialChallenge CredentialVerification ExitRole ExternalIdPDirectoryLogin
    GetSigninToken PasswordUpdated RenewRole SwitchRole UserAuthentication"""
)
MANAGEMENT_TABLES = (
    ("kms.amazonaws.com", KMS_EVENTS),
    ("rdsdata.amazonaws.com", RDS_DATA_EVENTS),
    ("iam.amazonaws.com", IAM_EVENTS),
    ("sts.amazonaws.com", STS_EVENTS),
    ("signin.amazonaws.com", SIGNIN_EVENTS),
)
# Data events TrailWatch recognises by name: (eventSource, resources.type, eventName...). CloudTrail User Guide
# "Logging data events" (the resource types and their APIs) and Amazon S3 User Guide "Amazon S3 CloudTrail events".
DATA_EVENTS = (
    (
        "s3.amazonaws.com",
        "AWS::S3::Object",
        _names(
            """AbortMultipartUpload CompleteMultipartUpload CopyObject CreateMultipartUpload DeleteObject DeleteObjects
            DeleteObjectTagging GetObject GetObjectAcl GetObjectAttributes GetObjectLegalHold GetObjectRetention
            GetObjectTagging GetObjectTorrent HeadObject ListObjects ListObjectsV2 ListObjectVersions ListParts
            PutObject PutObjectAcl PutObjectLegalHold PutObjectRetention PutObjectTagging RestoreObject
            SelectObjectContent UploadPart UploadPartCopy"""
        ),
    ),
    ("lambda.amazonaws.com", "AWS::Lambda::Function", _names("Invoke")),
    (
        "dynamodb.amazonaws.com",
        "AWS::DynamoDB::Table",
        _names(
            """BatchExecuteStatement BatchGetItem BatchWriteItem DeleteItem ExecuteStatement ExecuteTransaction GetItem
            PutItem Query Scan TransactGetItems TransactWriteItems UpdateItem"""
        ),
    ),
    (
        "ebs.amazonaws.com",
        "AWS::EC2::Snapshot",
        _names("CompleteSnapshot GetSnapshotBlock ListChangedBlocks ListSnapshotBlocks PutSnapshotBlock StartSnapshot"),
    ),
)
DATA_EVENT_NAMES = frozenset(name for _source, _type, names in DATA_EVENTS for name in names)

# "Read-only events include API operations that read your resources but don't make changes"; "write-only events
# include API operations that modify (or might modify) your resources" (CloudTrail User Guide, "Logging management
# events"). AWS publishes no per-API table: the verb of the name decides, where it is one of these.
READ_VERBS = ("Get", "List", "Describe", "Head", "Lookup", "BatchGet", "Search", "Scan", "Query", "Select", "Simulate")
WRITE_VERBS = (
    "Create Delete Put Update Modify Attach Detach Associate Disassociate Authorize Revoke Start Stop Enable Disable "
    "Schedule Cancel Tag Untag Add Remove Set Replace Reset Accept Reject Register Deregister Terminate Run Restore "
    "Copy Upload Change Allocate Release Import Rotate Upgrade Apply Reboot Send Publish Abort Complete Confirm "
    "Retire Purge Rename Restart Resume Suspend Subscribe Unsubscribe Activate Deactivate Assign Unassign Move "
    "BatchWrite Deploy Connect Disconnect Begin Commit Rollback Resync Acquire"
).split()
# Events whose readOnly value is known although their name has no verb above (tests/samples/cloudtrail).
KNOWN_READ_ONLY = {"ConsoleLogin": False}

# Representative names for "any other call" of a service; never shown as examples.
_GENERIC_SOURCE = "example.amazonaws.com"
_GENERIC_READ = "ListExamples"
_GENERIC_WRITE = "CreateExample"
_OTHER_REGION = "zz-other-1"
_KEY_FIELDS = ("eventSource", "eventName", "readOnly", "eventCategory", "managementEvent", "awsRegion")
MAX_ALTERNATIVES = 256
_EXAMPLES = 4


@lru_cache(maxsize=4096)
def read_only_of(name: str) -> Optional[bool]:
    """True/False when the name's verb says whether the call is read-only, None when it does not."""
    if name in KNOWN_READ_ONLY:
        return KNOWN_READ_ONLY[name]
    for verbs, value in ((READ_VERBS, True), (WRITE_VERBS, False)):
        for verb in verbs:
            rest = name[len(verb) :]
            if name.startswith(verb) and (not rest or rest[0].isupper() or rest[0].isdigit()):
                return value
    return None


# --- events ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One kind of CloudTrail event: what a watch may count and a trail may drop.

    global_service: recorded in us-east-1 and only by trails that include global service events.
    assumed: readOnly was guessed (the name's verb does not tell). example: a stand-in name, not shown.
    """

    source: str
    name: str
    read_only: bool
    category: str = MANAGEMENT
    region: str = ""
    global_service: bool = False
    resource_type: Optional[str] = None
    assumed: bool = False
    example: bool = False

    def record(self) -> Dict[str, Any]:
        """The fields of a CloudTrail record that the coverage check looks at."""
        return {
            "eventSource": self.source,
            "eventName": self.name,
            "readOnly": self.read_only,
            "eventCategory": self.category,
            "managementEvent": self.category == MANAGEMENT,
            "awsRegion": self.region,
        }


def event_from_record(record: Dict[str, Any]) -> Event:
    """The Event of a CloudTrail record (a dict as CloudTrail writes it)."""
    source = record.get("eventSource") or ""
    name = record.get("eventName") or ""
    category = record.get("eventCategory") or (MANAGEMENT if record.get("managementEvent", True) else DATA)
    region = record.get("awsRegion") or ""
    resource_type = None
    if category == DATA:
        types = [r.get("type") for r in record.get("resources") or [] if isinstance(r, dict) and r.get("type")]
        resource_type = types[0] if types else _data_type(source, name)
    kind = GLOBAL_SOURCES.get(source)
    is_global = kind == "global" or (kind == "both" and region == GLOBAL_EVENTS_REGION)
    read_only = record.get("readOnly")
    if not isinstance(read_only, bool):
        read_only = bool(read_only_of(name))
    return Event(source, name, read_only, category, region, is_global, resource_type)


def _data_type(source: str, name: str) -> Optional[str]:
    for data_source, resource_type, names in DATA_EVENTS:
        if source == data_source and name in names:
            return resource_type
    return None


# --- what a pattern needs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Needs:
    """The events a watch pattern can count; undetermined names why they cannot be derived (then events is empty).

    literals: event names written in the pattern, the examples shown in findings.
    """

    events: Tuple[Event, ...] = ()
    undetermined: str = ""
    literals: frozenset = frozenset()


class _Undetermined(Exception):
    pass


_TEMPLATE: Any = parse('{ $.eventName = "x" }')  # a JsonPattern: its expression is replaced


def needs_of(pattern: Any, region: str) -> Needs:
    """The events the pattern can count, for a log group in region (see the module docstring)."""
    if not isinstance(pattern, str):
        return Needs(undetermined="the pattern is not text")
    return _needs_of(pattern, region)


@lru_cache(maxsize=512)
def _needs_of(pattern: str, region: str) -> Needs:
    try:
        tree = parse(pattern)
    except FilterPatternError as error:
        return Needs(undetermined=f"the pattern does not parse: {error}")
    if not isinstance(tree, JsonPattern):
        kind = type(tree).__name__.replace("Pattern", "").lower() or "text"
        return Needs(undetermined=f"a {kind} pattern, not a JSON one: TrailWatch reads needs from JSON patterns only")
    try:
        alternatives = _alternatives(tree.expression)
    except _Undetermined as error:
        return Needs(undetermined=str(error))
    literals = _literals(alternatives)
    records = _table_records(region) + _pattern_records(literals, region)
    distinct: Dict[str, set] = {f: {record[f] for _event, record in records} for f in _KEY_FIELDS}
    by_name: Dict[str, List[Record]] = {}
    for event, record in records:
        by_name.setdefault(event.name, []).append((event, record))
    needed: Dict[Event, None] = {}
    for alternative in alternatives:
        allowed: Dict[str, set] = {}
        for comparison in alternative:
            steps = tuple(comparison.target.steps)
            if len(steps) == 1 and steps[0] in _KEY_FIELDS:
                f = steps[0]
                allowed[f] = {v for v in allowed.get(f, distinct[f]) if _comparison_holds(comparison, f, v)}
        pool = [r for name in allowed["eventName"] for r in by_name[name]] if "eventName" in allowed else records
        found = [e for e, record in pool if all(record[f] in values for f, values in allowed.items())]
        management = [e for e in found if e.category == MANAGEMENT]
        for event in management or found:
            needed[event] = None
    if not needed:
        return Needs(undetermined="the pattern matches no management or data event TrailWatch knows of")
    names = frozenset(literals.get("eventName", ()))
    return Needs(events=tuple(needed), literals=names)


def _alternatives(expression: Any) -> List[Tuple[Any, ...]]:
    """The expression as a disjunction of conjunctions of comparisons."""
    if isinstance(expression, Comparison):
        return [(expression,)]
    if isinstance(expression, Or):
        result = [a for operand in expression.operands for a in _alternatives(operand)]
    elif isinstance(expression, And):
        result = [()]
        for operand in expression.operands:
            result = [left + right for left, right in product(result, _alternatives(operand))]
            if len(result) > MAX_ALTERNATIVES:
                break
    else:
        raise _Undetermined(f"the pattern uses {type(expression).__name__}, which the coverage check does not read")
    if len(result) > MAX_ALTERNATIVES:
        raise _Undetermined(f"the pattern has more than {MAX_ALTERNATIVES} alternatives")
    return result


def _literals(alternatives: Sequence[Tuple[Any, ...]]) -> Dict[str, List[str]]:
    """Text values written in the pattern for the key fields; a * wildcard becomes a stand-in name."""
    found: Dict[str, List[str]] = {}
    for alternative in alternatives:
        for comparison in alternative:
            steps = tuple(comparison.target.steps)
            value = comparison.value
            if len(steps) != 1 or steps[0] not in ("eventSource", "eventName", "awsRegion") or value is None:
                continue
            if value.kind == "regex":
                continue
            text = value.text.replace("*", "Example") if steps[0] == "eventName" else value.text.replace("*", "x")
            values = found.setdefault(steps[0], [])
            if text and text not in values:
                values.append(text)
    return found


Record = Tuple[Event, Dict[str, Any]]


@lru_cache(maxsize=16)
def _table_records(region: str) -> Tuple[Record, ...]:
    """The events of the tables: what an excluded source, a global service or the data-event table holds."""
    return _records(_table_kinds(), [region, _OTHER_REGION])


def _pattern_records(literals: Dict[str, List[str]], region: str) -> Tuple[Record, ...]:
    """The names and sources written in the pattern, and a read and a write call of any other service."""
    sources = literals.get("eventSource", []) + [_GENERIC_SOURCE]
    regions = [region] + [r for r in literals.get("awsRegion", []) if r != region] + [_OTHER_REGION]
    tables = {(source, name) for source, names in MANAGEMENT_TABLES for name in names}
    kinds: Dict[Tuple[str, str, str, Optional[str], bool], None] = {}
    for name in literals.get("eventName", []):
        for source in sources:
            if name in DATA_EVENT_NAMES and (source == _GENERIC_SOURCE or _data_type(source, name)):
                continue  # a data event's name: the data event of the table, not a management call
            if (source, name) not in tables:
                kinds[(source, name, MANAGEMENT, None, "Example" in name)] = None
    for source in sources:
        kinds[(source, _GENERIC_READ, MANAGEMENT, None, True)] = None
        kinds[(source, _GENERIC_WRITE, MANAGEMENT, None, True)] = None
    records = _records(list(kinds), regions)
    if len(regions) > 2:  # the pattern names regions: the tables' events there too
        records += _records(_table_kinds(), regions[1:-1])
    return records


@lru_cache(maxsize=1)
def _table_kinds() -> Tuple[Tuple[str, str, str, Optional[str], bool], ...]:
    kinds = [(source, name, MANAGEMENT, None, False) for source, names in MANAGEMENT_TABLES for name in names]
    return tuple(kinds + [(source, name, DATA, rtype, False) for source, rtype, names in DATA_EVENTS for name in names])


def _records(kinds: Sequence[Tuple[str, str, str, Optional[str], bool]], regions: Sequence[str]) -> Tuple[Record, ...]:
    result = []
    for source, name, category, resource_type, example in kinds:
        read_only = read_only_of(name)
        variants = [(read_only, False)] if read_only is not None else [(True, True), (False, True)]
        kind = GLOBAL_SOURCES.get(source, "regional")
        placements = [(GLOBAL_EVENTS_REGION, True)] if kind in ("global", "both") else []
        if kind in ("regional", "both"):
            placements.extend((r, False) for r in regions)
        for (ro, assumed), (where, is_global) in product(variants, placements):
            event = Event(source, name, ro, category, where, is_global, resource_type, assumed, example)
            result.append((event, event.record()))
    return tuple(result)


@lru_cache(maxsize=65536)
def _comparison_holds(comparison: Any, field: str, value: Any) -> bool:
    """What the filter-pattern evaluator answers for this one comparison on a record holding only field: value.

    A plain = or != on a text without * is an exact comparison: answered directly (the evaluator agrees, see
    test_coverage.py::test_exact_comparisons_agree_with_the_evaluator); anything else goes to the evaluator.
    """
    value_node = comparison.value
    if (
        comparison.operator in ("=", "!=")
        and value_node is not None
        and value_node.kind == "string"
        and "*" not in value_node.text
        and isinstance(value, str)
    ):
        return (value == value_node.text) == (comparison.operator == "=")
    return matches(_TEMPLATE._replace(expression=comparison), json.dumps({field: value}))


# --- what a trail records ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """One field condition of an (advanced) event selector, with how a finding names it and what fixes it."""

    field: str
    equals: Tuple[str, ...] = ()
    starts_with: Tuple[str, ...] = ()
    ends_with: Tuple[str, ...] = ()
    not_equals: Tuple[str, ...] = ()
    not_starts_with: Tuple[str, ...] = ()
    not_ends_with: Tuple[str, ...] = ()
    setting: str = ""
    fix: str = ""

    def holds(self, value: str) -> bool:
        positive = self.equals or self.starts_with or self.ends_with
        if positive and not (
            value in self.equals
            or any(value.startswith(v) for v in self.starts_with)
            or any(value.endswith(v) for v in self.ends_with)
        ):
            return False
        return not (
            value in self.not_equals
            or any(value.startswith(v) for v in self.not_starts_with)
            or any(value.endswith(v) for v in self.not_ends_with)
        )


@dataclass(frozen=True)
class TrailRecording:
    """One trail's recording settings. selectors None: they could not be read (unreadable names why)."""

    name: str
    home_region: str
    multi_region: bool
    global_service_events: bool
    selectors: Optional[Tuple[Tuple[Condition, ...], ...]]
    labels: Dict[str, Tuple[str, str]] = dataclass_field(default_factory=dict, compare=False, hash=False)
    unreadable: str = ""


@dataclass(frozen=True)
class Recording:
    """What reaches a log group in region: the trails delivering to it (missing: why there is none, and the fix)."""

    region: str
    trails: Tuple[TrailRecording, ...]
    missing: Tuple[str, str] = ("", "")


class Finding(NamedTuple):
    """A trail setting that keeps events the watch counts from its log group.

    setting: names the setting and its value; reason: what it drops that the watch counts; fix: what to change;
    certain: False when TrailWatch cannot decide (report as a warning, not an error).
    """

    setting: str
    reason: str
    fix: str
    certain: bool


class _Blame(NamedTuple):
    setting: str
    fix: str
    field: str


def _read_write_condition(read_write_type: str, setting: str, fix: str) -> List[Condition]:
    """ReadWriteType as a readOnly condition (none for All)."""
    if read_write_type not in ("ReadOnly", "WriteOnly"):
        return []
    return [Condition("readOnly", equals=(str(read_write_type == "ReadOnly").lower(),), setting=setting, fix=fix)]


def _excluded_condition(excluded: Iterable[str], setting: str, fix: str) -> List[Condition]:
    """ExcludeManagementEventSources as an eventSource condition (none when empty); {sources} in the texts is
    replaced by the sources a finding is about."""
    sources = tuple(sorted(excluded or ()))
    return [Condition("eventSource", not_equals=sources, setting=setting, fix=fix)] if sources else []


def recording_from_variables(
    read_write_type: str, exclude_management_event_sources: Iterable[str], region: str
) -> Recording:
    """The trail TrailWatch creates: multi-region, global service events, management events only (one selector)."""
    conditions = (
        [Condition("eventCategory", equals=(MANAGEMENT,))]
        + _read_write_condition(
            read_write_type,
            f"trailwatch_read_write_type is {read_write_type}",
            "set trailwatch_read_write_type: All (or leave it unset: TrailWatch then chooses All for these watches)",
        )
        + _excluded_condition(
            exclude_management_event_sources,
            "trailwatch_exclude_management_event_sources excludes {sources}",
            "remove {sources} from trailwatch_exclude_management_event_sources (or leave it unset: TrailWatch then "
            "excludes only what no watch counts)",
        )
    )
    labels = {
        DATA: (
            "the trail TrailWatch creates records management events only (no data events)",
            "count data events on a trail of your own that records them (trailwatch_trail_create: false), "
            "or remove the watch",
        ),
    }
    trail = TrailRecording("TrailWatch's trail", region, True, True, (tuple(conditions),), labels)
    return Recording(region, (trail,))


def recording_from_trail(
    trail: Dict[str, Any],
    event_selectors: Optional[List[Dict[str, Any]]],
    advanced_event_selectors: Optional[List[Dict[str, Any]]] = None,
    unreadable: str = "",
) -> Recording:
    """An existing trail: its DescribeTrails entry and its GetEventSelectors answer.

    Both selector lists empty: AWS's default for a trail without selectors, all management events and no data
    events (CloudTrail API Reference, EventSelector). event_selectors None: not readable (unreadable says why).
    """
    if not isinstance(trail, dict) or not trail.get("Name"):
        raise ValueError("a trail is a DescribeTrails entry with a Name")
    name = trail["Name"]
    home = trail.get("HomeRegion") or ""
    region = _log_group_region(trail.get("CloudWatchLogsLogGroupArn")) or home
    where = f"trail {name}"
    arn = trail.get("TrailARN") or name
    labels = {
        MANAGEMENT: (
            f"{where} records no management events (no event selector includes them)",
            f"include management events (read and write) in the event selectors of {where} ({arn})",
        ),
        DATA: (
            f"{where} records no data events of this kind",
            f"add a data event selector for these events to {where} ({arn}), or remove the watch",
        ),
        "multi_region": (
            f"{where} is a single-region trail (home region {home}), not multi-region",
            f"make {where} multi-region (aws cloudtrail update-trail --name {arn} --is-multi-region-trail)",
        ),
        "global_service_events": (
            f"{where} does not include global service events (IncludeGlobalServiceEvents false)",
            f"aws cloudtrail update-trail --name {arn} --include-global-service-events",
        ),
    }
    if event_selectors is None and advanced_event_selectors is None:
        selectors = None
    elif advanced_event_selectors:
        selectors = tuple(_advanced(where, arn, i, s) for i, s in enumerate(advanced_event_selectors))
    elif event_selectors:
        selectors = tuple(c for i, s in enumerate(event_selectors) for c in _basic(where, arn, i, s))
    else:
        selectors = (_basic(where, arn, 0, {"ReadWriteType": "All", "IncludeManagementEvents": True})[0],)
    recording = TrailRecording(
        name,
        home,
        bool(trail.get("IsMultiRegionTrail")),
        bool(trail.get("IncludeGlobalServiceEvents")),
        selectors,
        labels,
        unreadable or ("" if selectors is not None else "its event selectors could not be read"),
    )
    return Recording(region, (recording,))


def merge_recordings(recordings: Sequence[Recording]) -> Recording:
    """Several trails delivering to one log group: an event reaches it when any of them records it."""
    if not recordings:
        raise ValueError("merge_recordings needs at least one recording (no_trail() for none)")
    return Recording(recordings[0].region, tuple(t for r in recordings for t in r.trails))


def no_trail(log_group_name: str, region: str, why: str = "") -> Recording:
    """No trail delivers to the log group (why: another reason than none pointing at it): no watch can fire."""
    return Recording(
        region,
        (),
        (
            why or f"no trail delivers to log group {log_group_name} in {region}",
            "point a trail's CloudWatch Logs delivery at this log group, set trailwatch_log_group_name to the log "
            "group your trail delivers to, or let TrailWatch create the trail (trailwatch_trail_create: true)",
        ),
    )


def _log_group_region(arn: Optional[str]) -> str:
    parts = (arn or "").split(":")
    return parts[3] if len(parts) > 3 and parts[2] == "logs" else ""


def _basic(where: str, arn: str, index: int, selector: Dict[str, Any]) -> List[Tuple[Condition, ...]]:
    """A basic event selector as advanced-selector conditions (its management part and one per data resource)."""
    label = f"{where}: EventSelectors[{index}]"
    read_write = selector.get("ReadWriteType") or "All"
    read_only = _read_write_condition(
        read_write,
        f"{label} ReadWriteType is {read_write}",
        f"set ReadWriteType All in EventSelectors[{index}] of {where} ({arn})",
    )
    result = []
    if selector.get("IncludeManagementEvents", True):
        excluded = _excluded_condition(
            selector.get("ExcludeManagementEventSources") or (),
            f"{label} ExcludeManagementEventSources excludes {{sources}}",
            f"remove {{sources}} from ExcludeManagementEventSources in EventSelectors[{index}] of {where}",
        )
        result.append(tuple([Condition("eventCategory", equals=(MANAGEMENT,))] + read_only + excluded))
    for resource in selector.get("DataResources") or []:
        resource_type = resource.get("Type") or ""
        values = tuple(resource.get("Values") or ())
        conditions = [Condition("eventCategory", equals=(DATA,)), Condition("resources.type", equals=(resource_type,))]
        if values and not any(_all_resources(v) for v in values):
            conditions.append(
                Condition(
                    "resources.ARN",
                    starts_with=values,
                    setting=f"{label} DataResources limits {resource_type} to {', '.join(values)}",
                    fix=f"record {resource_type} data events for every resource in {where}, if the watch needs them",
                )
            )
        result.append(tuple(conditions + read_only))
    return result


def _all_resources(value: str) -> bool:
    """arn:aws:s3 (or arn:aws:s3:::), arn:aws:lambda, arn:aws:dynamodb: every resource of the type."""
    parts = value.rstrip(":").split(":")
    return len(parts) == 3 and parts[0] == "arn"


_OPERATORS = (
    ("Equals", "equals"),
    ("StartsWith", "starts_with"),
    ("EndsWith", "ends_with"),
    ("NotEquals", "not_equals"),
    ("NotStartsWith", "not_starts_with"),
    ("NotEndsWith", "not_ends_with"),
)


def _advanced(where: str, arn: str, index: int, selector: Dict[str, Any]) -> Tuple[Condition, ...]:
    name = selector.get("Name")
    label = f"{where}: AdvancedEventSelectors[{index}]" + (f" ({name})" if name else "")
    conditions = []
    for field_selector in selector.get("FieldSelectors") or []:
        if not isinstance(field_selector, dict) or not field_selector.get("Field"):
            raise ValueError(f"{label}: a field selector without a Field")
        operators = {attr: tuple(field_selector.get(key) or ()) for key, attr in _OPERATORS}
        text = " ".join(f"{key} {','.join(operators[attr])}" for key, attr in _OPERATORS if operators[attr])
        conditions.append(
            Condition(
                field_selector["Field"],
                setting=f"{label} {field_selector['Field']} {text}",
                fix=f"change {field_selector['Field']} in AdvancedEventSelectors[{index}] of {where} ({arn})",
                **operators,
            )
        )
    return tuple(conditions)


def _holds_if_known(condition: "Condition", value: Optional[str]) -> bool:
    """Whether the condition holds for a value the event has; a value it lacks fails nothing (it is unknown)."""
    return value is None or condition.holds(value)


def _value(event: Event, field: str) -> Optional[str]:
    if field == "eventCategory":
        return event.category
    if field == "readOnly":
        return "true" if event.read_only else "false"
    if field == "eventSource":
        return event.source
    if field == "eventName":
        return event.name
    if field == "resources.type":
        return event.resource_type
    return None  # resources.ARN, userIdentity.arn, eventType, ...: not known for a kind of event


def _trail_verdict(trail: TrailRecording, event: Event) -> Tuple[str, List[_Blame]]:
    """("recorded" | "partial" | "dropped", the settings to blame)."""

    def label(key: str) -> _Blame:
        setting, fix = trail.labels.get(key, (f"trail {trail.name}: {key}", f"change {key} of trail {trail.name}"))
        return _Blame(setting, fix, key)

    if event.global_service:
        if not trail.global_service_events:
            return "dropped", [label("global_service_events")]
        if not trail.multi_region and trail.home_region != GLOBAL_EVENTS_REGION:
            return "dropped", [label("multi_region")]
    elif not trail.multi_region and event.region != trail.home_region:
        return "dropped", [label("multi_region")]
    if trail.selectors is None:
        return "partial", [_Blame(f"trail {trail.name}: {trail.unreadable}", "check its event selectors", "")]
    partial: List[_Blame] = []
    failing: List[_Blame] = []
    same_category = False
    for conditions in trail.selectors:
        unknown = [c for c in conditions if _value(event, c.field) is None]
        failed = [c for c in conditions if not _holds_if_known(c, _value(event, c.field))]
        if any(c.field == "eventCategory" for c in failed):
            continue
        same_category = True
        if not failed and not unknown:
            return "recorded", []
        # a condition without a setting of its own (a basic selector's resource type): the category is missing
        named = [_Blame(c.setting, c.fix, c.field) if c.setting else label(event.category) for c in failed or unknown]
        (failing if failed else partial).extend(named)
    if partial:
        return "partial", partial
    if not same_category:
        return "dropped", [label(event.category)]
    return "dropped", failing


def _verdict(recording: Recording, event: Event) -> Tuple[str, List[_Blame]]:
    if not recording.trails:
        return "dropped", [_Blame(recording.missing[0], recording.missing[1], "trail")]
    verdicts = [_trail_verdict(trail, event) for trail in recording.trails]
    for status in ("recorded", "partial"):
        if any(verdict == status for verdict, _blames in verdicts):
            return status, [b for verdict, blames in verdicts if verdict == status for b in blames]
    return "dropped", [b for _status, blames in verdicts for b in blames]


def dropped_by(recording: Recording, record: Dict[str, Any]) -> List[Tuple[str, str]]:
    """(setting, fix) of each trail setting that keeps this CloudTrail record from the log group; [] if it arrives."""
    status, blames = _verdict(recording, event_from_record(record))
    return [] if status == "recorded" else _unique((b.setting, b.fix) for b in blames)


# --- findings -----------------------------------------------------------------------------------------------------


def blind_spots(watch: Dict[str, Any], recording: Recording) -> List[Finding]:
    """One Finding per trail setting that drops events the watch counts; [] when the trail feeds it entirely."""
    if not recording.trails:
        setting, fix = recording.missing
        return [Finding(setting, "so no event reaches the watch", fix, True)]
    needs = needs_of((watch or {}).get("pattern"), recording.region)
    if needs.undetermined:
        reason = f"TrailWatch cannot tell which CloudTrail events this watch counts ({needs.undetermined})"
        return [Finding("", reason, "make sure the trail records the events the pattern matches", False)]
    groups: Dict[Tuple[str, str], List[Tuple[Event, str, str]]] = {}
    for event in needs.events:
        status, blames = _verdict(recording, event)
        for blame in blames:
            groups.setdefault((blame.setting, blame.fix), []).append((event, blame.field, status))
    findings = []
    for (setting, fix), items in groups.items():
        # a guessed readOnly only makes a readOnly finding uncertain: an excluded source drops both variants
        certain = any(s == "dropped" and not (e.assumed and f == "readOnly") for e, f, s in items)
        sources = ", ".join(_unique(e.source for e, f, _s in items if f == "eventSource"))
        reason = _reason(items, needs.literals)
        findings.append(
            Finding(setting.replace("{sources}", sources), reason, fix.replace("{sources}", sources), certain)
        )
    return findings


def _reason(items: List[Tuple[Event, str, str]], literals: frozenset) -> str:
    events = [event for event, _field, _status in items]
    fields = {field for _event, field, _status in items}
    status = {s for _event, _field, s in items}
    examples = _unique(e.name for e in events if e.name in literals and not e.example)[:_EXAMPLES]
    named = f" ({', '.join(examples)})" if examples else ""
    if status == {"partial"}:
        return f"so the trail records the events this watch counts{named} only in part, or TrailWatch cannot tell"
    if "readOnly" in fields:
        kinds = _unique("read-only" if e.read_only else "write" for e in events)
        guessed = " (if CloudTrail records them as such)" if all(e.assumed for e in events) else ""
        return f"so the trail drops the {' and '.join(kinds)} events this watch counts{named}{guessed}"
    if "eventSource" in fields:
        sources = _unique(e.source for e in events)
        return f"so the trail drops every {', '.join(sources)} management event, and this watch counts them{named}"
    if MANAGEMENT in fields:
        return f"and this watch counts management events{named}"
    if DATA in fields:
        kinds = _unique(f"{e.resource_type} ({e.source})" for e in events if e.resource_type)
        return f"and this watch counts data events: {', '.join(kinds)}{named}"
    if "global_service_events" in fields:
        sources = _unique(e.source for e in events if e.global_service)
        return f"so the global service events this watch counts ({', '.join(sources)}){named} never arrive"
    if "multi_region" in fields:
        return f"so the events this watch counts{named} arrive from one region only"
    return f"so the trail drops events this watch counts{named}"


def _unique(values: Iterable[Any]) -> List[Any]:
    return list(dict.fromkeys(values))


def accepts_blind_spots(watch: Dict[str, Any]) -> bool:
    """The watch's accept_blind_spots flag (false unless set to a true value)."""
    try:
        return boolean((watch or {}).get("accept_blind_spots") or False, strict=True)
    except TypeError:
        return False


def coverage_report(watches: Sequence[Dict[str, Any]], recording: Recording) -> Dict[str, Any]:
    """errors (watches that would miss events, unless accepted), warnings, and per watch its status and findings.

    status: ok, blind (errors), accepted (blind, accept_blind_spots: true), unknown (only uncertain findings).
    """
    errors: List[str] = []
    warnings: List[str] = []
    per_watch: Dict[str, Any] = {}
    for watch in watches:
        name = str((watch or {}).get("name"))
        findings = blind_spots(watch, recording)
        accepted = accepts_blind_spots(watch)
        certain = [f for f in findings if f.certain]
        status = "ok" if not findings else ("unknown" if not certain else ("accepted" if accepted else "blind"))
        per_watch[name] = {"status": status, "findings": [f._asdict() for f in findings]}
        for finding in findings:
            line = _message(name, finding)
            if finding.certain and not accepted:
                errors.append(line)
            else:
                warnings.append(line + (" (Accepted: accept_blind_spots is true.)" if finding.certain else ""))
    return {"errors": errors, "warnings": warnings, "watches": per_watch}


def _message(name: str, finding: Finding) -> str:
    """One sentence a person can act on: the watch, the setting and what it drops, the fix."""
    setting = f"{finding.setting}, " if finding.setting else ""
    return f"Watch {name}: {setting}{finding.reason}. Fix: {finding.fix}."


def trail_defaults(watches: Sequence[Dict[str, Any]], region: str = GLOBAL_EVENTS_REGION) -> Dict[str, Any]:
    """The trail settings TrailWatch chooses when the user sets none: the article's, less what a watch needs.

    A watch counting read-only management events (or events whose read/write kind is not known) makes it All; one
    counting events of an excluded source takes that source out of the exclusions.
    """
    article = recording_from_variables(ARTICLE_READ_WRITE_TYPE, ARTICLE_EXCLUDED_SOURCES, region)
    read_write_type = ARTICLE_READ_WRITE_TYPE
    excluded = list(ARTICLE_EXCLUDED_SOURCES)
    for watch in watches:
        needs = needs_of((watch or {}).get("pattern"), region)
        for event in needs.events:
            _status, blames = _verdict(article, event)
            fields = {b.field for b in blames}
            if "readOnly" in fields:
                read_write_type = "All"
            if "eventSource" in fields and event.source in excluded:
                excluded.remove(event.source)
    return {"read_write_type": read_write_type, "exclude_management_event_sources": excluded}
