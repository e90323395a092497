# syntax=docker/dockerfile:1
# One image for all three services; the command picks one, e.g. `python -m ingest_service`.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Dependencies only: this stage's layers change when requirements.lock or pyproject.toml do,
# never on a code change.
FROM base AS deps
WORKDIR /build
COPY requirements.lock pyproject.toml ./
# The runtime venv gets the project's runtime dependencies at the lock's exact versions;
# the dev extra (pytest, ruff, grpcio-tools, ...) stays out of the image.
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > runtime.txt \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --upgrade pip \
 && /opt/venv/bin/pip install -c requirements.lock -r runtime.txt
# grpcio-tools only generates the stubs; it lives in a venv the runtime never copies.
RUN python -m venv /opt/protoc \
 && /opt/protoc/bin/pip install -c requirements.lock grpcio-tools

FROM deps AS code
WORKDIR /src
COPY protos ./protos
COPY boletos ./boletos
COPY ingest_service ./ingest_service
COPY boleto_service ./boleto_service
COPY mailer_service ./mailer_service
COPY gateway_service ./gateway_service
COPY boletos_cli ./boletos_cli
RUN /opt/protoc/bin/python -m grpc_tools.protoc -Iprotos --python_out=. --grpc_python_out=. \
        protos/boletos/v1/*.proto \
 && /opt/venv/bin/python -m compileall -q boletos ingest_service boleto_service mailer_service boletos_cli

FROM base AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="boletos" \
      org.opencontainers.image.description="gRPC services that turn a debtors' CSV into FEBRABAN boletos delivered by e-mail" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 boletos \
 && useradd --system --uid 10001 --gid boletos --home-dir /app --no-create-home boletos \
 && install -d -o 10001 -g 10001 -m 0700 /secrets /remessas
# /secrets: where compose's `secrets` job writes certificates and keys (a volume takes this
# directory's owner when first created); Kubernetes mounts Secrets there instead. /remessas:
# the boleto service's CNAB 240 files, in compose's `remessas` volume.
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
# Owned by root: the service user can run the code but not change it.
COPY --from=code /src/boletos ./boletos
COPY --from=code /src/ingest_service ./ingest_service
COPY --from=code /src/boleto_service ./boleto_service
COPY --from=code /src/mailer_service ./mailer_service
COPY --from=code /src/gateway_service ./gateway_service
# The operators' command, for `docker compose run --rm cli boletos ...` on the services' network.
COPY --from=code /src/boletos_cli ./boletos_cli
RUN printf '#!/bin/sh\nexec python -m boletos_cli "$@"\n' > /opt/venv/bin/boletos \
 && chmod 0755 /opt/venv/bin/boletos
# Code is importable from /app without installing the project, so a code change only
# replaces the layers above. Services keep state in PostgreSQL, not in the container.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    LOG_FORMAT=json
# By number: Kubernetes' runAsNonRoot can only verify a numeric user.
USER 10001:10001
# gRPC of ingest, boleto and mailer; Prometheus metrics when METRICS_ADDR asks for 9464.
EXPOSE 50051 50052 50053 8443 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "boletos.healthcheck"]
CMD ["python", "-m", "ingest_service"]
