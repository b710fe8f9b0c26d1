"""One way to make a channel (``leads.settings_services.channel_create``): the settings page,
a web form's own channel and an import's new sources all come through it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from keepscore.accounts.models import Organization
from keepscore.leads.models import Channel
from keepscore.leads.settings_services import channel_create, channel_save

pytestmark = pytest.mark.django_db


def test_a_key_is_taken_as_given_or_made_unique_from_the_name(org_a: Organization) -> None:
    given = channel_create(organization=org_a, name="Website form", key="web-form-x")
    assert (given.key, given.name, given.active) == ("web-form-x", "Website form", True)
    first = channel_create(organization=org_a, name="Trade Show 2024")
    second = channel_create(organization=org_a, name="Trade show 2024", active=False)
    assert (first.key, second.key, second.active) == ("trade-show-2024", "trade-show-2024-2", False)
    # the settings page makes new channels the same way, after refusing a name taken
    made = channel_save(organization=org_a, name="Podcast")
    assert made.key == "podcast"
    with pytest.raises(ValidationError) as taken:
        channel_save(organization=org_a, name="podcast")
    assert "name" in taken.value.message_dict


def test_what_does_not_fit_is_refused_by_field_and_nothing_is_made(org_a: Organization) -> None:
    before = Channel.objects.filter(organization=org_a).count()
    with pytest.raises(ValidationError) as long_name:
        channel_create(organization=org_a, name="x" * 101)
    assert list(long_name.value.message_dict) == ["name"]
    with pytest.raises(ValidationError) as bad_key:
        channel_create(organization=org_a, name="Ok", key="not a slug!")
    assert list(bad_key.value.message_dict) == ["key"]
    existing = Channel.objects.filter(organization=org_a).first()
    assert existing is not None
    with pytest.raises(ValidationError):
        channel_create(organization=org_a, name="Again", key=existing.key)  # keys are unique
    assert Channel.objects.filter(organization=org_a).count() == before
