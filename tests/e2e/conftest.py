from tests.processes import relay_process, relay_process_factory  # noqa: F401  (the outbox relay process)
