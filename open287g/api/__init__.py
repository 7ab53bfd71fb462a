"""The HTTP service: a Starlette app carrying the REST routes and the GraphQL endpoint."""
