"""Command pipelining (RFC 2920) on aiosmtplib's connections.

A server that advertises PIPELINING takes MAIL, RCPT and DATA in one write and answers each
in order: one round trip where there were three. Against a distant server that is most of a
message's time on its connection, and so of how many connections a rate needs; on one
machine it is two fewer wake-ups of each side per message.

aiosmtplib sends a command and waits for its reply before the next. Its protocol drops bytes
that arrive while no reply is awaited, and leaves unread a reply that arrives in the same
segment as the one awaited. PipeliningProtocol keeps what arrives while replies are owed and
hands them out in order. It relies on four private names of aiosmtplib's SMTPProtocol
(`_buffer`, `_response_waiter`, `_response_pending`, `_read_response_from_buffer`), as
pinned in requirements.lock; the delivery tests run every reply path through it.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiosmtplib
from aiosmtplib.protocol import MAX_RESPONSE_LENGTH, SMTPProtocol


class PipeliningProtocol(SMTPProtocol):
    """aiosmtplib's protocol, keeping the replies of commands written together."""

    # Replies the server owes to commands written together and not yet read.
    owed = 0
    _overflow = False

    def write_commands(self, commands: Sequence[bytes]) -> None:
        """Writes the commands at once; read each reply with read_response, in order."""
        self.owed += len(commands)
        self.write(b"".join(command + b"\r\n" for command in commands))

    def data_received(self, data: bytes) -> None:
        waiter = self._response_waiter
        if self.owed and waiter is not None and (waiter.done() or not self._response_pending):
            # The reply to a later command, come before the earlier one was taken: aiosmtplib
            # would drop it. Kept for its own read.
            self._buffer.extend(data)
            if len(self._buffer) > MAX_RESPONSE_LENGTH:
                del self._buffer[:]
                self._overflow = True
            return
        super().data_received(data)

    # aiosmtplib's signature, overridden.
    async def read_response(self, timeout: float | None = None) -> aiosmtplib.SMTPResponse:  # noqa: ASYNC109
        if self.owed:
            self.owed -= 1
            if self._overflow:
                raise aiosmtplib.SMTPResponseException(
                    aiosmtplib.SMTPStatus.invalid_response, "Response too long"
                )
            # A reply that came with an earlier one is taken as it is: nothing to wait for.
            response = self._read_response_from_buffer() if self._buffer else None
            if response is not None:
                return response
        return await super().read_response(timeout)


def pipelining(client: aiosmtplib.SMTP) -> PipeliningProtocol | None:
    """The connection's protocol, able to pipeline, if the server offers PIPELINING."""
    protocol = client.protocol
    if protocol is None or not client.supports_extension("pipelining"):
        return None
    if not isinstance(protocol, PipeliningProtocol):
        # aiosmtplib makes its protocol itself, with no way to ask for another class. This
        # one adds behaviour, no state of its own the instance would lack, so the
        # connection's own instance can take it on.
        protocol.__class__ = PipeliningProtocol
    assert isinstance(protocol, PipeliningProtocol)
    return protocol
