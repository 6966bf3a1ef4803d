from __future__ import annotations

import hashlib
import http.server
import io
import socketserver
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import memtorch_power.kws.download as dl
from memtorch_power.kws.download import ChecksumError, download_speech_commands


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[callable]:
    """serve(folder) -> base URL of a loopback HTTP server on a free port."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    servers: list[_Server] = []

    def start(folder: Path) -> str:
        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, directory=str(folder), **kwargs)  # type: ignore[arg-type]

            def log_message(self, *args: object) -> None:
                pass

        server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _tarball(src: Path, out: Path, prefix: str = "") -> tuple[Path, list[str]]:
    """A release-like tarball of a handful of bundled clips and split lists."""
    names = [f"yes/{p.name}" for p in sorted((src / "yes").glob("*.wav"))[:3]]
    names += [f"bed/{p.name}" for p in sorted((src / "bed").glob("*.wav"))[:2]]
    with tarfile.open(out, "w:gz") as tar:
        for name in names:
            tar.add(src / name, arcname=prefix + name)
        for lst, entries in (("validation_list.txt", names[:1]), ("testing_list.txt", names[1:2])):
            data = ("\n".join(entries) + "\n").encode()
            info = tarfile.TarInfo(prefix + lst)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out, names


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_official_checksum_is_torchaudios() -> None:
    from torchaudio.datasets import speechcommands

    assert speechcommands._CHECKSUMS[dl.OFFICIAL_URL] == dl.OFFICIAL_SHA256


def test_download_via_loopback(speech_commands_root: Path, tmp_path: Path, serve: callable) -> None:
    www = tmp_path / "www"
    www.mkdir()
    archive, names = _tarball(speech_commands_root, www / "sc.tar.gz")
    url = serve(www) + "/sc.tar.gz"
    dest = tmp_path / "data" / "speech_commands"
    got = download_speech_commands(dest, url=url, sha256=_sha256(archive), progress=False)
    assert got == dest.absolute()
    for name in names:
        assert (dest / name).read_bytes() == (speech_commands_root / name).read_bytes()
    assert (dest / "validation_list.txt").read_text().split() == names[:1]
    assert sorted(p.name for p in dest.parent.iterdir()) == ["speech_commands"]  # no temp left
    # second call: already there, nothing fetched (a wrong URL would fail otherwise)
    assert download_speech_commands(dest, url=url + ".missing", progress=False) == dest.absolute()


def test_download_nested_top_folder(speech_commands_root: Path, tmp_path: Path, serve: callable) -> None:
    www = tmp_path / "www"
    www.mkdir()
    archive, names = _tarball(speech_commands_root, www / "sc.tar.gz", prefix="SpeechCommands/")
    dest = tmp_path / "sc"
    dest.mkdir()  # an empty folder is fine
    download_speech_commands(dest, url=serve(www) + "/sc.tar.gz", sha256=_sha256(archive), progress=False)
    assert all((dest / n).is_file() for n in names)


def test_checksum_mismatch(speech_commands_root: Path, tmp_path: Path, serve: callable) -> None:
    www = tmp_path / "www"
    www.mkdir()
    archive, _ = _tarball(speech_commands_root, www / "sc.tar.gz")
    dest = tmp_path / "data" / "sc"
    with pytest.raises(ChecksumError, match=r"SHA-256 mismatch.*expected 0{64}, got " + _sha256(archive)):
        download_speech_commands(dest, url=serve(www) + "/sc.tar.gz", sha256="0" * 64, progress=False)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []  # partial download removed


def test_path_traversal_refused(tmp_path: Path, serve: callable) -> None:
    www = tmp_path / "www"
    www.mkdir()
    archive = www / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"pwned"
        info = tarfile.TarInfo("../../evil.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    dest = tmp_path / "data" / "sc"
    with pytest.raises(ValueError, match="path traversal"):
        download_speech_commands(dest, url=serve(www) + "/evil.tar.gz", sha256=_sha256(archive), progress=False)
    assert not dest.exists()
    assert not list(tmp_path.rglob("evil.txt"))
    assert list(dest.parent.iterdir()) == []


def test_refuses_non_empty_target(tmp_path: Path) -> None:
    dest = tmp_path / "sc"
    dest.mkdir()
    (dest / "something.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not an empty folder"):
        download_speech_commands(dest, url="http://127.0.0.1:9/none.tar.gz", progress=False)


def test_corrupt_archive(tmp_path: Path, serve: callable) -> None:
    www = tmp_path / "www"
    www.mkdir()
    archive = www / "broken.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00" + b"not gzip at all" * 50)
    dest = tmp_path / "data" / "sc"
    with pytest.raises(ValueError, match=r"cannot unpack archive .*broken\.tar\.gz"):
        download_speech_commands(dest, url=serve(www) + "/broken.tar.gz", sha256=_sha256(archive), progress=False)
    assert not dest.exists() and list(dest.parent.iterdir()) == []
