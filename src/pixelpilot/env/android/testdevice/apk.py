"""What `pm install` learns from an APK file on the test device: its package and label."""

from __future__ import annotations

import io
import re
import zipfile

_MANIFEST_PACKAGE = re.compile(rb'package="([A-Za-z_][\w.]*)"')
_MANIFEST_LABEL = re.compile(rb'android:label="([^"]+)"')


def apk_path(package: str) -> str:
    """Where an installed package's APK lives, as `pm path` prints it."""
    return f"/data/app/~~pixelpilot/{package}-1/base.apk"


def apk_identity(path: str, data: bytes) -> tuple[str, str] | None:
    """(package, label) of an APK file for `pm install`, or None when it is no APK.

    An APK is a zip file: its AndroidManifest.xml is read as text for `package="..."` and
    `android:label="..."` (a plain-text manifest stub; a compiled binary manifest yields
    nothing), and the file name supplies what is missing (`com.example.app.apk` is package
    com.example.app; `My App.apk` becomes com.pixelpilot.installed.myapp, labelled "My App").
    """
    if not data.startswith(b"PK\x03\x04"):
        return None
    package = label = None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "AndroidManifest.xml" in archive.namelist():
                manifest = archive.read("AndroidManifest.xml")
                if found := _MANIFEST_PACKAGE.search(manifest):
                    package = found.group(1).decode()
                if found := _MANIFEST_LABEL.search(manifest):
                    label = found.group(1).decode("utf-8", "replace")
    except (zipfile.BadZipFile, OSError):
        return None
    stem = path.rsplit("/", 1)[-1].removesuffix(".apk")
    if package is None:
        dotted = re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", stem)
        package = stem if dotted else "com.pixelpilot.installed." + re.sub(r"\W+", "", stem).lower()
    if label is None:
        label = (
            package.rsplit(".", 1)[-1].capitalize()
            if re.fullmatch(r"[\w.]+", stem) and "." in stem
            else stem
        )
    return package, label
