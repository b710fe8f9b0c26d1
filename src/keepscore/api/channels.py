"""Channels: where leads come from."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from keepscore.api.auth import organization_of
from keepscore.api.schemas import ERRORS, ChannelIn, ChannelOut
from keepscore.leads.models import Channel
from keepscore.leads.settings_services import channel_save

router = Router(tags=["channels"])


@router.get("/channels", response={200: list[ChannelOut], **ERRORS}, summary="List channels")
def channels_list(request: HttpRequest) -> Any:
    return [ChannelOut.of(c) for c in Channel.objects.for_org(organization_of(request))]


@router.post("/channels", response={201: ChannelOut, **ERRORS}, summary="Add a channel")
def channels_create(request: HttpRequest, payload: ChannelIn) -> Any:
    channel = channel_save(
        organization=organization_of(request), name=payload.name, active=payload.active
    )
    return Status(201, ChannelOut.of(channel))
