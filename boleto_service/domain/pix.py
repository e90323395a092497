"""The Pix "BR Code" printed on a boleto híbrido: the EMV QR Code payload, Merchant Presented Mode.

Layout from Banco Central do Brasil's "Manual de Padrões para Iniciação do Pix" over EMVCo
MPM: every field is an ID (2 digits), a length (2 digits) and the value; templates nest
fields the same way; the payload ends with field 63, a CRC-16 over everything before it,
"6304" included. All text is ASCII, so a character is a byte and lengths count either.

Static (the key in the payload):
    00 "01" | 26 [00 "br.gov.bcb.pix", 01 key] | 52 "0000" | 53 "986" | 54 amount |
    58 "BR" | 59 name | 60 city | 62 [05 txid] | 63 CRC
Dynamic (a PSP location the payer's app fetches the charge from):
    00 "01" | 01 "12" | 26 [00 "br.gov.bcb.pix", 25 location] | 52 | 53 | 54 amount |
    58 | 59 | 60 | 62 [05 "***"] | 63 CRC
"""

from __future__ import annotations

import binascii
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .cnpj import cnpj_problem

GUI = "br.gov.bcb.pix"
# What field 62-05 holds when the payload names no txid, and what a dynamic payload holds
# there: for a dynamic code the manual has the payer's PSP ignore this field and take the txid
# from the charge it fetches at the location.
NO_TXID = "***"
TXID_PREFIX = "BOL"
TXID_SLOT = "{txid}"

MAX_NAME = 25
MAX_CITY = 15
MAX_TXID = 25
# Field 26 holds at most 99 characters: the GUI subfield takes 18 and the key's header 4.
MAX_KEY = 77
MAX_LOCATION = 77
# Field 54 holds at most 13 characters: "9999999999.99".
MAX_AMOUNT_CENTS = 999_999_999_999

_TXID = re.compile(r"[A-Za-z0-9]{1,25}")
_EVP = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PHONE = re.compile(r"\+55[0-9]{10,11}")
_EMAIL = re.compile(r"[!-~]+@[!-~]+")
_LOCATION = re.compile(r"[!-~]+")  # printable ASCII without blanks
_SEPARATORS = str.maketrans("", "", " .-/")

# Letters NFKD leaves whole; without these they would be dropped, not spelled out.
_LETTERS = str.maketrans(
    {
        "ß": "ss", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "Ø": "O", "ø": "o",
        "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Ł": "L", "ł": "l", "Þ": "Th", "þ": "th",
        "‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-",
    }
)  # fmt: skip


class PixError(ValueError):
    """A key, name, city, location, amount or txid that cannot make a valid payload.

    Messages say which field and why, never the value: keys are CPFs, e-mails and phones.
    """


@dataclass(frozen=True, slots=True)
class PixMerchant:
    """Who receives the Pix: the beneficiary's key and the name and city payers see."""

    key: str
    name: str
    city: str
    # Dynamic QR: a PSP location without scheme, with TXID_SLOT where the txid goes.
    location_template: str = ""

    @property
    def is_dynamic(self) -> bool:
        return bool(self.location_template)


