"""Schemas of /jobs."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import UUID, DateTime, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, Range


class JobIn(Schema):
    kind = String(required=True, validate=Length(min=1, max=32),
                  metadata={"description": "See GET /jobs/kinds."})  # fmt: skip
    params = Dict(keys=String(validate=Length(max=64)), load_default=dict, validate=Length(max=50))


class JobOut(Schema):
    id = UUID(required=True)
    kind = String(required=True)
    params = Dict(required=True)
    status = String(required=True, metadata={"description": "queued|running|succeeded|failed"})
    progress = Float(allow_none=True, metadata={"description": "Fraction done, 0..1."})
    result = Dict(allow_none=True)
    error = String(allow_none=True)
    created_at = DateTime(required=True)
    started_at = DateTime(allow_none=True)
    finished_at = DateTime(allow_none=True)


class JobsQuery(Schema):
    limit = Integer(load_default=50, validate=Range(min=1, max=500))
    offset = Integer(load_default=0, validate=Range(min=0, max=1_000_000))


class JobKindOut(Schema):
    kind = String(required=True)
    description = String(required=True)


class JobKindsOut(Schema):
    kinds = List(Nested(JobKindOut), required=True)


__all__ = ["JobIn", "JobKindOut", "JobKindsOut", "JobOut", "JobsQuery"]
