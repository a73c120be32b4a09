"""One owner per party (credentials.models.PartyClaim), and the claims of today's parties.

Backfill, deterministically: our local parties first (a partner never holds one of ours),
then the roles of registered and pending partners, the partner registered first (then the
lowest id) winning a party named by several. Each conflict is logged as a warning for the
operator, who decides which platform keeps the party; the loser's roles stay as they were
(only new writes are refused). A new table: no generation trigger (the callers cache
reads partners, roles and our parties, not claims), and no existing table is rebuilt.
"""

import logging

import django.db.models.deletion
import django.db.models.functions.text
from django.db import migrations, models
from django.db.models import F

logger = logging.getLogger("credentials.migrations")


def backfill_claims(apps, schema_editor):
    LocalParty = apps.get_model("credentials", "LocalParty")
    PartnerPlatform = apps.get_model("credentials", "PartnerPlatform")
    PartnerRole = apps.get_model("credentials", "PartnerRole")
    PartyClaim = apps.get_model("credentials", "PartyClaim")
    owners = {}  # (COUNTRY, PARTY) -> partner id, None for ours
    for country_code, party_id in LocalParty.objects.order_by("pk").values_list(
        "country_code", "party_id"
    ):
        owners.setdefault((country_code.upper(), party_id.upper()), None)
    partners = PartnerPlatform.objects.filter(status__in=["REGISTERED", "PENDING"]).order_by(
        F("registered_at").asc(nulls_last=True), "pk"
    )
    for partner in partners:
        roles = PartnerRole.objects.filter(partner=partner).order_by("pk")
        for country_code, party_id in roles.values_list("country_code", "party_id"):
            party = (country_code.upper(), party_id.upper())
            owner = owners.setdefault(party, partner.pk)
            if owner != partner.pk:
                logger.warning(
                    "Party %s*%s of partner %s (%s) is already held by %s: not claimed for it",
                    *party,
                    partner.pk,
                    partner.name,
                    "us" if owner is None else f"partner {owner}",
                )
    PartyClaim.objects.bulk_create(
        PartyClaim(country_code=country_code, party_id=party_id, partner_id=owner)
        for (country_code, party_id), owner in owners.items()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("credentials", "0006_invitation_expires_at_partner_stale_updates"),
    ]

    operations = [
        migrations.CreateModel(
            name="PartyClaim",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("country_code", models.CharField(max_length=2)),
                ("party_id", models.CharField(max_length=3)),
                ("claimed_at", models.DateTimeField(auto_now_add=True)),
                ("partner", models.ForeignKey(blank=True, help_text="Empty: one of our local parties.", null=True, on_delete=django.db.models.deletion.CASCADE, related_name="claims", to="credentials.partnerplatform")),
            ],
            options={
                "ordering": ["country_code", "party_id"],
                "constraints": [models.UniqueConstraint(django.db.models.functions.text.Upper("country_code"), django.db.models.functions.text.Upper("party_id"), name="one_owner_per_party")],
            },
        ),
        migrations.RunPython(backfill_claims, migrations.RunPython.noop),
    ]
