"""Server-rendered HTML pages for people: `/`, `/states/{code}`, `/agencies/{id}` and the
`/docs` guide. Read through the same query layer as both APIs, cached by data version like
them, with no script and nothing loaded from another host."""
