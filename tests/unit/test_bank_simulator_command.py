"""`boletos bank` on remessas the boleto service's own code writes, and the local stack's bank
member: how it is started, what it is given, and what the stack tells a new user about it."""

from __future__ import annotations

import io
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from boleto_service.domain.cnab240 import (
    Outcome,
    PayerAddress,
    PayerIdKind,
    RemessaPayer,
    RemessaTitle,
    parse_retorno,
    remessa_text,
)
from boleto_service.domain.remessa_policy import Account, file_name
from boleto_service.service.remessas import write_atomically
from boletos_cli.bank import is_paid, unsent
from boletos_cli.bank.decisions import next_weekday
from boletos_cli.commands.stack import bank_wanted, what_now
from boletos_cli.main import build_parser, main
from boletos_cli.stack.layout import SERVICES, StackLayout
from tests.support.processes import free_port
from tests.unit.boleto.test_cnab240_remessa import BB_HEADER, BB_TITLES

ACCOUNT = Account("001", "1234", "56789")
SHARE = 0.5
UPLOAD_ID = "6876820d-b337-4a6f-82c7-24e7bef36ffc"
DEBT_ID = "8291a4c4-3b1e-4c3f-9e6b-5a7f6d9c2e10"


def _payer(cpf: str, cep: str) -> RemessaPayer:
    address = PayerAddress("Rua das Flores, 12", "Centro", cep, "São Paulo", "SP")
    return RemessaPayer("Ana Lima", PayerIdKind.CPF, cpf, address)


# Twelve titles: ten payers the bank takes, one CPF with a wrong check digit, one unused CEP.
PAYERS = [_payer("52998224725", "01310100")] * 10 + [
    _payer("52998224724", "01310100"),
    _payer("52998224725", "00100000"),
]
TITLES = [
    BB_TITLES[1]._replace(
        nosso_numero=f"12345670000000{n:03d}", document_number=str(n), payer=payer
    )
    for n, payer in enumerate(PAYERS, start=1)
]


def _write_remessa(directory: Path, nsa: int, titles: list[RemessaTitle]) -> Path:
    """The file as the boleto service writes it: its name, its bytes, its atomic write."""
    name = file_name(ACCOUNT, nsa)
    write_atomically(directory, name, remessa_text(replace(BB_HEADER, nsa=nsa), titles).encode())
    return directory / name


