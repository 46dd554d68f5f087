"""Dish photos and shop covers: uploaded in the admin, checked by what the bytes decode as, cleaned of
their metadata, resized once into the variants the apps read, replaced without leaving files behind,
and seen and changed by their own merchant only."""

import io
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from loship.events.models import OutboxEvent
from merchants import services
from merchants.models import MenuItem, Merchant
from merchants.photos import VARIANTS, prepare_photo
from tests.merchants.factories import CENTER_LAT, CENTER_LNG, make_item, make_merchant, make_staff
from tests.merchants.photo_files import (
    GPS_LATITUDE,
    photo_bytes,
    png_bomb,
    stored_names,
    upload,
)
from tests.merchants.test_admin import browser_for, item_post, merchant_post

# Replaced files are removed, and cached pages go stale, when the transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shop(media_root: Path) -> dict[str, Any]:
    merchant = make_merchant(name="Phở Cô Ba")
    return {"merchant": merchant, "item": make_item(merchant, "Phở bò tái"), "owner": make_staff(merchant)}


def post_dish_photo(client: Client, item: MenuItem, data: bytes, name: str = "pho.jpg", **extra: Any) -> Any:
    return client.post(
        f"/admin/merchants/menuitem/{item.pk}/change/",
        item_post(item, photo_upload=upload(data, name), **extra),
    )


def refused_with(response: Any) -> str:
    """The photo field's error on a re-shown admin form."""
    assert response.status_code == 200, "the form should be shown again"
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["photo_upload"], errors
    return str(errors["photo_upload"][0])


def test_owner_uploads_a_dish_photo_and_the_api_serves_its_variants(
    shop: dict[str, Any], media_root: Path, api_client: APIClient
) -> None:
    item = shop["item"]
    before = api_client.get(f"/api/v1/merchants/{item.merchant_id}").json()["menu"][0]["items"][0]
    assert (before["photo"], before["image_url"]) == (None, "")  # and the page is cached now
    response = post_dish_photo(browser_for(shop["owner"]), item, photo_bytes(2400, 1800))
    assert response.status_code == 302, response.content[:2000]

    item.refresh_from_db()
    assert set(item.photo_variants) == {"thumbnail", "list", "full"}
    assert stored_names(media_root) == {item.photo.name, *item.photo_variants.values()}
    sizes = {name: Image.open(media_root / stored).size for name, stored in item.photo_variants.items()}
    assert sizes == {"thumbnail": (240, 240), "list": (800, 600), "full": (1600, 1200)}
    assert Image.open(media_root / item.photo.name).size == (2400, 1800)

    dish = api_client.get(f"/api/v1/merchants/{item.merchant_id}").json()["menu"][0]["items"][0]
    assert dish["photo"] == {name: f"/media/{stored}" for name, stored in item.photo_variants.items()}
    assert dish["image_url"] == dish["photo"]["full"]
    assert (
        OutboxEvent.objects.filter(topic="merchant.photo_changed", aggregate_id=item.merchant_id).count() == 1
    )


def test_a_small_photo_is_never_enlarged(shop: dict[str, Any], media_root: Path) -> None:
    item = services.set_dish_photo(
        item_id=shop["item"].pk, photo=prepare_photo(_file(photo_bytes(500, 400)), size=1)
    )
    sizes = {name: Image.open(media_root / stored).size for name, stored in item.photo_variants.items()}
    assert sizes == {"thumbnail": (240, 240), "list": (500, 375), "full": (500, 400)}


