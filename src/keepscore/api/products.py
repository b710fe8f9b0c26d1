"""Products and services (price and cost) and the default margin. Reading is for every
member; changing them is for owners, like the "Products & margin" settings page."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Path, Router, Schema, Status

from keepscore.accounts.models import Organization
from keepscore.accounts.services import money_format_set
from keepscore.api.auth import organization_of
from keepscore.api.schemas import ERRORS, MAX_ID, ErrorOut, Money, Text, money
from keepscore.common.money import LOCALES, money_format
from keepscore.economics.models import Product
from keepscore.economics.products import default_margin
from keepscore.economics.services import default_margin_set, product_save

router = Router(tags=["products"])

WRITE_ERRORS: dict[int, Any] = {**ERRORS, 403: ErrorOut}
ProductId = Path(..., ge=1, le=MAX_ID)


class ProductOut(Schema):
    id: int
    name: str
    price: str = Field(description="The list price of one unit, e.g. '1200.50'.")
    cost: str | None = Field(description="What one unit costs; null: the default margin gives it.")
    active: bool = Field(description="Sold; a retired product is kept but not offered.")

    @staticmethod
    def of(product: Product) -> ProductOut:
        return ProductOut(
            id=product.pk,
            name=product.name,
            price=money(product.price) or "0.00",
            cost=money(product.cost),
            active=product.active,
        )


class ProductIn(Schema):
    name: Text
    price: Money
    cost: Money | None = Field(None, description="Left out or null: the default margin applies.")
    active: bool = True


class ProductPatch(Schema):
    """Only what is sent changes; ``active: false`` retires the product."""

    name: Text | None = None
    price: Money | None = None
    cost: Money | None = Field(None, description="null clears it (the default margin applies).")
    active: bool | None = None


class MoneySettingsOut(Schema):
    default_margin_pct: str | None = Field(
        description="The default margin in %, e.g. '35.00'; null when none is set."
    )
    currency: str = Field(
        description="The organization's currency, ISO 4217 (e.g. 'EUR'): what every amount "
        "is in. Amounts stay plain decimal strings ('1200.50')."
    )
    number_locale: str = Field(
        description="How pages, the PDF and the command line write amounts, e.g. 'de_DE' "
        "(1.234,50 €) or 'en_US' ($1,234.50)."
    )
    example: str = Field(description="1234.50 as people read it, e.g. '€1,234.50'.")

    @staticmethod
    def of(organization: Organization) -> MoneySettingsOut:
        return MoneySettingsOut(
            default_margin_pct=money(default_margin(organization)),
            currency=organization.currency,
            number_locale=organization.number_locale,
            example=money_format(Decimal("1234.50"), organization, decimals=2),
        )


class MoneySettingsIn(Schema):
    """Only what is sent changes."""

    default_margin_pct: Money | None = Field(
        None,
        description="-100 to 100; null clears it. A won deal without a cost, and a product "
        "without a cost, cost revenue x (1 - default margin).",
    )
    currency: str | None = Field(
        None, max_length=20, description="An ISO 4217 code (any case), e.g. 'USD'."
    )
    number_locale: str | None = Field(
        None,
        max_length=20,
        description="One of: " + ", ".join(LOCALES) + ".",
    )


@router.get("/products", response={200: list[ProductOut], **ERRORS}, summary="List products")
def products_list(request: HttpRequest) -> Any:
    return [ProductOut.of(p) for p in Product.objects.for_org(organization_of(request))]


@router.post("/products", response={201: ProductOut, **WRITE_ERRORS}, summary="Add a product")
def products_create(request: HttpRequest, payload: ProductIn) -> Any:
    product = product_save(
        organization=organization_of(request),
        name=payload.name,
        price=payload.price,
        cost=payload.cost,
        active=payload.active,
    )
    return Status(201, ProductOut.of(product))


@router.patch(
    "/products/{product_id}",
    response={200: ProductOut, **WRITE_ERRORS},
    summary="Change or retire a product",
)
def products_update(
    request: HttpRequest, payload: ProductPatch, product_id: int = ProductId
) -> Any:
    organization = organization_of(request)
    product = get_object_or_404(Product.objects.for_org(organization), pk=product_id)
    sent = payload.model_dump(exclude_unset=True)
    fields = {
        "name": product.name,
        "price": product.price,
        "cost": product.cost,
        "active": product.active,
        **{k: v for k, v in sent.items() if v is not None or k == "cost"},
    }
    saved = product_save(organization=organization, product=product, **fields)
    return ProductOut.of(saved)


@router.get(
    "/money-settings",
    response={200: MoneySettingsOut, **ERRORS},
    summary="The default margin, the currency and the number format",
)
def money_settings_read(request: HttpRequest) -> Any:
    return MoneySettingsOut.of(organization_of(request))


@router.put(
    "/money-settings",
    response={200: MoneySettingsOut, **WRITE_ERRORS},
    summary="Set the default margin, the currency or the number format",
)
def money_settings_set(request: HttpRequest, payload: MoneySettingsIn) -> Any:
    """Sets what is sent: ``default_margin_pct`` (null clears it), ``currency``,
    ``number_locale``. A bad one is a 422 naming its field, and nothing changes."""
    organization = organization_of(request)
    sent = payload.model_dump(exclude_unset=True)
    with transaction.atomic():
        if "currency" in sent or "number_locale" in sent:
            money_format_set(
                organization=organization,
                currency=sent.get("currency") or organization.currency,
                number_locale=sent.get("number_locale") or organization.number_locale,
            )
        if "default_margin_pct" in sent:
            default_margin_set(organization=organization, pct=payload.default_margin_pct)
    return MoneySettingsOut.of(organization)
