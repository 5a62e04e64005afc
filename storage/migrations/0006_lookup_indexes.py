from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_ai_replies')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Attachment',
            index=Index(fields=['message_id', 'id']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['conversation_id', 'status']),
        ),
        ops.AddIndex(
            model_name='TicketEvent',
            index=Index(fields=['ticket_id', 'id']),
        ),
    ]