def _file(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def test_exif_is_removed_from_every_stored_file_and_the_photo_is_turned_upright(
    shop: dict[str, Any], media_root: Path
) -> None:
    # Orientation 6: the sensor's landscape pixels are shown turned 90° clockwise (a portrait shot).
    sent = photo_bytes(1200, 800, orientation=6)
    assert b"PhoneMaker" in sent and Image.open(io.BytesIO(sent)).getexif().get_ifd(0x8825)
    post_dish_photo(browser_for(shop["owner"]), shop["item"], sent)

    item = MenuItem.objects.get(pk=shop["item"].pk)
    for name in [item.photo.name, *item.photo_variants.values()]:
        data = (media_root / name).read_bytes()
        assert b"Exif" not in data and b"PhoneMaker" not in data and b"SN-123456789" not in data, name
        assert not Image.open(io.BytesIO(data)).getexif(), name
    original = Image.open(media_root / item.photo.name).convert("RGB")
    assert original.size == (800, 1200)
    # The red left half of the sensor is the top of the upright photo.
    red, blue = original.getpixel((400, 100)), original.getpixel((400, 1100))
    assert isinstance(red, tuple) and isinstance(blue, tuple)
    assert red[0] > 150 > red[2] and blue[2] > 150 > blue[0]
    assert str(GPS_LATITUDE[0]) not in str(Image.open(media_root / item.photo.name).info)


@pytest.mark.parametrize(
    ("image_format", "mode", "extension"),
    [
        ("PNG", "RGBA", "png"),
        ("WEBP", "RGB", "webp"),
        ("JPEG", "L", "jpg"),
        ("JPEG", "CMYK", "jpg"),
        ("MPO", "RGB", "jpg"),
    ],
)
def test_png_webp_greyscale_cmyk_and_multi_picture_photos_are_accepted(
    shop: dict[str, Any], media_root: Path, image_format: str, mode: str, extension: str
) -> None:
    data = photo_bytes(700, 700, image_format=image_format, mode=mode)
    response = post_dish_photo(browser_for(shop["owner"]), shop["item"], data, name="photo.bin")
    assert response.status_code == 302
    item = MenuItem.objects.get(pk=shop["item"].pk)
    assert item.photo.name.endswith(f"/original.{extension}")
    assert Image.open(media_root / item.photo.name).format == (
        "JPEG" if image_format == "MPO" else image_format
    )
    assert Image.open(media_root / item.photo_variants["full"]).format == "JPEG"


@pytest.mark.parametrize(
    ("data", "name", "code_words"),
    [
        (b"GIF89a" + b"\x00" * 2000, "pho.jpg", "JPEG, PNG"),
        (b"not a picture at all, whatever the name says", "pho.png", "JPEG, PNG"),
        (photo_bytes(900, 900, image_format="GIF"), "pho.jpg", "JPEG, PNG"),
        (photo_bytes(300, 900), "pho.jpg", "300×900"),
        (photo_bytes(1200, 900)[:4000], "pho.jpg", "hỏng"),
    ],
    ids=["gif-header", "text", "real-gif-named-jpg", "too-small", "truncated"],
)
def test_bad_files_are_refused_beside_the_field_and_nothing_is_stored(
    shop: dict[str, Any], media_root: Path, data: bytes, name: str, code_words: str
) -> None:
    message = refused_with(post_dish_photo(browser_for(shop["owner"]), shop["item"], data, name=name))
    assert code_words in message
    assert stored_names(media_root) == set()
    assert MenuItem.objects.get(pk=shop["item"].pk).photo_variants == {}


def test_a_file_over_the_size_limit_is_refused(shop: dict[str, Any], media_root: Path, settings: Any) -> None:
    settings.PHOTO_MAX_BYTES = 1024 * 1024
    noisy = Image.effect_noise((1800, 1800), 80).convert("RGB")
    out = io.BytesIO()
    noisy.save(out, "PNG")
    assert out.tell() > settings.PHOTO_MAX_BYTES
    message = refused_with(post_dish_photo(browser_for(shop["owner"]), shop["item"], out.getvalue()))
    assert message == "Ảnh quá nặng: tối đa 1 MB."
    assert stored_names(media_root) == set()


def test_a_decompression_bomb_is_refused_from_its_header(shop: dict[str, Any], media_root: Path) -> None:
    bomb = png_bomb()
    assert len(bomb) < 1024 * 1024  # 1.6 gigapixels in a few hundred kilobytes
    message = refused_with(post_dish_photo(browser_for(shop["owner"]), shop["item"], bomb, name="bomb.png"))
    assert message == "Ảnh quá lớn: tối đa 10000 px mỗi cạnh và 50 megapixel."
    assert stored_names(media_root) == set()


def test_messages_follow_the_admin_language(shop: dict[str, Any]) -> None:
    # A signed-in person reads the admin in their account's language (users/language.py).
    shop["owner"].language = "en"
    shop["owner"].save(update_fields=["language"])
    client = browser_for(shop["owner"])
    response = client.post(
        f"/admin/merchants/menuitem/{shop['item'].pk}/change/",
        item_post(shop["item"], photo_upload=upload(b"plain text", "menu.jpg")),
    )
    assert refused_with(response) == "The file is not a JPEG, PNG or WebP image."


def test_replacing_and_removing_a_photo_removes_the_old_files(shop: dict[str, Any], media_root: Path) -> None:
    client, item = browser_for(shop["owner"]), shop["item"]
    post_dish_photo(client, item, photo_bytes(1000, 1000))
    first = stored_names(media_root)
    assert len(first) == 1 + len(VARIANTS)

    post_dish_photo(client, item, photo_bytes(1100, 1000))
    second = stored_names(media_root)
    assert len(second) == 1 + len(VARIANTS) and not first & second

    response = client.post(f"/admin/merchants/menuitem/{item.pk}/change/", item_post(item, remove_photo="on"))
    assert response.status_code == 302
    assert stored_names(media_root) == set()
    item.refresh_from_db()
    assert (item.photo.name, item.photo_variants) == ("", {})


def test_deleting_a_dish_or_a_merchant_removes_their_photos(shop: dict[str, Any], media_root: Path) -> None:
    photo = prepare_photo(_file(photo_bytes(800, 800)), size=1)
    services.set_dish_photo(item_id=shop["item"].pk, photo=photo)
    other = make_item(shop["merchant"], "Phở gà")
    services.set_dish_photo(item_id=other.pk, photo=photo)
    services.set_cover_photo(merchant_id=shop["merchant"].pk, photo=photo)
    assert len(stored_names(media_root)) == 3 * (1 + len(VARIANTS))

    MenuItem.objects.get(pk=shop["item"].pk).delete()
    assert len(stored_names(media_root)) == 2 * (1 + len(VARIANTS))
    Merchant.objects.get(pk=shop["merchant"].pk).delete()
    assert stored_names(media_root) == set()


def test_a_form_saved_from_a_row_read_before_an_upload_keeps_the_new_photo(
    shop: dict[str, Any], media_root: Path
) -> None:
    stale = MenuItem.objects.get(pk=shop["item"].pk)
    services.set_dish_photo(item_id=stale.pk, photo=prepare_photo(_file(photo_bytes(800, 800)), size=1))
    stale.name = "Phở bò chín"
    stale.save()
    item = MenuItem.objects.get(pk=stale.pk)
    assert item.name == "Phở bò chín"
    assert stored_names(media_root) == {item.photo.name, *item.photo_variants.values()} != set()


def test_the_cover_upload_wins_over_the_typed_url_in_the_page_and_the_list(
    shop: dict[str, Any], media_root: Path, api_client: APIClient
) -> None:
    merchant = shop["merchant"]
    Merchant.objects.filter(pk=merchant.pk).update(cover_image_url="https://cdn.example.com/old.jpg")
    Merchant.objects.get(pk=merchant.pk).save()  # the cached page follows the URL change
    page = api_client.get(f"/api/v1/merchants/{merchant.pk}").json()
    assert (page["cover_image_url"], page["cover_photo"]) == ("https://cdn.example.com/old.jpg", None)
    nearby_url = f"/api/v1/merchants?lat={CENTER_LAT}&lng={CENTER_LNG}"
    assert api_client.get(nearby_url).json()["results"][0]["cover_photo"] is None

    response = browser_for(shop["owner"]).post(
        f"/admin/merchants/merchant/{merchant.pk}/change/",
        merchant_post(
            merchant,
            cover_image_url="https://cdn.example.com/old.jpg",
            photo_upload=upload(photo_bytes(1600, 900)),
        ),
    )
    assert response.status_code == 302, response.content[:3000]

    variants = Merchant.objects.get(pk=merchant.pk).cover_photo_variants
    expected = {name: f"/media/{stored}" for name, stored in variants.items()}
    page = api_client.get(f"/api/v1/merchants/{merchant.pk}").json()  # cached before: now stale
    assert (page["cover_image_url"], page["cover_photo"]) == (expected["full"], expected)
    listed = api_client.get(nearby_url).json()["results"][0]
    assert (listed["cover_image_url"], listed["cover_photo"]) == (expected["full"], expected)


def test_reading_the_api_never_makes_files(
    shop: dict[str, Any], media_root: Path, api_client: APIClient
) -> None:
    services.set_dish_photo(
        item_id=shop["item"].pk, photo=prepare_photo(_file(photo_bytes(900, 900)), size=1)
    )
    before = {name: (media_root / name).stat().st_mtime_ns for name in stored_names(media_root)}
    for _ in range(3):
        api_client.get(f"/api/v1/merchants/{shop['merchant'].pk}")
        api_client.get(f"/api/v1/merchants?lat={CENTER_LAT}&lng={CENTER_LNG}")
    after = {name: (media_root / name).stat().st_mtime_ns for name in stored_names(media_root)}
    assert after == before


def test_the_favourite_dishes_list_shows_the_photo(
    shop: dict[str, Any], media_root: Path, customer_client: APIClient
) -> None:
    item = services.set_dish_photo(
        item_id=shop["item"].pk, photo=prepare_photo(_file(photo_bytes(900, 900)), size=1)
    )
    customer_client.put(f"/api/v1/favourites/dishes/{item.pk}")
    row = customer_client.get("/api/v1/favourites/dishes").json()["results"][0]
    assert row["photo"]["thumbnail"] == f"/media/{item.photo_variants['thumbnail']}"


# --- Isolation -------------------------------------------------------------------------------------


def test_a_merchant_never_sees_or_changes_another_merchants_photos(
    shop: dict[str, Any], media_root: Path
) -> None:
    photo = prepare_photo(_file(photo_bytes(900, 900)), size=1)
    theirs = services.set_dish_photo(item_id=shop["item"].pk, photo=photo)
    services.set_cover_photo(merchant_id=shop["merchant"].pk, photo=photo)
    files_before = stored_names(media_root)
    rival = make_merchant(name="Phở Thìn")
    rival_owner = make_staff(rival)
    client = browser_for(rival_owner)

    for url in (
        f"/admin/merchants/menuitem/{theirs.pk}/change/",
        f"/admin/merchants/merchant/{shop['merchant'].pk}/change/",
    ):
        assert client.get(url).status_code == 404
    listing = client.get("/admin/merchants/menuitem/").content.decode()
    assert theirs.photo_variants["thumbnail"] not in listing

    replaced = post_dish_photo(client, theirs, photo_bytes(1000, 1000))
    removed = client.post(
        f"/admin/merchants/menuitem/{theirs.pk}/change/", item_post(theirs, remove_photo="on")
    )
    cover = client.post(
        f"/admin/merchants/merchant/{shop['merchant'].pk}/change/",
        merchant_post(shop["merchant"], photo_upload=upload(photo_bytes(1000, 1000))),
    )
    assert (replaced.status_code, removed.status_code, cover.status_code) == (404, 404, 404)
    assert stored_names(media_root) == files_before
    assert MenuItem.objects.get(pk=theirs.pk).photo_variants == theirs.photo_variants


def test_plain_staff_see_the_photo_but_cannot_change_it(shop: dict[str, Any], media_root: Path) -> None:
    item = services.set_dish_photo(
        item_id=shop["item"].pk, photo=prepare_photo(_file(photo_bytes(900, 900)), size=1)
    )
    staff = browser_for(make_staff(shop["merchant"], role="staff"))
    page = staff.get(f"/admin/merchants/menuitem/{item.pk}/change/").content.decode()
    assert f"/media/{item.photo_variants['thumbnail']}" in page
    assert 'name="photo_upload"' not in page
    assert post_dish_photo(staff, item, photo_bytes(1000, 1000)).status_code == 403
    assert MenuItem.objects.get(pk=item.pk).photo_variants == item.photo_variants
