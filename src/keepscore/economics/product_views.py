"""The "Products & margin" settings page (owners only): the products and services sold,
with their price and cost, and the default margin. Views parse a form and call a service."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from keepscore.accounts import services as accounts
from keepscore.accounts.models import Organization
from keepscore.common.money import money_format
from keepscore.common.views import org_view
from keepscore.economics import services
from keepscore.economics.models import Product
from keepscore.economics.product_forms import MarginForm, MoneyFormatForm, ProductForm
from keepscore.economics.products import default_margin
from keepscore.leads.settings_views import save_with

INVALID = 422


def _products(organization: Organization) -> list[Product]:
    """The products, sold ones first, each with ``deals`` (won deals with a line of it) and
    ``margin_pct`` ((price - cost) / price, in %; None without a cost or a price)."""
    rows = list(
        Product.objects.for_org(organization)
        .annotate(deals=Count("lines__outcome", distinct=True))
        .order_by("-active", "name", "id")
    )
    for p in rows:
        p.margin_pct = (
            (p.price - p.cost) / p.price * 100 if p.cost is not None and p.price else None
        )
    return rows


def _page(
    request: HttpRequest,
    organization: Organization,
    *,
    form: ProductForm | None = None,
    margin_form: MarginForm | None = None,
    money_form: MoneyFormatForm | None = None,
    status: int = 200,
) -> HttpResponse:
    margin = default_margin(organization)
    context = {
        "nav": "settings",
        "sub": "products",
        "rows": _products(organization),
        "form": form or ProductForm(),
        "margin_form": margin_form or MarginForm(initial={"default_margin_pct": margin}),
        "margin": margin,
        "money_form": money_form
        or MoneyFormatForm(
            initial={
                "currency": organization.currency,
                "number_locale": organization.number_locale,
            }
        ),
        "money_example": money_format(Decimal("1234.50"), organization, decimals=2),
    }
    return render(request, "settings/products.html", context, status=status)


@org_view
def products(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The list, with the add form (POST adds a product) and the default margin."""
    if request.method != "POST":
        return _page(request, organization)
    form = ProductForm(request.POST)
    saved = save_with(request, form, partial(services.product_save, organization=organization))
    if saved is not None:
        messages.success(request, f"Added the product “{saved}”.")
        return redirect("settings_products", org=organization.slug)
    return _page(request, organization, form=form, status=INVALID)


@org_view
def product_edit(request: HttpRequest, organization: Organization, product_pk: int) -> HttpResponse:
    product = get_object_or_404(Product.objects.for_org(organization), pk=product_pk)
    title = product.name
    if request.method != "POST":
        initial = {name: getattr(product, name) for name in ProductForm.base_fields}
        form = ProductForm(initial=initial)
    else:
        form = ProductForm(request.POST)
        save = partial(services.product_save, organization=organization, product=product)
        saved = save_with(request, form, save)
        if saved is not None:
            messages.success(request, f"Saved the product “{saved}”.")
            return redirect("settings_products", org=organization.slug)
    context = {"nav": "settings", "sub": "products", "form": form, "title": title}
    status = INVALID if form.is_bound else 200
    return render(request, "settings/products_edit.html", context, status=status)


@org_view
@require_POST
def product_retire(
    request: HttpRequest, organization: Organization, product_pk: int
) -> HttpResponse:
    product = get_object_or_404(Product.objects.for_org(organization), pk=product_pk)
    services.product_retire(product=product)
    messages.success(request, f"“{product.name}” retired: no longer offered for new deals.")
    return redirect("settings_products", org=organization.slug)


@org_view
@require_POST
def margin_set(request: HttpRequest, organization: Organization) -> HttpResponse:
    form = MarginForm(request.POST)
    saved = save_with(
        request,
        form,
        lambda default_margin_pct: services.default_margin_set(
            organization=organization, pct=default_margin_pct
        ),
    )
    if saved is not None:
        pct = saved.default_margin_pct
        messages.success(
            request, "Default margin cleared." if pct is None else f"Default margin set: {pct}%."
        )
        return redirect("settings_products", org=organization.slug)
    return _page(request, organization, margin_form=form, status=INVALID)


@org_view
@require_POST
def money_format_set(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The currency and number format (owners); a bad one is shown on the form (422)."""
    form = MoneyFormatForm(request.POST)
    saved = save_with(
        request,
        form,
        lambda currency, number_locale: accounts.money_format_set(
            organization=organization, currency=currency, number_locale=number_locale
        ),
    )
    if saved is not None:
        shown = money_format(Decimal("1234.50"), saved, decimals=2)
        messages.success(request, f"Currency set: {saved.currency}, written {shown}.")
        return redirect("settings_products", org=organization.slug)
    return _page(request, organization, money_form=form, status=INVALID)
