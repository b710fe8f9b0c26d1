"""Money: marketing spend per channel and campaign per month, the products or services a
business sells (price and cost), its default margin, the lines of a won deal, and its cash
position per month.

Months are stored as the first day of the month (``month`` columns are ``DateField``).
Amounts are decimals with two places, in the organization's one currency.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from keepscore.common.models import OrgOwned, organization_key
from keepscore.common.recorded import Recorded

MONEY_DIGITS = 14
MONEY_PLACES = 2


def money_field(**kwargs: object) -> models.DecimalField:
    return models.DecimalField(
        max_digits=MONEY_DIGITS,
        decimal_places=MONEY_PLACES,
        validators=[MinValueValidator(0)],
        **kwargs,  # type: ignore[arg-type]
    )


class Spend(OrgOwned):
    """Money put into a channel (optionally one of its campaigns) in a month. Setting the
    spend of a month again replaces it; ``campaign`` "" is the channel's spend outside any
    named campaign."""

    organization = organization_key(db_index=False)  # spend_unique starts with it
    month = models.DateField(help_text="The first day of the month.")
    channel = models.ForeignKey("leads.Channel", on_delete=models.RESTRICT, related_name="spend")
    campaign = models.CharField(max_length=200, blank=True)
    amount = money_field()
    note = models.CharField(max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month", "channel__name", "campaign"]
        verbose_name_plural = "spend"
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month", "channel", "campaign"], name="spend_unique"
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="spend_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.channel_id} {self.campaign}: {self.amount}"


class Product(OrgOwned):
    """A product or service the business sells, with its list price and its cost."""

    name = models.CharField(max_length=200)
    price = money_field()
    cost = money_field(null=True, blank=True, help_text="Empty: the default margin applies.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="product_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class MoneySettings(models.Model):
    """The organization's default margin: the cost of a won deal entered without one (and of
    a product without a cost) is its revenue * (1 - default margin)."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    default_margin_pct = models.DecimalField(
        "default margin (%)",
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(-100), MaxValueValidator(100)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"default margin {self.default_margin_pct}%"


class DealLine(Recorded):
    """One line of a won deal: a product, how many, at what price and cost. Written with the
    deal outcome, in its transaction, and like it never changed afterwards."""

    organization = organization_key(db_index=False)
    outcome = models.ForeignKey("leads.DealOutcome", on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.RESTRICT, related_name="lines")
    quantity = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit_price = money_field()
    unit_cost = money_field()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_id}"

    @property
    def revenue(self) -> Decimal:
        return self.quantity * self.unit_price

    @property
    def cost(self) -> Decimal:
        return self.quantity * self.unit_cost


class CashPosition(OrgOwned):
    """The business's cash in a month, entered when it wants the cash questions answered:
    cash on hand and the monthly fixed costs (what it spends whatever it sells). The latest
    month's entry is the current position; earlier months are its history."""

    organization = organization_key(db_index=False)  # cash_month_unique starts with it
    month = models.DateField(help_text="The first day of the month.")
    cash_on_hand = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    monthly_fixed_costs = money_field()
    note = models.CharField(max_length=300, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "month"], name="cash_month_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.cash_on_hand}"
