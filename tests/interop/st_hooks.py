"""Schemathesis hooks: raw byte bodies for the tus PATCH and bag import media types."""

import schemathesis

schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")
schemathesis.serializer.alias("application/x-tar", "application/octet-stream")