def _bank(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["bank", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_bank_once_answers_a_real_remessa_with_a_retorno_the_reader_takes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remessas, retornos = tmp_path / "remessas", tmp_path / "retornos"
    remessa = _write_remessa(remessas, 7, TITLES)
    dirs = ("--remessas", str(remessas), "--retornos", str(retornos))

    code, out, err = _bank(capsys, *dirs, "--paid-share", str(SHARE), "--once")

    assert code == 0, err
    retorno = retornos / "001_1234_56789_000007.ret"
    assert stat.S_IMODE(retorno.stat().st_mode) == 0o600
    assert stat.S_IMODE(retornos.stat().st_mode) == 0o700
    parsed = parse_retorno(retorno.read_text())
    assert parsed.errors == () and parsed.unmatched == ()
    assert (parsed.bank_code, parsed.nsa) == ("001", 7)
    by_title: dict[str, list[Outcome]] = {}
    for occurrence in parsed.occurrences:
        by_title.setdefault(occurrence.nosso_numero, []).append(occurrence.outcome)
        if occurrence.outcome is Outcome.PAID:
            title = next(t for t in TITLES if t.nosso_numero == occurrence.nosso_numero)
            assert occurrence.paid_cents == title.amount_cents
            assert occurrence.occurrence_date == title.due_date
            assert occurrence.credit_date == next_weekday(title.due_date)
    paid = [t for t in TITLES[:10] if is_paid(t.nosso_numero, SHARE)]
    assert 0 < len(paid) < 10
    for title in TITLES[:10]:
        expected = [Outcome.REGISTERED] + ([Outcome.PAID] if title in paid else [])
        assert by_title[title.nosso_numero] == expected
    assert by_title[TITLES[10].nosso_numero] == [Outcome.REJECTED]
    assert by_title[TITLES[11].nosso_numero] == [Outcome.REJECTED]
    reasons = {o.nosso_numero: [r.code for r in o.reasons] for o in parsed.occurrences}
    assert reasons[TITLES[10].nosso_numero] == ["46"]
    assert reasons[TITLES[11].nosso_numero] == ["48"]
    # What it says is counts and motivos: no payer's name, CPF or CEP.
    assert (
        f"answered {remessa.name} with {retorno.name}: 12 titles, 10 registered, 2 rejected" in out
    )
    assert "46 Tipo/número de inscrição do pagador inválidos ×1" in out
    assert f"{len(paid)} paid" in out
    for personal in ("Ana Lima", "ANA LIMA", "52998224725", "01310100", "Rua das Flores"):
        assert personal not in out + err

    # A remessa answered is not answered again; a new one is.
    before = retorno.stat().st_mtime_ns
    code, out, err = _bank(capsys, *dirs, "--once")
    assert (code, out, err) == (0, "", "")
    assert retorno.stat().st_mtime_ns == before
    _write_remessa(remessas, 8, TITLES[:1])
    code, out, err = _bank(capsys, *dirs, "--once")
    assert code == 0 and "001_1234_56789_000008.rem" in out and "000007" not in out


def test_a_retorno_the_service_did_not_take_is_kept_to_be_sent_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remessas, retornos = tmp_path / "remessas", tmp_path / "retornos"
    _write_remessa(remessas, 7, TITLES)
    nobody = f"127.0.0.1:{free_port()}"

    code = main(["--boleto", nobody, "bank", "--remessas", str(remessas), "--retornos",
                 str(retornos), "--send", "--once"])  # fmt: skip

    err = capsys.readouterr().err
    assert code == 2
    assert "001_1234_56789_000007.ret not sent: boleto service at" in err and "UNAVAILABLE" in err
    assert unsent(retornos) == [retornos / "001_1234_56789_000007.ret"]


def test_a_file_that_is_no_remessa_is_named_and_left_unanswered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    remessas, retornos = tmp_path / "remessas", tmp_path / "retornos"
    remessas.mkdir()
    (remessas / "001_1234_56789_000009.rem").write_text("name,governmentId\nAna Lima,1234\n")

    code, out, err = _bank(capsys, "--remessas", str(remessas), "--retornos", str(retornos))

    assert code == 2
    assert "001_1234_56789_000009.rem left unanswered: not CNAB 240" in err
    assert "Ana Lima" not in out + err
    assert not (retornos / "001_1234_56789_000009.ret").exists()


def test_a_remessas_directory_that_does_not_exist_is_an_error_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _bank(
        capsys, "--remessas", str(tmp_path / "none"), "--retornos", str(tmp_path / "r"), "--once"
    )
    assert code == 2 and "no such directory" in err


@pytest.mark.parametrize("share", ["-0.1", "1.5", "a third"])
def test_a_paid_share_outside_zero_to_one_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], share: str
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(
            [
                "bank",
                "--remessas",
                str(tmp_path),
                "--retornos",
                str(tmp_path),
                "--paid-share",
                share,
            ]
        )
    assert refused.value.code == 2
    assert "--paid-share" in capsys.readouterr().err


# --- the stack's bank ------------------------------------------------------------------------


def test_the_stacks_bank_follows_the_remessas_and_sends_as_the_stacks_admin(
    tmp_path: Path,
) -> None:
    layout = StackLayout(data_dir=tmp_path / "stack", bank=True)
    argv = layout.bank_argv("python")
    assert argv[:4] == ["python", "-m", "boletos_cli", "bank"]
    assert {"--send", "--follow"} <= set(argv)
    assert argv[argv.index("--remessas") + 1] == str(layout.remessa_dir.resolve())
    assert argv[argv.index("--retornos") + 1] == str((tmp_path / "stack" / "retornos").resolve())

    # Another deployment's settings in the environment must not send it elsewhere.
    env = layout.bank_env(
        {"PATH": "/bin", "BOLETOS_API_KEY": "other", "BOLETOS_INSECURE": "1", "BOLETOS_X": "y"}
    )
    assert env["PATH"] == "/bin"
    assert env["BOLETOS_BOLETO_ADDR"] == layout.service_address(SERVICES[1])
    assert env["BOLETOS_CA_FILE"] == str(layout.secrets.ca)
    assert env["BOLETOS_API_KEY_FILE"] == str(layout.secrets.admin_key)
    assert not {"BOLETOS_API_KEY", "BOLETOS_INSECURE", "BOLETOS_X"} & set(env)


def test_with_the_bank_the_mailer_sends_receipts_unless_told_otherwise(tmp_path: Path) -> None:
    mailer = SERVICES[2]
    with_bank = StackLayout(data_dir=tmp_path, bank=True)
    replica = with_bank.replicas_of(mailer)[0]
    assert with_bank.service_env(replica, {})["MAILER_SEND_RECEIPTS"] == "true"
    told = with_bank.service_env(replica, {"MAILER_SEND_RECEIPTS": "false"})
    assert told["MAILER_SEND_RECEIPTS"] == "false"
    without = StackLayout(data_dir=tmp_path)
    assert "MAILER_SEND_RECEIPTS" not in without.service_env(replica, {})


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], False),
        (["--sample"], True),
        (["--sample", "--no-bank"], False),
        (["--bank"], True),
    ],
)
def test_the_bank_comes_with_the_sample_unless_told(argv: list[str], expected: bool) -> None:
    assert bank_wanted(build_parser().parse_args(["stack", *argv])) is expected


def _drawn(thing: object) -> str:
    console = Console(width=80, file=io.StringIO(), color_system=None, record=True)
    console.print(thing)
    return console.export_text()


def test_what_now_tells_of_the_bank_within_80_columns() -> None:
    text = _drawn(what_now(StackLayout(data_dir=Path(".stack"), bank=True), UPLOAD_ID, DEBT_ID))
    assert max(len(line) for line in text.splitlines()) <= 80, text
    for whole in (
        ".stack/retornos",
        f"boletos boleto {DEBT_ID}",
        f"boletos watch {UPLOAD_ID}",
        "boletos remessa list",
    ):
        assert whole in text, text
    # Without the bank, the retorno is the user's to send.
    assert "boletos retorno" not in text
    plain = _drawn(what_now(StackLayout(data_dir=Path(".stack")), UPLOAD_ID, DEBT_ID))
    assert "boletos retorno RETORNO_FILE" in plain and "retornos" not in plain.replace(
        "RETORNO_FILE", ""
    )
