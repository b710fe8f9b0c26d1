"""The backup archive: one zip holding the database (``database/``), the files kept under
``KEEPSCORE_HOME`` (``home/``) and ``manifest.json`` (written last) that lists them with
their sizes and SHA-256, with the keepscore version, the database vendor, the migrations
applied and every table's row count and checksum.

Reading an archive checks all of it before anything is restored: a zip, a keepscore backup
of a format this version reads, every file listed present, whole (the zip's CRC) and equal
to its checksum, nothing unlisted.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

KIND = "keepscore backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK = 1024 * 1024
CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
#: deflate level of the database and files (1: fast; 6 saves about a tenth more)
LEVEL = 1

Progress = Callable[[str, float], None]


class BackupProblem(Exception):
    """What is wrong with an archive, a target or a tool, said for the person running it."""


@dataclass
class Manifest:
    keepscore_version: str
    vendor: str
    created_at: str
    database_file: str
    migrations: dict[str, list[str]]
    tables: dict[str, dict[str, Any]]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    server_version: str = ""
    format_version: int = FORMAT_VERSION

    def as_json(self) -> str:
        return json.dumps(
            {
                "kind": KIND,
                "format_version": self.format_version,
                "keepscore_version": self.keepscore_version,
                "created_at": self.created_at,
                "database": {
                    "vendor": self.vendor,
                    "server_version": self.server_version,
                    "file": self.database_file,
                },
                "migrations": self.migrations,
                "tables": self.tables,
                "files": self.files,
            },
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def parse(cls, text: bytes, where: str) -> Manifest:
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError) as error:
            raise BackupProblem(f"{where}: {MANIFEST} is not JSON ({error})") from None
        if not isinstance(data, dict) or data.get("kind") != KIND:
            raise BackupProblem(f"{where} is not a keepscore backup ({MANIFEST} does not say so)")
        version = data.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise BackupProblem(
                f"{where} is a backup of format {version!r}; this keepscore reads format "
                f"{FORMAT_VERSION} and older: restore it with a newer keepscore"
            )
        try:
            database = data["database"]
            manifest = cls(
                keepscore_version=str(data["keepscore_version"]),
                vendor=str(database["vendor"]),
                server_version=str(database.get("server_version", "")),
                database_file=str(database["file"]),
                created_at=str(data["created_at"]),
                migrations={str(k): [str(n) for n in v] for k, v in data["migrations"].items()},
                tables={str(k): dict(v) for k, v in data["tables"].items()},
                files={str(k): dict(v) for k, v in data["files"].items()},
                format_version=version,
            )
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise BackupProblem(f"{where}: {MANIFEST} lacks or garbles {error}") from None
        if manifest.vendor not in ("sqlite", "postgresql"):
            raise BackupProblem(f"{where}: unknown database vendor {manifest.vendor!r}")
        if manifest.database_file not in manifest.files:
            raise BackupProblem(f"{where}: the database file is not in {MANIFEST}")
        return manifest


class ArchiveWriter:
    """Files added one by one (checksummed as they are written), then the manifest."""

    def __init__(self, out: IO[bytes]) -> None:
        self.zip = zipfile.ZipFile(out, "w", allowZip64=True)
        self.files: dict[str, dict[str, Any]] = {}

    def add(
        self,
        name: str,
        source: Path,
        *,
        compress: bool = True,
        progress: Callable[[float], None] | None = None,
    ) -> None:
        size = source.stat().st_size
        digest = hashlib.sha256()
        done = 0
        method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info = zipfile.ZipInfo(name, date_time=_date_time(source))
        info.compress_type = method
        if compress:
            # fast deflate: the compression is most of a backup's time (3.11 / 3.13 names)
            for name_of_level in ("compress_level", "_compresslevel"):
                if hasattr(info, name_of_level):
                    setattr(info, name_of_level, LEVEL)
                    break
        info.external_attr = 0o600 << 16
        with source.open("rb") as src, self.zip.open(info, "w", force_zip64=True) as dst:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                done += len(chunk)
                if progress is not None and size:
                    progress(min(1.0, done / size))
        self.files[name] = {"size": done, "sha256": digest.hexdigest()}

    def finish(self, manifest: Manifest) -> None:
        """The manifest, listing every file added, last."""
        manifest.files = dict(self.files)
        self.zip.writestr(MANIFEST, manifest.as_json())

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()


def _date_time(path: Path) -> tuple[int, int, int, int, int, int]:
    import time

    stamp = max(path.stat().st_mtime, 315532800)  # zip dates start in 1980
    t = time.localtime(stamp)
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def _safe(name: str, where: str) -> PurePosixPath:
    """A member name that stays inside the folder it is extracted to."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name or not path.parts:
        raise BackupProblem(f"{where}: {name!r} would be written outside its folder")
    return path


