"""Photos in an S3-compatible bucket, as production stores them: the same settings the environment
gives (loship/settings.py), against a local server that speaks S3 (moto's server, in its own process),
not a stand-in for boto."""

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from merchants.models import MenuItem
from merchants.photos import VARIANTS
from tests.merchants.factories import make_item, make_merchant, make_staff
from tests.merchants.photo_files import photo_bytes, upload
from tests.merchants.test_admin import item_post
from tests.processes import LiveProcess, free_port

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "loship-media-test"
ACCESS_KEY, SECRET_KEY = "test-access-key", "test-secret-key"
PUBLIC_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
    ],
}


class S3Server(LiveProcess):
    """moto's S3 server on 127.0.0.1:<port>."""

    name = "moto"

    def __init__(self, *, log_path: Path) -> None:
        self.port = free_port()
        args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        super().__init__(args=args, env={"PATH": "/usr/bin:/bin"}, log_path=log_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def is_ready(self) -> bool:
        try:
            return httpx.get(self.url, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server(log_path=tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def bucket(s3_server: S3Server, settings: Any) -> Any:
    """A fresh bucket, and the default storage pointed at it the way MEDIA_S3_* settings do."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_server.url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    # Photos are public: anyone may read them, as the compose file's MinIO bucket is set up.
    client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_READ))
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server.url,
                "region_name": "us-east-1",
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "addressing_style": "path",
                "querystring_auth": False,
                "file_overwrite": False,
                "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
            },
        },
    }
    yield client
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    for key in keys:
        client.delete_object(Bucket=BUCKET, Key=key)
    client.delete_bucket(Bucket=BUCKET)


def keys_in(client: Any) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_an_upload_lands_in_the_bucket_and_the_api_links_to_it(
    bucket: Any, s3_server: S3Server, api_client: APIClient
) -> None:
    merchant = make_merchant(name="Phở Cô Ba")
    item = make_item(merchant, "Phở bò tái")
    owner = Client()
    owner.force_login(make_staff(merchant))
    response = owner.post(
        f"/admin/merchants/menuitem/{item.pk}/change/",
        item_post(item, photo_upload=upload(photo_bytes(2000, 1500, orientation=3))),
    )
    assert response.status_code == 302, response.content[:2000]

    item.refresh_from_db()
    assert keys_in(bucket) == {item.photo.name, *item.photo_variants.values()}
    assert len(item.photo_variants) == len(VARIANTS)
    stored = bucket.get_object(Bucket=BUCKET, Key=item.photo_variants["list"])
    assert stored["CacheControl"] == "public, max-age=31536000, immutable"
    data = stored["Body"].read()
    assert b"PhoneMaker" not in data and Image.open(io.BytesIO(data)).size == (800, 600)

    photo = api_client.get(f"/api/v1/merchants/{merchant.pk}").json()["menu"][0]["items"][0]["photo"]
    assert photo["full"] == f"{s3_server.url}/{BUCKET}/{item.photo_variants['full']}"
    served = httpx.get(photo["thumbnail"], timeout=10)  # the URL the app gets opens the variant
    assert served.status_code == 200 and Image.open(io.BytesIO(served.content)).size == (240, 240)

    first = keys_in(bucket)
    response = owner.post(
        f"/admin/merchants/menuitem/{item.pk}/change/",
        item_post(item, photo_upload=upload(photo_bytes(1000, 1000))),
    )
    assert response.status_code == 302
    second = keys_in(bucket)
    assert len(second) == 1 + len(VARIANTS) and not first & second  # the replaced files are gone
    assert MenuItem.objects.get(pk=item.pk).photo.name in second
