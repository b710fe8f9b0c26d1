"""The organization's stage ladder."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from keepscore.api.auth import organization_of
from keepscore.api.schemas import ERRORS, StageOut
from keepscore.leads.models import Stage

router = Router(tags=["stages"])


@router.get("/stages", response={200: list[StageOut], **ERRORS}, summary="The stage ladder")
def stages_list(request: HttpRequest) -> Any:
    return [StageOut.of(stage) for stage in Stage.objects.for_org(organization_of(request))]
