"""docs/delivery-codes.md#the-table, copied by hand: the table smsapp/delivery_codes.py must match.

Classes: A (an admin must act; sending again later may work), P (permanent), C (change the
content: the same words fail again), R (retry later: a temporary carrier problem), L (look again
later: the carrier has not said yet).
"""

from __future__ import annotations

EXPECTED_CLASS = {
    "SMS-RC-403": "A",
    **dict.fromkeys(("SMS-RC-410", "SMS-UP-410", "SMS-UP-411", "SMS-UP-412", "SMS-CAR-411"), "P"),
    **dict.fromkeys(("SMS-RC-413", "SMS-UP-413", "SMS-CAR-413"), "P"),
    **dict.fromkeys(("SMS-RC-430", "SMS-UP-430", "SMS-CAR-430"), "C"),
    **dict.fromkeys(("SMS-RC-500", "SMS-RC-501", "SMS-RC-503", "SMS-RC-504"), "A"),
    **dict.fromkeys(("SMS-UP-414", "SMS-CAR-414"), "A"),
    "SMS-UP-431": "A",
    **dict.fromkeys(("SMS-UP-432", "SMS-CAR-432"), "C"),
    **dict.fromkeys(("SMS-UP-433", "SMS-CAR-433", "SMS-CAR-434", "SMS-CAR-435"), "C"),
    **dict.fromkeys(("SMS-UP-500", "SMS-CAR-500", "SMS-CAR-431"), "R"),
    "SMS-CAR-104": "L",
    "SMS-CAR-199": "L",
    **dict.fromkeys(("SMS-CAR-400", "SMS-CAR-412"), "P"),
    "SMS-CAR-410": "R",
    **dict.fromkeys(("SMS-CAR-450", "SMS-CAR-451", "SMS-CAR-452"), "A"),
    "SMS-CAR-461": "A",
}
FINAL_CODES = sorted(code for code, cls in EXPECTED_CLASS.items() if cls != "L")
