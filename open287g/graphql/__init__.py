"""The GraphQL API (strawberry) for app developers, at /graphql."""
