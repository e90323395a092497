"""Where operator notifications go; read from the environment by ingest_service.config."""

from __future__ import annotations

from dataclasses import dataclass, field

# Large files make large reports: past this size the e-mail says how to fetch the report
# instead of carrying it, which most mail servers would refuse anyway.
DEFAULT_REPORT_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class NotifySettings:
    email_to: tuple[str, ...] = ()
    email_from: str = "Boletos <boletos@localhost>"
    smtp_host: str = "localhost"
    smtp_port: int = 1025
    smtp_security: str = "none"  # none, starttls or tls
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    webhook_url: str = field(default="", repr=False)  # its path is often a secret token
    max_attempts: int = 10
    retry_base_seconds: float = 5.0
    timeout_seconds: float = 30.0
    report_max_bytes: int = DEFAULT_REPORT_MAX_BYTES

    @property
    def enabled(self) -> bool:
        return bool(self.email_to or self.webhook_url)

    def masked(self) -> dict[str, object]:
        """Safe to log: no password, no webhook path, recipients by domain only."""
        from urllib.parse import urlsplit

        values = dict(self.__dict__)
        values["email_to"] = [address.partition("@")[2] for address in self.email_to]
        values["smtp_password"] = "***" if self.smtp_password else ""
        values["webhook_url"] = (
            urlsplit(self.webhook_url)._replace(path="/…", query="").geturl()
            if self.webhook_url
            else ""
        )
        return values
