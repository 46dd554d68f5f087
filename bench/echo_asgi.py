"""The physical limit for the driver stream in Python: a bare ASGI WebSocket app (no Django, no
Channels) that greets with a snapshot and answers every message with a small ack.

    uvicorn bench.echo_asgi:app --port 8600 --workers 1
"""

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SNAPSHOT = json.dumps({"type": "snapshot", "offers": [], "jobs": []})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
        )
        await send({"type": "http.response.body", "body": b"ok"})
        return
    protocols = [p for p in scope.get("subprotocols", []) if p.startswith("bearer.")]
    await receive()  # websocket.connect
    await send({"type": "websocket.accept", "subprotocol": protocols[0] if protocols else None})
    await send({"type": "websocket.send", "text": SNAPSHOT})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        body = json.loads(message.get("text") or "{}")
        n = len(body.get("fixes", []))
        await send(
            {
                "type": "websocket.send",
                "text": json.dumps({"type": "location.ack", "accepted": n, "ignored": 0, "rejected": []}),
            }
        )
