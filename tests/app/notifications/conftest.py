"""Fixtures of the mail delivery tests: a real SMTP server (aiosmtpd) that can go down and come
back on its port, and the app delivering to it through the ``mail`` job."""

from __future__ import annotations

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller

from conference_app.jobs import runner


class SMTPServer:
    """An SMTP server on 127.0.0.1 keeping what it receives; ``stop()`` and ``start()`` take it
    down and bring it back on the same port."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(app, smtp_server):
    """The app sending by SMTP to ``smtp_server``, by the ``mail`` job on its job thread; quick retries."""
    settings = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp_server.port, "REDIS_URL": "",
                "MAIL_RETRY_SECONDS": 0.2, "MAIL_MAX_ATTEMPTS": 3}
    saved = {key: app.config.get(key) for key in settings}
    app.config.update(settings)
    yield app
    assert runner.wait_until_idle(app, timeout=60), "a job was still running at the end of the test"
    for key, value in saved.items():
        if value is None:
            app.config.pop(key, None)
        else:
            app.config[key] = value
