"""ProgramModel: the four 287(g) models (reference data, keyed by code)."""

from __future__ import annotations

from open287g.db.entities.declare import Column, Entity, RestColumn
from open287g.db.models.enums import ProgramModelCode

PROGRAM_MODEL = Entity(
    name="ProgramModel",
    description="A 287(g) program model: what the agency's officers may do for ICE.",
    table="program_models {t}",
    key="CAST({t}.code AS text)",
    key_type=str,
    columns=(
        Column("code", "{t}.code", ProgramModelCode, "The model's code (stable)."),
        Column("name", "{t}.name", str, "The model's name as ICE writes it."),
        Column("description", "{t}.description", str, "What officers may do under this model."),
        Column("legal_basis", "{t}.legal_basis", str, "The statute the model rests on."),
    ),
    rest=(
        RestColumn("id"),
        RestColumn("code"),
        RestColumn("name"),
        RestColumn("description"),
        RestColumn("legal_basis"),
    ),
)

# The order `programModels` lists them in.
PROGRAM_MODEL_ORDER = "{t}.sort_order"
