"""The NATS authorization benchmark runs both legs on both servers and prints a rate each."""

from __future__ import annotations

import re

from boletos_bench.nats_auth_bench import main


def test_both_servers_carry_every_message(capsys) -> None:
    assert main(["--messages", "2000", "--rounds", "1"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "authorization" in line]
    assert [line.split(":")[0].split()[-1] for line in lines] == ["off", "on"]
    for line in lines:
        assert re.search(r"publish [\d,]+ msg/s, fetch\+ack [\d,]+ msg/s \(2,000 messages", line)
