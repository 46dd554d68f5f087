"""Who reacts to which topic. Apps register in their AppConfig.ready(), so `orders` never imports
`drivers`: it records `order.accepted` and the drivers app subscribes to it."""

from collections import defaultdict
from collections.abc import Callable

from loship.events.models import OutboxEvent

Handler = Callable[[OutboxEvent], None]

_handlers: dict[str, list[tuple[str, Handler]]] = defaultdict(list)


def subscribe(topic_prefix: str, name: str, handler: Handler) -> None:
    """Call `handler` for every published event whose topic starts with `topic_prefix`.

    `name` identifies the destination, so a handler registered twice (autoreload) is kept once.
    Handlers run in the relay task and must be idempotent: an event can be delivered twice.
    """
    entries = _handlers[topic_prefix]
    if all(existing != name for existing, _ in entries):
        entries.append((name, handler))


def handlers_for(topic: str) -> list[tuple[str, Handler]]:
    return [entry for prefix, entries in _handlers.items() if topic.startswith(prefix) for entry in entries]


def unsubscribe(topic_prefix: str, name: str) -> None:
    """Forget a destination (tests register throwaway ones)."""
    _handlers[topic_prefix] = [entry for entry in _handlers[topic_prefix] if entry[0] != name]