def crc16_ccitt(data: bytes) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection), 4 uppercase hex digits."""
    # crc_hqx is exactly this CRC, in C; the payload's own init value is passed explicitly.
    return f"{binascii.crc_hqx(data, 0xFFFF):04X}"


def txid_for(nosso_numero: str) -> str:
    """The txid of a boleto's Pix: TXID_PREFIX and the nosso número's letters and digits.

    Separators are dropped ('109/00000042-7' gives 'BOL109000000427'); beyond 25 characters
    only the rightmost are kept. Within one bank's fixed-width nosso número every number gives
    its own txid; the banks here print at most 17 characters, well under the 22 kept.
    """
    if not isinstance(nosso_numero, str):
        raise PixError(
            f"Pix txid: the nosso número must be text, got {type(nosso_numero).__name__}"
        )
    kept = "".join(char for char in nosso_numero if char.isascii() and char.isalnum())
    if not kept:
        raise PixError("Pix txid: the nosso número has no letters or digits to build a txid from")
    return TXID_PREFIX + kept[-(MAX_TXID - len(TXID_PREFIX)) :]


def validate_merchant(merchant: PixMerchant) -> None:
    """Refuse, with every reason at once, a merchant no payload can be built for."""
    _prepared(merchant)


def pix_payload(merchant: PixMerchant, amount_cents: int, nosso_numero: str) -> str:
    """The BR Code for one boleto: static with the key, or dynamic with the PSP location.

    The txid comes from the nosso número: in 62-05 for a static payload, in the location for
    a dynamic one (whose 62-05 is NO_TXID). The amount is always written.
    """
    name, city = _prepared(merchant)
    _ensure_amount(amount_cents)
    txid = txid_for(nosso_numero)
    if merchant.is_dynamic:
        location = merchant.location_template.replace(TXID_SLOT, txid)
        return _assemble(_tlv("25", location), name, city, amount_cents, NO_TXID, dynamic=True)
    return _assemble(_tlv("01", merchant.key), name, city, amount_cents, txid, dynamic=False)


def br_code(
    *,
    name: str,
    city: str,
    key: str = "",
    location: str = "",
    amount_cents: int | None = None,
    txid: str = NO_TXID,
) -> str:
    """Any BR Code of the layout above, field by field: static with `key`, dynamic with
    `location` (exactly one of them). No amount (None) leaves field 54 out, so the payer types
    it. `pix_payload` is this with the boleto's choices; this one reproduces published codes.
    """
    problems = _name_city_problems(name, city)
    if bool(key) == bool(location):
        problems.append("Pix payload: give either a key (static) or a location (dynamic)")
    elif key:
        problems.extend(_prefixed("Pix key", _key_problem(key)))
    else:
        problems.extend(_prefixed("Pix location", _location_problem(location)))
    if txid != NO_TXID and not (isinstance(txid, str) and _TXID.fullmatch(txid)):
        problems.append(f"Pix txid: must be {NO_TXID!r} or 1 to {MAX_TXID} letters and digits")
    if problems:
        raise PixError("; ".join(problems))
    if amount_cents is not None:
        _ensure_amount(amount_cents)
    account = _tlv("01", key) if key else _tlv("25", location)
    return _assemble(
        account, _fold(name, MAX_NAME), _fold(city, MAX_CITY), amount_cents, txid, bool(location)
    )


def format_amount(amount_cents: int) -> str:
    """Field 54's text: reais, a dot and two decimals (12345 -> '123.45'), integers only."""
    whole, cents = divmod(amount_cents, 100)
    return f"{whole}.{cents:02d}"


# A file bills thousands of debts to one merchant: validate and fold once, not per boleto.
@lru_cache(maxsize=16)
def _prepared(merchant: PixMerchant) -> tuple[str, str]:
    problems = _name_city_problems(merchant.name, merchant.city)
    problems.extend(_prefixed("Pix key", _key_problem(merchant.key)))
    if merchant.location_template:
        problems.extend(
            _prefixed("Pix location template", _template_problem(merchant.location_template))
        )
    if problems:
        raise PixError("; ".join(problems))
    return _fold(merchant.name, MAX_NAME), _fold(merchant.city, MAX_CITY)


def _assemble(
    account: str, name: str, city: str, amount_cents: int | None, txid: str, dynamic: bool
) -> str:
    body = "".join(
        (
            _tlv("00", "01"),
            # 12: the code is for one payment only, which is what a dynamic charge is.
            _tlv("01", "12") if dynamic else "",
            _tlv("26", _tlv("00", GUI) + account),
            _tlv("52", "0000"),
            _tlv("53", "986"),
            _tlv("54", format_amount(amount_cents)) if amount_cents is not None else "",
            _tlv("58", "BR"),
            _tlv("59", name),
            _tlv("60", city),
            _tlv("62", _tlv("05", txid)),
            "6304",
        )
    )
    return body + crc16_ccitt(body.encode("ascii"))


def _tlv(tag: str, value: str) -> str:
    # Validation keeps every value within 99 characters; this guards the layout itself.
    if len(value) > 99:
        raise PixError(f"Pix field {tag}: {len(value)} characters, the layout allows 99")
    return f"{tag}{len(value):02d}{value}"


def _ensure_amount(amount_cents: int) -> None:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise PixError(f"Pix amount: must be int centavos, got {type(amount_cents).__name__}")
    if not 0 < amount_cents <= MAX_AMOUNT_CENTS:
        raise PixError(f"Pix amount: must be 1 to {MAX_AMOUNT_CENTS} centavos, got {amount_cents}")


