"""Finishes the image after `pip install` (run once by deploy/Dockerfile, as root, with no shell).

- the unprivileged user `warroom` (uid/gid 10001), written into /etc/passwd and /etc/group directly
  because a bare base has no useradd;
- its writable data folder /var/lib/warroom (the default SQLite database) and /etc/warroom for the
  policy file (mounted read-only from a ConfigMap or a volume);
- manifest.yml where `warroom manifest` and `warroom doctor` look for it;
- the build sources removed.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

UID = GID = 10001
NAME = "warroom"
SRC = Path("/src")


def add_line(path: Path, line: str, key: str) -> None:
    text = path.read_text() if path.exists() else ""
    if not any(existing.split(":", 1)[0] == key for existing in text.splitlines()):
        path.write_text(text + ("" if text.endswith("\n") or not text else "\n") + line + "\n")


def main() -> None:
    add_line(Path("/etc/group"), f"{NAME}:x:{GID}:", NAME)
    add_line(Path("/etc/passwd"), f"{NAME}:x:{UID}:{GID}:Warroom:/var/lib/warroom:/usr/sbin/nologin", NAME)
    for folder in (Path("/var/lib/warroom"), Path("/etc/warroom")):
        folder.mkdir(parents=True, exist_ok=True)
    os.chown("/var/lib/warroom", UID, GID)
    os.chmod("/var/lib/warroom", 0o750)
    share = Path(sys.prefix) / "share" / "warroom"
    share.mkdir(parents=True, exist_ok=True)
    shutil.copy(SRC / "manifest.yml", share / "manifest.yml")
    shutil.rmtree(SRC)


if __name__ == "__main__":
    main()
