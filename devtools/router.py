"""The dev router of `make run`: one base URL in front of the `web` and `ws` processes, as nginx is in
production (deploy/nginx.conf). A connection whose first request is for /ws/ goes to ws, any other to
web, and the bytes are then copied both ways untouched.

Routing by connection is routing by request here: the web process (gunicorn sync workers) answers one
request per connection and closes it, and a browser opens a fresh connection for each WebSocket.

    python -m devtools.router --port 8000 --web 8001 --ws 8002
"""

import argparse
import asyncio
import contextlib

HEAD_LIMIT = 64 * 1024
BAD_GATEWAY = (
    b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n"
    b"Content-Length: 32\r\n\r\nthe process is not up yet (502)\n"
)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


async def _serve(
    client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter, *, web: int, ws: int
) -> None:
    try:
        head = await client_reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        client_writer.close()
        return
    path = head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"/"
    port = ws if path.startswith(b"/ws/") else web
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        client_writer.write(BAD_GATEWAY)
        with contextlib.suppress(ConnectionError):
            await client_writer.drain()
        client_writer.close()
        return
    upstream_writer.write(head)
    await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))
    for writer in (upstream_writer, client_writer):
        writer.close()


async def _main(host: str, port: int, web: int, ws: int) -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _serve(reader, writer, web=web, ws=ws)

    server = await asyncio.start_server(serve, host, port, limit=HEAD_LIMIT)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="the one base URL's port")
    parser.add_argument("--web", type=int, required=True, help="port of the web process (HTTP)")
    parser.add_argument("--ws", type=int, required=True, help="port of the ws process (/ws/)")
    options = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(options.host, options.port, options.web, options.ws))


if __name__ == "__main__":
    main()
