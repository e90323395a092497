from boletos.platform.migrations import run_env
from mailer_service.store.tables import metadata

run_env(metadata)
