"""Static files: hashed names (cacheable for a year) and gzip copies, served by WhiteNoise."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's compressed manifest storage, with plain names where there is no manifest.

    `collectstatic` (`make run`, every deployment) writes `staticfiles.json`; pages then link
    `app.3f2a9c1e.css`, which WhiteNoise serves with `Cache-Control: max-age=31536000, immutable`,
    and a new release changes the name. The test suite and a checkout that never ran
    collectstatic have no manifest: they get the plain name instead of a ValueError per page.
    """

    manifest_strict = False

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:
            return name
