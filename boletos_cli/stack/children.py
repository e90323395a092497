"""One child process of the stack: started in its own session, its output forwarded with a
name prefix, stopped with SIGTERM and, past a grace period, SIGKILL, together with any
processes it leaves behind."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from rich.console import Console
from rich.text import Text

from boletos_cli.stack.private import PRIVATE_UMASK

# Lines kept per child for error messages; enough to show a traceback's end.
TAIL_LINES = 25
# A child printing a longer line gets it cut rather than stalling the forwarder.
MAX_LINE_BYTES = 1024 * 1024
PREFIX_STYLES = ("cyan", "magenta", "green", "yellow", "blue")
EXIT_POLL_SECONDS = 0.1
# How long a child's leftover processes get to go away on their own once it has exited.
LEFTOVER_GRACE_SECONDS = 3.0
MAX_NICENESS = 19


class Child:
    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        console: Console,
        style: str,
        prefix_width: int,
        quiet: Callable[[str], bool] | None = None,
        niceness: int = 0,
    ) -> None:
        """Lines `quiet` picks are kept for error messages but not shown; `niceness` is added
        to the child's (and so its workers') CPU niceness, as `nice -n` does."""
        self.name = name
        self.niceness = niceness
        self._quiet = quiet
        self.argv = list(argv)
        self.env = dict(env)
        self.console = console
        self.prefix = Text(f"{name:>{prefix_width}} | ", style=style)
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.proc: asyncio.subprocess.Process | None = None
        self._forwarder: asyncio.Task[None] | None = None
        # Set once it has served: from then on its session's group yields the CPU too.
        self._stepped_back = False

    async def start(self) -> None:
        if self.proc is not None:
            # Started again after dying: whatever it left behind (workers holding its ports
            # or its output pipe) goes first.
            self._signal_group(signal.SIGKILL)
            await self._output_closed(LEFTOVER_GRACE_SECONDS)
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            limit=MAX_LINE_BYTES,
            # Its own session keeps a terminal's Ctrl-C away from the child: the stack
            # decides the order things stop in (services before the NATS they publish to).
            start_new_session=True,
            # Set by the exec machinery in the child, which a preexec_fn would not be safe for.
            umask=PRIVATE_UMASK,
        )
        if self.niceness:
            self._lower_priority(self.proc.pid)
            if self._stepped_back:
                self._lower_group_priority(self.proc.pid)
        assert self.proc.stdout is not None
        self._forwarder = asyncio.create_task(self._forward(self.proc.stdout))

    def step_back(self) -> None:
        """Once the child serves, its whole session yields the CPU: see _lower_group_priority.
        Until then it starts at its group's full share, so a busy machine slows its start
        (imports, migrations) no more than the rest of the stack's."""
        self._stepped_back = True
        if self.niceness and self.proc is not None and self.proc.returncode is None:
            self._lower_group_priority(self.proc.pid)

    def _nice(self) -> int:
        return min(os.getpriority(os.PRIO_PROCESS, 0) + self.niceness, MAX_NICENESS)

    def _lower_priority(self, pid: int) -> None:
        # Set from here rather than in the child before exec (preexec_fn), which is unsafe in a
        # process with threads. The child has only its main thread yet, so every thread and
        # worker process it starts later inherits the value.
        with contextlib.suppress(ProcessLookupError):
            os.setpriority(os.PRIO_PROCESS, pid, self._nice())

    def _lower_group_priority(self, pid: int) -> None:
        # Its own session is its own autogroup where Linux groups by session (the default):
        # CPU is then shared per group whatever the processes' nice, so the group's nice is
        # the one the scheduler honours. Absent elsewhere; the process nice then does.
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/autogroup").write_text(f"{self._nice()}\n")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode if self.proc else None

    def tail_text(self) -> str:
        return "\n".join(self.tail) if self.tail else "(no output)"

    async def wait(self) -> int:
        """Wait for the process itself to exit.

        Not Process.wait(): before Python 3.12 that also waits for the output pipe to close,
        which worker processes the child left behind can hold open indefinitely.
        """
        assert self.proc is not None
        # Polled: asyncio offers no public exit notification apart from Process.wait().
        while self.proc.returncode is None:  # noqa: ASYNC110
            await asyncio.sleep(EXIT_POLL_SECONDS)
        return self.proc.returncode

    async def stop(self, grace: float) -> int | None:
        """SIGTERM, SIGKILL after grace seconds, then clear out its process group."""
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            # Only the child itself: it owns any workers and shuts them down in order.
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            try:
                await asyncio.wait_for(self.wait(), timeout=grace)
            except TimeoutError:
                self.say(f"still running after {grace:g}s, killing")
                self.kill()
        code = await self.wait()
        # End of output means every process holding the pipe (the child's workers, say) is
        # gone; if that does not come soon, whatever is left of its group is killed.
        if not await self._output_closed(LEFTOVER_GRACE_SECONDS):
            self.say("processes it started are still running, killing them")
            self._signal_group(signal.SIGKILL)
            await self._output_closed(LEFTOVER_GRACE_SECONDS)
        return code

    def kill(self) -> None:
        """SIGKILL the child and everything in its process group."""
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, sig: int) -> None:
        # start_new_session made the child the leader of a group numbered by its pid.
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, sig)

    async def _output_closed(self, within: float) -> bool:
        if self._forwarder is None:
            return True
        try:
            async with asyncio.timeout(within):
                await asyncio.shield(self._forwarder)
        except TimeoutError:
            return False
        return True

    def say(self, message: str) -> None:
        """A line from the stack about this child, under its prefix."""
        self.console.print(Text.assemble(self.prefix, message), soft_wrap=True)

    async def _forward(self, stream: asyncio.StreamReader) -> None:
        while True:
            try:
                raw = await stream.readline()
            except ValueError:
                # The line overran the limit and was dropped; keep following the rest.
                self._emit("[line too long, dropped]")
                continue
            if not raw:
                return
            self._emit(raw.decode("utf-8", errors="replace").rstrip())

    def _emit(self, line: str) -> None:
        self.tail.append(line)
        if self._quiet is not None and self._quiet(line):
            return
        # Text, never markup: service logs are full of brackets.
        self.console.print(Text.assemble(self.prefix, line), soft_wrap=True, highlight=False)
