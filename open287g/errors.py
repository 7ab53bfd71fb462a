"""Errors caused by the client's input (bad cursor, id, state, page size). Both APIs show
their message as is (REST: 400 problem+json; GraphQL: an unmasked error); anything else
is masked as an internal error."""

from __future__ import annotations


class ClientError(ValueError):
    pass
