"""The models every figure is computed from (leads, stage changes, deal outcomes and their
lines, activities, objections, later touches, the ladder) refuse writes made outside the
history recorder (``keepscore.history``), which keeps the projections (the summaries) in
step with them in the same transaction.

The recorder writes inside :func:`recording`; anything else that saves, creates, updates
or deletes such rows through the ORM gets :class:`UnrecordedWrite`. Reads are untouched.
Rows removed by a database cascade (an organization deleted with everything it holds)
are not refused: nothing of the organization is left to count.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import models

from keepscore.common.models import OrgManager, OrgOwned, OrgQuerySet

_M = TypeVar("_M", bound=models.Model)
_recording: ContextVar[bool] = ContextVar("keepscore_recording", default=False)


class UnrecordedWrite(RuntimeError):
    """A write to a history model that did not go through ``keepscore.history``."""


@contextmanager
def recording() -> Iterator[None]:
    """Where the recorder (and only it) writes history rows."""
    token = _recording.set(True)
    try:
        yield
    finally:
        _recording.reset(token)


def is_recording() -> bool:
    return _recording.get()


def _refuse(model: type[models.Model], what: str) -> None:
    if not _recording.get():
        raise UnrecordedWrite(
            f"{model.__name__} rows are history: {what} them through keepscore.history, "
            "which keeps the summaries in step"
        )


class RecordedQuerySet(OrgQuerySet[_M]):
    """Bulk writes are the recorder's alone."""

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:
        _refuse(self.model, "create")
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Any, *args: Any, **kwargs: Any) -> Any:
        _refuse(self.model, "update")
        return super().bulk_update(objs, *args, **kwargs)

    def update(self, **kwargs: Any) -> int:
        _refuse(self.model, "update")
        return super().update(**kwargs)

    def delete(self) -> Any:
        _refuse(self.model, "delete")
        return super().delete()

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        _refuse(self.model, "write")
        return super().update_or_create(*args, **kwargs)


class RecordedManager(OrgManager[_M]):
    def get_queryset(self) -> RecordedQuerySet[_M]:
        return RecordedQuerySet(self.model, using=self._db)


class Recorded(OrgOwned):
    """A history model: written only through ``keepscore.history``."""

    objects: Any = RecordedManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        _refuse(type(self), "save")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        _refuse(type(self), "delete")
        return super().delete(*args, **kwargs)
