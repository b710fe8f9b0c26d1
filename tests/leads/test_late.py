"""The late stages, by hand: where a lead waiting STALL_DAYS is stalled (focus, board, list,
Today read them from ``keepscore.leads.late``)."""

from __future__ import annotations

from keepscore.leads.late import late_stage_indexes, qualified_index
from keepscore.leads.models import Stage, StageKind

OPEN, WON, LOST = StageKind.OPEN, StageKind.WON, StageKind.LOST


def ladder(*stages: tuple[str, str, bool]) -> list[Stage]:
    return [Stage(key=key, kind=kind, requires_qualification=gated) for key, kind, gated in stages]


def test_from_the_first_gated_open_stage_on() -> None:
    stages = ladder(
        ("suspect", OPEN, False),
        ("lead", OPEN, False),
        ("demo", OPEN, True),  # gated: the qualified stage, whatever its key
        ("qualified", OPEN, True),
        ("proposal", OPEN, False),
        ("customer", WON, True),
        ("lost", LOST, False),
    )
    assert qualified_index(stages) == 2
    assert late_stage_indexes(stages) == [2, 3, 4]


def test_else_the_stage_keyed_qualified() -> None:
    stages = ladder(
        ("lead", OPEN, False),
        ("qualified", OPEN, False),
        ("proposal", OPEN, False),
        ("customer", WON, False),
    )
    assert qualified_index(stages) == 1
    assert late_stage_indexes(stages) == [1, 2]


def test_else_the_last_two_open_stages() -> None:
    stages = ladder(
        ("a", OPEN, False),
        ("b", OPEN, False),
        ("c", OPEN, False),
        ("won", WON, True),  # gated but not open: not the qualified stage
        ("d", OPEN, False),
    )
    assert qualified_index(stages) is None
    assert late_stage_indexes(stages) == [2, 4]
    assert late_stage_indexes(ladder(("won", WON, False))) == []
