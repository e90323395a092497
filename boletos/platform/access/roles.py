"""The access table: every RPC of every service, and the roles allowed to call it.

Deny by default: a method missing from ACCESS is refused to everyone, so a new RPC is
unreachable until someone decides who may call it. Open without a credential: health checking
(probes need it) and a debtor's payment page, whose link carries its own signed authority.
The access table in docs/access-and-security.md is this one; a test compares them.

- uploader: uploads files, and reads only the uploads its own credential made;
- viewer: reads everything (uploads, boletos, deliveries);
- operator: viewer, plus the per-row report and retrying failed e-mails;
- admin: everything, including API keys;
- service: what one service calls on another (the mailer fetching PDFs).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class Role(enum.StrEnum):
    UPLOADER = "uploader"
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"
    SERVICE = "service"


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    # One line in the audit log per call: it reads personal data or changes something.
    audited: bool = False
    # Uploaders may call it, on the uploads their own credential made only.
    own_uploads: bool = False

    def allows(self, roles: Iterable[Role]) -> bool:
        return not self.roles.isdisjoint(roles)

    def limited_to_own_uploads(self, roles: Iterable[Role]) -> bool:
        """True when the caller gets in only as an uploader."""
        held = set(roles)
        return self.own_uploads and not (self.roles - {Role.UPLOADER}) & held


def _rule(*roles: Role, audited: bool = False, own_uploads: bool = False) -> Rule:
    granted = {*roles, Role.ADMIN}
    if own_uploads:
        granted.add(Role.UPLOADER)
    return Rule(frozenset(granted), audited, own_uploads)


U, V, OP, SVC = Role.UPLOADER, Role.VIEWER, Role.OPERATOR, Role.SERVICE
INGEST = "/boletos.v1.IngestService/"
BOLETO = "/boletos.v1.BoletoService/"
MAILER = "/boletos.v1.MailerService/"
KEYS = "/boletos.v1.KeyService/"
REFLECTION = (
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
)
# A debtor's page: no credential, because the signed token in the request (checked by the
# servicer, boletos.platform.payment_links) is the authority, for one boleto only.
PAYMENT_LINKS = frozenset({BOLETO + "GetPaymentPage", BOLETO + "GetPaymentPagePdf"})
PUBLIC = frozenset({"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"}) | PAYMENT_LINKS

ACCESS: Mapping[str, Rule] = {
    INGEST + "Upload": _rule(U, OP, audited=True),
    INGEST + "GetUpload": _rule(V, OP, own_uploads=True),
    INGEST + "ListUploads": _rule(V, OP, own_uploads=True),
    INGEST + "ListRowErrors": _rule(V, OP, own_uploads=True),
    INGEST + "WatchUpload": _rule(V, OP, own_uploads=True),
    INGEST + "GetUploadReport": _rule(OP, audited=True, own_uploads=True),
    BOLETO + "GetBoleto": _rule(V, OP, audited=True),
    BOLETO + "ListBoletos": _rule(V, OP, audited=True),
    BOLETO + "GetBoletoPdf": _rule(V, OP, audited=True),
    BOLETO + "BatchGetBoletoPdfs": _rule(SVC, audited=True),
    BOLETO + "ListRemessas": _rule(V, OP),
    # A remessa carries every payer's name and CPF/CNPJ.
    BOLETO + "GetRemessa": _rule(OP, audited=True),
    BOLETO + "CreateRemessas": _rule(OP, audited=True),
    BOLETO + "ProcessRetorno": _rule(OP, audited=True),
    BOLETO + "RequestInstruction": _rule(OP, audited=True),
    BOLETO + "ListInstructions": _rule(V, OP),
    MAILER + "GetDelivery": _rule(V, OP, audited=True),
    MAILER + "ListDeliveries": _rule(V, OP, audited=True),
    MAILER + "RetryFailed": _rule(OP, audited=True),
    KEYS + "CreateKey": _rule(audited=True),
    KEYS + "ListKeys": _rule(audited=True),
    KEYS + "RevokeKey": _rule(audited=True),
    # Who the caller is: what a client needs to show each person what their role allows.
    KEYS + "GetCaller": _rule(*Role),
    # Describing the services needs a credential of any role, when reflection is on.
    **{method: _rule(*Role) for method in REFLECTION},
}
