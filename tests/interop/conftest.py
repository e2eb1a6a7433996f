"""A real `arca serve` for interoperability tests, on SQLite or, when
ARCA_TEST_DATABASE_URL names PostgreSQL, on a fresh schema of that database."""

import base64
import os
import pathlib
import socket
import subprocess
import time
import uuid

import pytest
import requests

ROOT = pathlib.Path(__file__).resolve().parents[2]
ARCA = os.environ.get("ARCA_BIN", str(ROOT / "target" / "debug" / "arca"))


def _database_url(data_dir: pathlib.Path) -> str:
    base = os.environ.get("ARCA_TEST_DATABASE_URL", "")
    if not base.startswith("postgres"):
        return f"sqlite://{data_dir / 'arca.db'}?mode=rwc"
    schema = "i_" + uuid.uuid4().hex
    subprocess.run(["psql", base, "-qc", f"CREATE SCHEMA {schema}"], check=True)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-c%20search_path%3D{schema}"


class Archive:
    def __init__(self, tmp: pathlib.Path, config: str = ""):
        self.data = tmp / "data"
        self.env = dict(os.environ, ARCA_DATA_DIR=str(self.data),
                        ARCA_DATABASE_URL=_database_url(tmp), ARCA_LOG="warn")
        self.env.pop("ARCA_CONFIG", None)
        if config:
            (tmp / "arca.toml").write_text(config)
            self.env["ARCA_CONFIG"] = str(tmp / "arca.toml")
        subprocess.run([ARCA, "user", "add", "--email", "tus@example.org", "--name", "Tus Client"],
                       env=dict(self.env, ARCA_PASSWORD="long enough password"), check=True,
                       capture_output=True)
        out = subprocess.run([ARCA, "token", "create", "--email", "tus@example.org"],
                             env=self.env, check=True, capture_output=True, text=True)
        self.token = out.stdout.strip()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.env["ARCA_BIND"] = f"127.0.0.1:{port}"
        self._start()
        self.auth = {"Authorization": f"Bearer {self.token}"}

    def _start(self):
        self.proc = subprocess.Popen([ARCA, "serve"], env=self.env)
        for _ in range(200):
            try:
                if requests.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise RuntimeError("arca serve did not become ready")

    def restart(self):
        """Kill the server (no clean shutdown) and start it again on the same port."""
        self.stop()
        self._start()

    def curator(self) -> dict:
        """A curator's authorisation header (the person is added on first use)."""
        if not hasattr(self, "_curator"):
            subprocess.run([ARCA, "user", "add", "--email", "curator@example.org", "--name", "Curator",
                            "--role", "curator"], env=self.env, check=True, capture_output=True)
            out = subprocess.run([ARCA, "token", "create", "--email", "curator@example.org"],
                                 env=self.env, check=True, capture_output=True, text=True)
            self._curator = {"Authorization": f"Bearer {out.stdout.strip()}"}
        return self._curator

    def deposit(self, meta=None, facility=None) -> str:
        meta = meta or {"titles": [{"title": "Insulin"}], "creators": [{"name": "Hodgkin, Dorothy"}],
                        "publisher": "Arca", "publicationYear": 2026,
                        "types": {"resourceTypeGeneral": "Dataset"}}
        body = {"metadata": meta}
        if facility:
            body["facility"] = facility
        r = requests.post(f"{self.base}/api/v1/deposits", json=body, headers=self.auth)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def upload(self, deposit: str, path: str, data: bytes):
        """One file over tus, in a single PATCH."""
        meta = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}"
                        for k, v in {"deposit": deposit, "filename": path}.items())
        r = requests.post(f"{self.base}/api/v1/uploads", headers={
            **self.auth, "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
            "Upload-Metadata": meta})
        assert r.status_code == 201, r.text
        r = requests.patch(r.headers["Location"] if r.headers["Location"].startswith("http")
                           else self.base + r.headers["Location"], data=data, headers={
            **self.auth, "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream"})
        assert r.status_code == 204, r.text

    def take(self, deposit: str, until: str) -> dict:
        """Submit, wait for verification, and take the deposit to `until`
        ("approved", "on_hold" or "released"). Returns the deposit."""
        url = f"{self.base}/api/v1/deposits/{deposit}"
        r = requests.post(f"{url}/submit", headers=self.auth)
        assert r.status_code == 200, r.text
        for _ in range(400):
            if requests.get(url, headers=self.auth).json()["state"] == "verified":
                break
            time.sleep(0.05)
        steps = {"approved": ["approve"], "on_hold": ["approve", "hold"],
                 "released": ["approve", "release"]}[until]
        for step in steps:
            body = {"until": "2030-01-01"} if step == "hold" else None
            r = requests.post(f"{url}/{step}", json=body, headers=self.curator())
            assert r.status_code == 200, r.text
        return requests.get(url, headers=self.auth).json()

    def files(self, deposit: str) -> dict:
        r = requests.get(f"{self.base}/api/v1/deposits/{deposit}/files", headers=self.auth)
        return {f["path"]: f for f in r.json()["files"]}

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def archive(tmp_path):
    a = Archive(tmp_path)
    yield a
    a.stop()
