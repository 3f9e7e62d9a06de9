"""Schemathesis hooks: the tus PATCH body (`application/offset+octet-stream`, tus 1.0) is raw bytes, like
`application/octet-stream`; schemathesis has no serializer for that media type of its own."""
import schemathesis


@schemathesis.serializer("application/offset+octet-stream")
def offset_octet_stream(ctx, value):
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return str(value).encode("utf-8")
