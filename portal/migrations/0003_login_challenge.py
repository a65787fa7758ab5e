import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_role_groups"),
    ]

    operations = [
        migrations.CreateModel(
            name="LoginChallenge",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "citizen_id",
                    models.CharField(
                        max_length=12,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^\\d{12}$", "A citizen ID (CCCD) has exactly 12 digits."
                            )
                        ],
                        verbose_name="citizen ID (CCCD)",
                    ),
                ),
                ("code_hash", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField(verbose_name="created at")),
                ("expires_at", models.DateTimeField(verbose_name="expires at")),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="failed attempts")),
                ("used_at", models.DateTimeField(blank=True, null=True, verbose_name="used at")),
            ],
            options={
                "verbose_name": "login challenge",
                "verbose_name_plural": "login challenges",
                "indexes": [models.Index(fields=["citizen_id", "created_at"], name="challenge_citizen_recent")],
            },
        ),
    ]
