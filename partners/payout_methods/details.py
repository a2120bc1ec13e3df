"""A payout method's fields: checked as typed, masked for display, and named in plain words.

Plain functions over dicts, so the portal form, the staff form and the API give the same answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from schwifty import BIC, IBAN
from schwifty.exceptions import InvalidChecksumDigits, SchwiftyException

from core.privacy import mask_email
from core.text import unusable_character
from partners.models import PayoutMethod

HIDDEN = "•••"
Type = PayoutMethod.Type

# The fields each method keeps, in the order a form shows them.
FIELDS: dict[str, tuple[str, ...]] = {
    Type.STRIPE_CONNECT: ("account_id",),
    Type.PAYPAL: ("email",),
    Type.SEPA: ("account_holder", "iban", "bic"),
    Type.MANUAL: ("instructions",),
}
_LIMITS = {"account_id": 64, "email": 254, "account_holder": 70, "iban": 42, "bic": 11, "instructions": 2000}
_STRIPE_ACCOUNT = re.compile(r"acct_[A-Za-z0-9]{1,59}")
_DIGITS = re.compile(r"\d")


@dataclass(frozen=True)
class PayoutMethodDetails:
    """A partner's current payout method. `fields` are in full: show them only to owners and finance."""

    type: str
    fields: dict[str, str]
    masked: dict[str, str]
    label: str


def clean_payout_fields(method_type: str, raw: dict[str, object]) -> dict[str, str]:
    """The fields of `method_type` from `raw`, checked and normalised.

    Raises ValidationError with a message per field at fault (`{"iban": ["…"]}`).
    """
    if method_type not in FIELDS:
        choices = ", ".join(FIELDS)
        raise ValidationError({"type": [f"Choose one of {choices}."]})
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for name in FIELDS[method_type]:
        value = raw.get(name)
        text = value.strip() if isinstance(value, str) else ""
        if value is not None and not isinstance(value, str):
            errors[name] = ["Send text."]
        elif problem := unusable_character(text):
            errors[name] = [problem]
        elif len(text) > _LIMITS[name]:
            errors[name] = [f"At most {_LIMITS[name]} characters."]
        else:
            values[name] = text
    if not errors:
        _check(method_type, values, errors)
    if errors:
        raise ValidationError(errors)
    return values


def _check(method_type: str, values: dict[str, str], errors: dict[str, list[str]]) -> None:
    if method_type == Type.STRIPE_CONNECT:
        if not _STRIPE_ACCOUNT.fullmatch(values["account_id"]):
            errors["account_id"] = [
                "Enter the Stripe account id, which starts with acct_ (such as acct_1Nv0FGQ9RKHgCVdK)."
            ]
    elif method_type == Type.PAYPAL:
        values["email"] = values["email"].lower()
        try:
            validate_email(values["email"])
        except ValidationError:
            errors["email"] = ["Enter the email address of your PayPal account, such as jo@example.com."]
    elif method_type == Type.SEPA:
        _check_sepa(values, errors)
    elif not values["instructions"]:
        errors["instructions"] = ["Say how you are paid, for example the bank or service to use."]


def _check_sepa(values: dict[str, str], errors: dict[str, list[str]]) -> None:
    if not values["account_holder"]:
        errors["account_holder"] = ["Enter the name on the bank account."]
    iban: IBAN | None = None
    if not values["iban"]:
        errors["iban"] = ["Enter the IBAN, such as DE44 5001 0517 5407 3249 31."]
    else:
        try:
            iban = IBAN(values["iban"])
        except InvalidChecksumDigits:
            errors["iban"] = ["This IBAN's check digits do not match: check it for a typing mistake."]
        except SchwiftyException:
            errors["iban"] = ["This is not a valid IBAN: check the country code, the length and the characters."]
    if iban is not None:
        values["iban"] = iban.compact
    if values["bic"]:
        try:
            values["bic"] = str(BIC(values["bic"]))
        except SchwiftyException:
            errors["bic"] = ["This is not a valid BIC: 8 or 11 letters and digits, such as COBADEFFXXX."]
    elif iban is not None and iban.bic is not None:
        values["bic"] = str(iban.bic)
    else:
        errors.setdefault("bic", ["Enter the BIC (SWIFT code) of the bank, such as COBADEFFXXX."])


def mask_iban(iban: str) -> str:
    """`DE89370400440532013000` as `DE89 •••• •••• 3000`."""
    compact = iban.replace(" ", "")
    if len(compact) < 9:
        return HIDDEN
    return f"{compact[:4]} •••• •••• {compact[-4:]}"


def mask_account_id(account_id: str) -> str:
    """`acct_1Nv0FGQ9RKHgCVdK` as `acct_•••CVdK`."""
    return f"acct_{HIDDEN}{account_id[-4:]}" if len(account_id) > 9 else f"acct_{HIDDEN}"


def mask_text(text: str) -> str:
    """Free text with its digits hidden but the last four, and its email addresses masked.

    Manual instructions often carry an account number; the words around it stay readable.
    """
    words = [mask_email(word) if "@" in word else word for word in text.split(" ")]
    masked = " ".join(words)
    digits = [m.start() for m in _DIGITS.finditer(masked)]
    chars = list(masked)
    for position in digits[:-4] if len(digits) > 4 else digits:
        chars[position] = "•"
    return "".join(chars)


def mask_fields(method_type: str, fields: dict[str, str]) -> dict[str, str]:
    masked = dict(fields)
    if "account_id" in masked:
        masked["account_id"] = mask_account_id(masked["account_id"])
    if "email" in masked:
        masked["email"] = mask_email(masked["email"])
    if "iban" in masked:
        masked["iban"] = mask_iban(masked["iban"])
    if "instructions" in masked:
        masked["instructions"] = mask_text(masked["instructions"])
    return masked


def label_for(method_type: str, masked: dict[str, str]) -> str:
    """The method in plain words, with nothing a stranger could use: "SEPA transfer to DE89 •••• 3000"."""
    if method_type == Type.STRIPE_CONNECT:
        return f"Stripe payout to {masked['account_id']}"
    if method_type == Type.PAYPAL:
        return f"PayPal to {masked['email']}"
    if method_type == Type.SEPA:
        iban = masked["iban"]
        short = f"{iban[:4]} •••• {iban[-4:]}" if len(iban) > 8 else iban
        return f"SEPA transfer to {short}"
    return "Paid outside Tandem"


def details_of(method_type: str, fields: dict[str, str]) -> PayoutMethodDetails:
    masked = mask_fields(method_type, fields)
    return PayoutMethodDetails(type=method_type, fields=fields, masked=masked, label=label_for(method_type, masked))
