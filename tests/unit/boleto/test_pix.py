"""Pix BR Codes for boletos híbridos: layout, CRC, folding, txids, keys, and published codes.

Published payloads are test data only, each with the place it was published. The BCB manual
("Manual de Padrões para Iniciação do Pix") was not at hand as a PDF: its two examples are
taken as open-source projects reproduce them, and every published CRC is re-checked here.
"""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError, dataclass

import pytest

from boleto_service.domain.pix import (
    GUI,
    MAX_AMOUNT_CENTS,
    NO_TXID,
    PixError,
    PixMerchant,
    br_code,
    crc16_ccitt,
    format_amount,
    pix_payload,
    txid_for,
    validate_merchant,
)

EVP = "123e4567-e12b-12d1-a456-426655440000"
CPF = "52998224725"
CNPJ = "11222333000181"
MERCHANT = PixMerchant(key=EVP, name="Cobranças São João Ltda", city="São Paulo")
DYNAMIC = PixMerchant(
    key=CNPJ, name="Fulano de Tal", city="BRASILIA", location_template="pix.example.com/qr/{txid}"
)
BB_NOSSO_NUMERO = "12345670000000042"  # convênio 1234567 + sequence, as BB prints it
ITAU_NOSSO_NUMERO = "109/00000042-7"


# --- a TLV reader written apart from the module, so the checks do not share its code ---


def parse_tlv(text: str) -> list[tuple[str, str]]:
    """ID (2 digits), length (2 digits), value; the whole text must be consumed."""
    fields = []
    at = 0
    while at < len(text):
        tag, length = text[at : at + 2], text[at + 2 : at + 4]
        assert tag.isdigit() and length.isdigit(), f"bad header at {at}: {text[at : at + 4]!r}"
        value = text[at + 4 : at + 4 + int(length)]
        assert len(value) == int(length), f"field {tag} runs past the end"
        fields.append((tag, value))
        at += 4 + int(length)
    return fields


def fields_of(payload: str) -> dict[str, str]:
    parsed = parse_tlv(payload)
    tags = [tag for tag, _ in parsed]
    assert len(tags) == len(set(tags)), f"repeated field in {tags}"
    assert tags == sorted(tags[:-1]) + ["63"], f"fields out of order: {tags}"
    return dict(parsed)


def crc_is_valid(payload: str) -> bool:
    assert payload[-8:-4] == "6304"
    return crc16_ccitt(payload[:-4].encode("ascii")) == payload[-4:]


# --- CRC ---


def test_crc_check_value_of_the_crc_catalogue() -> None:
    # CRC-16/CCITT-FALSE (named CRC-16/IBM-3740 in Greg Cook's "Catalogue of parametrised CRC
    # algorithms"): check value over the ASCII digits 1..9 is 0x29B1.
    assert crc16_ccitt(b"123456789") == "29B1"
    assert crc16_ccitt(b"") == "FFFF"


def test_crc_is_four_uppercase_hex_digits_with_leading_zeros() -> None:
    # From the Stone vector below whose CRC is 0B0F.
    payload = STONE_DYNAMIC_NOVA_LIMA.payload
    assert crc16_ccitt(payload[:-4].encode("ascii")) == "0B0F"
    for data in (b"a", b"Pix", payload.encode("ascii")):
        assert re.fullmatch(r"[0-9A-F]{4}", crc16_ccitt(data))


def test_crc_detects_a_changed_character() -> None:
    payload = pix_payload(MERCHANT, 12_345, BB_NOSSO_NUMERO)
    tampered = payload.replace("123.45", "923.45")
    assert crc_is_valid(payload)
    assert not crc_is_valid(tampered)


# --- published payloads ---


@dataclass(frozen=True)
class Published:
    source: str
    payload: str


_ACBR = "frones/ACBr, Testes/FPCUnit/ACBrPIXCD/ACBrPIXSchemasTeste.pas"
_STONE = "stone-payments/ex-pix-brcode, test/ex_pix_brcode/decoder_test.exs"
_STARK_STATIC = "starkbank/brcode-python, tests/brcode/testStaticBrcode.py"
_STARK_DYNAMIC = "starkbank/brcode-python, tests/brcode/testDynamicBrcode.py"

