"""The demo's people: its members, their roles and logins, and the names its leads get."""

from __future__ import annotations

from typing import Any

DEMO_PASSWORD = "demo-owner-2024"
DEMO_DOMAIN = "keepscore.test"

MEMBERS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    # key, first name, last name, roles
    ("owner", "Olivia", "Brandt", {"is_owner": True, "is_marketing": True, "is_sales": True}),
    ("marketing", "Marco", "Ruiz", {"is_marketing": True}),
    ("sales1", "Sam", "Patel", {"is_sales": True}),
    ("sales2", "Jade", "Okafor", {"is_sales": True}),
)
OWNER_SHARE = 40  # the owner's time on marketing (%); the rest is sales
LEAD_OWNERS = (("sales1", 0.45), ("sales2", 0.35), ("owner", 0.20))
#: channels whose leads marketing enters; the rest are entered by whoever took them
MARKETING_CHANNELS = frozenset({"ads", "social", "email", "search", "trade-show"})

FIRST_NAMES = (
    "Aisha",
    "Ben",
    "Carla",
    "Dev",
    "Elena",
    "Finn",
    "Grace",
    "Hugo",
    "Ines",
    "Jamal",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Xin",
    "Yara",
    "Zoe",
    "Adam",
    "Bea",
    "Chris",
    "Dana",
    "Emil",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Julia",
    "Kofi",
    "Lena",
    "Marek",
    "Nina",
)
LAST_NAMES = (
    "Adams",
    "Baker",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Khan",
    "Lopez",
    "Murphy",
    "Novak",
    "Okoro",
    "Park",
    "Quint",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Vargas",
    "Wright",
    "Young",
    "Zimmer",
    "Berg",
    "Clarke",
    "Diaz",
    "Moreau",
    "Nakamura",
)
COMPANY_FIRST = (
    "Harbor",
    "Maple",
    "Summit",
    "Blue Fern",
    "Copper",
    "Riverside",
    "Northgate",
    "Oak & Iron",
    "Sunny Side",
    "Greenway",
    "Old Town",
    "Lakeshore",
    "Silver",
    "Redwood",
    "Corner",
)
COMPANY_LAST = (
    "Bakery",
    "Dental",
    "Fitness",
    "Motors",
    "Cafe",
    "Florist",
    "Pharmacy",
    "Books",
    "Hardware",
    "Law",
    "Realty",
    "Salon",
    "Vets",
    "Brewing",
    "Logistics",
    "Dental Care",
)


def demo_email(slug: str, member: str = "owner") -> str:
    """The login of the demo member ``member`` of the demo organization ``slug``."""
    return f"{member}@{slug}.{DEMO_DOMAIN}"


def demo_other_logins(slug: str) -> tuple[tuple[str, str], ...]:
    """The other demo members (same password) and their roles."""
    out = []
    for key, _, _, roles in MEMBERS[1:]:
        names = [name[3:] for name, on in roles.items() if on]
        out.append((demo_email(slug, key), ", ".join(names)))
    return tuple(out)
