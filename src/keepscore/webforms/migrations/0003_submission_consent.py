"""Consent becomes a box to tick (``keepscore.webforms.forms.PublicForm``): a submission keeps
the version of the consent text (a short SHA-256 of it) and when the box was ticked.

Submissions made before kept the text they showed as plain text: they get its version, and
no ``consented_at`` (nobody ticked a box)."""

import hashlib

from django.db import migrations, models


def versions(apps, schema_editor):
    Submission = apps.get_model("webforms", "WebFormSubmission")
    for pk, text in Submission.objects.exclude(consent_text="").values_list("pk", "consent_text"):
        version = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        Submission.objects.filter(pk=pk).update(consent_version=version)


class Migration(migrations.Migration):
    dependencies = [
        ("webforms", "0002_used_stamp"),
    ]

    operations = [
        migrations.AddField(
            model_name="webformsubmission",
            name="consent_version",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.AddField(
            model_name="webformsubmission",
            name="consented_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(versions, migrations.RunPython.noop),
    ]
