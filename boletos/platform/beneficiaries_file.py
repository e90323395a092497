"""BENEFICIARIES_FILE: the beneficiaries a deployment collects for, one TOML table each.

    [beneficiaries.fundo-a]
    name = "Fundo A de Recebíveis Ltda"
    cnpj = "11.222.333/0001-81"
    bank_code = "001"
    agencia = "1234"
    ...

Read here, once, by every service that needs it: the boleto service builds each beneficiary
from its fields, ingest only checks that an upload names one of the keys.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

from boletos.platform.env import ConfigError

VARIABLE = "BENEFICIARIES_FILE"
TABLE = "beneficiaries"
# The key of the beneficiary the BENEFICIARY_* variables define, in every service.
DEFAULT_KEY = "default"
# Keys travel in events, file names, metric labels and API keys' limits: short, plain and
# unambiguous, the same rule wherever one is read.
KEY_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?")


def read_beneficiaries_file(path: str) -> dict[str, dict[str, str]]:
    """Each beneficiary's fields, as text, by key, in the file's order; ConfigError naming
    the file and the place for anything unreadable."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{VARIABLE}: cannot read {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{VARIABLE}: {path} is not valid TOML: {exc}") from None
    unknown = set(data) - {TABLE}
    if unknown:
        raise ConfigError(
            f"{VARIABLE}: {path} has {', '.join(sorted(unknown))}; only [{TABLE}.KEY] tables "
            "are read"
        )
    tables = data.get(TABLE)
    if not isinstance(tables, Mapping) or not tables:
        raise ConfigError(f"{VARIABLE}: {path} defines no [{TABLE}.KEY] table")
    found: dict[str, dict[str, str]] = {}
    for key, fields in tables.items():
        if not KEY_PATTERN.fullmatch(key):
            raise ConfigError(
                f"{VARIABLE}: beneficiary key {key!r} must be lower-case letters, digits, '-' "
                "or '_', at most 64, starting and ending with a letter or digit"
            )
        if not isinstance(fields, Mapping):
            raise ConfigError(f"{VARIABLE}: {TABLE}.{key} must be a table of fields")
        values: dict[str, str] = {}
        for name, value in fields.items():
            # Numbers are text here: an agência's or conta's leading zeros are part of it.
            if not isinstance(value, str):
                raise ConfigError(
                    f"{VARIABLE}: {TABLE}.{key}.{name} must be a quoted string "
                    f"(leading zeros matter), got {value!r}"
                )
            values[name] = value
        found[key] = values
    return found


def beneficiary_keys(env: Mapping[str, str]) -> tuple[str, ...]:
    """The keys an upload may name; empty when BENEFICIARIES_FILE is unset (then the one
    beneficiary of the BENEFICIARY_* variables is the only one, and uploads leave it out)."""
    path = env.get(VARIABLE, "").strip()
    return tuple(read_beneficiaries_file(path)) if path else ()
