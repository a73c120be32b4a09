"""How the CDR screens write numbers and money: at most four decimals, no trailing zeros."""

from decimal import Decimal
from typing import Any

from sessions.serializers import plain

_MONEY = Decimal("0.0001")


def number_text(value: Any) -> str:
    return "" if value is None else str(plain(Decimal(value).quantize(_MONEY)))


def price_text(excl: Decimal | None, incl: Decimal | None, currency: str) -> str:
    if excl is None:
        return "–"
    if incl is None:
        return f"{number_text(excl)} {currency} excl. VAT"
    return f"{number_text(excl)} / {number_text(incl)} {currency}"
