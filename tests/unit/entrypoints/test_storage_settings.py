"""STORAGE_URL names a directory or an S3 bucket and prefix; S3_ENDPOINT_URL an
S3-compatible server. A value that cannot work stops start-up naming its variable."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from entrypoints import settings_values as values
from entrypoints.settings import Settings, describe_settings_error


def problem(**given: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, **given)
    return describe_settings_error(caught.value)


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://keel-blobs", "keel-blobs", ""),
        ("s3://keel-blobs/", "keel-blobs", ""),
        ("s3://keel.blobs-2/attachments", "keel.blobs-2", "attachments"),
        ("s3://abc/a/b_c/", "abc", "a/b_c"),
    ],
)
def test_an_s3_url_gives_its_bucket_and_prefix(url: str, bucket: str, prefix: str) -> None:
    made = Settings(_env_file=None, storage_url=url)
    assert made.storage_url == url
    assert values.s3_location(made.storage_url) == (bucket, prefix)


@pytest.mark.parametrize(
    "url",
    [
        "s3://",
        "s3://ab",
        "s3://Keel-Blobs",
        "s3://keel_blobs",
        "s3://-keel",
        "s3://keel..blobs",
        "s3://192.168.1.10",
        "s3://" + "k" * 64,
        "s3://user:secret@keel-blobs",
        "s3://keel-blobs/../etc",
        "s3://keel-blobs/a//b",
        "s3://keel-blobs/a b",
        "http://keel-blobs",
        "keel-blobs",
    ],
)
def test_a_bad_storage_url_is_named(url: str) -> None:
    message = problem(storage_url=url)
    assert message.startswith("invalid settings: STORAGE_URL: ")
    assert "secret" not in message


def test_the_endpoint_is_optional_and_an_http_url() -> None:
    assert Settings(_env_file=None).s3_endpoint_url is None
    assert Settings(_env_file=None, s3_endpoint_url=" ").s3_endpoint_url is None
    made = Settings(_env_file=None, s3_endpoint_url="http://127.0.0.1:9000")
    assert made.s3_endpoint_url == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    "url",
    ["127.0.0.1:9000", "ftp://s3.example.com", "https://", "https://key:secret@s3.example.com"],
)
def test_a_bad_endpoint_is_named(url: str) -> None:
    message = problem(s3_endpoint_url=url)
    assert message.startswith("invalid settings: S3_ENDPOINT_URL: ")
    assert "secret" not in message


async def test_the_store_follows_the_url_scheme() -> None:
    from adapters.blobs.local import LocalBlobStore
    from adapters.blobs.s3 import S3BlobStore
    from entrypoints.container import factories

    s3 = factories.blob_store(
        Settings(
            _env_file=None,
            storage_url="s3://keel-blobs/attachments/",
            s3_endpoint_url="http://127.0.0.1:9",
        )
    )
    assert isinstance(s3, S3BlobStore)
    assert s3._name("a/b") == "attachments/a/b"
    await factories.close_blob_store(s3)
    local = factories.blob_store(Settings(_env_file=None))
    assert isinstance(local, LocalBlobStore)
    await factories.close_blob_store(local)