# The manual's static example ("Fulano de Tal", key 123e4567-..., no amount, txid ***), as
# frones/ACBr (TTestQRCodeEstatico) and stone-payments/ex-pix-brcode ("succeeds on BACEN
# example") test against it.
MANUAL_STATIC = Published(
    f"BCB manual, static example; via {_ACBR} and {_STONE}",
    "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-426655440000"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D",
)
# The manual's dynamic example (location pix.example.com/8b3d..., no amount). It is repeated
# verbatim, labelled as the BCB sample, in many open-source test files; its CRC verifies.
MANUAL_DYNAMIC = Published(
    "BCB manual, dynamic example",
    "00020101021226700014br.gov.bcb.pix2548pix.example.com/8b3da2f39a4140d1a91abd93113bd441"
    "5204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***630464E4",
)
# TTestQRCodeDinamico: a Banco do Brasil homologation location.
ACBR_DYNAMIC = Published(
    _ACBR,
    "00020101021226870014br.gov.bcb.pix"
    "2565qrcodepix-h.bb.com.br/pix/v2/d9b97f73-b48b-43f6-be7e-f0594fb275a6"
    "5204000053039865802BR5920ALAN GUIACHERO BUENO6008BRASILIA62070503***630464FF",
)
# TestDynamicfromJson (static module): key arya@stark.com, R$ 125,00, "São Paulo".
STARK_STATIC = Published(
    _STARK_STATIC,
    "00020126360014br.gov.bcb.pix0114arya@stark.com5204000053039865406125.005802BR"
    "5910Arya Stark6009Sao Paulo622005161297364819273409630440F2",
)
STARK_DYNAMIC = Published(
    _STARK_DYNAMIC,
    "00020101021226800014br.gov.bcb.pix"
    "2558invoice.starkbank.com/f5333103-3279-4db2-8389-5efe335ba93d"
    "5204000053039865802BR5910Arya Stark6009Sao Paulo6220051656565656565656566304A56D",
)
# "succeeds with examples from financial institutions (REDACTED FIELDS) - 2020-11-23":
# dynamic codes with an amount, the shape pix_payload makes for a dynamic merchant.
STONE_DYNAMIC_RIO = Published(
    _STONE,
    "00020101021226850014br.gov.bcb.pix"
    "2563exemplodeurl.com.br/pix/v2/11111111-1111-1111-1111-111111111111"
    "52040000530398654040.015802BR5925TESTE DE TESTE DO TESTEIE6014RIO DE JANEIRO"
    "62070503***6304CD52",
)
STONE_DYNAMIC_NOVA_LIMA = Published(
    _STONE,
    "00020101021226850014br.gov.bcb.pix"
    "2563exemplodeurl2.com.br/qr/v2/11111111-1111-1111-1111-111111111111"
    "52040000530398654041.005802BR5925TESTE DO TESTE DO TESTEIE6009NOVA LIMA"
    "62070503***63040B0F",
)
STONE_DYNAMIC_WITH_TXID = Published(
    _STONE,
    "00020101021226820014br.gov.bcb.pix"
    "2560exemplodeurl.com/pix/v2/11111111-1111-1111-1111-111111111111"
    "52040000530398654045.805802BR5925TESTE DO TESTE DO TESTEIE6014RIO DE JANEIRO"
    "622905251111111111111111111111111630449F9",
)
# Same test: a static code with the GUI in upper case and a 22-character txid. The module
# writes the GUI as the manual does (lower case), so this one is checked for its CRC only.
STONE_STATIC_UPPER_GUI = Published(
    _STONE,
    "00020126580014BR.GOV.BCB.PIX013611111111-1111-1111-1111-111111111111"
    "52040000530398654040.015802BR5925TESTE DO TESTE DO TESTEIE6009SAO PAULO"
    "6226052211111111111111111111116304642D",
)

