"""Files sent as downloads, under a Chinese name and a meaningful ASCII one."""
from io import BytesIO
from urllib.parse import quote

from flask import send_file


def send_download(data: bytes, mimetype: str, name: str, ascii_name: str):
    """``name`` in filename* (RFC 5987) for today's browsers, ``ascii_name`` in filename for
    old clients (Werkzeug's own fallback drops the Chinese and leaves "-20261207.csv")."""
    resp = send_file(BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name, max_age=0)
    resp.headers["Content-Disposition"] = (
        f'attachment; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(name, safe="")}')
    return resp
