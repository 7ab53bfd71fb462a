"""The normal mix of `locustfile.py` plus attackers sending about one request in ten.

Attack requests are named `ATTACK …` so the benchmark can report the normal users'
latency and error rate apart from them. Every attack must be answered with a 4xx (or
429 when rate limited): a 5xx or a dropped connection is counted as a failure.
"""

from __future__ import annotations

import random
import string

from locust import FastHttpUser, between, task

from load_tests.locustfile import AppDeveloper, DataPortal

__all__ = ["AppDeveloper", "Attacker", "DataPortal"]


def _fan_out(levels: int) -> str:
    """Each fragment spreads the previous one twice: 2^levels fields if walked naively."""
    fragments = ["fragment F0 on Agreement { id }"]
    for level in range(1, levels + 1):
        fragments.append(f"fragment F{level} on Agreement {{ ...F{level - 1} ...F{level - 1} }}")
    spread = f"{{ agreements(first: 1) {{ edges {{ node {{ ...F{levels} }} }} }} }}"
    return f"{spread} {' '.join(fragments)}"


FAN_OUT = _fan_out(20)
STATS = "detainerStats(groupBy: [STATE, MONTH, CITIZENSHIP]) { issued }"
STATS_ALIASES = "{ " + " ".join(f"s{i}: {STATS}" for i in range(15)) + " }"
DEEP = "{" + "agreements { edges { node { agency { agreements {" * 6 + " id " + "}}}}}" * 6 + "}"


class Attacker(FastHttpUser):
    """Hostile requests, each expected to be refused cheaply."""

    fixed_count = 3  # three attackers beside the normal users: about a tenth of the requests
    wait_time = between(0.1, 0.3)

    def _expect_refusal(self, response: object, name: str) -> None:
        status = getattr(response, "status_code", 0)
        if not 400 <= status < 500:
            response.failure(f"{name}: status {status}")  # type: ignore[attr-defined]
        else:
            response.success()  # type: ignore[attr-defined]

    def _post(self, name: str, query: str) -> None:
        with self.client.post(
            "/graphql", name=name, catch_response=True, json={"query": query}
        ) as response:
            body = response.json() if response.status_code == 200 else {}
            if response.status_code == 200 and body.get("errors"):
                response.success()  # refused by the limits with a GraphQL error
            else:
                self._expect_refusal(response, name)

    @task
    def fragment_fan_out(self) -> None:
        self._post("ATTACK fragment fan-out", FAN_OUT)

    @task
    def costly_statistics(self) -> None:
        self._post("ATTACK 15 aliased detainerStats", STATS_ALIASES)

    @task
    def deep_query(self) -> None:
        self._post("ATTACK deep nesting", DEEP)

    @task
    def large_body(self) -> None:
        padding = "#" + "x" * (1024 * 1024)
        self._post("ATTACK 1 MB body", "{ __typename }\n" + padding)

    @task
    def long_search(self) -> None:
        needle = "".join(random.choices(string.ascii_letters, k=100_000))
        with self.client.get(
            f"/v1/agreements?q={needle}", name="ATTACK 100 KB search", catch_response=True
        ) as response:
            self._expect_refusal(response, "long search")

    @task
    def hostile_ids(self) -> None:
        for bad in ("QWdyZWVtZW50Ojk5OTk5OTk5OTk5OTk5OTk5OTk5", "%00", "Agreement:%C2%B2"):
            with self.client.get(
                f"/v1/agreements/{bad}", name="ATTACK hostile id", catch_response=True
            ) as response:
                self._expect_refusal(response, "hostile id")

    @task
    def cache_busting(self) -> None:
        nonce = random.getrandbits(64)
        with self.client.get(
            f"/v1/agreements?limit=1000&junk{nonce}=1",
            name="ATTACK cache busting",
            catch_response=True,
        ) as response:
            if response.status_code >= 500:
                response.failure(f"status {response.status_code}")
            else:
                response.success()