PUBLISHED = (
    MANUAL_STATIC,
    MANUAL_DYNAMIC,
    ACBR_DYNAMIC,
    STARK_STATIC,
    STARK_DYNAMIC,
    STONE_DYNAMIC_RIO,
    STONE_DYNAMIC_NOVA_LIMA,
    STONE_DYNAMIC_WITH_TXID,
    STONE_STATIC_UPPER_GUI,
)


@pytest.mark.parametrize("published", PUBLISHED, ids=lambda p: p.payload[-4:])
def test_published_payloads_parse_and_their_crc_verifies(published: Published) -> None:
    fields = fields_of(published.payload)
    assert fields["00"] == "01"
    assert fields["63"] == published.payload[-4:]
    assert crc_is_valid(published.payload), published.source


def test_manual_static_example() -> None:
    assert br_code(key=EVP, name="Fulano de Tal", city="BRASILIA") == MANUAL_STATIC.payload


def test_manual_dynamic_example() -> None:
    built = br_code(
        location="pix.example.com/8b3da2f39a4140d1a91abd93113bd441",
        name="Fulano de Tal",
        city="BRASILIA",
    )
    assert built == MANUAL_DYNAMIC.payload


def test_acbr_dynamic_example() -> None:
    built = br_code(
        location="qrcodepix-h.bb.com.br/pix/v2/d9b97f73-b48b-43f6-be7e-f0594fb275a6",
        name="ALAN GUIACHERO BUENO",
        city="BRASILIA",
    )
    assert built == ACBR_DYNAMIC.payload


def test_stark_bank_static_example_with_amount_txid_and_accented_city() -> None:
    built = br_code(
        key="arya@stark.com",
        name="Arya Stark",
        city="São Paulo",
        amount_cents=12_500,
        txid="1297364819273409",
    )
    assert built == STARK_STATIC.payload


def test_stark_bank_dynamic_example() -> None:
    built = br_code(
        location="invoice.starkbank.com/f5333103-3279-4db2-8389-5efe335ba93d",
        name="Arya Stark",
        city="São Paulo",
        txid="5656565656565656",
    )
    assert built == STARK_DYNAMIC.payload


@pytest.mark.parametrize(
    ("published", "location", "name", "city", "cents", "txid"),
    [
        (
            STONE_DYNAMIC_RIO,
            "exemplodeurl.com.br/pix/v2/11111111-1111-1111-1111-111111111111",
            "TESTE DE TESTE DO TESTEIE",
            "RIO DE JANEIRO",
            1,
            NO_TXID,
        ),
        (
            STONE_DYNAMIC_NOVA_LIMA,
            "exemplodeurl2.com.br/qr/v2/11111111-1111-1111-1111-111111111111",
            "TESTE DO TESTE DO TESTEIE",
            "NOVA LIMA",
            100,
            NO_TXID,
        ),
        (
            STONE_DYNAMIC_WITH_TXID,
            "exemplodeurl.com/pix/v2/11111111-1111-1111-1111-111111111111",
            "TESTE DO TESTE DO TESTEIE",
            "RIO DE JANEIRO",
            580,
            "1" * 25,
        ),
    ],
    ids=["rio", "nova-lima", "txid-25"],
)
def test_stone_dynamic_examples_with_amounts(
    published: Published, location: str, name: str, city: str, cents: int, txid: str
) -> None:
    built = br_code(location=location, name=name, city=city, amount_cents=cents, txid=txid)
    assert built == published.payload


# --- pix_payload, field by field ---


def test_static_payload_field_by_field() -> None:
    payload = pix_payload(MERCHANT, 12_345, BB_NOSSO_NUMERO)
    fields = fields_of(payload)
    assert list(fields) == ["00", "26", "52", "53", "54", "58", "59", "60", "62", "63"]
    assert fields["00"] == "01"
    assert dict(parse_tlv(fields["26"])) == {"00": GUI, "01": EVP}
    assert fields["52"] == "0000"
    assert fields["53"] == "986"
    assert fields["54"] == "123.45"
    assert fields["58"] == "BR"
    assert fields["59"] == "Cobrancas Sao Joao Ltda"
    assert fields["60"] == "Sao Paulo"
    assert dict(parse_tlv(fields["62"])) == {"05": "BOL12345670000000042"}
    assert payload.isascii()
    assert crc_is_valid(payload)


