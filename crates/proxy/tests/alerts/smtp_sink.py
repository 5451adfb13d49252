"""An SMTP server for the alert tests: aiosmtpd (Debian's python3-aiosmtpd)
on 127.0.0.1:PORT, writing each message it accepts to DIR as JSON with the
envelope, the headers, the decoded plain-text and HTML parts and attachments, so a test
reads exactly what arrived. Runs until killed.

    /usr/bin/python3 smtp_sink.py PORT DIR [--tls starttls|implicit --cert PEM --key PEM]
        [--login USER --password PASSWORD]

With --tls starttls it requires STARTTLS before anything else; with
implicit it speaks TLS from the first byte. With --login it requires AUTH
with that user and password. Each record says whether the message came
over TLS and who authenticated.
"""

import argparse
import email
import itertools
import json
import logging
import os
import signal
import ssl
import sys
import warnings
from email import policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, out, implicit_tls):
        self.out = out
        self.implicit_tls = implicit_tls
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
            "tls": self.implicit_tls or session.ssl is not None,
            "login": (
                session.auth_data.login.decode()
                if session.authenticated and isinstance(session.auth_data, LoginPassword)
                else None
            ),
            "raw": envelope.content.decode("utf-8", "replace"),
            "attachments": [
                {
                    "filename": part.get_filename(),
                    "contentType": part.get_content_type(),
                    "content": part.get_content(),
                }
                for part in msg.iter_attachments()
            ],
        }
        n = next(self.count)
        partial = os.path.join(self.out, f".{n:05}.json")
        with open(partial, "w", encoding="utf-8") as f:
            json.dump(record, f)
        # Whole files only: the test may read the folder at any moment.
        os.rename(partial, os.path.join(self.out, f"{n:05}.json"))
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("out")
    parser.add_argument("--tls", choices=["starttls", "implicit"])
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--login")
    parser.add_argument("--password")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    kwargs = {}
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
        if args.tls == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        else:
            kwargs.update(ssl_context=context)
    if args.login:
        expected = (args.login.encode(), args.password.encode())

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and (
                auth_data.login,
                auth_data.password,
            ) == expected
            return AuthResult(success=ok, auth_data=auth_data)

        # Implicit TLS is TLS already; aiosmtpd only counts STARTTLS (and
        # warns of AUTH without it).
        warnings.filterwarnings("ignore", message="Requiring AUTH")
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        kwargs.update(
            authenticator=authenticator,
            auth_required=True,
            auth_require_tls=args.tls == "starttls",
        )
    controller = Controller(
        Sink(args.out, args.tls == "implicit"), hostname="127.0.0.1", port=args.port, **kwargs
    )
    controller.start()
    print("ready", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.pause()


if __name__ == "__main__":
    main()
