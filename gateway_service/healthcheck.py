"""Exit 0 when the gateway answers GET /healthz on HTTP_LISTEN_ADDR, 1 otherwise: the
container's health check, over HTTPS checked against GRPC_TLS_CA (the deployment's CA signed
the gateway's certificate too) unless HTTP_INSECURE=true."""

from __future__ import annotations

import os
import ssl
import sys
import urllib.request

from boletos.healthcheck import local_target
from gateway_service.config import DEFAULT_PORT


def main() -> int:
    target = local_target(os.environ.get("HTTP_LISTEN_ADDR", f"127.0.0.1:{DEFAULT_PORT}"))
    insecure = os.environ.get("HTTP_INSECURE", "").lower() == "true"
    context = None if insecure else ssl.create_default_context(cafile=os.environ.get("GRPC_TLS_CA"))
    scheme = "http" if insecure else "https"
    try:
        with urllib.request.urlopen(f"{scheme}://{target}/healthz", timeout=3, context=context):
            return 0
    except OSError as exc:
        print(f"gateway not healthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