def _fold(text: str, limit: int) -> str:
    """ASCII the payer's app can show: accents dropped, blanks collapsed, cut to `limit`."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LETTERS))
    # Tabs and line breaks part words like spaces do; anything else outside ASCII goes.
    kept = "".join(char for char in decomposed if char.isspace() or " " <= char <= "~")
    return " ".join(kept.split())[:limit].rstrip()


def _name_city_problems(name: str, city: str) -> list[str]:
    problems = []
    for field, value, limit in (("name", name, MAX_NAME), ("city", city, MAX_CITY)):
        if not isinstance(value, str):
            problems.append(f"Pix merchant {field}: must be text, got {type(value).__name__}")
        elif not _fold(value, limit):
            problems.append(f"Pix merchant {field}: empty once folded to ASCII")
    return problems


def _prefixed(field: str, problem: str | None) -> list[str]:
    return [f"{field}: {problem}"] if problem else []


def _key_problem(key: str) -> str | None:
    """Why `key` is no DICT key as the BR Code writes it, or None. Never quotes the key."""
    if not isinstance(key, str):
        return f"must be text, got {type(key).__name__}"
    if not key:
        return "empty"
    if key.startswith("+"):
        return _phone_problem(key)
    if "@" in key:
        return _email_problem(key)
    if key.isascii() and key.isdigit():
        if len(key) == 11:
            return _cpf_problem(key)
        if len(key) == 14:
            return None if cnpj_problem(key) is None else "the CNPJ's check digits do not match"
        return (
            f"{len(key)} digits is neither a CPF (11) nor a CNPJ (14); "
            "a phone key is written +55 and the number"
        )
    if len(key) == 36 and key.count("-") == 4:
        return _evp_problem(key)
    stripped = key.translate(_SEPARATORS)
    if stripped.isascii() and stripped.isdigit() and len(stripped) in (11, 14):
        return "write a CPF or CNPJ key with digits only, without dots, dashes or slashes"
    return (
        "not a CPF (11 digits), CNPJ (14 digits), e-mail, phone (+55 and the number) "
        "or random key (EVP, 36-character UUID)"
    )


def _cpf_problem(cpf: str) -> str | None:
    if len(set(cpf)) == 1:
        return "the CPF is a placeholder (one repeated digit)"
    if cpf[9:] != _cpf_check_digits(cpf[:9]):
        return "the CPF's check digits do not match"
    return None


def _cpf_check_digits(base: str) -> str:
    digits = [int(char) for char in base]
    for _ in range(2):
        # Weights run from len + 1 down to 2, so the second DV also weighs the first.
        total = sum(d * w for d, w in zip(digits, range(len(digits) + 1, 1, -1), strict=True))
        remainder = total % 11
        digits.append(0 if remainder < 2 else 11 - remainder)
    return f"{digits[-2]}{digits[-1]}"


def _phone_problem(key: str) -> str | None:
    if _PHONE.fullmatch(key):
        return None
    return "a phone key is +55 followed by 10 or 11 digits (area code and number), nothing else"


def _email_problem(key: str) -> str | None:
    if len(key) > MAX_KEY:
        return f"an e-mail key has at most {MAX_KEY} characters, got {len(key)}"
    if key.count("@") != 1 or not _EMAIL.fullmatch(key):
        return "an e-mail key is one address: ASCII, no blanks, text on both sides of one @"
    if key != key.lower():
        # DICT registers e-mail keys in lower case; another spelling may not resolve.
        return "write the e-mail key in lower case, as DICT registers it"
    return None


def _evp_problem(key: str) -> str | None:
    if _EVP.fullmatch(key):
        return None
    if _EVP.fullmatch(key.lower()):
        return "write the random key (EVP) in lower case, as DICT issues it"
    return "a random key (EVP) is a UUID: hexadecimal digits grouped 8-4-4-4-12"


def _location_problem(location: str) -> str | None:
    if not isinstance(location, str) or not location:
        return "empty"
    if "://" in location:
        # The manual writes the location without its scheme; apps always fetch over https.
        return "write it without the scheme (no https://)"
    if not _LOCATION.fullmatch(location):
        return "must be printable ASCII without blanks"
    if len(location) > MAX_LOCATION:
        return f"at most {MAX_LOCATION} characters, got {len(location)}"
    return None


def _template_problem(template: str) -> str | None:
    if not isinstance(template, str):
        return f"must be text, got {type(template).__name__}"
    if template.count(TXID_SLOT) != 1:
        return f"must hold {TXID_SLOT} exactly once, where each boleto's txid goes"
    # Checked as filled with the longest txid, so every boleto's location fits.
    longest = template.replace(TXID_SLOT, "X" * MAX_TXID)
    if "{" in longest or "}" in longest:
        return f"has braces other than {TXID_SLOT}"
    return _location_problem(longest)
