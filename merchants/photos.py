"""Dish photos and shop covers: what an upload must be, and the files made from it.

A merchant's upload is never stored as sent. It is decoded with Pillow (the type is what the bytes
decode as, never the file name or the browser's content type), checked against the limits below
before any pixel is decoded (a few-kilobyte PNG can claim 100,000 x 100,000 pixels), turned upright
by its EXIF orientation, and re-encoded without its metadata: phone photos carry the GPS position of
the kitchen and the phone's serial. The colour profile is kept, so colours stay as shot.

Three sized variants are made at the same time, once per upload, so no request ever resizes:
`thumbnail` (a square crop, for a cart line), `list` (a 4:3 crop, for a list card) and `full` (the
whole photo, fitted inside 1600 px). Variants are JPEG, which every client decodes; transparency is
laid on white. The original, re-encoded in its own type, is kept to make other sizes later.

Files are written through Django's storage API (`default_storage`: the filesystem or S3,
`loship/settings.py`), under a fresh folder per upload, so a replaced photo's files never collide
with the new ones and can be removed after the replacing transaction commits.
"""

import io
import uuid
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, cast

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage, default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from merchants.errors import MerchantErrors

#: Pillow's decoder name -> the extension the stored original takes. Nothing else is accepted.
ACCEPTED_FORMATS: Mapping[str, str] = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


@dataclass(frozen=True, slots=True)
class Limits:
    """What an upload may be; read from settings so that deployments (and tests) can tune them."""

    max_bytes: int
    min_side: int
    max_side: int
    max_pixels: int

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            max_bytes=settings.PHOTO_MAX_BYTES,
            min_side=settings.PHOTO_MIN_SIDE,
            max_side=settings.PHOTO_MAX_SIDE,
            max_pixels=settings.PHOTO_MAX_PIXELS,
        )


@dataclass(frozen=True, slots=True)
class Variant:
    width: int
    height: int
    #: Cropped (centred) to width x height, or fitted inside it; never enlarged (a small photo's crop
    #: keeps the shape at the photo's size).
    crop: bool


VARIANTS: Mapping[str, Variant] = {
    "thumbnail": Variant(240, 240, crop=True),
    "list": Variant(800, 600, crop=True),
    "full": Variant(1600, 1600, crop=False),
}
VARIANT_QUALITY = 82
ORIGINAL_JPEG_QUALITY = 92


@dataclass(frozen=True, slots=True)
class PreparedPhoto:
    """An accepted upload, cleaned and resized, not yet stored."""

    original: bytes
    extension: str
    width: int
    height: int
    variants: Mapping[str, bytes]


def _too_many_pixels(limits: Limits) -> Exception:
    return MerchantErrors.PHOTO_TOO_MANY_PIXELS(
        max_side=limits.max_side, max_megapixels=limits.max_pixels // 1_000_000
    )


def _open(upload: IO[bytes], limits: Limits) -> Image.Image:
    """The upload's header parsed (no pixel decoded yet), refused if its type or size is wrong."""
    try:
        image = Image.open(upload, formats=list(ACCEPTED_FORMATS))
    except UnidentifiedImageError:
        raise MerchantErrors.PHOTO_TYPE() from None
    except Image.DecompressionBombError:
        raise _too_many_pixels(limits) from None
    width, height = image.size
    if width > limits.max_side or height > limits.max_side or width * height > limits.max_pixels:
        raise _too_many_pixels(limits)
    if min(width, height) < limits.min_side:
        raise MerchantErrors.PHOTO_TOO_SMALL(min_side=limits.min_side, width=width, height=height)
    return image


