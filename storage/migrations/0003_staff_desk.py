from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_ticket_history')]

    initial = False

    operations = [
        ops.CreateModel(
            name='InboxKey',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=160)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'inbox_key', 'app': 'models', 'pk_attr': 'key', 'table_description': 'Updates handled at most once (staff commands): the key is written before the work.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffTopic',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.OneToOneField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='staff_topic', on_delete=OnDelete.CASCADE)),
                ('chat_id', fields.CharField(max_length=64)),
                ('thread_id', fields.CharField(null=True, max_length=64)),
                ('name', fields.CharField(default='', db_default='', max_length=128)),
                ('closed', fields.BooleanField(default=False, db_default=False)),
                ('claimed_by', fields.CharField(null=True, max_length=64)),
                ('claimed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'staff_topic', 'app': 'models', 'unique_together': (('chat_id', 'thread_id'),), 'pk_attr': 'id', 'table_description': 'The agents-chat thread of one customer, kept so it survives restarts and stays one.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Conversation',
            name='rating_ticket_id',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Message',
            name='action',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Message',
            name='event',
            field=fields.CharField(null=True, max_length=24),
        ),
    ]
