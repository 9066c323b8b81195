"""Proof of delivery: the recipient's signature drawn on the phone and a photo of the papers
handed over. Both are personal data, so each upload is checked (bytes, pixels, a real image),
re-encoded without its metadata (EXIF carries the phone's GPS position) and kept outside the
public media folder; only a scoped view serves them."""

from __future__ import annotations

import base64
import io
import os
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

# A phone photo is 2–6 MB; a drawn signature a few tens of KB.
MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_SIGNATURE_BYTES = 512 * 1024
# Decoded size guard against decompression bombs (a tiny file that decodes to gigapixels).
MAX_PIXELS = 40_000_000
PHOTO_MAX_SIDE = 1600
SIGNATURE_MAX_SIDE = 1000
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}


class ProofStorage(FileSystemStorage):
    """Files under settings.PRIVATE_MEDIA_ROOT, read at use time so tests can point it elsewhere."""

    def __init__(self):
        super().__init__(base_url=None)

    @property
    def base_location(self):
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self):
        return os.path.abspath(self.base_location)


def _open(upload, *, limit: int, what: str) -> Image.Image:
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            _("The %(what)s is too large (at most %(limit)s MB).")
            % {"what": what, "limit": f"{limit / 1024 / 1024:g}"}
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(
            _("The %(what)s is too large (at most %(limit)s MB).")
            % {"what": what, "limit": f"{limit / 1024 / 1024:g}"}
        )
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in ACCEPTED_FORMATS:
            raise ValidationError(_("The %(what)s must be a JPEG, PNG or WebP picture.") % {"what": what})
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise ValidationError(_("The %(what)s has too many pixels.") % {"what": what})
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise ValidationError(
            _("The %(what)s is not a picture that can be read.") % {"what": what}
        ) from error
    return image


def clean_photo(upload) -> ContentFile:
    """A JPEG of at most PHOTO_MAX_SIDE pixels, turned upright, with no metadata at all."""
    image = _open(upload, limit=MAX_PHOTO_BYTES, what=_("photo"))
    image = ImageOps.exif_transpose(image).convert("RGB")
    image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80, optimize=True)  # no exif= argument: none is written
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.jpg")


def clean_signature(upload) -> ContentFile:
    """A PNG of the strokes on white, at most SIGNATURE_MAX_SIDE pixels wide."""
    image = _open(upload, limit=MAX_SIGNATURE_BYTES, what=_("signature"))
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, "white")
        background.alpha_composite(image)
        image = background
    image = image.convert("L")
    image.thumbnail((SIGNATURE_MAX_SIDE, SIGNATURE_MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.png")


def data_uri(field) -> str:
    """A stored signature as a data: URI, for printed records and PDFs that fetch nothing."""
    if not field:
        return ""
    with field.open("rb") as handle:
        return "data:image/png;base64," + base64.b64encode(handle.read()).decode()
