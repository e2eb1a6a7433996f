"""The reference: the `datacite` package's schema45 writer on the same records."""
import json
import sys
import time

from datacite import schema45

records = json.load(open(sys.argv[1]))
for r in records:
    r["schemaVersion"] = "http://datacite.org/schema/kernel-4"
    assert schema45.validate(r), "a record is not valid for the reference writer"
for r in records:
    schema45.tostring(r)
start = time.perf_counter()
written = 0
while time.perf_counter() - start < 2.0:
    for r in records:
        schema45.tostring(r)
    written += len(records)
print(f"python_records_per_second {written / (time.perf_counter() - start):.0f}")
