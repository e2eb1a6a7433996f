"""An independent tus client (tuspy) talks to Arca's /api/v1/uploads."""

import hashlib
import os

import pytest
import requests
from tusclient import client
from tusclient.exceptions import TusCommunicationError


def _file(tmp_path, name, size, seed):
    data = hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1)
    data = data[:size]
    p = tmp_path / name
    p.write_bytes(data)
    return p, hashlib.sha256(data).hexdigest()


def test_upload_with_per_chunk_checksums(archive, tmp_path):
    deposit = archive.deposit()
    path, sha = _file(tmp_path, "frames.h5", 5 * 1024 * 1024 + 17, 1)
    tus = client.TusClient(f"{archive.base}/api/v1/uploads", headers=archive.auth)
    uploader = tus.uploader(str(path), chunk_size=1024 * 1024, upload_checksum=True,
                            metadata={"deposit": deposit, "filename": "raw/frames.h5"})
    uploader.upload()
    assert uploader.offset == os.path.getsize(path)
    files = archive.files(deposit)
    assert files["raw/frames.h5"]["sha256"] == sha
    assert files["raw/frames.h5"]["size"] == os.path.getsize(path)


def test_a_new_client_resumes_an_interrupted_upload(archive, tmp_path):
    deposit = archive.deposit()
    path, sha = _file(tmp_path, "movie.mrc", 3 * 1024 * 1024, 2)
    tus = client.TusClient(f"{archive.base}/api/v1/uploads", headers=archive.auth)
    first = tus.uploader(str(path), chunk_size=1024 * 1024, upload_checksum=True,
                         metadata={"deposit": deposit, "filename": "movie.mrc"})
    first.upload(stop_at=1024 * 1024)
    assert first.offset == 1024 * 1024
    # A fresh client that only knows the upload URL asks the server where to go on.
    second = tus.uploader(str(path), url=first.url, chunk_size=1024 * 1024, upload_checksum=True)
    assert second.get_offset() == 1024 * 1024
    second.upload()
    assert archive.files(deposit)["movie.mrc"]["sha256"] == sha


def test_server_refuses_a_hostile_filename(archive, tmp_path):
    deposit = archive.deposit()
    path, _ = _file(tmp_path, "x.bin", 10, 3)
    tus = client.TusClient(f"{archive.base}/api/v1/uploads", headers=archive.auth)
    uploader = tus.uploader(str(path), metadata={"deposit": deposit, "filename": "../../etc/passwd"})
    with pytest.raises(TusCommunicationError) as err:
        uploader.upload()
    assert err.value.status_code == 400
    assert archive.files(deposit) == {}


def test_termination_removes_the_upload(archive, tmp_path):
    deposit = archive.deposit()
    path, _ = _file(tmp_path, "x.bin", 2 * 1024 * 1024, 4)
    tus = client.TusClient(f"{archive.base}/api/v1/uploads", headers=archive.auth)
    uploader = tus.uploader(str(path), chunk_size=1024 * 1024,
                            metadata={"deposit": deposit, "filename": "x.bin"})
    uploader.upload(stop_at=1024 * 1024)
    r = requests.delete(uploader.url, headers={**archive.auth, "Tus-Resumable": "1.0.0"})
    assert r.status_code == 204
    r = requests.head(uploader.url, headers={**archive.auth, "Tus-Resumable": "1.0.0"})
    assert r.status_code == 404
