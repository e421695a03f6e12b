"""Storing uploads outside the database, typed by their content, with thumbnails."""
import hashlib
import io
import re
import secrets
import unicodedata
import warnings
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from .. import access, crypto
from ..cases import workflow
from ..cases.models import Case, CaseEvent
from ..diary import services as diary
from ..diary.models import DiaryEntry
from ..errors import DomainError
from ..extensions import db
from ..memo import per_request
from .models import Attachment, DocumentKind

# Recognised by their first bytes; anything else (HTML, scripts, office files) is refused.
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"%PDF-", "application/pdf", ".pdf"),
)
THUMB_SIZE = (320, 320)
# The print rendition: the long side at 1754 px is A4 at 150 dpi, as sharp as a printed case
# file needs; the case file embeds it as it is (no decoding, whatever the original's size).
PRINT_SIZE = (1754, 1754)


def storage_dir() -> Path:
    folder = current_app.config.get("UPLOAD_FOLDER") or str(Path(current_app.instance_path) / "uploads")
    path = Path(folder)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)  # the people's files: the app's user alone
    return path


def sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the content, or None."""
    for magic, content_type, ext in SIGNATURES:
        if data.startswith(magic):
            return content_type, ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def store(case: Case, *, by, data: bytes, filename: str, kind: DocumentKind, title: str = "",
          entry_id: int | None = None) -> Attachment:
    """A file for the case, or for one of its diary entries (``entry_id``: whoever may
    write the case's diary may attach to its entries).

    :raise DomainError: not allowed, the case closed or archived, an entry of another case,
        empty, too large, or not a JPEG/PNG/WebP/PDF.
    """
    workflow.ensure_writable(case)
    if entry_id is not None:
        entry = db.session.get(DiaryEntry, entry_id)
        if entry is None or entry.case_id != case.id:
            raise DomainError(_("This diary entry is not one of this case's."), field="entry_id")
        # A visiting unit (a delegated visit) files to its own entries, not to the holder's.
        allowed = access.acts_on(by, case) or (diary.can_write(by, case) and entry.author_id == by.id)
    else:
        allowed = access.acts_on(by, case)
    if not allowed:
        raise DomainError(_("You may not do this on this case."))
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    if not data:
        raise DomainError(_("The file is empty (0 bytes): choose it again, or another one."), field="file")
    if len(data) > limit:
        raise DomainError(_("The file is larger than %(mb)d MB.", mb=limit // 2**20), field="file")
    kind_ext = sniff(data)
    if kind_ext is None:
        raise DomainError(_("Only photos (JPEG, PNG, WebP) and PDF files can be attached."), field="file")
    content_type, ext = kind_ext
    if content_type == "application/pdf":
        _check_pdf_pages(data)
    thumb = rendition = None
    if content_type.startswith("image/"):
        thumb, rendition = _renditions(data)
    stored = secrets.token_hex(16) + ext
    folder = storage_dir()
    crypto.write_private(folder / stored, data)
    if thumb is not None:
        crypto.write_private(folder / f"{stored}.thumb.jpg", thumb)
        crypto.write_private(folder / f"{stored}.print.jpg", rendition)
    attachment = Attachment(case_id=case.id, entry_id=entry_id, kind=kind, title=title.strip()[:200],
                            filename=clean_filename(filename, ext), stored_name=stored,
                            content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            has_thumbnail=thumb is not None, uploaded_by=by)
    db.session.add(attachment)
    db.session.add(CaseEvent(case=case, actor=by, kind="attached", from_status=case.status, to_status=case.status,
                             changes={"file": attachment.filename, "kind": kind.value,
                                      **({"entry": entry_id} if entry_id is not None else {})}))
    db.session.flush()
    return attachment


def may_attach(user, case: Case) -> bool:
    """Files for the case itself: the holder's people, while it is not closed or archived."""
    return workflow.is_writable(case) and access.acts_on(user, case)


def pdf_page_count(data: bytes) -> int | None:
    """Pages of a PDF, or None when it cannot be read (the case file then says so)."""
    from pypdf import PdfReader  # pypdf (15 MB) is loaded only by the workers that take a PDF

    try:
        return len(PdfReader(io.BytesIO(data)).pages)
    except Exception:  # noqa: BLE001 - a damaged or encrypted PDF is kept and noted, not refused
        return None


def _check_pdf_pages(data: bytes) -> None:
    """A scan has a few pages; one of thousands (a 2 MB PDF can hold 20,000) would stall every
    print of the case file."""
    limit = int(current_app.config["MAX_PDF_PAGES"])
    pages = pdf_page_count(data)
    if pages is not None and pages > limit:
        raise DomainError(_("This PDF has %(n)d pages; at most %(max)d can be attached. Split it into parts.",
                            n=pages, max=limit), field="file")


def clean_filename(filename: str | None, ext: str) -> str:
    """The name a file is listed and downloaded under: no folders (C:\\fakepath\\… or ../),
    no control or format characters (a right-to-left override makes "gpj.exe" read
    "exe.jpg"), at most 120 characters with the extension kept."""
    name = re.split(r"[\\/]", filename or "")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"))
    name = " ".join(name.split()).strip(" .")
    if not name:
        return f"file{ext}"
    if len(name) > 120:
        stem, dot, suffix = name.rpartition(".")
        suffix = f".{suffix}" if dot and len(suffix) <= 10 else ""
        name = (stem if suffix else name)[: 120 - len(suffix)] + suffix
    return name


def _renditions(data: bytes) -> tuple[bytes, bytes]:
    """(thumbnail, print rendition) of an uploaded photo, both upright JPEGs.

    :raise DomainError: unreadable, or more pixels than MAX_IMAGE_PIXELS (checked from the
        header, before anything is decoded: a small PNG can claim 13000×13000 pixels)."""
    limit = int(current_app.config["MAX_IMAGE_PIXELS"])
    too_many = _("This photo has too many pixels; at most %(limit)d million can be attached. Take it again at a "
                 "lower resolution.", limit=limit // 10**6)
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 MP and refuses from 179 MP; our own limit is checked just below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > limit:
            raise DomainError(_("This photo has %(mp)d million pixels; at most %(limit)d million can be attached. "
                                "Take it again at a lower resolution.", mp=-(-(width * height) // 10**6),
                                limit=limit // 10**6), field="file")
        image.verify()  # a truncated or forged image is refused here
        image = Image.open(io.BytesIO(data))
        image.draft("RGB", PRINT_SIZE)  # a JPEG decodes straight at a smaller scale where it can
        image = ImageOps.exif_transpose(image)  # phones store portrait as a flag
        image = image.convert("RGB")
        image.thumbnail(PRINT_SIZE)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=80, optimize=True)
        image.thumbnail(THUMB_SIZE)
        small = io.BytesIO()
        image.save(small, "JPEG", quality=80)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise DomainError(_("This image cannot be read; take the photo again."), field="file") from None
    except Image.DecompressionBombError:
        raise DomainError(too_many, field="file") from None
    return small.getvalue(), out.getvalue()


EXTENSIONS = {"image/jpeg": (".jpg", ".jpeg", ".jpe", ".jfif"), "image/png": (".png",), "image/webp": (".webp",),
              "application/pdf": (".pdf",)}
KNOWN_SUFFIXES = frozenset(x for xs in EXTENSIONS.values() for x in xs) | {".gif", ".heic", ".heif", ".bmp",
                                                                             ".tif", ".tiff"}


def download_name(attachment: Attachment) -> str:
    """The name a file downloads under: as uploaded, but with the extension of the type
    found in its content (a JPEG uploaded as photo.pdf downloads as photo.jpg)."""
    name = attachment.filename or "file"
    wanted = EXTENSIONS.get(attachment.content_type)
    if not wanted:
        return name
    stem, dot, suffix = name.rpartition(".")
    suffix = f".{suffix.lower()}" if dot else ""
    if suffix in wanted:
        return name
    if dot and stem and suffix in KNOWN_SUFFIXES:
        name = stem
    return name + wanted[0]


def path_of(attachment: Attachment, thumbnail: bool = False) -> Path:
    name = f"{attachment.stored_name}.thumb.jpg" if thumbnail else attachment.stored_name
    return storage_dir() / name


def print_path(attachment: Attachment) -> Path:
    return storage_dir() / f"{attachment.stored_name}.print.jpg"


def stored_paths(attachment: Attachment) -> list[Path]:
    """Every file kept for an attachment (the upload, its thumbnail and print rendition)."""
    return [path_of(attachment), path_of(attachment, thumbnail=True), print_path(attachment)]


def attachments_of(case: Case) -> list[Attachment]:
    return per_request(("attachments_of", case.id), lambda: list(db.session.scalars(
        select(Attachment).where(Attachment.case_id == case.id).order_by(Attachment.id))))


def upright_image(attachment: Attachment) -> str | None:
    """The photo for a PDF: the path of its print rendition (upright, at most PRINT_SIZE, a
    JPEG that ReportLab embeds as it is, without decoding it). A photo uploaded before
    renditions were kept gets one made, once, on its first print; None when it cannot be
    read or has too many pixels."""
    path = print_path(attachment)
    if not path.exists():
        try:
            _thumb, rendition = _renditions(path_of(attachment).read_bytes())
        except (DomainError, OSError):
            return None
        crypto.write_private(path, rendition)
    return str(path)
