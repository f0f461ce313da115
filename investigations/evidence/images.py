"""Photos: size checks before decoding (decompression bombs), thumbnails and print copies
with EXIF orientation applied, and the EXIF location that could identify a complainant."""
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from .filetypes import RefusedFile

THUMB_PX = 480
# The copy embedded in PDF dossiers: 1280 px on the long side at JPEG quality 75 prints sharp at the
# width of a page and keeps a 20-photo dossier near 4 MB (docs/benchmarks.md). After changing these,
# `flask evidence print-copies` remakes the existing copies.
PRINT_PX = 1280
PRINT_QUALITY = 75
THUMB_QUALITY = 80
GPS_IFD = 0x8825


@dataclass
class ImageInfo:
    width: int
    height: int
    gps_location: str | None


def _degrees(value, ref) -> float | None:
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    decimal = degrees + minutes / 60 + seconds / 3600
    return -decimal if ref in ("S", "W", b"S", b"W") else decimal


def _gps_location(image: Image.Image) -> str | None:
    try:
        gps = image.getexif().get_ifd(GPS_IFD)
    except Exception:  # malformed EXIF must not refuse an otherwise good photo
        return None
    if not gps or 2 not in gps or 4 not in gps:
        return None
    lat, lon = _degrees(gps[2], gps.get(1)), _degrees(gps[4], gps.get(3))
    if lat is None or lon is None:
        return None
    return f"{lat:.5f}, {lon:.5f}"


def _open(path: Path, max_pixels: int) -> Image.Image:
    try:
        image = Image.open(path)
    except Image.DecompressionBombError as error:
        raise RefusedFile("This image has far too many pixels; it may be a decompression bomb.") from error
    except (UnidentifiedImageError, OSError) as error:
        raise RefusedFile("This image is damaged or not really an image.") from error
    if image.width * image.height > max_pixels:
        image.close()
        raise RefusedFile(f"This image is {image.width} × {image.height} pixels, more than the "
                          f"{max_pixels // 1_000_000} million pixels accepted; it may be a decompression bomb.")
    return image


def inspect(path: Path, max_pixels: int) -> ImageInfo:
    """Read the header only: dimensions and GPS. Refuses oversized or damaged images."""
    with _open(path, max_pixels) as image:
        return ImageInfo(image.width, image.height, _gps_location(image))


def long_side(path: Path) -> int | None:
    """The long side of a stored copy in pixels (its header only), or None if it cannot be read."""
    try:
        with Image.open(path) as image:
            return max(image.size)
    except (OSError, UnidentifiedImageError):
        return None


def make_copies(path: Path, targets: dict[Path, int], max_pixels: int) -> None:
    """Write JPEG copies of the image, upright, with the long side at most `targets[path]` pixels."""
    with _open(path, max_pixels) as image, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        largest = max(targets.values())
        if image.format == "JPEG":
            image.draft("RGB", (largest, largest))  # let the decoder scale down: much faster
        try:
            image.thumbnail((largest, largest), Image.Resampling.LANCZOS)  # shrink in place before any copy
            upright = ImageOps.exif_transpose(image)  # the EXIF orientation survives the shrinking
        except Exception as error:  # damaged data fails in many ways inside decoders
            raise RefusedFile("This image could not be decoded.") from error
        if upright.mode not in ("RGB", "L"):
            background = Image.new("RGB", upright.size, "white")
            rgba = upright.convert("RGBA")
            background.paste(rgba, mask=rgba.getchannel("A"))
            upright = background
        for target, size in sorted(targets.items(), key=lambda item: -item[1]):
            copy = upright.copy()
            copy.thumbnail((size, size), Image.Resampling.LANCZOS)
            target.parent.mkdir(parents=True, exist_ok=True)
            temp = target.with_suffix(".part")
            copy.save(temp, "JPEG", quality=PRINT_QUALITY if size > THUMB_PX else THUMB_QUALITY, optimize=True)
            temp.replace(target)
