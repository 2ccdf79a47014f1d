"""Where uploaded photos and documents are kept, chosen by environment variables.

`CIVICGRID_STORAGE=filesystem` (the default) keeps them under MEDIA_ROOT on the local disk.
`CIVICGRID_STORAGE=s3` keeps them in a private bucket on S3-compatible object storage
(SeaweedFS, MinIO, Aliyun OSS, Huawei OBS, Tencent COS, AWS) through django-storages.

Either way, nothing links to a stored file: civicgrid.core.files answers each file from a
view that has checked the user's scope, reading it through Django's storage API, so the
bucket stays private (no public-read policy, no presigned links handed to browsers). See
docs/deploy.md, "Files".

Read by civicgrid/settings.py at start-up: only civicgrid.env is imported here, so the module
loads before Django is set up.
"""

from __future__ import annotations

from civicgrid.env import env_choice, env_int, env_secret, env_str

S3_BACKEND = "storages.backends.s3.S3Storage"
FILESYSTEM_BACKEND = "django.core.files.storage.FileSystemStorage"


def s3_storage_options() -> dict:
    """django-storages' S3Storage options from the CIVICGRID_S3_* variables (docs/configuration.md)."""
    from botocore.config import Config
    from django.core.exceptions import ImproperlyConfigured

    bucket = env_str("CIVICGRID_S3_BUCKET", "")
    if not bucket:
        raise ImproperlyConfigured("CIVICGRID_STORAGE=s3 needs CIVICGRID_S3_BUCKET (the bucket's name)")
    addressing_style = env_choice("CIVICGRID_S3_ADDRESSING_STYLE", "path", ("path", "virtual", "auto"))
    return {
        "bucket_name": bucket,
        # Empty: AWS itself. SeaweedFS, MinIO and the Chinese clouds each give an endpoint URL.
        "endpoint_url": env_str("CIVICGRID_S3_ENDPOINT_URL", "") or None,
        # Empty keys: boto3's own chain (instance role, ~/.aws/credentials, AWS_* variables).
        "access_key": env_str("CIVICGRID_S3_ACCESS_KEY", "") or None,
        "secret_key": env_secret("CIVICGRID_S3_SECRET_KEY") or None,
        "region_name": env_str("CIVICGRID_S3_REGION", "us-east-1"),
        # SeaweedFS and MinIO answer path-style URLs (endpoint/bucket/key); Aliyun OSS
        # requires virtual-hosted style (bucket.endpoint/key).
        "addressing_style": addressing_style,
        "signature_version": "s3v4",
        # The same, plus time limits: with the storage down, a photo request fails in seconds
        # instead of holding a gunicorn worker past its timeout (botocore waits 60 s, 5 times).
        "client_config": Config(
            s3={"addressing_style": addressing_style},
            signature_version="s3v4",
            connect_timeout=5,
            read_timeout=env_int("CIVICGRID_S3_TIMEOUT_SECONDS", 20),
            retries={"mode": "standard", "max_attempts": 3},
        ),
        # A key prefix: several platforms (or counties) can share one bucket.
        "location": env_str("CIVICGRID_S3_PREFIX", "").strip("/"),
        # No ACL header: objects inherit the bucket's (private) policy.
        "default_acl": None,
        # Two uploads of the same photo in one month map to the same name (its SHA-256):
        # keep both objects, as the local folder does, so that deleting one never loses the other.
        "file_overwrite": False,
        # Only `storage.url()` signs links (nothing in CivicGrid hands them out): short-lived.
        "querystring_auth": True,
        "querystring_expire": env_int("CIVICGRID_S3_URL_EXPIRE_SECONDS", 300),
        # A file read to answer a request is spooled in memory up to this size, then on disk.
        "max_memory_size": 2 * 1024 * 1024,
    }


def default_storage_config() -> dict:
    """The STORAGES["default"] entry: the local folder, or the S3 bucket."""
    if env_choice("CIVICGRID_STORAGE", "filesystem", ("filesystem", "s3")) == "s3":
        return {"BACKEND": S3_BACKEND, "OPTIONS": s3_storage_options()}
    return {"BACKEND": FILESYSTEM_BACKEND}


def storage_is_local(config: dict) -> bool:
    return config["BACKEND"] == FILESYSTEM_BACKEND
