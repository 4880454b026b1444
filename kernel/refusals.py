"""The database's refusals: triggers, declared in a model's `Meta.triggers` (django-pgtrigger),
that refuse a write whoever asks — the ORM, the admin, raw SQL.

A refusal is raised as an integrity_constraint_violation, so Django raises `IntegrityError`
as it does for a CHECK or UNIQUE constraint, and it carries a name as its constraint
(`error.__cause__.diag.constraint_name`): code that maps a refusal to a message matches that
name, never the text. pgtrigger's own `Protect` raises a plain exception (Django's
`InternalError`) with no name, hence `Refuse`.

Row triggers only: TRUNCATE, which needs the table's owner and is how a test database is
emptied, is not refused.
"""

from __future__ import annotations

from typing import Any

import pgtrigger
from django.db import models


def refusal(message: str, *, name: str, args: str = "") -> str:
    """The PL/pgSQL statement that refuses the write under `name`. `message` may hold `%`
    placeholders, filled in from `args` (e.g. "TG_OP", "OLD.id")."""
    quoted = message.replace("'", "''")
    values = f", {args}" if args else ""
    return (
        f"RAISE EXCEPTION '{quoted}'{values} "
        f"USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = '{name}';"
    )


class Refuse(pgtrigger.Protect):
    """`pgtrigger.Protect` raising a `refusal`: named after the trigger unless `refused_as`
    names it otherwise (one name shared by several tables' triggers)."""

    def __init__(
        self, *, message: str, args: str = "", refused_as: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.refusal = refusal(message, name=refused_as or self.name, args=args)

    def get_func(self, model: type[models.Model]) -> str:
        return self.refusal
