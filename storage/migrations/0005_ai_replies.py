from tortoise import migrations
from tortoise.migrations import operations as ops
from bot.types import MessageStatus
from tortoise import fields
from storage.migration_ops import DescribeField

class Migration(migrations.Migration):
    dependencies = [('models', '0004_knowledge')]

    initial = False

    operations = [
        DescribeField(
            model_name='Delivery',
            name='status',
            field=fields.CharEnumField(description='a bot.types.MessageStatus value', enum_type=MessageStatus, max_length=10),
        ),
        DescribeField(
            model_name='Message',
            name='status',
            field=fields.CharEnumField(description='a bot.types.MessageStatus value', enum_type=MessageStatus, max_length=10),
        ),
        ops.AddField(
            model_name='Message',
            name='ai_cost',
            field=fields.FloatField(null=True),
        ),
        ops.AddField(
            model_name='Message',
            name='ai_input_tokens',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Message',
            name='ai_model',
            field=fields.CharField(null=True, max_length=100),
        ),
        ops.AddField(
            model_name='Message',
            name='ai_output_tokens',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Message',
            name='answered_by',
            field=fields.CharField(null=True, max_length=8),
        ),
        ops.AddField(
            model_name='Message',
            name='original_text',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Message',
            name='translation',
            field=fields.TextField(null=True, unique=False),
        ),
    ]
