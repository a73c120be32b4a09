"""Partner receiver endpoints on loopback for bench/push_status.py, in a process of their own.

    python bench/sinks.py COUNT RECORD_FILE

Listens on COUNT ports (printed as one JSON line on stdout once listening), answers every
request `200 {"status_code": 1000, …}` over keep-alive HTTP/1.1, and records for each one
the time it was received (time.time()), the port, method, path and body. `GET /__count`
answers how many requests were recorded; `GET /__dump` writes them to RECORD_FILE as JSON
lines. One asyncio loop: cheap enough per request not to be what a pusher waits for.
"""

import asyncio
import json
import os
import signal
import sys
import time

ANSWER = b'{"status_code":1000,"timestamp":"2026-01-01T00:00:00Z"}'
OK = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(ANSWER)).encode()
    + b"\r\n\r\n"
    + ANSWER
)

records: list[tuple[float, int, str, str, bytes]] = []


def plain(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            received = time.time()
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                if line[:15].lower() == "content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length) if length else b""
            if path == "/__count":
                writer.write(plain(str(len(records)).encode()))
            elif path == "/__dump":
                with open(sys.argv[2], "w", encoding="utf-8") as out:
                    for at, on, verb, where, data in records:
                        row = {"at": at, "port": on, "method": verb, "path": where}
                        out.write(json.dumps({**row, "body": data.decode()}) + "\n")
                writer.write(plain(b"dumped"))
            elif path == "/__reset":
                records.clear()
                writer.write(plain(b"reset"))
            else:
                records.append((received, port, method, path, body))
                writer.write(OK)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    count = int(sys.argv[1])
    servers = []
    for _ in range(count):

        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await handle(reader, writer, writer.get_extra_info("sockname")[1])

        servers.append(await asyncio.start_server(on_connect, "127.0.0.1", 0, backlog=512))
    ports = [server.sockets[0].getsockname()[1] for server in servers]
    print(json.dumps(ports), flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


if __name__ == "__main__":
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))  # stop at once, quietly
    asyncio.run(main())
