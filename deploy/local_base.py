#!/usr/bin/env python3
"""Build a base image for deploy/Dockerfile without any registry: from this machine's own Python.

    python deploy/local_base.py --docker unix:///run/warroom-docker.sock --tag warroom-pybase:local
    docker build -f deploy/Dockerfile --build-arg BASE=warroom-pybase:local --network none -t warroom .

Where `python:3.11-slim` cannot be pulled (an air-gapped CI, this project's test machines), the
Dockerfile builds on this instead. The rootfs holds:
- the running interpreter (same major.minor as the project, e.g. pyenv's 3.11) under /usr/local,
  its standard library without tests/IDLE/Tk, and the shared libraries `ldd` says it needs;
- the installed distributions that warroom's runtime requirements resolve to, copied file by file
  from the environment running this script (their RECORD), plus pip, and the two wheels the
  Dockerfile asks for that a development venv lacks (setuptools>=70.1, tzdata) fetched once with
  this machine's pip;
- CA certificates, /etc/passwd and /etc/group with root, and /tmp.
So the Dockerfile's `pip install` finds every requirement satisfied and builds offline
(`--network none`); what differs from a registry build is only where the dependencies come from.

The image is tagged with a digest of its inputs and reused until they change.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import re
import shutil
import subprocess  # build tooling, not the bot: ldd and pip on fixed arguments
import sys
import sysconfig
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

PROJECT = "warroom"
# The Dockerfile installs these before the project; a dev venv may not have them.
EXTRA_WHEELS = ("setuptools>=70.1", "tzdata")
STDLIB_SKIP = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "site-packages"}
STDLIB_SKIP_PREFIX = ("config-",)
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "warroom-local-base"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_distributions(root: str = PROJECT) -> list[metadata.Distribution]:
    """`root`'s runtime requirements, resolved against what is installed here (extras honoured)."""
    found: dict[str, metadata.Distribution] = {}
    extras_seen: dict[str, set[str]] = {}
    stack: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    while stack:
        name, extras = stack.pop()
        key = _canonical(name)
        if key in extras_seen and extras <= extras_seen[key]:
            continue
        dist = metadata.distribution(name)
        extras_seen.setdefault(key, set()).update(extras)
        found[key] = dist
        for line in dist.requires or []:
            req = Requirement(line)
            environments = [{"extra": extra} for extra in (extras or {""})]
            if req.marker is not None and not any(req.marker.evaluate(env) for env in environments):
                continue
            stack.append((req.name, frozenset(req.extras)))
    found.pop(_canonical(root), None)  # the project itself is what the Dockerfile installs
    found["pip"] = metadata.distribution("pip")
    return sorted(found.values(), key=lambda d: _canonical(d.metadata["Name"]))


def _dist_files(dist: metadata.Distribution) -> Iterator[tuple[Path, str]]:
    """(file on disk, path relative to site-packages) of one installed distribution."""
    for entry in dist.files or []:
        relative = str(entry)
        if relative.startswith("..") or relative.startswith("/"):
            continue  # console scripts in bin/: pip writes its own when the image installs
        path = Path(str(dist.locate_file(entry)))
        # Bytecode is left out: it would double the base, and every build step copies the whole
        # rootfs on the vfs storage driver. Python compiles what it imports.
        if path.is_file() and "__pycache__" not in path.parts:
            yield path, relative


def _ldd(paths: list[Path]) -> set[Path]:
    libraries: set[Path] = set()
    for path in paths:
        result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False)  # noqa: S603, S607
        for line in result.stdout.splitlines():
            match = re.search(r"(/\S+)\s+\(0x", line)
            if match:
                libraries.add(Path(match.group(1)))
    return libraries


def _download_wheels() -> list[Path]:
    CACHE.mkdir(parents=True, exist_ok=True)
    wheels = []
    for spec in EXTRA_WHEELS:
        name = Requirement(spec).name
        have = sorted(CACHE.glob(f"{name}-*.whl"))
        if not have:
            subprocess.run(  # noqa: S603 - fixed arguments
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                 spec, "-d", str(CACHE)],
                check=True,
            )  # fmt: skip
            have = sorted(CACHE.glob(f"{name}-*.whl"))
        wheels.append(have[-1])
    return wheels


class Rootfs:
    """A tar being written, with the directory and symlink bookkeeping a rootfs needs."""

    def __init__(self, fileobj: io.BufferedWriter):
        self.tar = tarfile.open(fileobj=fileobj, mode="w|")  # noqa: SIM115 - closed by close()
        self.members: set[str] = set()

    def _dirs(self, name: str) -> None:
        parts = Path(name).parts[:-1]
        for i in range(1, len(parts) + 1):
            self.directory("/".join(parts[:i]))

    def directory(self, name: str, mode: int = 0o755) -> None:
        if name in self.members:
            return
        self._dirs(name)  # parents first: left implicit, the importer gives them mode 0600
        self.members.add(name)
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, int(time.time())
        self.tar.addfile(info)

    def file(self, source: Path, name: str, mode: int | None = None) -> None:
        name = name.lstrip("/")
        if name in self.members:
            return
        self._dirs(name)
        self.members.add(name)
        stat = source.stat()
        info = tarfile.TarInfo(name)
        info.size, info.mtime = stat.st_size, int(stat.st_mtime)  # mtime keeps .pyc files valid
        info.mode = mode if mode is not None else stat.st_mode & 0o777
        with source.open("rb") as handle:
            self.tar.addfile(info, handle)

    def data(self, name: str, content: bytes, mode: int = 0o644) -> None:
        name = name.lstrip("/")
        if name in self.members:  # a tar with one path twice cannot be imported ("duplicates of file paths")
            return
        self._dirs(name)
        self.members.add(name)
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(content), mode, int(time.time())
        self.tar.addfile(info, io.BytesIO(content))

    def symlink(self, name: str, target: str) -> None:
        name = name.lstrip("/")
        if name in self.members:
            return
        self._dirs(name)
        self.members.add(name)
        info = tarfile.TarInfo(name)
        info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
        self.tar.addfile(info)

    def close(self) -> None:
        self.tar.close()


