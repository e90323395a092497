"""Following an upload's debts through the pipeline: the bars of `upload --wait` and `watch`."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncGenerator, AsyncIterator

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TaskID, TextColumn

from boletos.v1 import ingest_pb2, ingest_pb2_grpc
from boletos_cli.money import reais_text

# Two bars of this width and their counts fit an 80-column terminal.
BAR_WIDTH = 24


def follow_columns() -> tuple[ProgressColumn, ...]:
    return (
        TextColumn("[bold]{task.description:<8}"),
        BarColumn(bar_width=BAR_WIDTH),
        TextColumn("{task.fields[detail]}"),
    )


def watch_hint(upload_id: str) -> str:
    return f"boletos watch {upload_id}"


async def follow(
    stub: ingest_pb2_grpc.IngestServiceStub, upload_id: str, err: Console
) -> ingest_pb2.UploadProgress | None:
    """Shows the upload's boletos and e-mails as they settle; returns the last snapshot.

    Stopping early (Ctrl-C) leaves the upload going on and says how to follow it again.
    """
    last: ingest_pb2.UploadProgress | None = None
    with Progress(*follow_columns(), console=err) as bars:
        boletos = bars.add_task("boletos", total=None, detail="waiting for the first update")
        emails = bars.add_task("e-mails", total=None, detail="")
        # Hidden until the bank reports a payment: most uploads settle long before any.
        paid = bars.add_task("paid", total=None, detail="", visible=False)
        call = stub.WatchUpload(ingest_pb2.WatchUploadRequest(upload_id=upload_id))
        try:
            async with contextlib.aclosing(_until_interrupted(call)) as messages:
                async for message in messages:
                    last = message.progress
                    update_bars(bars, boletos, emails, last, paid)
                    if last.settled:
                        break
        except KeyboardInterrupt:
            err.print(
                f"stopped following; the upload goes on.\nfollow it again: {watch_hint(upload_id)}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            raise
        finally:
            call.cancel()
    if last is not None and not last.settled:
        err.print(
            "[yellow]the service stopped reporting before the upload settled[/]\n"
            f"follow it again: {watch_hint(upload_id)}",
            soft_wrap=True,
        )
    return last


async def _until_interrupted(
    call: AsyncIterator[ingest_pb2.WatchUploadResponse],
) -> AsyncGenerator[ingest_pb2.WatchUploadResponse, None]:
    """The stream's messages until it ends, or KeyboardInterrupt at Ctrl-C.

    Ctrl-C is taken here rather than through the task's cancellation: a cancellation that
    reaches the stream's read at the wrong moment can be lost inside grpc, leaving the
    command waiting on a stream that never ends."""
    loop = asyncio.get_running_loop()
    interrupted = asyncio.Event()
    loop.add_signal_handler(signal.SIGINT, interrupted.set)
    messages = aiter(call)
    stop = asyncio.ensure_future(interrupted.wait())
    try:
        while True:
            following = asyncio.ensure_future(anext(messages))
            await asyncio.wait({following, stop}, return_when=asyncio.FIRST_COMPLETED)
            if stop.done():
                following.cancel()
                raise KeyboardInterrupt
            try:
                yield following.result()
            except StopAsyncIteration:
                return
    finally:
        stop.cancel()
        loop.remove_signal_handler(signal.SIGINT)


def update_bars(
    bars: Progress,
    boletos: TaskID,
    emails: TaskID,
    p: ingest_pb2.UploadProgress,
    paid: TaskID | None = None,
) -> None:
    issued_or_failed = p.boletos_issued + p.boletos_failed
    bars.update(
        boletos,
        total=p.accepted,
        completed=issued_or_failed,
        detail=_detail(issued_or_failed, p.accepted, p.boletos_failed),
    )
    due = p.accepted - p.boletos_failed
    sent_or_failed = p.emails_sent + p.emails_failed
    bars.update(
        emails,
        total=due,
        completed=sent_or_failed,
        detail=_detail(sent_or_failed, due, p.emails_failed),
    )
    if paid is not None and p.boletos_paid:
        issued = p.boletos_issued
        bars.update(
            paid,
            total=issued,
            completed=p.boletos_paid,
            visible=True,
            detail=f"{p.boletos_paid:,}/{issued:,} · {reais_text(p.paid_cents)}",
        )


def _detail(done: int, total: int, failed: int) -> str:
    text = f"{done:,}/{total:,}"
    return text + (f" · [red]{failed:,} failed[/]" if failed else "")
