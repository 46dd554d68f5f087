"""Photos as phones and attackers send them, made with Pillow, and the storages the tests write to."""

import functools
import io
import struct
import zlib
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

#: Where the test photos were "taken" (Ben Thanh market), written into their GPS tags.
GPS_LATITUDE = (10.0, 46.0, 21.0)
GPS_LONGITUDE = (106.0, 41.0, 52.0)
RED, BLUE = (220, 20, 20), (20, 20, 220)


def phone_exif(*, orientation: int = 1) -> bytes:
    """EXIF as a phone writes it: maker, model, serial, orientation and the GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Phone 15"
    exif[ExifTags.Base.BodySerialNumber] = "SN-123456789"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = GPS_LONGITUDE
    return exif.tobytes()


def photo_bytes(
    width: int = 1200,
    height: int = 900,
    *,
    image_format: str = "JPEG",
    orientation: int = 1,
    mode: str = "RGB",
) -> bytes:
    """A photo whose left half is red and right half blue (so turning it shows), with phone EXIF."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height))
    if mode != "RGB":
        image = image.convert(mode)
    out = io.BytesIO()
    options: dict[str, Any] = {"exif": phone_exif(orientation=orientation)}
    if image_format in ("JPEG", "MPO"):
        options["quality"] = 90
    if image_format == "MPO":  # a multi-picture JPEG, as many phones and cameras write
        options.update(save_all=True, append_images=[image.rotate(180)])
    image.save(out, format=image_format, **options)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def png_bomb(side: int = 40_000) -> bytes:
    """A valid 1-bit PNG of side x side blank pixels (1.6 gigapixels by default) that compresses to
    a few hundred kilobytes: decoding it would take gigabytes."""
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def upload(data: bytes, name: str = "dish.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def stored_names(root: Path) -> set[str]:
    """Every file under a MEDIA_ROOT, as storage names."""
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}
