"""Schemathesis, driven by /api/openapi.json, runs against a real server: no server
error, and every response's status, content type, headers and body match the document."""

import pathlib
import re
import subprocess

import requests

HERE = pathlib.Path(__file__).resolve().parent


def test_schemathesis_finds_no_server_error_and_no_undocumented_response(archive):
    checks = ",".join(["not_a_server_error", "status_code_conformance", "content_type_conformance",
                       "response_schema_conformance", "response_headers_conformance"])
    for auth in (archive.auth, archive.curator()):
        run = subprocess.run(
            ["st", "run", f"{archive.base}/api/openapi.json", "--checks", checks,
             "--max-examples", "25", "--seed", "1",
             "--header", f"Authorization: {auth['Authorization']}"],
            capture_output=True, text=True, cwd=HERE, timeout=600,
            env={**archive.env, "SCHEMATHESIS_HOOKS": "st_hooks", "PYTHONPATH": str(HERE)})
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        # Every operation schemathesis can drive (all but HEAD) was selected and tested.
        doc = requests.get(f"{archive.base}/api/openapi.json").json()
        methods = {"get", "put", "post", "delete", "options", "patch"}
        operations = sum(len(methods & set(item)) for item in doc["paths"].values())
        selected = re.search(r"Selected: (\d+)/(\d+)", run.stdout)
        tested = re.search(r"Tested: (\d+)", run.stdout)
        assert selected and tested, run.stdout[-3000:]
        assert int(selected.group(1)) == int(selected.group(2)) == int(tested.group(1)) == operations
