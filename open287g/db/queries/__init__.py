"""Read queries shared by the REST and GraphQL APIs: one module per resource."""
