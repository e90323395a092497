"""Upload a debtors' CSV to the ingest service and follow it, from Python, with nothing but
grpcio and the stubs `make setup` generates (`boletos.v1`).

    python docs/examples/python_client.py debts.csv \\
        --address localhost:50051 --ca .stack/secrets/ca.pem --key-file .stack/secrets/admin.key

Against the local stack, `source .stack/cli.env` first and the defaults come from there
(BOLETOS_INGEST_ADDR, BOLETOS_CA_FILE, BOLETOS_API_KEY). Prints one JSON line per progress
change and the upload's summary; exits 1 if the file was rejected as a whole.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
from google.protobuf.json_format import MessageToDict

from boletos.v1 import ingest_pb2, ingest_pb2_grpc

CHUNK_BYTES = 64 * 1024


async def requests(path: Path) -> AsyncIterator[ingest_pb2.UploadRequest]:
    """The header first (a request id makes a retry of the same upload safe), then the file
    in chunks, then its size, which the service checks."""
    header = ingest_pb2.UploadHeader(file_name=path.name, client_request_id=str(uuid.uuid4()))
    yield ingest_pb2.UploadRequest(header=header)
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            size += len(chunk)
            yield ingest_pb2.UploadRequest(chunk=chunk)
    yield ingest_pb2.UploadRequest(end=ingest_pb2.UploadEnd(total_bytes=size))


def channel(address: str, ca: bytes, key: str) -> grpc.aio.Channel:
    """TLS checked against the deployment's CA, and the API key on every call."""
    tls = grpc.ssl_channel_credentials(root_certificates=ca)
    bearer = grpc.access_token_call_credentials(key)
    return grpc.aio.secure_channel(address, grpc.composite_channel_credentials(tls, bearer))


async def upload_and_follow(args: argparse.Namespace, ca: bytes, key: str) -> int:
    async with channel(args.address, ca, key) as ch:
        ingest = ingest_pb2_grpc.IngestServiceStub(ch)
        try:
            response = await ingest.Upload(requests(Path(args.file)))
        except grpc.aio.AioRpcError as exc:
            print(json.dumps({"error": exc.code().name, "message": exc.details()}))
            return 1
        summary = response.summary
        print(json.dumps({"summary": MessageToDict(summary)}))
        if summary.state == ingest_pb2.UPLOAD_STATE_REJECTED:
            return 1
        watch = ingest.WatchUpload(ingest_pb2.WatchUploadRequest(upload_id=summary.upload_id))
        try:
            async with asyncio.timeout(args.follow_seconds):
                async for update in watch:
                    print(json.dumps({"progress": MessageToDict(update.progress)}))
        except TimeoutError:
            watch.cancel()
    return 0


def main() -> int:
    env = os.environ
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file")
    parser.add_argument("--address", default=env.get("BOLETOS_INGEST_ADDR", "localhost:50051"))
    parser.add_argument("--ca", default=env.get("BOLETOS_CA_FILE", ""), help="the CA's PEM file")
    parser.add_argument("--key", default=env.get("BOLETOS_API_KEY", ""))
    parser.add_argument("--key-file", help="a file holding the API key (safer than --key)")
    parser.add_argument(
        "--follow-seconds", type=float, default=600.0, help="stop following after this long"
    )
    args = parser.parse_args()
    key = Path(args.key_file).read_text().strip() if args.key_file else args.key
    return asyncio.run(upload_and_follow(args, Path(args.ca).read_bytes(), key))


if __name__ == "__main__":
    raise SystemExit(main())
