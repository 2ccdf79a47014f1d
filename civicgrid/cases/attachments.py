"""Storing a case's photos and documents: validated by content, photos normalised (EXIF
orientation applied, metadata including GPS stripped) with a thumbnail, through Django storage."""

from __future__ import annotations

from django.core.files.base import ContentFile

from civicgrid.cases.models import Attachment, Case, CaseEvent
from civicgrid.core.uploads import UploadRejected, make_thumbnail, normalise_photo, validate_upload


def store_attachment(*, case: Case, event: CaseEvent | None, kind: str, file, actor) -> Attachment:
    from civicgrid.cases.services import InvalidInput

    is_photo = kind in (Attachment.Kind.BEFORE, Attachment.Kind.AFTER)
    try:
        info = validate_upload(file, kind="photo" if is_photo else "document")
    except UploadRejected as rejected:
        raise InvalidInput(rejected.reason, "photos" if is_photo else "file") from None
    attachment = Attachment(case=case, event=event, kind=kind, uploaded_by=actor, sha256=info.sha256)
    if is_photo:
        stored = normalise_photo(file)
        attachment.content_type = "image/jpeg"
        attachment.size = stored.size
        attachment.file.save(f"{info.sha256}.jpg", stored, save=False)
        attachment.thumbnail.save(f"{info.sha256}.jpg", make_thumbnail(file), save=False)
    else:
        file.seek(0)
        attachment.content_type = info.content_type
        attachment.size = info.size
        attachment.file.save(f"{info.sha256}.{info.extension}", ContentFile(file.read()), save=False)
    attachment.save()
    return attachment
