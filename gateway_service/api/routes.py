"""Every REST endpoint and the one RPC it calls: the table the handlers, the OpenAPI document
and the access tests are all built from, so an RPC without an endpoint (or an endpoint
without its roles) fails a test instead of going unnoticed.

Requests follow the proto3 JSON mapping of each RPC's request message: path parameters and
query parameters fill its fields (by JSON or proto name), a POST's JSON body the rest.
Responses are the RPC's response message in the same mapping, except where a file is what
a person wants (a PDF, a remessa, the report as CSV) or a stream is (progress as events)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from boletos.platform.access.roles import BOLETO, INGEST, KEYS, MAILER


class Kind(enum.Enum):
    UNARY = "unary"  # a JSON request (parameters, body) and a JSON response
    UPLOAD = "upload"  # the body is a debts CSV, streamed to Upload
    RETORNO = "retorno"  # the body is a bank's retorno file, streamed to ProcessRetorno
    EVENTS = "events"  # Server-Sent Events, one per message of a server stream
    ROW_ERRORS = "row-errors"  # a server stream's items as one JSON array, streamed
    REPORT = "report"  # GetUploadReport's lines as CSV
    PDF = "pdf"  # GetBoletoPdf's chunks as application/pdf
    REMESSA = "remessa"  # GetRemessa's chunks as the CNAB file


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    rpc: str
    summary: str
    kind: Kind = Kind.UNARY
    status: int = 200

    @property
    def operation_id(self) -> str:
        return self.rpc.rsplit("/", 1)[1]

    @property
    def tag(self) -> str:
        return self.rpc.strip("/").split("/")[0].removeprefix("boletos.v1.")

    @property
    def path_params(self) -> list[str]:
        return [part[1:-1] for part in self.path.split("/") if part.startswith("{")]


ROUTES: tuple[Route, ...] = (
    Route("POST", "/v1/uploads", INGEST + "Upload", "Upload a debts CSV", Kind.UPLOAD, 201),
    Route("GET", "/v1/uploads", INGEST + "ListUploads", "List uploads, newest first"),
    Route("GET", "/v1/uploads/{upload_id}", INGEST + "GetUpload", "One upload's summary"),
    Route(
        "GET",
        "/v1/uploads/{upload_id}/errors",
        INGEST + "ListRowErrors",
        "An upload's rejected rows, in line order",
        Kind.ROW_ERRORS,
    ),
    Route(
        "GET",
        "/v1/uploads/{upload_id}/events",
        INGEST + "WatchUpload",
        "An upload's progress as Server-Sent Events, until it settles",
        Kind.EVENTS,
    ),
    Route(
        "GET",
        "/v1/uploads/{upload_id}/report",
        INGEST + "GetUploadReport",
        "An upload's report as CSV: one line per data row of its file",
        Kind.REPORT,
    ),
    Route("GET", "/v1/boletos", BOLETO + "ListBoletos", "List an upload's boletos"),
    Route("GET", "/v1/boletos/{debt_id}", BOLETO + "GetBoleto", "One debt's boleto"),
    Route("GET", "/v1/boletos/{debt_id}/pdf", BOLETO + "GetBoletoPdf", "A boleto's PDF", Kind.PDF),
    Route(
        "POST",
        "/v1/boletos/{debt_id}/instructions",
        BOLETO + "RequestInstruction",
        "Ask the bank to change a registered boleto (write-off, new due date, rebate)",
    ),
    Route(
        "GET",
        "/v1/boletos/{debt_id}/instructions",
        BOLETO + "ListInstructions",
        "The instructions sent for a boleto",
    ),
    Route("GET", "/v1/remessas", BOLETO + "ListRemessas", "List remessas, newest first"),
    Route("POST", "/v1/remessas", BOLETO + "CreateRemessas", "Cut the remessas due now"),
    Route(
        "GET",
        "/v1/remessas/{remessa_id}",
        BOLETO + "GetRemessa",
        "Download a remessa (CNAB 240)",
        Kind.REMESSA,
    ),
    Route(
        "POST",
        "/v1/retornos",
        BOLETO + "ProcessRetorno",
        "Send a bank's retorno file",
        Kind.RETORNO,
    ),
    Route("GET", "/v1/deliveries", MAILER + "ListDeliveries", "List e-mail deliveries"),
    Route("GET", "/v1/deliveries/{debt_id}", MAILER + "GetDelivery", "One debt's e-mail"),
    Route(
        "POST",
        "/v1/deliveries/retry",
        MAILER + "RetryFailed",
        "Send failed (and, if asked, uncertain) e-mails again",
    ),
    Route("GET", "/v1/keys", KEYS + "ListKeys", "List API keys"),
    Route("POST", "/v1/keys", KEYS + "CreateKey", "Create an API key", status=201),
    Route("DELETE", "/v1/keys/{key_id}", KEYS + "RevokeKey", "Revoke an API key"),
    Route("GET", "/v1/caller", KEYS + "GetCaller", "Who the request's credential is"),
)
