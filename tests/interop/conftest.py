"""A real `arca serve` for interoperability tests, on SQLite or, when
ARCA_TEST_DATABASE_URL names PostgreSQL, on a fresh schema of that database."""

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
    def __init__(self, tmp: pathlib.Path):
        self.data = tmp / "data"
        self.env = dict(os.environ, ARCA_DATA_DIR=str(self.data),
                        ARCA_DATABASE_URL=_database_url(tmp), ARCA_LOG="warn")
        self.env.pop("ARCA_CONFIG", None)
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
        self.proc = subprocess.Popen([ARCA, "serve", "--bind", f"127.0.0.1:{port}"], env=self.env)
        for _ in range(200):
            try:
                if requests.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        else:
            raise RuntimeError("arca serve did not become ready")
        self.auth = {"Authorization": f"Bearer {self.token}"}

    def curator(self) -> dict:
        """A curator's authorisation header (the person is added on first use)."""
        if not hasattr(self, "_curator"):
            subprocess.run([ARCA, "user", "add", "--email", "curator@example.org", "--name", "Curator",
                            "--role", "curator"], env=self.env, check=True, capture_output=True)
            out = subprocess.run([ARCA, "token", "create", "--email", "curator@example.org"],
                                 env=self.env, check=True, capture_output=True, text=True)
            self._curator = {"Authorization": f"Bearer {out.stdout.strip()}"}
        return self._curator

    def deposit(self, meta=None) -> str:
        meta = meta or {"titles": [{"title": "Insulin"}], "creators": [{"name": "Hodgkin, Dorothy"}],
                        "publisher": "Arca", "publicationYear": 2026,
                        "types": {"resourceTypeGeneral": "Dataset"}}
        r = requests.post(f"{self.base}/api/v1/deposits", json={"metadata": meta}, headers=self.auth)
        assert r.status_code == 201, r.text
        return r.json()["id"]

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
