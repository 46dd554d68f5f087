import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.notifications.servers import CLIENT_EMAIL, PROJECT_ID, FakeFcm, Mailbox, start_fake_fcm, start_smtp


@pytest.fixture
def fake_fcm(settings: Any, tmp_path: Path) -> Iterator[FakeFcm]:
    fake, server, pem = start_fake_fcm()
    account = tmp_path / "service-account.json"
    account.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": CLIENT_EMAIL,
                "private_key": pem,
                "token_uri": fake.token_url,
            }
        )
    )
    settings.FCM_PROJECT_ID = PROJECT_ID
    settings.FCM_SERVICE_ACCOUNT_FILE = str(account)
    settings.FCM_ACCESS_TOKEN = ""
    settings.FCM_BASE_URL = fake.url
    settings.FCM_TOKEN_URL = ""
    fake.process_env = {
        "FCM_PROJECT_ID": PROJECT_ID,
        "FCM_SERVICE_ACCOUNT_FILE": str(account),
        "FCM_ACCESS_TOKEN": "",
        "FCM_BASE_URL": fake.url,
        "FCM_TOKEN_URL": "",
    }
    yield fake
    fake.release.set()
    server.shutdown()


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    mailbox, controller = start_smtp()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    yield mailbox
    controller.stop()
