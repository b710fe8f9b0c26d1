"""Projections: what is kept from the history (the funnel summaries, …), told of every change
by the recorder, in the writer's transaction.

A projection subclasses :class:`Projection`, overrides the hooks for the rows it reads, and
registers itself from its app's ``ready()`` (:func:`register`). The recorder calls the hooks
in registration order; a hook that raises rolls the whole write back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet

    from keepscore.accounts.models import Organization
    from keepscore.activities.models import Activity, Objection
    from keepscore.leads.models import Lead, Touch

    #: leads given to a hook: their ids, or a query of them (bulk writes)
    LeadSet = Sequence[int] | QuerySet[Lead]


_write_memo: ContextVar[dict[Any, Any] | None] = ContextVar("keepscore_write_memo", default=None)


@contextmanager
def one_write() -> Iterator[None]:
    """One write of the recorder (its hooks before and after it): what a projection worked
    out during it (:func:`write_memo`) is kept for the rest of it, and no longer."""
    if _write_memo.get() is not None:  # a write inside a write: the outer one's
        yield
        return
    token = _write_memo.set({})
    try:
        yield
    finally:
        _write_memo.reset(token)


def write_memo() -> dict[Any, Any]:
    """The running write's memo (see :func:`one_write`); outside a write, a fresh one that
    is not kept."""
    memo = _write_memo.get()
    return {} if memo is None else memo


@dataclass(frozen=True)
class Difference:
    """One thing a projection holds that its reference computation does not agree with."""

    projection: str
    where: str  # e.g. "funnel 2024-03, by channel Referral" or "CohortCount 2024-03 …"
    stored: Any
    expected: Any

    def __str__(self) -> str:
        return (
            f"{self.projection}: {self.where}: stored {self.stored!r}, expected {self.expected!r}"
        )


@dataclass(frozen=True)
class Written:
    """What a bulk block wrote, all of it stored before the projections hear of it (None:
    nothing of that kind)."""

    leads: LeadSet | None  # its new leads and the existing ones it extended
    objections: QuerySet[Objection] | None  # its new objections of leads not among ``leads``
    activities: QuerySet[Activity] | None  # its new activities


class Projection:
    """A store of figures kept from the history. Every hook runs inside the writer's
    transaction; the defaults do nothing (a projection overrides what it reads)."""

    #: short name, for the ``keepscore summaries`` command and messages
    name: str = ""
    #: the Lead fields the projection reads: saving any of them re-counts the lead
    lead_fields: frozenset[str] = frozenset()
    #: the tables it keeps (vacuumed with the history's after a large bulk write)
    tables: Sequence[type[Model]] = ()

    def leads_forget(self, organization: Organization, leads: LeadSet) -> None:
        """*Before* the history of these leads changes: take their contributions away."""

    def leads_count(self, organization: Organization, leads: LeadSet) -> None:
        """*After* these leads were written (new, or changed after :meth:`leads_forget`)."""

    def activities_add(
        self, organization: Organization, activities: Iterable[Activity] | QuerySet[Activity]
    ) -> None:
        """New activities: instances, or a query of them (bulk writes)."""

    def activities_forget(self, organization: Organization, activities: QuerySet[Activity]) -> None:
        """*Before* these activities change: take them away (added back with
        :meth:`activities_add` after the change)."""

    def objections_add(self, organization: Organization, objections: Iterable[Objection]) -> None:
        """New objections."""

    def touches_add(self, organization: Organization, touches: Iterable[Touch]) -> None:
        """New later touches of leads (their original source never changes)."""

    def block_count(self, organization: Organization, written: Written) -> None:
        """After a bulk block (:func:`keepscore.history.bulk.bulk`): its rows, all stored.
        By default the hooks above in turn; a projection that builds itself from every
        stored row when it was never built must not add the block's rows again after that."""
        if written.leads is not None:
            self.leads_count(organization, written.leads)
        if written.objections is not None:
            self.objections_add(organization, written.objections)
        if written.activities is not None:
            self.activities_add(organization, written.activities)

    def ladder_changed(self, organization: Organization) -> None:
        """After the ladder was edited (stages added, moved, deleted or changed)."""

    def rebuild(self, organization: Organization) -> None:
        """Compute everything again from the stored history."""

    def changed(self, organization: Organization) -> None:
        """After any of the hooks above: the organization's history changed (for a
        projection that keeps no figures, only that something changed)."""

    def verify(self, organization: Organization) -> list[Difference]:
        """What the projection holds that disagrees with its reference computation."""
        return []


_registry: list[Projection] = []


def register(projection: Projection) -> Projection:
    """Add a projection (once: registering the same name again replaces it)."""
    if not projection.name:
        raise ValueError("a projection needs a name")
    for i, known in enumerate(_registry):
        if known.name == projection.name:
            _registry[i] = projection
            return projection
    _registry.append(projection)
    return projection


def registered() -> Sequence[Projection]:
    return tuple(_registry)


def lead_fields() -> frozenset[str]:
    """The Lead fields any projection reads."""
    out: frozenset[str] = frozenset()
    for projection in _registry:
        out |= projection.lead_fields
    return out