def _add_tree(rootfs: Rootfs, source: Path, dest: str, skip_top: set[str]) -> None:
    for dirpath, dirnames, filenames in os.walk(source):
        rel = Path(dirpath).relative_to(source)
        if rel == Path("."):
            dirnames[:] = [d for d in dirnames if d not in skip_top and not d.startswith(STDLIB_SKIP_PREFIX)]
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for filename in filenames:
            path = Path(dirpath) / filename
            if path.is_symlink() or not path.is_file():
                continue
            rootfs.file(path, f"{dest}/{rel}/{filename}" if rel != Path(".") else f"{dest}/{filename}")


def write_rootfs(fileobj: io.BufferedWriter) -> None:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    executable = Path(sys.base_prefix) / "bin" / version
    site = f"usr/local/lib/{version}/site-packages"
    rootfs = Rootfs(fileobj)
    rootfs.file(executable, f"usr/local/bin/{version}", 0o755)
    rootfs.symlink("usr/local/bin/python3", version)
    rootfs.symlink("usr/local/bin/python", version)
    _add_tree(rootfs, stdlib, f"usr/local/lib/{version}", STDLIB_SKIP)
    native: list[Path] = [executable, *stdlib.joinpath("lib-dynload").glob("*.so")]
    installed = {_canonical(dist.metadata["Name"]) for dist in runtime_distributions()}
    for dist in runtime_distributions():
        for path, relative in _dist_files(dist):
            rootfs.file(path, f"{site}/{relative}")
            if path.suffix == ".so" or ".so." in path.name:
                native.append(path)
    for wheel in _download_wheels():
        if _canonical(wheel.name.split("-")[0]) in installed:
            continue  # already a runtime requirement (tzdata): one version only
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.infolist():
                if not member.is_dir():
                    rootfs.data(f"{site}/{member.filename}", archive.read(member))
    # Multiarch, merged-/usr layout as on Debian: real files under /usr/lib, /lib a symlink.
    rootfs.symlink("lib", "usr/lib")
    rootfs.symlink("lib64", "usr/lib64")
    for library in sorted(_ldd(native)):
        real = library.resolve()
        if Path(sys.base_prefix) in real.parents:
            # libpython: its RUNPATH points into the build prefix, so it goes on the default path.
            rootfs.file(real, f"usr/lib/x86_64-linux-gnu/{library.name}")
            continue
        if "site-packages" in str(real):
            continue  # bundled by its wheel (e.g. psycopg_binary.libs), already copied
        rootfs.file(real, str(real))
        alias = library.parent.resolve() / library.name
        if alias != real:
            rootfs.symlink(str(alias), str(real))
    gcc = Path("/usr/lib/x86_64-linux-gnu/libgcc_s.so.1")  # dlopen()ed by glibc when a thread exits
    if gcc.exists():
        rootfs.file(gcc, str(gcc))
    if CA_BUNDLE.exists():
        rootfs.file(CA_BUNDLE, str(CA_BUNDLE), 0o644)
    rootfs.data("etc/passwd", b"root:x:0:0:root:/root:/usr/sbin/nologin\n")
    rootfs.data("etc/group", b"root:x:0:\n")
    rootfs.data("etc/hosts", b"127.0.0.1 localhost\n::1 localhost\n")
    for name in ("tmp", "var/tmp"):
        rootfs.directory(name, 0o1777)
    for name in ("root", "proc", "sys", "dev", "etc/ssl/certs"):
        rootfs.directory(name)
    rootfs.close()


def inputs_digest() -> str:
    """What the rootfs is made of: interpreter, distributions and versions, this script."""
    digest = hashlib.sha256(sys.version.encode())
    for dist in runtime_distributions():
        digest.update(f"{dist.metadata['Name']}=={dist.version};".encode())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:12]


def build(docker_url: str, repository: str = "warroom-pybase", tag: str | None = None) -> str:
    """Import the base image unless one with the same inputs exists; returns `repository:tag`."""
    import docker

    client = docker.DockerClient(base_url=docker_url, timeout=600)
    tag = tag or f"{sys.version_info.major}.{sys.version_info.minor}-{inputs_digest()}"
    name = f"{repository}:{tag}"
    try:
        client.images.get(name)
        return name
    except docker.errors.ImageNotFound:
        pass
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "rootfs.tar"
        with archive.open("wb") as handle:
            write_rootfs(handle)
        client.api.import_image_from_file(
            str(archive),
            repository=repository,
            tag=tag,
            changes=[
                "ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8",
                'CMD ["python3"]',
            ],
        )
    client.images.get(name)  # raises if the import did not produce it
    for old in client.images.list(name=repository):  # earlier inputs: a full copy each on vfs
        if name not in old.tags:
            with contextlib.suppress(docker.errors.APIError):  # still used by a container: keep it
                client.images.remove(old.id)
    return name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build a registry-free Python base image for deploy/Dockerfile."
    )
    parser.add_argument("--docker", default=os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"))
    parser.add_argument("--repository", default="warroom-pybase")
    parser.add_argument("--tag", default=None, help="default: <python version>-<digest of the inputs>")
    args = parser.parse_args(argv)
    started = time.monotonic()
    name = build(args.docker, args.repository, args.tag)
    print(f"{name} ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    if shutil.which("ldd") is None:
        sys.exit("local_base.py: ldd not found (Debian: libc-bin)")
    raise SystemExit(main())
