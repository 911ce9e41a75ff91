"""Marshmallow schemas of the API (request validation and the OpenAPI document)."""
