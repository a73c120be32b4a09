"""Create the platform's default local party from OCPI_COUNTRY_CODE, OCPI_PARTY_ID,
OCPI_BUSINESS_NAME and OCPI_ROLE, once, when no local party exists yet. Operators edit or
add parties in the admin afterwards."""

from django.conf import settings
from django.db import migrations


def create_default_party(apps, schema_editor):
    LocalParty = apps.get_model("credentials", "LocalParty")
    if not LocalParty.objects.exists():
        LocalParty.objects.create(
            country_code=settings.OCPI_COUNTRY_CODE,
            party_id=settings.OCPI_PARTY_ID,
            role=settings.OCPI_ROLE,
            business_name=settings.OCPI_BUSINESS_NAME,
        )


class Migration(migrations.Migration):
    dependencies = [("credentials", "0001_initial")]
    operations = [migrations.RunPython(create_default_party, migrations.RunPython.noop)]
