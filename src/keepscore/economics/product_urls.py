"""The "Products & margin" page and the currency: ``o/<slug:org>/settings/products/``."""

from django.urls import path

from keepscore.economics import product_views as views

urlpatterns = [
    path("", views.products, name="settings_products"),
    path("margin/", views.margin_set, name="settings_margin"),
    path("currency/", views.money_format_set, name="settings_currency"),
    path("<int:product_pk>/", views.product_edit, name="settings_product_edit"),
    path("<int:product_pk>/retire/", views.product_retire, name="settings_product_retire"),
]
