"""What an S3 client's error means for Keel: a missing object, or a store that cannot be
used, named by its cause. The causes are fixed phrases and S3's error codes, never the
client's message, which may carry the endpoint's address, a key or a request signature."""

from __future__ import annotations

from application.ports.blobs import BlobStoreUnavailable

MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
REFUSED = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
    }
)


def error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def is_missing(error: BaseException) -> bool:
    return error_code(error) in MISSING


def describe(error: BaseException) -> BlobStoreUnavailable:
    from botocore import exceptions

    code = error_code(error)
    if isinstance(error, TimeoutError):
        reason = "S3 timed out"
    elif isinstance(error, exceptions.EndpointConnectionError | exceptions.ConnectTimeoutError):
        reason = "S3 endpoint unreachable"
    elif isinstance(error, exceptions.NoCredentialsError | exceptions.PartialCredentialsError):
        reason = "no S3 credentials found"
    elif code == "NoSuchBucket":
        reason = "S3 bucket does not exist"
    elif code in REFUSED:
        reason = f"S3 refused the credentials ({code})"
    elif code:
        reason = f"S3 refused the request ({code})"
    elif isinstance(error, exceptions.BotoCoreError | OSError):
        reason = f"S3 unreachable ({type(error).__name__})"
    else:
        reason = f"S3 unusable ({type(error).__name__})"
    return BlobStoreUnavailable(reason)
