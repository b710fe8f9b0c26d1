"""The base every business-data model stands on: it belongs to one organization."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models

if TYPE_CHECKING:
    from keepscore.accounts.models import Organization

_M = TypeVar("_M", bound=models.Model)


class OrgQuerySet(models.QuerySet[_M]):
    def for_org(self, organization: Organization) -> OrgQuerySet[_M]:
        """The one entry point for business data: only this organization's rows."""
        return self.filter(organization=organization)


class OrgManager(models.Manager[_M]):
    def get_queryset(self) -> OrgQuerySet[_M]:
        return OrgQuerySet(self.model, using=self._db)

    def for_org(self, organization: Organization) -> OrgQuerySet[_M]:
        return self.get_queryset().for_org(organization)


def organization_key(*, db_index: bool = True) -> Any:
    """The organization foreign key; ``db_index=False`` where an index starts with it anyway."""
    return models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+", db_index=db_index
    )


class OrgOwned(models.Model):
    """Every table that holds business data carries its organization."""

    organization = organization_key()
    created_at = models.DateTimeField(auto_now_add=True)

    objects: Any = OrgManager()

    class Meta:
        abstract = True
