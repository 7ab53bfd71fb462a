"""A realistic mix for Locust: app developers paging GraphQL, portals syncing REST.

    locust -f load_tests/locustfile.py --host http://127.0.0.1:8000
(or `python -m load_tests.bench_locust`, which starts the server and runs it headless).
"""

from __future__ import annotations

import random

from locust import FastHttpUser, between, task

GRAPHQL_PAGE = (
    "query ($state: String, $after: String) { agreements(first: 50, after: $after,"
    " filter: {state: $state}) { totalCount pageInfo { hasNextPage endCursor }"
    " edges { node { id status signedOn moaUrl agency { name jurisdiction { name } }"
    " model { code } } } } }"
)
STATES = ["TX", "FL", "GA", "AL", "VA", "NC", "SC", "OK", "TN", "PA"]


class AppDeveloper(FastHttpUser):
    weight = 3
    wait_time = between(0.0, 0.2)

    @task(5)
    def graphql_pages(self) -> None:
        after = None
        for _ in range(3):
            variables = {"state": random.choice(STATES), "after": after}
            with self.client.post(
                "/graphql",
                json={"query": GRAPHQL_PAGE, "variables": variables},
                name="POST /graphql agreements page",
                catch_response=True,
            ) as response:
                body = response.json()
                if "errors" in body:
                    response.failure(str(body["errors"])[:200])
                    return
                info = body["data"]["agreements"]["pageInfo"]
            if not info["hasNextPage"]:
                return
            after = info["endCursor"]

    @task(2)
    def graphql_stats(self) -> None:
        self.client.get(
            "/graphql?query={agreementStats(groupBy:[STATE,MODEL]){key{state model}count}}",
            name="GET /graphql agreementStats",
        )


class DataPortal(FastHttpUser):
    weight = 1
    wait_time = between(0.0, 0.5)

    @task(4)
    def rest_page(self) -> None:
        state = random.choice(STATES)
        self.client.get(f"/v1/agreements?state={state}&limit=100", name="GET /v1/agreements")

    @task(2)
    def rest_stats(self) -> None:
        self.client.get("/v1/stats/agreements?group_by=state,status", name="GET /v1/stats")

    @task(1)
    def sync(self) -> None:
        self.client.get("/v1/changes?since=0&limit=500", name="GET /v1/changes")

    @task(1)
    def conditional(self) -> None:
        first = self.client.get("/v1/agencies?limit=50", name="GET /v1/agencies")
        etag = first.headers.get("ETag") if first.headers else None
        if etag:
            self.client.get(
                "/v1/agencies?limit=50",
                headers={"If-None-Match": etag},
                name="GET /v1/agencies (304)",
            )
