from boleto_service.store.tables import metadata
from boletos.platform.migrations import run_env

run_env(metadata)
