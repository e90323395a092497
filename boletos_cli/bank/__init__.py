"""A bank, simulated: the CNAB 240 retornos a bank would send back for remessas.

`retornos` builds a retorno's records from a remessa's segments P and Q and the results it is
told (tests and benchmarks use it for exact, known contents); `decisions` decides those results
the way a bank would (rejecting a payer with a bad CPF, CNPJ or CEP, registering the rest,
paying a share); `desk` answers a directory of remessas with retorno files, for
`boletos bank` and the local stack.
"""

from .decisions import (
    DEFAULT_PAID_SHARE,
    Answer,
    NotARemessa,
    answer,
    decide,
    is_paid,
    payer_problems,
    problems_of,
)
from .desk import Answered, answer_remessa, mark_sent, retorno_name, unanswered, unsent
from .retornos import (
    CREDITED_ON,
    MAX_DETAILS_PER_LOT,
    MAX_RECORDS_PER_FILE,
    PAID_ON,
    BankDay,
    CarriedOut,
    Paid,
    Registered,
    Rejected,
    Result,
    WrittenOff,
    envelope,
    face_value,
    nosso_numero_of,
    pair,
    retorno_for,
    retorno_records,
    simulate,
    titles_of,
)

__all__ = [
    "CarriedOut",
    "CREDITED_ON",
    "DEFAULT_PAID_SHARE",
    "MAX_DETAILS_PER_LOT",
    "MAX_RECORDS_PER_FILE",
    "PAID_ON",
    "Answer",
    "Answered",
    "BankDay",
    "NotARemessa",
    "Paid",
    "Registered",
    "Rejected",
    "Result",
    "WrittenOff",
    "answer",
    "answer_remessa",
    "decide",
    "envelope",
    "face_value",
    "is_paid",
    "mark_sent",
    "nosso_numero_of",
    "pair",
    "payer_problems",
    "problems_of",
    "retorno_for",
    "retorno_name",
    "retorno_records",
    "simulate",
    "titles_of",
    "unanswered",
    "unsent",
]
