"""Eager-loading policy, in one place: given a page of records and the part of the query
that asks for their relations, load each relation for the whole page in one batch and
attach it, so the relation resolvers answer synchronously.

The selection is read from the query (fragments merged), so nothing is loaded that the
client did not ask for.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionNode,
)

from open287g.db.queries.agencies import AgencyRecord
from open287g.db.queries.agreements import AgreementRecord
from open287g.db.queries.jurisdictions import JurisdictionRecord
from open287g.graphql.context import Info
from open287g.graphql.types import Agency, Agreement, Jurisdiction, ProgramModel

Tree = dict[str, "Tree"]
_POLICY_FIELDS = frozenset({"policy", "policyStatus", "declaredSanctuary"})


def selection_tree(
    selections: Sequence[SelectionNode], fragments: dict[str, FragmentDefinitionNode]
) -> Tree:
    """Field names asked for under `selections`, nested, with fragments merged in. Read from
    graphql-core's AST: strawberry's `selected_fields` costs more than the whole lookup."""
    tree: Tree = {}
    for node in selections:
        if isinstance(node, FieldNode):
            below = node.selection_set.selections if node.selection_set else ()
            _merge(tree.setdefault(node.name.value, {}), selection_tree(below, fragments))
        elif isinstance(node, InlineFragmentNode):
            _merge(tree, selection_tree(node.selection_set.selections, fragments))
        elif isinstance(node, FragmentSpreadNode) and node.name.value in fragments:
            spread = fragments[node.name.value].selection_set.selections
            _merge(tree, selection_tree(spread, fragments))
    return tree


def _merge(into: Tree, other: Tree) -> None:
    for name, sub in other.items():
        _merge(into.setdefault(name, {}), sub)


def field_tree(info: Info) -> Tree:
    """What the current field asks of its result."""
    raw = info._raw_info
    selections = [
        s
        for field in raw.field_nodes
        if field.selection_set
        for s in field.selection_set.selections
    ]
    return selection_tree(selections, raw.fragments)


def node_tree(info: Info) -> Tree:
    """What the current connection field asks of each node (`edges { node { … } }`)."""
    return field_tree(info).get("edges", {}).get("node", {})


async def agreements(info: Info, records: Sequence[AgreementRecord], tree: Tree) -> list[Agreement]:
    nodes = [Agreement.of(record) for record in records]
    loaders = info.context.loaders
    if "agency" in tree or "policyStatus" in tree:
        agency_tree = dict(tree.get("agency", {}))
        if "policyStatus" in tree:
            agency_tree.setdefault("policyStatus", {})
        found = await loaders.agency.load_many([r.agency_id for r in records])
        agencies = await attach_agencies(info, [a for a in found if a is not None], agency_tree)
        by_id = {agency.record.id: agency for agency in agencies}
        for node in nodes:
            node.agency_obj = by_id.get(node.record.agency_id)
    if "model" in tree:
        models = await loaders.program_model.load_many(sorted({r.model_code for r in records}))
        by_code = {m.code: ProgramModel.of(m) for m in models if m is not None}
        for node in nodes:
            node.model_obj = by_code[node.record.model_code]
    return nodes


async def attach_agencies(info: Info, records: Sequence[AgencyRecord], tree: Tree) -> list[Agency]:
    nodes = [Agency.of(record) for record in records]
    loaders = info.context.loaders
    jurisdiction_ids = [r.jurisdiction_id for r in records if r.jurisdiction_id is not None]
    if "jurisdiction" in tree:
        found = await loaders.jurisdiction.load_many(jurisdiction_ids)
        places = await attach_jurisdictions(
            info, [j for j in found if j is not None], tree["jurisdiction"]
        )
        by_id = {place.record.id: place for place in places}
        for node in nodes:
            node.jurisdiction_obj = by_id.get(node.record.jurisdiction_id or -1)
            node.jurisdiction_loaded = True
    if _POLICY_FIELDS & tree.keys():
        policies = dict(
            zip(
                jurisdiction_ids,
                await loaders.policy_of_jurisdiction.load_many(jurisdiction_ids),
                strict=True,
            )
        )
        for node in nodes:
            node.policy_rec = policies.get(node.record.jurisdiction_id or -1)
            node.policy_loaded = True
    return nodes


async def attach_jurisdictions(
    info: Info, records: Sequence[JurisdictionRecord], tree: Tree
) -> list[Jurisdiction]:
    nodes = [Jurisdiction.of(record) for record in records]
    loaders = info.context.loaders
    if "parent" in tree:
        parent_ids = [r.parent_id for r in records if r.parent_id is not None]
        found = await loaders.jurisdiction.load_many(parent_ids)
        parents = await attach_jurisdictions(info, [p for p in found if p], tree["parent"])
        by_id = {parent.record.id: parent for parent in parents}
        for node in nodes:
            node.parent_obj = by_id.get(node.record.parent_id or -1)
            node.parent_loaded = True
    if _POLICY_FIELDS & tree.keys():
        ids = [r.id for r in records]
        policies = await loaders.policy_of_jurisdiction.load_many(ids)
        for node, policy in zip(nodes, policies, strict=True):
            node.policy_rec = policy
            node.policy_loaded = True
    return nodes
