"""The database's rules that no code gets round: triggers declared in a model's
`Meta.triggers` (django-pgtrigger) that refuse a write, or correct it, whoever asks — the
ORM, the admin, raw SQL.

A refusal is raised as an integrity_constraint_violation, so Django raises `IntegrityError`
as it does for a CHECK or UNIQUE constraint, and it carries a name as its constraint
(`error.__cause__.diag.constraint_name`): code that maps a refusal to a message matches that
name, never the text. pgtrigger's own `Protect` raises a plain exception (Django's
`InternalError`) with no name, hence `Refuse`.

pgtrigger lets any session skip a trigger by naming it in the setting `pgtrigger.ignore`
(its `pgtrigger.ignore()`); these triggers do not ask, so that the application's role, which
does not own the tables, cannot rewrite the audit log or a signed note either. Row triggers
only: TRUNCATE, which needs the table's owner and is how a test database is emptied, is not
refused.
"""

from __future__ import annotations

from typing import Any

import pgtrigger
from django.db import models
from pgtrigger import compiler


class UnskippableTriggerSql(compiler.UpsertTriggerSql):
    """pgtrigger's installation SQL without the opening question of its trigger function,
    whether the session's `pgtrigger.ignore` names the trigger. The migrations that install
    these triggers name this class: what it renders must not change."""

    def get_template(self) -> str:
        template = super().get_template()
        skip = template[
            template.index("IF ({ignore_func_name}(TG_NAME)") : template.index("{func}")
        ]
        return template.replace(skip, "")


class _Unskippable:
    def compile(self, model: type[models.Model]) -> compiler.Trigger:
        compiled = super().compile(model)  # type: ignore[misc]
        return compiler.Trigger(
            name=compiled.name, sql=UnskippableTriggerSql(**compiled.sql.kwargs)
        )


class UnskippableTrigger(_Unskippable, pgtrigger.Trigger):
    """`pgtrigger.Trigger` that no session skips."""


def refusal(message: str, *, name: str, args: str = "") -> str:
    """The PL/pgSQL statement that refuses the write under `name`. `message` may hold `%`
    placeholders, filled in from `args` (e.g. "TG_OP", "OLD.id")."""
    quoted = message.replace("'", "''")
    values = f", {args}" if args else ""
    return (
        f"RAISE EXCEPTION '{quoted}'{values} "
        f"USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = '{name}';"
    )


class Refuse(_Unskippable, pgtrigger.Protect):
    """`pgtrigger.Protect` raising a `refusal`, that no session skips: named after the
    trigger unless `refused_as` names it otherwise (one name for several tables' triggers)."""

    def __init__(
        self, *, message: str, args: str = "", refused_as: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.refusal = refusal(message, name=refused_as or self.name, args=args)

    def get_func(self, model: type[models.Model]) -> str:
        return self.refusal
