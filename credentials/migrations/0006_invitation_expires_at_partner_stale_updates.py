"""Invitations that expire, and the count of stale updates a partner sent.

Adding a NOT NULL column makes SQLite rebuild credentials_partnerplatform, which drops the
generation triggers of 0004 there; 0008 drops them everywhere (services move the generation
now), so nothing re-creates them here.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("credentials", "0005_endpoint_generation_triggers")]

    operations = [
        migrations.AddField(
            model_name="invitation",
            name="expires_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="partnerplatform",
            name="stale_updates",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
    ]