def _decoded(image: Image.Image) -> Image.Image:
    """The first frame decoded and turned upright, or refused if the data stops short or is corrupt."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its MAX_IMAGE_PIXELS and twice that; here a warning refuses.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise MerchantErrors.PHOTO_UNREADABLE() from None
    return upright


def _encode(image: Image.Image, image_format: str, *, icc_profile: bytes | None, quality: int) -> bytes:
    """The pixels in `image_format`, with the colour profile and nothing else of the source's metadata
    (Pillow writes EXIF, XMP or text chunks only when handed them)."""
    out = io.BytesIO()
    options: dict[str, object] = {}
    if icc_profile:
        options["icc_profile"] = icc_profile
    if image_format == "JPEG":
        options.update(quality=quality, optimize=True, progressive=True)
    elif image_format == "WEBP":
        options.update(quality=quality)
    elif image_format == "PNG":
        options.update(optimize=True)
    image.save(out, format=image_format, **options)
    return out.getvalue()


def _rgb(image: Image.Image) -> Image.Image:
    """The image as RGB, anything transparent laid on white (JPEG has no alpha)."""
    if image.mode == "RGB":
        return image
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _sized(image: Image.Image, variant: Variant) -> Image.Image:
    size = (variant.width, variant.height)
    if variant.crop:
        # The variant's shape, at most the photo's own size.
        scale = min(1.0, image.width / variant.width, image.height / variant.height)
        size = (round(variant.width * scale), round(variant.height * scale))
        return ImageOps.fit(image, size, method=Image.Resampling.LANCZOS)
    fitted = image.copy()
    fitted.thumbnail(size, Image.Resampling.LANCZOS)
    return fitted


def prepare_photo(upload: IO[bytes] | File, *, size: int, limits: Limits | None = None) -> PreparedPhoto:
    """The upload checked, cleaned (upright, no metadata) and resized into every variant; raises an
    `ApplicationError` (a `MerchantErrors.PHOTO_*` code) for a file that is not an acceptable photo."""
    limits = limits or Limits.from_settings()
    if size > limits.max_bytes:
        raise MerchantErrors.PHOTO_TOO_LARGE(max_mb=limits.max_bytes // (1024 * 1024))
    upload.seek(0)
    image = _open(cast(IO[bytes], upload), limits)
    # A camera's multi-picture JPEG (MPO: the photo plus depth or preview frames) is a JPEG; the first
    # frame is the photo.
    image_format = "JPEG" if image.format == "MPO" else str(image.format)
    upright = _decoded(image)
    # A colour profile describes the source's colour space: it stays only where the pixels stay in it
    # (an RGB profile on RGB pixels), never on pixels converted from CMYK, grey or a palette.
    icc_profile = image.info.get("icc_profile") if upright.mode in ("RGB", "RGBA") else None
    original_profile = image.info.get("icc_profile")
    if image_format == "JPEG" and upright.mode not in ("RGB", "L"):
        upright, original_profile = upright.convert("RGB"), None
    elif image_format != "JPEG" and upright.mode not in ("RGB", "RGBA", "L", "LA"):
        upright, original_profile = upright.convert("RGBA"), None
    original = _encode(upright, image_format, icc_profile=original_profile, quality=ORIGINAL_JPEG_QUALITY)
    rgb = _rgb(upright)
    variants = {
        name: _encode(_sized(rgb, variant), "JPEG", icc_profile=icc_profile, quality=VARIANT_QUALITY)
        for name, variant in VARIANTS.items()
    }
    return PreparedPhoto(
        original=original,
        extension=ACCEPTED_FORMATS[image_format],
        width=upright.width,
        height=upright.height,
        variants=variants,
    )


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    """Where a photo's files went: the original's storage name, and each variant's."""

    original: str
    variants: dict[str, str]

    def names(self) -> list[str]:
        return [self.original, *self.variants.values()]


def store_photo(photo: PreparedPhoto, *, folder: str, storage: Storage | None = None) -> StoredPhoto:
    """Write the original and the variants under a fresh `folder/<uuid>/`; all or nothing (what was
    written is removed if a later write fails)."""
    storage = storage or default_storage
    base = f"{folder}/{uuid.uuid4().hex}"
    written: list[str] = []
    try:
        original = storage.save(f"{base}/original.{photo.extension}", ContentFile(photo.original))
        written.append(original)
        variants: dict[str, str] = {}
        for name, data in photo.variants.items():
            variants[name] = storage.save(f"{base}/{name}.jpg", ContentFile(data))
            written.append(variants[name])
    except Exception:
        delete_files(written, storage=storage)
        raise
    return StoredPhoto(original=original, variants=variants)


def delete_files(names: list[str], *, storage: Storage | None = None) -> None:
    """Remove stored files; one already gone is not an error."""
    storage = storage or default_storage
    for name in names:
        if name:
            storage.delete(name)


def variant_urls(
    variants: Mapping[str, str] | None, *, storage: Storage | None = None
) -> dict[str, str] | None:
    """`{"thumbnail": url, "list": url, "full": url}` for stored variants, None when there is no photo.
    Building a URL reads no file and calls no server (S3 URLs are made locally)."""
    if not variants:
        return None
    storage = storage or default_storage
    return {name: storage.url(variants[name]) for name in VARIANTS if name in variants}


def photo_fields(
    *, url_key: str, photo_key: str, typed_url: str, variants: Mapping[str, str] | None
) -> dict[str, object]:
    """The two keys a client reads for one picture: `photo_key` holds the uploaded photo's variant
    URLs (null without one), and the older `url_key` keeps working: the uploaded photo's `full`
    variant when there is one (an upload wins), else the URL the merchant typed."""
    urls = variant_urls(variants)
    return {url_key: urls["full"] if urls else typed_url, photo_key: urls}