@dataclass
class Archive:
    """A checked archive: its manifest and where to read each file from."""

    path: Path
    manifest: Manifest

    def home_files(self) -> list[str]:
        return sorted(n for n in self.manifest.files if n.startswith("home/"))

    def extract(self, name: str, target: Path, progress: Callable[[float], None] | None) -> None:
        """One member to ``target`` (written beside it, then moved into place)."""
        size = int(self.manifest.files[name]["size"]) or 1
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
        done = 0
        try:
            with (
                zipfile.ZipFile(self.path) as archive,
                archive.open(name) as src,
                os.fdopen(os.open(partial, CREATE, 0o600), "wb") as dst,
            ):
                while chunk := src.read(CHUNK):
                    dst.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(min(1.0, done / size))
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)


def archive_read(path: Path, progress: Progress | None = None) -> Archive:
    """Open and check a backup: every byte of every listed file is read and compared with
    the manifest. Raises :class:`BackupProblem` naming what is wrong."""
    where = str(path)
    if not path.is_file():
        raise BackupProblem(f"{where}: no such file")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise BackupProblem(
            f"{where} is not a keepscore backup: not a zip archive, or a damaged one"
        ) from None
    except OSError as error:
        raise BackupProblem(f"cannot read {where}: {error.strerror or error}") from None
    with archive:
        names = archive.namelist()
        if MANIFEST not in names:
            raise BackupProblem(f"{where} is not a keepscore backup: it has no {MANIFEST}")
        try:
            manifest = Manifest.parse(archive.read(MANIFEST), where)
        except (zipfile.BadZipFile, OSError) as error:
            raise BackupProblem(f"{where} is damaged: {MANIFEST}: {error}") from None
        listed = set(manifest.files)
        present = {n for n in names if n != MANIFEST and not n.endswith("/")}
        for name in sorted(listed - present):
            raise BackupProblem(f"{where} is damaged: {name} is missing")
        for name in sorted(present - listed):
            raise BackupProblem(f"{where}: {name} is not listed in {MANIFEST}")
        total = sum(int(manifest.files[n].get("size", 0)) for n in listed) or 1
        done = 0
        for name in sorted(listed):
            _safe(name, where)
            expected = manifest.files[name]
            digest = hashlib.sha256()
            size = 0
            try:
                with archive.open(name) as member:
                    while chunk := member.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        if progress is not None:
                            progress("checking the archive", min(1.0, (done + size) / total))
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
                raise BackupProblem(f"{where} is damaged: {name}: {error}") from None
            except Exception as error:  # zlib.error and the like: a damaged stream
                raise BackupProblem(f"{where} is damaged: {name}: {error}") from None
            done += size
            if size != expected.get("size") or digest.hexdigest() != expected.get("sha256"):
                raise BackupProblem(
                    f"{where} is damaged: {name} does not match its checksum in {MANIFEST}"
                )
    return Archive(path=path, manifest=manifest)


def tree_remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
