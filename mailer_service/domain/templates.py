"""The message's wording: pt-BR defaults and the placeholders a custom template may use.

Templates are `string.Template` text ("$amount"): a brace or a percent sign in HTML or CSS
means nothing to it, unlike str.format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from string import Template

from .errors import InvalidMailSettings

FIELDS = frozenset(
    {
        "payer_name",  # as on the boleto
        "amount",  # "R$ 1.234,56"
        "due_date",  # "01/12/2026"
        "digitable_line",  # linha digitável, formatted for reading
        "nosso_numero",
        "debt_id",
        "sender_name",  # the From display name, or its address when it has none
        "pix_section",  # how to pay by Pix, with the code to copy; empty without Pix
        "payment_link",  # the debtor's page (PUBLIC_BASE_URL/p/...); empty without links
        "link_section",  # a sentence with that link; empty without links
    }
)

DEFAULT_SUBJECT = "Seu boleto de $amount vence em $due_date"

DEFAULT_TEXT = """\
Olá, $payer_name.

Segue em anexo o seu boleto no valor de $amount, com vencimento em $due_date.

Para pagar pelo aplicativo ou site do seu banco, use a linha digitável:

$digitable_line

Nosso número: $nosso_numero
$pix_section$link_section
Se o pagamento já foi feito, por favor desconsidere esta mensagem.

Atenciosamente,
$sender_name
"""

DEFAULT_HTML = """\
<!DOCTYPE html>
<html lang="pt-BR">
<head>
<meta charset="utf-8">
<title>Seu boleto</title>
</head>
<body style="font-family: Arial, Helvetica, sans-serif; color: #222;">
<p>Olá, $payer_name.</p>
<p>Segue em anexo o seu boleto no valor de <strong>$amount</strong>,
com vencimento em <strong>$due_date</strong>.</p>
<p>Para pagar pelo aplicativo ou site do seu banco, use a linha digitável:</p>
<p style="font-family: 'Courier New', monospace; font-size: 15px;">$digitable_line</p>
<p>Nosso número: $nosso_numero</p>
$pix_section
$link_section
<p>Se o pagamento já foi feito, por favor desconsidere esta mensagem.</p>
<p>Atenciosamente,<br>$sender_name</p>
</body>
</html>
"""


@dataclass(frozen=True, slots=True)
class MailTemplate:
    """A checked `string.Template`, filled as str.format_map fills the same text written
    for it: Template.substitute calls back into Python for every placeholder, a twentieth
    of the mailer's CPU per e-mail."""

    template: str  # as string.Template reads it
    _format: str

    def substitute(self, fields: Mapping[str, str]) -> str:
        return self._format.format_map(fields)


def _format_of(template: Template) -> str:
    """The template as str.format text: literal braces doubled, $$ a plain $."""
    text = template.template
    parts: list[str] = []
    end = 0
    for match in template.pattern.finditer(text):
        parts.append(text[end : match.start()].replace("{", "{{").replace("}", "}}"))
        name = match.group("named") or match.group("braced")
        parts.append("$" if name is None else "{" + name + "}")
        end = match.end()
    parts.append(text[end:].replace("{", "{{").replace("}", "}}"))
    return "".join(parts)


def compile_template(text: str, setting: str) -> MailTemplate:
    """A template using only known placeholders, or InvalidMailSettings naming the problem.

    Checked at startup so that a typo fails there rather than on every message.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidMailSettings(f"{setting} must be non-empty text")
    # Body line breaks are written as CRLF later; a stray CR would survive as a bare CR.
    template = Template(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not template.is_valid():
        raise InvalidMailSettings(f"{setting} has a malformed placeholder; write $$ for a '$'")
    unknown = set(template.get_identifiers()) - FIELDS
    if unknown:
        raise InvalidMailSettings(
            f"{setting} uses unknown placeholder(s) {', '.join(sorted(unknown))}; "
            f"available: {', '.join(sorted(FIELDS))}"
        )
    return MailTemplate(template.template, _format_of(template))


PIX_TEXT = """
Prefere Pix? Leia o QR code do boleto, ou copie o código abaixo (Pix copia e cola) no
aplicativo do seu banco:

{payload}
"""

PIX_HTML = """\
<p>Prefere Pix? Leia o QR code do boleto, ou copie o código abaixo (Pix copia e cola) no
aplicativo do seu banco:</p>
<p style="font-family: 'Courier New', monospace; font-size: 13px; word-break: break-all;">\
{payload}</p>"""

LINK_TEXT = """
Veja o boleto, o valor atualizado e o código Pix a qualquer momento em:

{url}
"""

LINK_HTML = """\
<p>Veja o boleto, o valor atualizado e o código Pix a qualquer momento em:
<a href="{url}">{url}</a></p>"""
