"""Serving stored files (uploads) to a user a view has already authorised.

Nothing serves MEDIA_ROOT directly: a case's photos are not public, so each file is answered
by a view that checks scope first (civicgrid.cases.api.AttachmentFileApi) and then calls
`stored_file_response`. The file is read through Django's storage, so it works with any
STORAGES["default"] backend. Behind nginx, set CIVICGRID_MEDIA_ACCEL_REDIRECT to an internal
location that maps to MEDIA_ROOT (docs/configuration.md): the view then only answers with
an X-Accel-Redirect header and nginx sends the bytes.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse

# Types a browser may show inline; anything else is sent as a download, so that an uploaded
# document can never be rendered as a page of this site.
INLINE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif", "application/pdf"}


def stored_file_response(name: str, content_type: str, *, download_name: str = "") -> HttpResponse:
    if not name:
        raise Http404
    content_type = content_type or "application/octet-stream"
    accel = getattr(settings, "CIVICGRID_MEDIA_ACCEL_REDIRECT", "")
    if accel:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = accel.rstrip("/") + "/" + quote(name)
    else:
        try:
            handle = default_storage.open(name, "rb")
        except (FileNotFoundError, OSError):
            raise Http404 from None
        response = FileResponse(handle, content_type=content_type)
    inline = content_type in INLINE_TYPES
    filename = quote(download_name or name.rsplit("/", 1)[-1])
    response["Content-Disposition"] = f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{filename}"
    response["X-Content-Type-Options"] = "nosniff"
    # Private: the answer depends on who asks; a browser may keep it a day (files never change).
    response["Cache-Control"] = "private, max-age=86400"
    return response
