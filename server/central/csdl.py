"""A form as OData's CSDL ($metadata), laid out as ODK Central lays it out.

Two schemas: org.opendatakit.submission (the __system complex type and its enumerations) and
org.opendatakit.user.<form id> (the form). The submissions are the entity type `Submissions`,
keyed by __id; each group is a complex type; each repeat is its own entity type and entity set,
`Submissions.<repeat path with dots>`, keyed by __id and carrying the __id of the row it belongs
to (`__Submissions-id` for a repeat at the top, `__Submissions-<parent path>-id` inside another
repeat), and reached from its parent through a navigation property.
"""
from __future__ import annotations

from html import escape

from exports.schema import DECIMAL_TYPES, INT_TYPES, Field, FormSchema

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"
SYSTEM_NS = "org.opendatakit.submission"
SYSTEM_PROPERTIES = (("submissionDate", "Edm.DateTimeOffset"), ("updatedAt", "Edm.DateTimeOffset"),
                     ("deletedAt", "Edm.DateTimeOffset"), ("submitterId", "Edm.String"),
                     ("submitterName", "Edm.String"), ("attachmentsPresent", "Edm.Int64"),
                     ("attachmentsExpected", "Edm.Int64"), ("status", f"{SYSTEM_NS}.Status"),
                     ("reviewState", f"{SYSTEM_NS}.ReviewState"), ("deviceId", "Edm.String"),
                     ("edits", "Edm.Int64"), ("formVersion", "Edm.String"),
                     # ours: the unit answered for, its name, and how the answers arrived
                     ("unit", "Edm.String"), ("unitName", "Edm.String"), ("channel", "Edm.String"))


_EDM_TYPES = {**{t: "Edm.Int64" for t in INT_TYPES}, **{t: "Edm.Decimal" for t in DECIMAL_TYPES},
              "date": "Edm.Date", "dateTime": "Edm.DateTimeOffset", "geopoint": "Edm.GeographyPoint"}


def edm_type(f: Field) -> str:
    """The OData type of a field; text otherwise (choices, notes, times, file names, and the
    traces and shapes, which are sent as the device wrote them)."""
    return _EDM_TYPES.get(f.type, "Edm.String")


def quoteattr(value: str) -> str:
    """An XML attribute value with its quotes (it only writes XML, never reads any)."""
    return '"' + escape(value, quote=True) + '"'


def entity_set(repeat: str | None) -> str:
    """Central's name for a table: Submissions, or Submissions.<repeat path with dots>."""
    return "Submissions" if repeat is None else "Submissions." + repeat.replace("/", ".")


def parent_key(schema: FormSchema, repeat: str) -> str:
    """The property of a repeat row that holds its parent row's __id."""
    parent = schema.get(repeat).repeat
    return "__Submissions-id" if parent is None else "__Submissions-" + parent.replace("/", "-") + "-id"


def complex_name(path: str) -> str:
    return path.replace("/", ".")


def _children(schema: FormSchema, parent_path: str | None) -> list[Field]:
    """The fields directly inside a group, a repeat or the root."""
    prefix = parent_path + "/" if parent_path else ""
    return [f for f in schema.fields
            if f.path.startswith(prefix) and "/" not in f.path[len(prefix):]]


def _properties(schema: FormSchema, ns: str, parent_path: str | None, out: list[str]) -> None:
    for f in _children(schema, parent_path):
        name = quoteattr(f.name)
        if f.type == "repeat":
            out.append(f'<NavigationProperty Name={name} Type="Collection({ns}.{entity_set(f.path)})"/>')
        elif f.type == "group":
            out.append(f'<Property Name={name} Type="{ns}.{complex_name(f.path)}"/>')
        else:
            out.append(f'<Property Name={name} Type="{edm_type(f)}"/>')


def metadata(schema: FormSchema) -> bytes:
    ns = f"org.opendatakit.user.{schema.form_id}"
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<edmx:Edmx xmlns:edmx="{EDMX}" Version="4.0">', "<edmx:DataServices>",
           f'<Schema xmlns="{EDM}" Namespace="{SYSTEM_NS}">', '<ComplexType Name="metadata">']
    out += [f'<Property Name="{name}" Type="{kind}"/>' for name, kind in SYSTEM_PROPERTIES]
    out += ["</ComplexType>", '<EnumType Name="Status"><Member Name="notDecrypted"/>'
            '<Member Name="missingEncryptedFormData"/></EnumType>',
            '<EnumType Name="ReviewState"><Member Name="hasIssues"/><Member Name="edited"/>'
            '<Member Name="rejected"/><Member Name="approved"/></EnumType>', "</Schema>",
            f'<Schema xmlns="{EDM}" Namespace={quoteattr(ns)}>']
    tables = [None] + schema.repeats
    for repeat in tables:
        out.append(f'<EntityType Name={quoteattr(entity_set(repeat))}>')
        out.append('<Key><PropertyRef Name="__id"/></Key><Property Name="__id" Type="Edm.String"/>')
        if repeat is None:
            out.append(f'<Property Name="__system" Type="{SYSTEM_NS}.metadata"/>')
        else:
            out.append(f'<Property Name={quoteattr(parent_key(schema, repeat))} Type="Edm.String"/>')
        _properties(schema, ns, repeat, out)
        out.append("</EntityType>")
    for f in schema.fields:
        if f.type == "group":
            out.append(f'<ComplexType Name={quoteattr(complex_name(f.path))}>')
            _properties(schema, ns, f.path, out)
            out.append("</ComplexType>")
    out.append(f'<EntityContainer Name={quoteattr(schema.form_id)}>')
    for repeat in tables:
        name = quoteattr(entity_set(repeat))
        out.append(f'<EntitySet Name={name} EntityType={quoteattr(ns + "." + entity_set(repeat))}>')
        if repeat is None:
            out.append('<Annotation Term="Org.OData.Capabilities.V1.ConformanceLevel" '
                       'EnumMember="Org.OData.Capabilities.V1.ConformanceLevelType/Minimal"/>'
                       '<Annotation Term="Org.OData.Capabilities.V1.BatchSupported" Bool="false"/>'
                       '<Annotation Term="Org.OData.Capabilities.V1.CountRestrictions"><Record>'
                       '<PropertyValue Property="Countable" Bool="true"/></Record></Annotation>')
        out.append("</EntitySet>")
    out += ["</EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
    return "\n".join(out).encode("utf-8")
