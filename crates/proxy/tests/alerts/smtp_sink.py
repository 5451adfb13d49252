"""An SMTP server for the alert tests: aiosmtpd (Debian's python3-aiosmtpd)
on 127.0.0.1:PORT, writing each message it accepts to DIR as JSON with the
envelope, the headers and the decoded plain-text and HTML parts, so a test
reads exactly what arrived. Runs until killed.

    /usr/bin/python3 smtp_sink.py PORT DIR
"""

import email
import itertools
import json
import os
import signal
import sys
from email import policy

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out):
        self.out = out
        self.count = itertools.count()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        text = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        record = {
            "mailFrom": envelope.mail_from,
            "rcptTos": envelope.rcpt_tos,
            "from": str(msg["from"]),
            "to": str(msg["to"]),
            "subject": str(msg["subject"]),
            "messageId": str(msg["message-id"]),
            "text": text.get_content() if text is not None else None,
            "html": html.get_content() if html is not None else None,
            "raw": envelope.content.decode("utf-8", "replace"),
        }
        n = next(self.count)
        partial = os.path.join(self.out, f".{n:05}.json")
        with open(partial, "w", encoding="utf-8") as f:
            json.dump(record, f)
        # Whole files only: the test may read the folder at any moment.
        os.rename(partial, os.path.join(self.out, f"{n:05}.json"))
        return "250 Message accepted for delivery"


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    controller = Controller(Sink(out), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.pause()


if __name__ == "__main__":
    main()
