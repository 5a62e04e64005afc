"""Migration operations tortoise lacks.

`DescribeField` records that a field changed in ways the database does not store as part
of the column (its description, the members of its enum), without touching the table:
tortoise's `AlterField` makes SQLite rebuild the whole table for that, and the rebuilt
table loses its unique constraints and indexes.
"""

from __future__ import annotations

from tortoise.migrations.operations import AlterField
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state import State


class DescribeField(AlterField):
    def describe(self) -> str:
        return f"Describe field {self.name} on {self.model_name} (no SQL)"

    async def database_forward(
        self,
        app_label: str,
        old_state: State,
        new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        return None

    async def database_backward(
        self,
        app_label: str,
        old_state: State,
        new_state: State,
        state_editor: BaseSchemaEditor | None = None,
    ) -> None:
        return None
