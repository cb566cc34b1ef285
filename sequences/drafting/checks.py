"""Checks a generated draft must pass before a person sees it.

A model can state things that are not so. Finance teams must know exactly what went out, so a draft
may only state amounts, invoice numbers and dates that are in its context; anything else rejects
the whole draft (the row keeps the reason). HTML from the model is sanitised with nh3.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

import nh3

_CURRENCY_CODES = r"(?:USD|EUR|GBP|CAD|AUD|NZD|CHF|JPY|SEK|NOK|DKK|INR|MXN|BRL|ZAR|SGD|HKD)"
_NUMBER = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
# A money amount is a number next to a currency sign or code, or a number with two decimals.
_MONEY = re.compile(
    rf"(?:[$€£¥]\s?|\b{_CURRENCY_CODES}\s?){_NUMBER}"
    rf"|{_NUMBER.replace('num', 'num2')}\s?(?:{_CURRENCY_CODES}\b|[$€£¥])"
    r"|(?<![\d.,])(?P<num3>\d{1,3}(?:,\d{3})*\.\d{2}|\d+\.\d{2})(?![\d.])"
)
# "invoice INV-1", "invoice #1042", "Invoice No. A/77", "inv. 55": the token after the word.
_AFTER_INVOICE_WORD = re.compile(
    r"\binv(?:oice)?s?\.?\s*(?:#|no\.?|number|num\.?)?\s*:?\s*(?P<ref>[A-Za-z0-9][A-Za-z0-9\-/_.]*\d[A-Za-z0-9\-/_]*)",
    re.IGNORECASE,
)
# Reference-shaped tokens anywhere: "INV-1001", "AR/2026/17", "#1042".
_REFERENCE_SHAPE = re.compile(r"(?<![\w/-])(?:#\d{2,}|[A-Z]{2,}[-/_]?\d[\w/-]*)")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_LONG_DATE = re.compile(
    r"\b(?:(?P<m1>[A-Za-z]{3,9})\.?\s+(?P<d1>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y1>\d{4})"
    r"|(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<m2>[A-Za-z]{3,9})\.?,?\s+(?P<y2>\d{4}))\b"
)


_UNREPRESENTABLE = Decimal("-1")  # never an amount in a context: a number too large to hold is rejected


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "")).quantize(Decimal("0.01"))
    except InvalidOperation:
        return _UNREPRESENTABLE


def _month(name: str) -> int | None:
    name = name.lower()
    for index, month in enumerate(_MONTHS, start=1):
        if len(name) >= 3 and month.startswith(name):
            return index
    return None


def _allowed_facts(context: dict) -> tuple[set[Decimal], set[str], set[datetime.date]]:
    invoices = list(context.get("invoices") or [])
    if context.get("invoice"):
        invoices.append(context["invoice"])
    amounts = {Decimal(str(inv["amount_due"])).quantize(Decimal("0.01")) for inv in invoices}
    if context.get("total_due") is not None:
        amounts.add(Decimal(str(context["total_due"])).quantize(Decimal("0.01")))
    numbers = {str(inv["number"]).strip().lower() for inv in invoices}
    dates = {inv["due_date"] for inv in invoices if isinstance(inv.get("due_date"), datetime.date)}
    start = (context.get("enrollment") or {}).get("start_date")
    if isinstance(start, datetime.date):
        dates.add(start)
    promise = context.get("promise")  # the invoice's open promise to pay: its amount and date are facts
    if promise:
        amounts.add(Decimal(str(promise["amount"])).quantize(Decimal("0.01")))
        if isinstance(promise.get("promised_date"), datetime.date):
            dates.add(promise["promised_date"])
    return amounts, numbers, dates


def _stated_amounts(text: str) -> set[Decimal]:
    found = set()
    for match in _MONEY.finditer(text):
        raw = match.group("num") or match.group("num2") or match.group("num3")
        value = _decimal(raw) if raw else None
        if value is not None:
            found.add(value)
    return found


def _stated_references(text: str) -> set[str]:
    refs = {m.group("ref").rstrip(".,;:!?)/-_") for m in _AFTER_INVOICE_WORD.finditer(text)}
    refs |= {m.group(0).rstrip(".,;:!?)/-_") for m in _REFERENCE_SHAPE.finditer(text)}
    return {ref for ref in refs if ref}


def _stated_dates(text: str) -> set[datetime.date]:
    found = set()
    for year, month, day in _ISO_DATE.findall(text):
        try:
            found.add(datetime.date(int(year), int(month), int(day)))
        except ValueError:
            found.add(datetime.date.min)  # an impossible date is never in the context
    for match in _LONG_DATE.finditer(text):
        month = _month(match.group("m1") or match.group("m2"))
        if month is None:
            continue
        try:
            found.add(
                datetime.date(
                    int(match.group("y1") or match.group("y2")),
                    month,
                    int(match.group("d1") or match.group("d2")),
                )
            )
        except ValueError:
            found.add(datetime.date.min)
    return found


def check_facts(*, texts: list[str], context: dict) -> list[str]:
    """Problems with the facts `texts` state, measured against `context`; empty when all hold."""
    amounts, numbers, dates = _allowed_facts(context)
    text = "\n".join(texts)
    problems = []
    for amount in sorted(_stated_amounts(text) - amounts):
        if amount == _UNREPRESENTABLE:
            problems.append("states an amount too large to be any invoice's")
        else:
            problems.append(f"states the amount {amount}, which is not in the context")
    for ref in sorted(_stated_references(text)):
        if ref.lower() not in numbers and ref.lstrip("#").lower() not in numbers:
            problems.append(f"states the invoice number {ref!r}, which is not in the context")
    for stated in sorted(_stated_dates(text) - dates):
        label = stated.isoformat() if stated != datetime.date.min else "an impossible date"
        problems.append(f"states the date {label}, which is not in the context")
    return problems


_ALLOWED_TAGS = {"p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "a", "blockquote", "span", "div"}


def sanitize_html(html: str) -> str:
    """Keep simple formatting and links; drop scripts, styles, event handlers and unsafe URLs."""
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
