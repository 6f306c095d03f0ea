"""The fixed word lists, instants and weights the sandbox's seed draws from.

Timestamps lie between 2024-10-15 and 2024-11-20, account local time (America/Chicago), so
they span the fall-back change of 2024-11-03.
"""

from __future__ import annotations

from datetime import datetime, timezone

#: 2024-10-15 00:00 and 2024-11-21 00:00 in Chicago.
SEED_START = datetime(2024, 10, 15, 5, 0, tzinfo=timezone.utc)
SEED_END = datetime(2024, 11, 21, 6, 0, tzinfo=timezone.utc)

#: Instants inside the repeated hour of 2024-11-03; updated timestamps of some orders and
#: products are pinned to them. The first three read "01:MM-05:00" (CDT), the last two
#: "01:MM-06:00" (CST) and are later in time although their text sorts earlier.
REPEATED_HOUR_INSTANTS = (
    datetime(2024, 11, 3, 6, 5, 12, 345678, tzinfo=timezone.utc),
    datetime(2024, 11, 3, 6, 30, 0, 123456, tzinfo=timezone.utc),
    datetime(2024, 11, 3, 6, 50, 45, 654321, tzinfo=timezone.utc),
    datetime(2024, 11, 3, 7, 10, 0, 654321, tzinfo=timezone.utc),
    datetime(2024, 11, 3, 7, 40, 30, 111111, tzinfo=timezone.utc),
)

FIRST_NAMES = (
    "Ava", "Ben", "Carla", "Dmitri", "Elena", "Farah", "Gus", "Hana", "Ivan", "Jules",
    "Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq",
)  # fmt: skip
LAST_NAMES = (
    "Anders", "Brooks", "Castillo", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes",
    "Ito", "Jensen", "Kowalski", "Larsen", "Moreau", "Nguyen", "Okafor", "Patel",
    "Quigley", "Rossi", "Schmidt", "Tanaka",
)  # fmt: skip
STREETS = (
    "Oak", "Maple", "Cedar", "Elm", "Pecan", "Willow", "Lamar", "Congress", "Guadalupe",
    "Riverside", "Hillcrest", "Sunset", "Magnolia", "Bluebonnet", "Prairie",
)  # fmt: skip
STREET_KINDS = ("St", "Ave", "Blvd", "Dr", "Ln", "Rd", "Way")
CITIES = (
    ("Austin", "TX", "787"), ("Dallas", "TX", "752"), ("Chicago", "IL", "606"),
    ("Denver", "CO", "802"), ("Portland", "OR", "972"), ("Atlanta", "GA", "303"),
    ("Madison", "WI", "537"), ("Tulsa", "OK", "741"), ("Omaha", "NE", "681"),
    ("Raleigh", "NC", "276"), ("Boise", "ID", "837"), ("Tucson", "AZ", "857"),
)  # fmt: skip
COMPANY_WORDS = (
    "Lone Star", "Blue Ridge", "Prairie", "Northwind", "Great Lakes", "Redwood", "Summit",
    "Harbor", "Juniper", "Copper Canyon",
)  # fmt: skip
COMPANY_KINDS = ("Supply", "Traders", "Goods Co", "Wholesale", "Distributors", "Outfitters")

#: (category, SKU code, product nouns)
CATEGORIES = (
    ("Apparel", "APP", ("T-Shirt", "Hoodie", "Beanie", "Socks", "Cap")),
    ("Kitchen", "KIT", ("Mug", "Tumbler", "Kettle", "Cutting Board", "Apron")),
    ("Outdoor", "OUT", ("Water Bottle", "Daypack", "Camp Chair", "Headlamp")),
    ("Stationery", "STA", ("Notebook", "Pen Set", "Planner", "Sticker Pack")),
    ("Coffee", "COF", ("Whole Bean Coffee", "Cold Brew Kit", "Pour-Over Filter")),
)
ADJECTIVES = ("Classic", "Organic", "Vintage", "Heritage", "Everyday", "Trail", "Studio", "Deluxe")
COLORS = ("Red", "Blue", "Green", "Black", "White", "Sand", "Slate", "Teal")

#: SKUs that need percent-encoding in paths, placed at fixed product positions.
AWKWARD_SKUS = {
    2: "BOX/12-PACK",
    5: "GIFT CARD 25",
    8: "MUG#2-BLUE",
    11: "CAFÉ-Ü-BLEND",
    14: "50%OFF?-TEE",
}

ORDER_TAGS = (("Unpaid", "#ff4d4d"), ("Rush", "#ff9900"), ("Gift", "#33cc33"), ("VIP", "#9933ff"))
PRODUCT_TAGS = (("Bestseller", "#f5a623"), ("Seasonal", "#4a90e2"), ("Clearance", "#d0021b"))
CUSTOMER_NOTES = (
    "Please leave at the back door.",
    "Gift - no prices on the packing slip please.",
    "Call before delivery.",
    "Ship together with my previous order if possible.",
)
INTERNAL_NOTES = ("Check stock before packing.", "Repeat customer.", "Address verified by phone.")
#: (carrier_name, display shipping method, shipping method code)
CARRIERS = (
    ("UPS", "UPS Ground", "ups_ground"),
    ("USPS", "Priority Mail", "usps_priority"),
    ("FedEx", "FedEx Home Delivery", "fedex_home_delivery"),
)
ORDER_STATUS_WEIGHTS = (
    ("awaiting_fulfillment", 40),
    ("shipped", 40),
    ("cancelled", 10),
    ("dropshipment_requested", 10),
)
RETURN_CODES = (
    {"code": "DAMAGED", "description": "Arrived damaged"},
    {"code": "WRONG_ITEM", "description": "Wrong item sent"},
    {"code": "NOT_NEEDED", "description": "No longer needed"},
)