def test_dynamic_payload_field_by_field() -> None:
    payload = pix_payload(DYNAMIC, 7_811_00, ITAU_NOSSO_NUMERO)
    fields = fields_of(payload)
    assert list(fields) == ["00", "01", "26", "52", "53", "54", "58", "59", "60", "62", "63"]
    assert fields["01"] == "12"
    # The key stays with the PSP's charge: a dynamic payload carries only the location.
    assert dict(parse_tlv(fields["26"])) == {"00": GUI, "25": "pix.example.com/qr/BOL109000000427"}
    assert fields["54"] == "7811.00"
    assert (fields["59"], fields["60"]) == ("Fulano de Tal", "BRASILIA")
    assert dict(parse_tlv(fields["62"])) == {"05": NO_TXID}
    assert crc_is_valid(payload)


def test_dynamic_payload_has_the_shape_of_the_published_dynamic_codes() -> None:
    ours = [tag for tag, _ in parse_tlv(pix_payload(DYNAMIC, 1, "1"))]
    assert ours == [tag for tag, _ in parse_tlv(STONE_DYNAMIC_RIO.payload)]


def test_static_payload_has_the_shape_of_the_published_static_code_with_amount() -> None:
    ours = [tag for tag, _ in parse_tlv(pix_payload(MERCHANT, 1, "1"))]
    assert ours == [tag for tag, _ in parse_tlv(STARK_STATIC.payload)]


def test_same_inputs_give_the_same_payload_and_each_boleto_its_own() -> None:
    first = pix_payload(MERCHANT, 10_000, "00000000000000001")
    assert pix_payload(MERCHANT, 10_000, "00000000000000001") == first
    assert pix_payload(MERCHANT, 10_000, "00000000000000002") != first


# --- amounts ---


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (1, "0.01"),
        (10, "0.10"),
        (100, "1.00"),
        (12_345, "123.45"),
        (9_999_999_999, "99999999.99"),  # the largest amount a boleto barcode holds
        (MAX_AMOUNT_CENTS, "9999999999.99"),
    ],
)
def test_amount_is_written_with_two_decimals_from_integer_centavos(cents: int, text: str) -> None:
    assert format_amount(cents) == text
    assert fields_of(pix_payload(MERCHANT, cents, "1"))["54"] == text


@pytest.mark.parametrize("cents", [0, -1, MAX_AMOUNT_CENTS + 1])
def test_amount_out_of_range_is_refused(cents: int) -> None:
    with pytest.raises(PixError, match="amount"):
        pix_payload(MERCHANT, cents, "1")


@pytest.mark.parametrize("cents", [True, 12.5, "100"])
def test_amount_that_is_not_int_centavos_is_refused(cents: object) -> None:
    with pytest.raises(PixError, match="int centavos"):
        pix_payload(MERCHANT, cents, "1")  # type: ignore[arg-type]


def test_br_code_without_amount_leaves_field_54_out() -> None:
    assert "54" not in fields_of(br_code(key=EVP, name="A", city="B"))
    with pytest.raises(PixError, match="amount"):
        br_code(key=EVP, name="A", city="B", amount_cents=0)


# --- names and cities ---


@pytest.mark.parametrize(
    ("name", "printed"),
    [
        ("Cobranças São João Ltda", "Cobrancas Sao Joao Ltda"),
        ("AÇÚCAR & CIA. — Pães", "ACUCAR & CIA. - Paes"),
        ("  Müller\tund   Straße ", "Muller und Strasse"),
        ("Æsir Øresund", "AEsir Oresund"),
        ("Café ☕ Bom", "Cafe Bom"),
        # Cut to 25, then the blank the cut leaves at the end is dropped.
        ("Companhia Paulista de Cobranças", "Companhia Paulista de Cob"),
        ("Associação dos Moradores X", "Associacao dos Moradores"),
    ],
)
def test_name_is_folded_to_ascii_and_cut_to_25(name: str, printed: str) -> None:
    merchant = PixMerchant(key=EVP, name=name, city="Recife")
    assert fields_of(pix_payload(merchant, 100, "1"))["59"] == printed
    assert len(printed) <= 25


