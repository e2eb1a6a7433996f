"""/metrics read by the Prometheus project's own OpenMetrics parser (prometheus_client),
as a Prometheus server or an agent would scrape it."""

import requests
from prometheus_client.openmetrics.parser import text_string_to_metric_families


def test_metrics_parse_as_openmetrics(archive):
    deposit = archive.deposit()
    archive.upload(deposit, "frame_0001.cbf", b"\x00" * 4096)
    for _ in range(2):
        assert requests.get(f"{archive.base}/datasets/{deposit}").status_code == 404
    r = requests.get(f"{archive.base}/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    duration = families["arca_http_request_duration_seconds"]
    assert duration.type == "histogram" and duration.unit == "seconds"
    landing = [s for s in duration.samples
               if s.labels.get("route") == "/datasets/{id}" and s.name.endswith("_count")]
    assert [s.value for s in landing] == [2.0]
    requests_total = families["arca_http_requests"]
    assert requests_total.type == "counter"
    assert any(s.labels.get("status") == "404" and s.labels.get("route") == "/datasets/{id}"
               for s in requests_total.samples)
    assert families["arca_db_connections"].type == "gauge"
    assert families["arca_upload_bytes"].type == "counter"


def test_request_ids_and_readiness(archive):
    r = requests.get(f"{archive.base}/readyz", headers={"X-Request-Id": "trace-42"})
    assert r.status_code == 200
    assert r.headers["x-request-id"] == "trace-42"
    assert r.json() == {"status": "ready", "database": {"status": "ok"},
                        "object_store": {"status": "ok"}}
