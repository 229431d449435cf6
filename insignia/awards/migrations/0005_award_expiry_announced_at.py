"""``Award.expiry_announced_at``: the expiry sweep emits ``award.expired`` once per award."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("awards", "0004_earner_visibility_engagement"),
    ]

    operations = [
        migrations.AddField(
            model_name="award",
            name="expiry_announced_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="award",
            index=models.Index(
                condition=models.Q(("expires_on__isnull", False), ("expiry_announced_at__isnull", True)),
                fields=["expires_on"],
                name="award_expiry_unannounced",
            ),
        ),
    ]
