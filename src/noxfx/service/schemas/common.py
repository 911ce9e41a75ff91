"""Schemas shared by every resource: the problem document and paging."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Integer, List, Nested, String
from apiflask.validators import Range


class FieldError(Schema):
    location = String(metadata={"description": "json, query, path or headers"})
    field = String(metadata={"description": "Dotted path of the field, e.g. risk_settings.x"})
    message = String()


class Problem(Schema):
    """RFC 9457 problem details (every error response)."""

    type = String(required=True, metadata={"example": "urn:noxfx:problem:unknown-instrument"})
    title = String(required=True)
    status = Integer(required=True)
    detail = String(required=True, metadata={"description": "What happened and what to do."})
    instance = String(metadata={"description": "The request path."})
    request_id = String(allow_none=True)
    errors = List(Nested(FieldError), metadata={"description": "Validation problems by field."})


class Paging(Schema):
    limit = Integer(load_default=50, validate=Range(min=1, max=500))
    offset = Integer(load_default=0, validate=Range(min=0, max=1_000_000))


class Message(Schema):
    message = String(required=True)


__all__ = ["FieldError", "Message", "Paging", "Problem"]
