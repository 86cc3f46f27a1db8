"""The test session's S3-compatible server (moto's, a stand-in for the real service)."""

from harness.s3 import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Server

__all__ = ["ACCESS_KEY_ID", "REGION", "SECRET_ACCESS_KEY", "S3Server"]
