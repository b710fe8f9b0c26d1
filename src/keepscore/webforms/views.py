"""Web form pages: the settings pages (owners) and the public form a website embeds."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe
from django_ratelimit.decorators import ratelimit

from keepscore.accounts.models import Organization
from keepscore.common.forms import add_service_errors
from keepscore.common.headers import form_action_also, framed_by_any_site
from keepscore.common.views import org_view
from keepscore.webforms.forms import PublicForm, WebFormForm, rendered_stamp
from keepscore.webforms.models import WebForm
from keepscore.webforms.services import PageSource, StampUsed, webform_save, webform_submit

RATE = "5/m"

# --- settings (owners only) ------------------------------------------------------------


def _page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    return render(request, template, {"nav": "settings", "sub": "webforms", **context})


@org_view
@require_safe
def webform_list(request: HttpRequest, organization: Organization) -> HttpResponse:
    forms = WebForm.objects.for_org(organization).select_related("assign_to__user")
    return _page(request, "webforms/list.html", forms=forms)


def _save(request: HttpRequest, organization: Organization, webform: WebForm | None) -> Any:
    form = WebFormForm(request.POST, organization=organization)
    if form.is_valid():
        data = dict(form.cleaned_data)
        data["fields"] = data.pop("ask")
        try:
            return webform_save(organization=organization, webform=webform, **data)
        except ValidationError as error:
            add_service_errors(form, error)
    return form


@org_view
@require_http_methods(["GET", "HEAD", "POST"])
def webform_add(request: HttpRequest, organization: Organization) -> HttpResponse:
    if request.method != "POST":
        form = WebFormForm(
            organization=organization, initial={"ask": ["name", "email"], "active": True}
        )
        return _page(request, "webforms/form.html", form=form)
    saved = _save(request, organization, None)
    if isinstance(saved, WebForm):
        messages.success(request, f"Web form “{saved.name}” added: embed it on your website.")
        return redirect("webform_edit", org=organization.slug, form_pk=saved.pk)
    # shown again with its errors, status 200: the settings pages are boosted by htmx
    return _page(request, "webforms/form.html", form=saved)


def embed_urls(request: HttpRequest, webform: WebForm) -> dict[str, str]:
    """The public form's address and the embed script's, as the website needs them."""
    return {
        "form_url": request.build_absolute_uri(reverse("webform_public", args=[webform.key])),
        "script_url": request.build_absolute_uri(static("keepscore/embed.js")),
    }


@org_view
@require_http_methods(["GET", "HEAD", "POST"])
def webform_edit(request: HttpRequest, organization: Organization, form_pk: int) -> HttpResponse:
    webform = get_object_or_404(WebForm.objects.for_org(organization), pk=form_pk)
    if request.method != "POST":
        form: Any = WebFormForm(organization=organization, initial=WebFormForm.initial_for(webform))
    else:
        saved = _save(request, organization, webform)
        if isinstance(saved, WebForm):
            messages.success(request, f"Web form “{saved.name}” saved.")
            return redirect("webform_edit", org=organization.slug, form_pk=saved.pk)
        form = saved
        webform.refresh_from_db()
    return _page(
        request,
        "webforms/form.html",
        form=form,
        webform=webform,
        **embed_urls(request, webform),
    )


# --- the public form --------------------------------------------------------------------


def _public(key: str) -> WebForm:
    return get_object_or_404(WebForm.objects.select_related("organization"), key=key, active=True)


def _show(
    request: HttpRequest, webform: WebForm, form: PublicForm, status: int = 200, **extra: Any
) -> HttpResponse:
    stamp = form.next_stamp() if form.is_bound else rendered_stamp(webform)
    context = {"webform": webform, "form": form, "stamp": stamp, **extra}
    return render(request, "webforms/public.html", context, status=status)


def _thanks(request: HttpRequest, webform: WebForm) -> HttpResponse:
    return render(request, "webforms/thanks.html", {"webform": webform})


# The form is framed by other sites and posted cross-site, where Django's CSRF check cannot
# work (no session, and the CSRF cookie is SameSite=Lax and often blocked in third-party
# frames). There is nothing to forge: the POST does only what any visitor may do by filling
# in the form. Abuse is held back instead by a honeypot, a signed minimum fill time and a
# rate limit per client address (a shared database cache, so it holds across workers).
# Websites frame it: framed_by_any_site (CSP frame-ancestors) and xframe_options_exempt.
@csrf_exempt
@xframe_options_exempt
@framed_by_any_site
@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(key="ip", rate=RATE, method="POST", block=False)
def public_form(request: HttpRequest, key: str) -> HttpResponse:
    webform = _public(key)
    # the form, posted to itself, may be redirected to the business's thank-you page
    return form_action_also(request, _public_form(request, webform), webform.thank_you_url)


def _public_form(request: HttpRequest, webform: WebForm) -> HttpResponse:
    if request.method != "POST":
        source = PageSource.of(request.GET)
        if not source.page_url:
            source = PageSource.of({**asdict(source), "page_url": request.headers.get("Referer")})
        return _show(request, webform, PublicForm(webform=webform, initial=asdict(source)))
    form = PublicForm(request.POST, webform=webform)
    if getattr(request, "limited", False):
        return _show(request, webform, form, status=429, limited=True)
    valid = form.is_valid()
    if form.spam:
        return _thanks(request, webform)  # neutral: a bot learns nothing
    if valid and form.stamp is not None:
        try:
            webform_submit(
                webform=webform,
                data=form.lead_data(),
                source=PageSource.of(form.cleaned_data),
                stamp=form.stamp,
                ip=request.META.get("REMOTE_ADDR", ""),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except StampUsed:
            pass  # sent twice: the visitor sees what they saw the first time, nothing is made
        if not form.errors:
            if webform.thank_you_url and request.headers.get("Sec-Fetch-Dest") != "iframe":
                return redirect(webform.thank_you_url)
            # in an iframe: our thanks page takes the whole window to the thank-you page
            # (through embed.js, or a link), so the website's page does not open in the frame
            return redirect("webform_thanks", key=webform.key)
    return _show(request, webform, form, status=400)


@xframe_options_exempt
@framed_by_any_site
@require_safe
def thanks(request: HttpRequest, key: str) -> HttpResponse:
    return _thanks(request, _public(key))
