"""A real SMTP server for the email tests and the email bench (aiosmtpd).

Listens on 127.0.0.1 on a free port, prints "port <n>" once it accepts
connections, and stores every message it receives in the folder given as
the first argument: <n>.eml (the message as received) and <n>.json (its
envelope recipients, headers and decoded text parts, as Python's email
package parses them), each written to a temporary name first so a reader
never sees half a file; the .json comes last. Recipients whose address starts with
"bounce" are refused at RCPT with 550 (a permanent failure), like an
unknown mailbox. Runs until killed.
"""

import asyncio
import email
import email.policy
import itertools
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Store:
    def __init__(self, folder):
        self.folder = folder
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("bounce"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        headers = {}
        for name, value in msg.items():
            headers.setdefault(name.lower(), []).append(str(value))
        parts = [
            {"type": part.get_content_type(), "text": part.get_content()}
            for part in msg.walk()
            if part.get_content_maintype() == "text"
        ]
        parsed = {
            "mail_from": envelope.mail_from,
            "rcpt": envelope.rcpt_tos,
            "content_type": msg.get_content_type(),
            "headers": headers,
            "parts": parts,
        }
        for name, data in (
            (f"{n}.eml", raw),
            (f"{n}.json", json.dumps(parsed).encode()),
        ):
            tmp = os.path.join(self.folder, f".{name}.tmp")
            with open(tmp, "wb") as f:
                f.write(data)
            os.rename(tmp, os.path.join(self.folder, name))
        return f"250 Message accepted for delivery as {n}"


async def main(folder):
    handler = Store(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp.test", decode_data=False),
        host="127.0.0.1",
        port=0,
    )
    port = server.sockets[0].getsockname()[1]
    print(f"port {port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    os.makedirs(sys.argv[1], exist_ok=True)
    asyncio.run(main(sys.argv[1]))
