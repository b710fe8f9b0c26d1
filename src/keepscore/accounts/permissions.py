"""Who may do what: one map of the roles every web page and API operation needs.

``org_view`` (the web) and the API's token check read it, so a page or operation cannot
forget its rule: one the map does not name fails loudly (``ImproperlyConfigured``), and
``tests/common/test_permissions.py`` walks every URL and operation with every role (owner,
marketing, sales, a member of another organization, anonymous, a revoked token) against
it. A member refused for lack of a role gets 403 with :func:`refusal`'s words; someone who
is not a member of the organization gets 404 (nothing tells them it exists).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from django.core.exceptions import ImproperlyConfigured

from keepscore.accounts.models import Membership


class Need(StrEnum):
    """What a request needs, from the least to the most."""

    PUBLIC = "public"  # anyone, signed in or not
    USER = "user"  # a signed-in user (no organization in the path)
    MEMBER = "member"  # any member of the organization
    MARKETING = "marketing"  # owners and marketing members
    OWNER = "owner"  # owners


PUBLIC, USER, MEMBER = Need.PUBLIC, Need.USER, Need.MEMBER
MARKETING, OWNER = Need.MARKETING, Need.OWNER
#: a rule: one need for every method, or one per method ("GET" covers HEAD; "*" the rest)
Rule = Need | Mapping[str, Need]
#: pages every member reads and owners and marketing members change
READ_MEMBER_CHANGE_MARKETING: Rule = {"GET": MEMBER, "*": MARKETING}

#: web pages by view name (namespaced where the URL conf gives a namespace)
WEB: dict[str, Rule] = {
    # no organization in the path
    "home": USER,
    "login": PUBLIC,
    "logout": USER,
    # an invitation's link and the password reset by email: the link is the key
    "invitation_accept": PUBLIC,
    "password_reset": PUBLIC,
    "password_reset_done": PUBLIC,
    "password_reset_confirm": PUBLIC,
    "password_reset_complete": PUBLIC,
    "webform_public": PUBLIC,  # the public web form other sites embed
    "webform_thanks": PUBLIC,
    "api:openapi-json": PUBLIC,  # the API's description; every operation needs a token
    "api:openapi-view": PUBLIC,
    # the day's work: every member
    "dashboard": MEMBER,
    "today": MEMBER,
    "lead_list": MEMBER,
    "lead_add": MEMBER,
    "lead_detail": MEMBER,
    "lead_edit": MEMBER,
    "lead_move": MEMBER,
    "stage_change_undo": MEMBER,
    "lead_qualify": MEMBER,
    "activity_log": MEMBER,
    "lead_quick_log": MEMBER,
    "objection_add": MEMBER,
    "lead_board": MEMBER,
    "lead_board_move": MEMBER,
    "followup_add": MEMBER,
    "followup_done": MEMBER,
    "followup_reschedule": MEMBER,
    "token_list": MEMBER,  # a member's own API tokens (owners see everyone's)
    "token_revoke": MEMBER,
    "notices": MEMBER,  # a member's own notices
    # the reports: every member reads them
    "funnel": MEMBER,
    "activity_report": MEMBER,
    "jobs_report": MEMBER,
    "objections_report": MEMBER,
    "economics": MEMBER,
    "economics_csv": MEMBER,
    "scorecard": MEMBER,
    "scorecard_month": MEMBER,
    "scorecard_export": MEMBER,
    "scorecard_pdf": MEMBER,  # any member may ask the worker for the PDF they may download
    "focus": MEMBER,
    "focus_card": MEMBER,
    "spend_export": MEMBER,
    "export_leads": MEMBER,  # the lead list's own leads, as a file
    # the scorecard's inputs, spend and cash: owners and marketing change them
    "scorecard_metrics": READ_MEMBER_CHANGE_MARKETING,
    "scorecard_metric_edit": READ_MEMBER_CHANGE_MARKETING,
    "scorecard_values": READ_MEMBER_CHANGE_MARKETING,
    "scorecard_targets": READ_MEMBER_CHANGE_MARKETING,
    "scorecard_targets_csv": MEMBER,  # the targets file: every member reads the targets
    "scorecard_targets_upload": READ_MEMBER_CHANGE_MARKETING,
    "plan": READ_MEMBER_CHANGE_MARKETING,
    "plan_accept": MARKETING,
    "scorecard_review": READ_MEMBER_CHANGE_MARKETING,
    "scorecard_review_meeting": OWNER,  # the meeting's day, time and attendees
    "spend": READ_MEMBER_CHANGE_MARKETING,
    "spend_import": READ_MEMBER_CHANGE_MARKETING,
    "cash": READ_MEMBER_CHANGE_MARKETING,
    # imports: owners and marketing
    "import_index": MARKETING,
    "import_job": MARKETING,
    "import_progress": MARKETING,
    "import_report": MARKETING,
    # the organization's set-up, its members and its data as a whole: owners
    "settings_ladder": OWNER,
    "settings_stage_add": OWNER,
    "settings_stage_edit": OWNER,
    "settings_stage_shift": OWNER,
    "settings_stage_delete": OWNER,
    "settings_qualification": OWNER,
    "settings_criterion_edit": OWNER,
    "settings_lost_reasons": OWNER,
    "settings_lost_reason_edit": OWNER,
    "settings_channels": OWNER,
    "settings_channel_edit": OWNER,
    "settings_products": OWNER,
    "settings_margin": OWNER,
    "settings_currency": OWNER,
    "settings_product_edit": OWNER,
    "settings_product_retire": OWNER,
    "webform_list": OWNER,
    "webform_add": OWNER,
    "webform_edit": OWNER,
    "member_list": OWNER,
    "member_add": OWNER,
    "member_edit": OWNER,
    "member_remove": OWNER,
    "member_unlock": OWNER,
    "member_invite": OWNER,
    "invitation_resend": OWNER,
    "invitation_revoke": OWNER,
    "audit_log": OWNER,
    "audit_csv": OWNER,
    "export_index": OWNER,
    "export_download": OWNER,
    "lead_person_export": OWNER,  # everything held about a lead's person, as JSON
    "lead_person_erase": OWNER,
}

#: API operations, "METHOD /path" as the OpenAPI document names them (below /api/v1); every
#: one needs a valid token first
API: dict[str, Need] = {
    "GET /leads": MEMBER,
    "POST /leads": MEMBER,
    "GET /leads/{lead_id}": MEMBER,
    "PATCH /leads/{lead_id}": MEMBER,
    "POST /leads/{lead_id}/moves": MEMBER,
    "GET /leads/{lead_id}/stage-changes": MEMBER,
    "POST /leads/{lead_id}/stage-changes/{change_id}/undo": MEMBER,
    "GET /leads/{lead_id}/activities": MEMBER,
    "POST /leads/{lead_id}/activities": MEMBER,
    "GET /leads/{lead_id}/objections": MEMBER,
    "POST /leads/{lead_id}/objections": MEMBER,
    "GET /leads/{lead_id}/outcomes": MEMBER,
    "POST /leads/{lead_id}/tasks": MEMBER,
    "GET /tasks": MEMBER,
    "PATCH /tasks/{task_id}": MEMBER,
    "GET /activities": MEMBER,
    "GET /outcomes": MEMBER,
    "GET /stages": MEMBER,
    "GET /channels": MEMBER,
    "POST /channels": OWNER,
    "GET /products": MEMBER,
    "POST /products": OWNER,
    "PATCH /products/{product_id}": OWNER,
    "GET /money-settings": MEMBER,
    "PUT /money-settings": OWNER,
    "GET /import-jobs": MARKETING,
    "POST /import-jobs": MARKETING,
    "GET /import-jobs/{job_id}": MARKETING,
    "GET /metrics": MEMBER,
    "POST /metrics": MARKETING,
    "GET /metrics/{key}/values/{month}": MEMBER,
    "PUT /metrics/{key}/values/{month}": MARKETING,
    "GET /goals/{key}/{year}": MEMBER,
    "PUT /goals/{key}/{year}": MARKETING,
    "DELETE /goals/{key}/{year}": MARKETING,
    "GET /targets/{key}/{month}": MEMBER,
    "PUT /targets/{key}/{month}": MARKETING,
    "DELETE /targets/{key}/{month}": MARKETING,
    "GET /plan/{year}": MEMBER,
    "PUT /plan/{year}": MARKETING,
    "POST /plan/{year}/accept": MARKETING,
    "GET /reviews/{month}": MEMBER,
    "POST /reviews/{month}": MARKETING,
    "GET /review-meeting": MEMBER,
    "PUT /review-meeting": OWNER,
    "GET /spend": MEMBER,
    "PUT /spend": MARKETING,
    "DELETE /spend/{spend_id}": MARKETING,
    "GET /cash": MEMBER,
    "PUT /cash": MARKETING,
    "GET /scorecard/current": MEMBER,
    "GET /scorecard/{month}": MEMBER,
    "GET /funnel": MEMBER,
    "GET /funnel/cycle": MEMBER,
    "GET /activity": MEMBER,
    "GET /jobs": MEMBER,
    "GET /objections/report": MEMBER,
    "GET /economics": MEMBER,
    "GET /focus": MEMBER,
    "GET /audit": OWNER,
    "GET /people/export": OWNER,
    "POST /people/erase": OWNER,
    "POST /invitations": OWNER,
    "GET /notices": MEMBER,  # the token's member's own notices
    "PUT /notices": MEMBER,
}

_REFUSALS = {
    OWNER: "Only owners can do this: ask an owner of {organization}.",
    MARKETING: "Only owners and marketing members can do this: ask an owner of {organization}.",
}


def _of(rule: Rule, method: str) -> Need:
    if isinstance(rule, Need):
        return rule
    method = "GET" if method == "HEAD" else method
    return rule.get(method) or rule["*"]


def web_need(view_name: str, method: str) -> Need:
    """What the web page named ``view_name`` needs for ``method``."""
    try:
        return _of(WEB[view_name], method)
    except KeyError:
        raise ImproperlyConfigured(
            f"the page {view_name!r} has no rule in keepscore.accounts.permissions.WEB"
        ) from None


def api_need(method: str, path: str) -> Need:
    """What the API operation ``method path`` (its OpenAPI path, below /api/v1) needs."""
    try:
        return API[f"{method} {path}"]
    except KeyError:
        raise ImproperlyConfigured(
            f"the operation {method} {path} has no rule in keepscore.accounts.permissions.API"
        ) from None


def allows(membership: Membership, need: Need) -> bool:
    """Whether the member has what ``need`` asks (PUBLIC, USER and MEMBER: any member)."""
    if need is OWNER:
        return membership.is_owner
    if need is MARKETING:
        return membership.is_owner or membership.is_marketing
    return True


def refusal(need: Need, membership: Membership) -> str:
    """What a member refused for lack of a role is told."""
    return _REFUSALS[need].format(organization=membership.organization.name)
