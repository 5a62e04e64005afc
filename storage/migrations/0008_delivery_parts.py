from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_stored_files')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Delivery',
            name='parts_sent',
            field=fields.SmallIntField(default=0, db_default=0, description='Parts of a long reply or post already out, so no retry repeats them'),
        ),
    ]
