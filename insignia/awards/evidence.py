"""Uploaded evidence files: checked by content, stored under a random name, served as downloads.

Accepted: PDF, PNG, JPEG and plain text (UTF-8), up to INSIGNIA_MAX_UPLOAD_BYTES. The type is sniffed
from the bytes; the uploader's filename and content type are only hints. Anything a browser could run —
HTML, SVG, XML, or text that contains markup such as ``<script`` — is refused, and every file is served
with ``Content-Disposition: attachment``, ``nosniff`` and a sandboxing CSP (see ``views.evidence_file``).
The filename is kept, sanitised, with an extension that matches the sniffed type.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from insignia.core.errors import ServiceError

PDF_TYPE = "application/pdf"
PNG_TYPE = "image/png"
JPEG_TYPE = "image/jpeg"
TEXT_TYPE = "text/plain"
#: The sniffed type → the extensions a filename may keep (the first is added when it has none of them).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    PDF_TYPE: (".pdf",),
    PNG_TYPE: (".png",),
    JPEG_TYPE: (".jpg", ".jpeg"),
    TEXT_TYPE: (".txt", ".text", ".md", ".csv", ".log"),
}
MAX_FILENAME = 200
#: Markup that makes text dangerous if a browser ever renders it (checked case-insensitively).
_MARKUP = re.compile(
    rb"<\s*(?:script|svg|html|body|head|iframe|frame|object|embed|img|meta|link|style|form|math|xml|\?xml|!doctype)"
    rb"|\bjavascript:", re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"*/:<>?\\|]+')
FIELD = "evidence_file"


@dataclass(frozen=True)
class EvidenceUpload:
    """An uploaded file as the service receives it. Filename and content type are hints only: we sniff."""

    content: bytes
    filename: str = ""
    content_type: str = ""


@dataclass(frozen=True)
class CheckedEvidence:
    """An accepted upload: the bytes, the sniffed type, a safe filename and the SHA-256 digest."""

    content: bytes
    content_type: str
    filename: str
    sha256: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type][0]


def _limit_text(limit: int) -> str:
    value = limit / (1024 * 1024)
    return f"{value:g} MB" if value >= 1 else f"{max(limit // 1024, 1)} KB"


def check_evidence_size(size: int) -> None:
    """Refuse a file larger than INSIGNIA_MAX_UPLOAD_BYTES (call before reading it when the size is known)."""
    limit = int(settings.MAX_UPLOAD_BYTES)
    if size > limit:
        raise ServiceError(f"The evidence file is {size:,} bytes; the limit is {_limit_text(limit)}. "
                           "Upload a smaller file or link to it with an evidence URL instead.",
                           code="evidence_file_too_large", field=FIELD)


def _refuse(message: str, code: str = "evidence_file_type") -> ServiceError:
    return ServiceError(message, code=code, field=FIELD)


def _image_ok(data: bytes, image_format: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[image_format]) as probe:
                probe.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning,
            Image.DecompressionBombError):
        return False
    return True


def _looks_like_markup(data: bytes) -> str:
    """``"SVG"``/``"HTML"``/``"XML"`` when ``data`` is (or contains) markup a browser could run, else ``""``."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n\x0c").lower()
    for encoded in (data, _utf16_as_utf8(data)):
        if re.search(rb"<\s*svg[\s>/]", encoded, re.IGNORECASE):
            return "SVG"
    if head.startswith(b"<") or _MARKUP.search(data) or _MARKUP.search(_utf16_as_utf8(data)):
        return "XML" if head.startswith(b"<?xml") else "HTML"
    return ""


def _utf16_as_utf8(data: bytes) -> bytes:
    """UTF-16 text (which some browsers sniff) re-encoded, so markup checks see through it."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return b""
    return b""


def sniff(data: bytes) -> str:
    """The content type of ``data`` (one of ``EXTENSIONS``), or a ``ServiceError`` saying why it is refused.

    PDF, PNG and JPEG are recognised by their signature (and images must decode); anything else must be
    UTF-8 text without control characters or markup.
    """
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise _refuse("This PDF is incomplete or damaged (it has no end-of-file marker); export it again.")
        return PDF_TYPE
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        if not _image_ok(data, "PNG"):
            raise _refuse("This PNG image is damaged or too large to open; export it again.")
        return PNG_TYPE
    if data.startswith(b"\xff\xd8\xff"):
        if not _image_ok(data, "JPEG"):
            raise _refuse("This JPEG image is damaged or too large to open; export it again.")
        return JPEG_TYPE
    markup = _looks_like_markup(data)
    if markup:
        raise _refuse(f"This looks like an {markup} file. {markup} can carry scripts, so it is not accepted as "
                      "evidence; upload a PDF, PNG, JPEG or plain-text file (or link to the page with an "
                      "evidence URL).", code=f"evidence_file_{markup.lower()}")
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and not _CONTROL.search(text):
        return TEXT_TYPE
    raise _refuse("This file is not a PDF, PNG, JPEG or plain-text (UTF-8) file; those are the kinds accepted "
                  "as evidence. Convert it to PDF, or link to it with an evidence URL.")


def safe_filename(filename: str, content_type: str) -> str:
    """The uploader's filename without any path, control or reserved characters, with a matching extension."""
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME.sub("_", name).strip(" ._")
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cf", "Cc", "Zl", "Zp"))
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    allowed = EXTENSIONS[content_type]
    extension = f".{suffix}" if suffix else ""
    if extension.lower() not in allowed:
        stem, extension = name, allowed[0]
    stem = (stem.strip(" ._") or "evidence")[: MAX_FILENAME - len(extension)].rstrip(" .")
    return f"{stem or 'evidence'}{extension}"


def check_upload(upload: EvidenceUpload) -> CheckedEvidence:
    """Check an uploaded evidence file by its content; raise ``ServiceError`` naming the problem."""
    data = bytes(upload.content)
    check_evidence_size(len(data))
    if not data:
        raise _refuse("The evidence file is empty; choose the file again.", code="evidence_file_empty")
    content_type = sniff(data)
    return CheckedEvidence(content=data, content_type=content_type,
                           filename=safe_filename(upload.filename, content_type),
                           sha256=hashlib.sha256(data).hexdigest())


__all__ = ["CheckedEvidence", "EvidenceUpload", "check_evidence_size", "check_upload", "safe_filename", "sniff"]
