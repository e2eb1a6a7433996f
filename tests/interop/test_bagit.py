"""BagIt interoperability with the Library of Congress `bagit` tool: bags Arca exports
validate, bags the tool makes import cleanly, and damaged bags are refused with reasons."""

import hashlib
import io
import tarfile
import time

import bagit
import requests


def _tar(directory, arcname) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        t.add(directory, arcname=arcname)
    return buf.getvalue()


def _import(archive, body):
    return requests.post(f"{archive.base}/api/v1/deposits/import", data=body,
                         headers={**archive.auth, "Content-Type": "application/x-tar"})


def test_an_exported_bag_passes_the_bagit_validator(archive, tmp_path):
    deposit = archive.deposit()
    archive.upload(deposit, "images/frame_0001.cbf", b"\x00\x01frame" * 1000)
    archive.upload(deposit, "Å readme.txt", "ünïcode".encode())
    dataset = archive.take(deposit, "released")["dataset_id"]
    r = requests.get(f"{archive.base}/datasets/{dataset}/bag.tar")
    assert r.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(r.content)) as t:
        t.extractall(tmp_path, filter="data")
    bag = bagit.Bag(str(tmp_path / f"arca-{dataset}"))
    bag.validate()  # raises BagValidationError with the reasons otherwise
    assert bag.info["Payload-Oxum"] == f"{7 * 1000 + len('ünïcode'.encode())}.2"
    assert bag.info["External-Identifier"].startswith("https://doi.org/10.5072/")
    assert sorted(bag.payload_files()) == ["data/images/frame_0001.cbf", "data/Å readme.txt"]
    assert (tmp_path / f"arca-{dataset}" / "metadata" / "datacite.xml").exists()


def test_a_bag_made_by_the_bagit_tool_imports_cleanly(archive, tmp_path):
    src = tmp_path / "lysozyme"
    (src / "images").mkdir(parents=True)
    frames = {f"images/img_{i:04}.cbf": bytes([i]) * (1000 + i) for i in range(5)}
    for name, data in frames.items():
        (src / name).write_bytes(data)
    (src / "café notes.txt").write_text("processed with XDS")
    bagit.make_bag(str(src), {"Contact-Name": "Franklin, Rosalind",
                              "External-Description": "Lysozyme at 100 K"})  # sha256 + sha512
    r = _import(archive, _tar(src, "lysozyme"))
    assert r.status_code == 201, r.text
    deposit = r.json()
    assert deposit["metadata"]["titles"][0]["title"] == "Lysozyme at 100 K"
    assert deposit["metadata"]["creators"][0]["name"] == "Franklin, Rosalind"
    files = archive.files(deposit["id"])
    assert set(files) == set(frames) | {"café notes.txt"}
    for name, data in frames.items():
        assert files[name]["sha256"] == hashlib.sha256(data).hexdigest()
    # The bag's manifests are the deposit's: verification checks the stored bytes.
    url = f"{archive.base}/api/v1/deposits/{deposit['id']}"
    requests.patch(url, json={"metadata": {**deposit["metadata"], "publisher": {"name": "Arca"},
                                           "publicationYear": 2026}}, headers=archive.auth)
    r = requests.post(f"{url}/submit", headers=archive.auth)
    assert r.status_code == 200, r.text
    for _ in range(200):
        state = requests.get(url, headers=archive.auth).json()["state"]
        if state != "submitted":
            break
        time.sleep(0.05)
    assert state == "verified"


def test_damaged_bags_are_refused_with_the_reasons(archive, tmp_path):
    src = tmp_path / "bag"
    src.mkdir()
    (src / "a.dat").write_bytes(b"a" * 100)
    (src / "b.dat").write_bytes(b"b" * 100)
    bagit.make_bag(str(src))
    (src / "data" / "a.dat").write_bytes(b"A" + b"a" * 99)  # bit rot
    (src / "data" / "b.dat").unlink()                      # lost file
    r = _import(archive, _tar(src, "bag"))
    assert r.status_code == 422
    problems = "\n".join(e["detail"] for e in r.json()["errors"])
    assert "data/a.dat: sha256 does not match manifest-sha256.txt" in problems
    assert "data/a.dat: sha512 does not match manifest-sha512.txt" in problems
    assert "data/b.dat is listed but not in the bag" in problems
    assert "Payload-Oxum" in problems
    before = requests.get(f"{archive.base}/api/v1/deposits", headers=archive.auth).json()
    assert not before["deposits"], "nothing was created"