@pytest.mark.parametrize(
    ("city", "printed"),
    [
        ("São Paulo", "Sao Paulo"),
        ("BRASÍLIA", "BRASILIA"),
        ("Santa Bárbara d'Oeste", "Santa Barbara d"),
        ("São Gonçalo do Rio Abaixo", "Sao Goncalo do"),
    ],
)
def test_city_is_folded_to_ascii_and_cut_to_15(city: str, printed: str) -> None:
    merchant = PixMerchant(key=EVP, name="Loja", city=city)
    assert fields_of(pix_payload(merchant, 100, "1"))["60"] == printed
    assert len(printed) <= 15


@pytest.mark.parametrize("field", ["name", "city"])
@pytest.mark.parametrize("value", ["", "   ", "株式会社", "☕☕"])
def test_name_or_city_empty_after_folding_is_refused(field: str, value: str) -> None:
    values = {"name": "Loja", "city": "Recife", field: value}
    merchant = PixMerchant(key=EVP, name=values["name"], city=values["city"])
    with pytest.raises(PixError, match=f"merchant {field}: empty once folded"):
        validate_merchant(merchant)
    with pytest.raises(PixError):
        pix_payload(merchant, 100, "1")


# --- txid ---


@pytest.mark.parametrize(
    ("nosso_numero", "txid"),
    [
        (BB_NOSSO_NUMERO, "BOL12345670000000042"),
        (ITAU_NOSSO_NUMERO, "BOL109000000427"),
        ("42", "BOL42"),
        # Longer than 22 characters: the rightmost, where sequences differ, are kept.
        ("1234567890" * 3, "BOL" + ("1234567890" * 3)[-22:]),
    ],
)
def test_txid_from_nosso_numero(nosso_numero: str, txid: str) -> None:
    assert txid_for(nosso_numero) == txid
    assert re.fullmatch(r"[A-Za-z0-9]{1,25}", txid)


def test_txids_are_unique_per_nosso_numero_of_a_bank_layout() -> None:
    bb = {txid_for(f"1234567{sequence:010d}") for sequence in range(1, 20_001)}
    itau = {txid_for(f"109/{sequence:08d}-{sequence % 10}") for sequence in range(1, 20_001)}
    assert len(bb) == len(itau) == 20_000


@pytest.mark.parametrize("nosso_numero", ["", "---", "/ .", "ºª"])
def test_txid_needs_letters_or_digits(nosso_numero: str) -> None:
    with pytest.raises(PixError, match="txid"):
        txid_for(nosso_numero)


@pytest.mark.parametrize("txid", ["", "1" * 26, "abc-123", "ação", "**"])
def test_br_code_refuses_a_txid_outside_the_manual_rules(txid: str) -> None:
    with pytest.raises(PixError, match="txid"):
        br_code(key=EVP, name="A", city="B", txid=txid)


# --- keys ---


@pytest.mark.parametrize(
    "key",
    [
        CPF,
        "12345678909",
        CNPJ,
        "fulano@example.com",
        "a@b",
        "+5561912345678",  # mobile: area code and 9 digits
        "+556132345678",  # landline: area code and 8 digits
        EVP,
        "7d9f0335-8dcc-4054-9bf9-0dbd61d36906",
    ],
)
def test_every_key_kind_is_accepted_and_written_as_given(key: str) -> None:
    merchant = PixMerchant(key=key, name="Loja", city="Recife")
    validate_merchant(merchant)
    account = dict(parse_tlv(fields_of(pix_payload(merchant, 100, "1"))["26"]))
    assert account == {"00": GUI, "01": key}


