"""The models and the migrations describe the same schema."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.migrations.autodetector import MigrationAutodetector

from storage import models
from storage.database import tortoise_config


async def test_every_model_change_has_a_migration(tmp_path: Path) -> None:
    config = tortoise_config(f"sqlite://{tmp_path}/schema.sqlite3")
    async with TortoiseContext() as context:
        await context.init(config=config)
        assert context.apps is not None
        writers = await MigrationAutodetector(context.apps, config["apps"]).changes()
    pending = [op for writer in writers for op in writer.operations]
    assert pending == [], "run `tortoise -c storage.database.TORTOISE_ORM makemigrations`"


def test_model_docstrings_are_safe_as_sql_comments() -> None:
    """Class docstrings become table comments; the migration runner splits SQL on `;`."""
    tree = ast.parse(inspect.getsource(models))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and (doc := ast.get_docstring(node)):
            assert not set(doc) & set(";`'"), f"{node.name} docstring: {doc!r}"
