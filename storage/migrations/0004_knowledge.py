from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_staff_desk')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Document',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=255)),
                ('title', fields.CharField(max_length=300)),
                ('language', fields.CharField(null=True, max_length=8)),
                ('digest', fields.CharField(max_length=64)),
                ('imported_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'document', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An imported manual or policy, known by its file name.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DocumentPassage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('document', fields.ForeignKeyField('models.Document', source_field='document_id', db_constraint=True, to_field='id', related_name='passages', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('heading', fields.TextField(default='', db_default='', unique=False)),
                ('text', fields.TextField(unique=False)),
            ],
            options={'table': 'document_passage', 'app': 'models', 'unique_together': (('document', 'position'),), 'pk_attr': 'id', 'table_description': 'One searchable piece of a document, under the headings it sits below.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FaqVector',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('faq_id', fields.CharField(max_length=100)),
                ('language', fields.CharField(max_length=8)),
                ('model', fields.CharField(max_length=100)),
                ('digest', fields.CharField(max_length=64)),
                ('dimensions', fields.SmallIntField()),
                ('vectors', fields.BinaryField()),
            ],
            options={'table': 'faq_vector', 'app': 'models', 'unique_together': (('faq_id', 'language', 'model'),), 'pk_attr': 'id', 'table_description': 'Embedding vectors of one FAQ language version, one per question or paraphrase.'},
            bases=['Model'],
        ),
    ]