def test_longest_email_key_fills_field_26_exactly() -> None:
    key = "a" * 65 + "@example.com"  # 77 characters, the most an e-mail key may have
    assert len(key) == 77
    merchant = PixMerchant(key=key, name="Loja", city="Recife")
    fields = fields_of(pix_payload(merchant, 100, "1"))
    assert len(fields["26"]) == 99
    too_long = PixMerchant(key="c" + key, name="Loja", city="Recife")
    with pytest.raises(PixError, match="at most 77"):
        validate_merchant(too_long)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "empty"),
        ("52998224726", "CPF's check digits"),
        ("11111111111", "placeholder"),
        ("11222333000182", "CNPJ's check digits"),
        ("529.982.247-25", "digits only"),
        ("11.222.333/0001-81", "digits only"),
        ("123456789", "neither a CPF"),
        ("5561912345678", "neither a CPF"),
        ("+15551234567", r"\+55 followed by 10 or 11 digits"),
        ("+55619123456789", r"\+55 followed by 10 or 11 digits"),
        ("+55 61 91234-5678", r"\+55 followed by 10 or 11 digits"),
        ("Fulano@Example.com", "lower case"),
        ("fulano @example.com", "one address"),
        ("@example.com", "one address"),
        ("fulano@", "one address"),
        ("a@b@c", "one address"),
        ("joão@example.com", "one address"),
        ("123E4567-E12B-12D1-A456-426655440000", "lower case"),
        ("123e4567-e12b-12d1-a456-42665544000g", "UUID"),
        ("chave-aleatoria", "not a CPF"),
    ],
)
def test_bad_keys_are_refused_with_a_reason_that_does_not_quote_them(key: str, reason: str) -> None:
    merchant = PixMerchant(key=key, name="Loja", city="Recife")
    with pytest.raises(PixError, match=reason) as refused:
        validate_merchant(merchant)
    assert str(refused.value).startswith("Pix key: ")
    if key:
        assert key not in str(refused.value)
    with pytest.raises(PixError):
        pix_payload(merchant, 100, "1")


def test_every_problem_is_reported_at_once() -> None:
    merchant = PixMerchant(key="nope", name="", city="☕", location_template="https://x/{txid}")
    with pytest.raises(PixError) as refused:
        validate_merchant(merchant)
    message = str(refused.value)
    for part in ("merchant name", "merchant city", "Pix key", "Pix location template"):
        assert part in message


# --- dynamic location ---


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("pix.example.com/qr", r"\{txid\} exactly once"),
        ("pix.example.com/{txid}/{txid}", r"\{txid\} exactly once"),
        ("pix.example.com/{TXID}/{txid}", "braces"),
        ("https://pix.example.com/{txid}", "without the scheme"),
        ("pix.example.com/my qr/{txid}", "without blanks"),
        ("pix.exemplo.com/ação/{txid}", "without blanks"),
        ("pix.example.com/" + "q" * 40 + "/{txid}", "at most 77"),
    ],
)
def test_bad_location_templates_are_refused(template: str, reason: str) -> None:
    merchant = PixMerchant(key=CNPJ, name="Loja", city="Recife", location_template=template)
    with pytest.raises(PixError, match=reason):
        validate_merchant(merchant)


def test_location_template_that_fits_the_longest_txid_is_accepted() -> None:
    template = "pix.example.com/" + "q" * 35 + "/{txid}"  # 52 + 25 = 77
    merchant = PixMerchant(key=CNPJ, name="Loja", city="Recife", location_template=template)
    validate_merchant(merchant)
    payload = pix_payload(merchant, 100, "9" * 30)
    location = dict(parse_tlv(fields_of(payload)["26"]))["25"]
    assert location == "pix.example.com/" + "q" * 35 + "/BOL" + "9" * 22
    assert len(location) == 77


def test_br_code_takes_exactly_one_of_key_and_location() -> None:
    with pytest.raises(PixError, match="either a key"):
        br_code(name="A", city="B")
    with pytest.raises(PixError, match="either a key"):
        br_code(key=EVP, location="pix.example.com/x", name="A", city="B")
    with pytest.raises(PixError, match="Pix location: write it without the scheme"):
        br_code(location="https://pix.example.com/x", name="A", city="B")


def test_merchant_is_immutable() -> None:
    with pytest.raises(FrozenInstanceError):
        MERCHANT.key = CPF  # type: ignore[misc]
    assert not MERCHANT.is_dynamic
    assert DYNAMIC.is_dynamic
