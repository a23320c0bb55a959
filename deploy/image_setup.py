"""Builds the image's contents (run once by deploy/Dockerfile, as root, without a shell).

1. pip installs the project from /src, with `setuptools>=70.1` first: it builds wheels by itself (no
   `wheel` package), so the project builds without build isolation — nothing is fetched when the
   base already holds every requirement (the registry-free build of docs/deploy.md). `tzdata`
   gives rotations their IANA time zones, as slim images may lack /usr/share/zoneinfo.
2. the unprivileged user `warroom` (uid/gid 10001), written into /etc/passwd and /etc/group
   directly because a bare base has no useradd;
3. its writable data folder /var/lib/warroom (the default SQLite database) and /etc/warroom for
   the policy file (mounted read-only from a ConfigMap or a volume);
4. manifest.yml where `warroom manifest` and `warroom doctor` look for it; the sources removed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

UID = GID = 10001
NAME = "warroom"
SRC = Path("/src")


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "install", *args], check=True)  # noqa: S603


def add_line(path: Path, line: str) -> None:
    text = path.read_text() if path.exists() else ""
    if not any(existing.split(":", 1)[0] == NAME for existing in text.splitlines()):
        path.write_text(text + ("\n" if text and not text.endswith("\n") else "") + line + "\n")


def main() -> None:
    pip("setuptools>=70.1")
    pip("--no-build-isolation", str(SRC), "tzdata")
    add_line(Path("/etc/group"), f"{NAME}:x:{GID}:")
    add_line(Path("/etc/passwd"), f"{NAME}:x:{UID}:{GID}:Warroom:/var/lib/warroom:/usr/sbin/nologin")
    for folder in (Path("/var/lib/warroom"), Path("/etc/warroom")):
        folder.mkdir(parents=True, exist_ok=True)
    os.chown("/var/lib/warroom", UID, GID)
    os.chmod("/var/lib/warroom", 0o700)
    share = Path(sys.prefix) / "share" / "warroom"
    share.mkdir(parents=True, exist_ok=True)
    shutil.copy(SRC / "manifest.yml", share / "manifest.yml")
    shutil.rmtree(SRC)


if __name__ == "__main__":
    main()
