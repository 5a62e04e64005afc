from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from bot.types import AttachmentKind, AutomationLevel, ChannelKind, DeliveryTarget, Direction, HandoffState, MessageStatus, Role, SenderKind, TicketPriority, TicketStatus
from json import dumps, loads
from storage.models import _empty_dict, _empty_list
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Agent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('display_name', fields.CharField(max_length=200)),
                ('username', fields.CharField(null=True, unique=True, max_length=64)),
                ('role', fields.CharEnumField(default=Role.AGENT, description='AGENT: agent\nSUPERVISOR: supervisor\nADMIN: admin', db_default='agent', enum_type=Role, max_length=16)),
                ('online', fields.BooleanField(default=True, db_default=True)),
                ('telegram_user_id', fields.BigIntField(null=True, unique=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'agent', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Customer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(null=True, max_length=200)),
                ('language', fields.CharField(null=True, max_length=8)),
                ('tags', fields.JSONField(default=_empty_list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('notes', fields.TextField(default='', db_default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'customer', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChannelIdentity',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='identities', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharEnumField(description='TELEGRAM: telegram\nWECHAT: wechat\nWEB: web', enum_type=ChannelKind, max_length=16)),
                ('external_user_id', fields.CharField(max_length=128)),
                ('chat_id', fields.CharField(max_length=128)),
                ('display_name', fields.CharField(null=True, max_length=200)),
                ('language_hint', fields.CharField(null=True, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'channel_identity', 'app': 'models', 'unique_together': (('channel', 'external_user_id'),), 'pk_attr': 'id', 'table_description': 'How one customer is known on one channel.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Conversation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='conversations', on_delete=OnDelete.CASCADE)),
                ('identity', fields.OneToOneField('models.ChannelIdentity', source_field='identity_id', db_constraint=True, to_field='id', related_name='conversation', on_delete=OnDelete.CASCADE)),
                ('language', fields.CharField(null=True, max_length=8)),
                ('ai_enabled', fields.BooleanField(default=True, db_default=True)),
                ('handoff', fields.CharEnumField(default=HandoffState.BOT, description='BOT: bot\nWAITING: waiting\nWITH_PERSON: with_person', db_default='bot', enum_type=HandoffState, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'conversation', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The running thread with one customer on one channel (one per channel identity).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FaqRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('faq_id', fields.CharField(max_length=100)),
                ('language', fields.CharField(max_length=8)),
                ('question', fields.TextField(unique=False)),
                ('answer', fields.TextField(unique=False)),
                ('category', fields.CharField(null=True, max_length=64)),
                ('tags', fields.JSONField(default=_empty_list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('paraphrases', fields.JSONField(default=_empty_list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('source', fields.CharField(default='import', db_default='import', max_length=16)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'faq_entry', 'app': 'models', 'unique_together': (('faq_id', 'language'),), 'pk_attr': 'id', 'table_description': 'One language version of one FAQ entry, under the id the admin chose (faq_id).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SystemValue',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('value', fields.TextField(unique=False)),
            ],
            options={'table': 'system_value', 'app': 'models', 'pk_attr': 'key', 'table_description': 'Small shared facts every process must agree on (generated secrets, revisions).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Ticket',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation', fields.ForeignKeyField('models.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.CASCADE)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=TicketStatus.OPEN, description='OPEN: open\nIN_PROGRESS: in_progress\nWAITING_CUSTOMER: waiting_customer\nRESOLVED: resolved\nCLOSED: closed\nCANCELLED: cancelled', db_default='open', enum_type=TicketStatus, max_length=20)),
                ('priority', fields.CharEnumField(default=TicketPriority.NORMAL, description='LOW: low\nNORMAL: normal\nHIGH: high\nURGENT: urgent', db_default='normal', enum_type=TicketPriority, max_length=10)),
                ('category', fields.CharField(null=True, max_length=64)),
                ('subject', fields.TextField(default='', db_default='', unique=False)),
                ('assignee', fields.ForeignKeyField('models.Agent', source_field='assignee_id', null=True, db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.SET_NULL)),
                ('automation_level', fields.CharEnumField(default=AutomationLevel.HUMAN, description='HUMAN: human\nAI_ASSISTED: ai_assisted\nAI_ONLY: ai_only', db_default='human', enum_type=AutomationLevel, max_length=16)),
                ('opened_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('first_response_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolution', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'ticket', 'app': 'models', 'indexes': [Index(fields=['status', 'priority'])], 'pk_attr': 'id', 'table_description': 'A case handed to people. Its id is the number (#N) staff see.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Message',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation', fields.ForeignKeyField('models.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.SET_NULL)),
                ('channel', fields.CharEnumField(description='TELEGRAM: telegram\nWECHAT: wechat\nWEB: web', enum_type=ChannelKind, max_length=16)),
                ('direction', fields.CharEnumField(description='INCOMING: incoming\nOUTGOING: outgoing\nACTIVITY: activity', enum_type=Direction, max_length=10)),
                ('sender_kind', fields.CharEnumField(description='CUSTOMER: customer\nAGENT: agent\nBOT: bot\nSYSTEM: system', enum_type=SenderKind, max_length=10)),
                ('agent', fields.ForeignKeyField('models.Agent', source_field='agent_id', null=True, db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.SET_NULL)),
                ('author_name', fields.CharField(null=True, max_length=200)),
                ('text', fields.TextField(unique=False)),
                ('private', fields.BooleanField(default=False, db_default=False)),
                ('source_message_id', fields.CharField(null=True, max_length=128)),
                ('status', fields.CharEnumField(description='RECEIVED: received\nPROCESSED: processed\nFAILED: failed\nPENDING: pending\nSENT: sent\nDRAFT: draft', enum_type=MessageStatus, max_length=10)),
                ('language', fields.CharField(null=True, max_length=8)),
                ('faq_id', fields.CharField(null=True, max_length=100)),
                ('buttons', fields.JSONField(default=_empty_list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('attempts', fields.SmallIntField(default=0, db_default=0)),
                ('lease_owner', fields.CharField(null=True, max_length=64)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'message', 'app': 'models', 'unique_together': (('channel', 'source_message_id'),), 'indexes': [Index(fields=['conversation_id', 'id']), Index(fields=['status', 'lease_until'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Attachment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message', fields.ForeignKeyField('models.Message', source_field='message_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='IMAGE: image\nFILE: file\nAUDIO: audio\nVIDEO: video\nSTICKER: sticker\nLOCATION: location\nCONTACT_CARD: contact_card\nLINK: link', enum_type=AttachmentKind, max_length=16)),
                ('reference', fields.TextField(default='', db_default='', unique=False)),
                ('name', fields.CharField(null=True, max_length=255)),
                ('mime_type', fields.CharField(null=True, max_length=100)),
                ('size', fields.BigIntField(null=True)),
                ('meta', fields.JSONField(default=_empty_dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
            ],
            options={'table': 'attachment', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Delivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message', fields.ForeignKeyField('models.Message', source_field='message_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('target', fields.CharEnumField(description='CUSTOMER: customer\nSTAFF: staff', enum_type=DeliveryTarget, max_length=10)),
                ('status', fields.CharEnumField(description='RECEIVED: received\nPROCESSED: processed\nFAILED: failed\nPENDING: pending\nSENT: sent\nDRAFT: draft', enum_type=MessageStatus, max_length=10)),
                ('attempts', fields.SmallIntField(default=0, db_default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('lease_owner', fields.CharField(null=True, max_length=64)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('external_id', fields.CharField(null=True, max_length=128)),
                ('error', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'delivery', 'app': 'models', 'unique_together': (('message', 'target'),), 'indexes': [Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'The outbox: one row per message owed to one place, sent exactly once.'},
            bases=['Model'],
        ),
    ]
