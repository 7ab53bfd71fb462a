"""The GraphQL plan cache is bounded two ways (open287g/graphql/plan.py): by bytes, and by
PLANS_PER_DOCUMENT variable sets per document, so a client that varies the variables of one
document (or floods it with random ones) churns only that document's plans."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from open287g.app import create_app
from open287g.config import Settings
from open287g.graphql.plan import PLANS_PER_DOCUMENT, Plan, PlanCache
from open287g.graphql.schema import schema

DOCUMENTS = ["{ a }", "{ b }", "{ c }"]


def _plan(size: int) -> Plan:
    return Plan("x" * size, (), ("a",))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["put", "get"]),
            st.sampled_from(DOCUMENTS),
            st.integers(0, 12),  # the variables
            st.integers(0, 3000),  # the statement's size
        ),
        max_size=300,
    ),
    budget=st.integers(2_000, 40_000),
    per_document=st.integers(1, 6),
)
def test_the_bounds_hold_whatever_the_requests(
    steps: list[tuple[str, str, int, int]], budget: int, per_document: int
) -> None:
    cache = PlanCache(budget, per_document)
    for action, document, variables, size in steps:
        key = PlanCache.key(document, None, {"n": variables})
        assert key is not None
        if action == "put":
            cache.put(key, _plan(size))
            # Just stored (when it fits at all): the next request finds it.
            assert (cache.get(key) is not None) == (size + 512 + len(document) + 8 <= budget)
        else:
            cache.get(key)
        kept = list(cache._plans.items())
        assert cache.total == sum(p.cost + len(k[0]) + len(k[2]) for k, p in kept)
        assert cache.total <= budget
        for name in DOCUMENTS:
            assert sum(1 for k, _ in kept if k[0] == name) <= per_document
        assert sorted(k for d in cache._documents.values() for k in d) == sorted(k for k, _ in kept)


@pytest.fixture
async def http(engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(response_cache=False, rate_limit_per_second=0), engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_a_flood_of_variables_churns_only_its_own_document(
    http: httpx.AsyncClient,
) -> None:
    """Over HTTP, as a client would: one document's plan is cached; another document sent
    with 3 × PLANS_PER_DOCUMENT different variables keeps at most PLANS_PER_DOCUMENT plans,
    and the first document's plan is still there."""
    assert schema.plans is not None
    kept = "{ programModels { code name } }"
    flooded = "query($q: String) { agencies(filter: {nameContains: $q}) { totalCount } }"
    answer = await http.post("/graphql", json={"query": kept})
    assert answer.status_code == 200, answer.text
    kept_key = PlanCache.key(kept, None, None)
    assert kept_key is not None
    assert schema.plans.get(kept_key) is not None, "the first document was planned and kept"
    for n in range(1, 3 * PLANS_PER_DOCUMENT + 1):
        answer = await http.post("/graphql", json={"query": flooded, "variables": {"q": f"x{n}"}})
        assert answer.status_code == 200, answer.text
    flooded_plans = [key for key in schema.plans._plans if key[0] == flooded]
    assert len(flooded_plans) == PLANS_PER_DOCUMENT
    newest = PlanCache.key(flooded, None, {"q": f"x{3 * PLANS_PER_DOCUMENT}"})
    assert newest in flooded_plans, "the most recent variables are the ones kept"
    assert schema.plans.get(kept_key) is not None, "the other document's plan survived"
