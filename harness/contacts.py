"""Contact lists as staff upload them, for the bulk-send tests and the bulk benchmark."""

from __future__ import annotations

import csv
import io

FIRST_NAMES = ("Ana", "Bo", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivo", "Jun")


def number(n: int) -> str:
    """The n-th test number, written as people write them (not E.164): (650) 7nn-nnnn."""
    return f"(650) {700 + n // 10000:03d}-{n % 10000:04d}"


def e164(n: int) -> str:
    return f"+1650{700 + n // 10000:03d}{n % 10000:04d}"


def contacts_csv(count: int, *, bad: int = 0) -> bytes:
    """`count` lines of Name, Phone, Appointment; the last `bad` of them are bad in turn: an
    invalid number, a repeat of line 2's number, an empty name (a placeholder left empty)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["First name", "Phone", "Appointment"])
    for n in range(count):
        name, phone = FIRST_NAMES[n % len(FIRST_NAMES)], number(n)
        kind = (n - (count - bad)) % 3 if n >= count - bad else None
        if kind == 0:
            phone = "555-12"
        elif kind == 1:
            phone = number(0)
        elif kind == 2:
            name = ""
        writer.writerow([name, phone, f"Dec {1 + n % 28} at {9 + n % 8}:00"])
    return out.getvalue().encode()


TEXT = "Hi {first_name}, a reminder of your appointment on {appointment}. Reply STOP to opt out."
