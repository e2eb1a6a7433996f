"""Arca's CITATION.cff validates against the official CFF 1.2.0 schema (as shipped by
cffconvert), read with an ordinary YAML parser."""

import importlib.util
import json
import os

import jsonschema
import requests
import yaml

# Located without importing cffconvert, whose package imports dependencies not installed.
SCHEMA = os.path.join(os.path.dirname(importlib.util.find_spec("cffconvert").origin),
                      "schemas", "1.2.0", "schema.json")


def test_citation_cff_is_valid(archive):
    meta = {
        "titles": [{"title": "beamline-tools: quick: reduction scripts # not a comment"}],
        "creators": [
            {"name": "Curie, Marie", "nameType": "Personal", "givenName": "Marie", "familyName": "Curie",
             "nameIdentifiers": [{"nameIdentifier": "https://orcid.org/0000-0002-1825-0097", "nameIdentifierScheme": "ORCID"}]},
            {"name": "Diamond Light Source", "nameType": "Organizational"},
        ],
        "publisher": {"name": "Arca"}, "publicationYear": 2026, "version": "0.3.1",
        "types": {"resourceTypeGeneral": "Software"},
    }
    r = requests.post(f"{archive.base}/api/v1/deposits",
                      json={"metadata": meta, "facility": {"licence": "CC-BY-4.0"}}, headers=archive.auth)
    deposit = r.json()["id"]
    requests.post(f"{archive.base}/api/v1/deposits/{deposit}/doi", headers=archive.auth)
    r = requests.get(f"{archive.base}/api/v1/deposits/{deposit}/citation", params={"format": "cff"}, headers=archive.auth)
    assert r.status_code == 200
    cff = yaml.safe_load(r.text)
    jsonschema.validate(cff, json.load(open(SCHEMA)))
    assert cff["title"] == meta["titles"][0]["title"]
    assert cff["authors"][0] == {"family-names": "Curie", "given-names": "Marie",
                                 "orcid": "https://orcid.org/0000-0002-1825-0097"}
    assert cff["license"] == "CC-BY-4.0"
