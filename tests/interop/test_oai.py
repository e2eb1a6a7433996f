"""An independent OAI-PMH harvester (sickle) harvests the whole archive through
resumption tokens: every oai_datacite record is valid DataCite 4.7, and no held or
unreleased dataset appears."""

import os
import pathlib
import subprocess

import pytest
from lxml import etree
from sickle import Sickle
from sickle.oaiexceptions import IdDoesNotExist

from conftest import ROOT, Archive

SCHEMA = pathlib.Path(os.environ.get(
    "ARCA_DATACITE_SCHEMA_DIR", ROOT / "schemas" / "datacite" / "kernel-4.7"))
DATACITE = "{http://datacite.org/schema/kernel-4}"


def _meta(title):
    return {"titles": [{"title": title}],
            "creators": [{"name": "Åström, Björn", "nameType": "Personal",
                          "nameIdentifiers": [{"nameIdentifier": "https://orcid.org/0000-0002-1825-0097",
                                               "nameIdentifierScheme": "ORCID"}]}],
            "publisher": {"name": "Arca"}, "publicationYear": 2026,
            "types": {"resourceTypeGeneral": "Dataset"},
            "descriptions": [{"description": "Data <b>& more</b>", "descriptionType": "Abstract"}]}


@pytest.fixture
def archive(tmp_path):
    a = Archive(tmp_path, config="[repository]\noai_page_size = 3\n")
    yield a
    a.stop()


def test_sickle_harvests_everything_released_and_nothing_else(archive, tmp_path):
    facility = {"facility": {"name": "ESRF"}, "beamline": {"name": "ID23-2"}}
    released, hidden = [], []
    for i in range(7):
        d = archive.deposit(_meta(f"Released {i}"), facility)
        archive.upload(d, f"frames/f{i}.cbf", f"frame {i}".encode())
        released.append(archive.take(d, "released"))
    for state in ["on_hold", "approved"]:
        d = archive.deposit(_meta(f"Not public ({state})"), facility)
        archive.upload(d, "x.cbf", state.encode())
        hidden.append(archive.take(d, state))

    sickle = Sickle(f"{archive.base}/oai", max_retries=0)
    assert sickle.Identify().repositoryName == "Arca"
    records = list(sickle.ListRecords(metadataPrefix="oai_datacite", ignore_deleted=False))
    # Seven records over three pages (page size 3): sickle followed the tokens.
    assert len(records) == 7
    dois = set()
    for n, rec in enumerate(records):
        assert rec.header.setSpecs == ["facility:esrf", "facility:esrf:beamline:id23-2", "type:dataset"]
        resource = rec.xml.find(f".//{DATACITE}resource")
        assert resource is not None
        dois.add(resource.find(f"{DATACITE}identifier").text.lower())
        path = tmp_path / f"record{n}.xml"
        path.write_bytes(etree.tostring(resource, xml_declaration=True, encoding="UTF-8"))
    run = subprocess.run(["xmllint", "--noout", "--nonet", "--schema", str(SCHEMA / "metadata.xsd"),
                          *[str(tmp_path / f"record{n}.xml") for n in range(7)]],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert dois == {d["doi"].lower() for d in released}
    for d in hidden:
        assert d["doi"].lower() not in dois

    # Dublin Core through the same harvester, and headers alone.
    dc = list(sickle.ListRecords(metadataPrefix="oai_dc"))
    assert sorted(r.metadata["title"][0] for r in dc) == sorted(f"Released {i}" for i in range(7))
    assert dc[0].metadata["creator"] == ["Åström, Björn"]
    assert len(list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="facility:esrf"))) == 7
    with pytest.raises(IdDoesNotExist):
        sickle.GetRecord(identifier=f"oai:arca.local:{hidden[0]['id']}", metadataPrefix="oai_dc")


def test_resumption_tokens_survive_a_restart(archive):
    for i in range(4):
        d = archive.deposit(_meta(f"R{i}"))
        archive.upload(d, "f.cbf", str(i).encode())
        archive.take(d, "released")
    sickle = Sickle(f"{archive.base}/oai", max_retries=0)
    first = sickle.ListIdentifiers(metadataPrefix="oai_dc")
    seen = [next(first).identifier for _ in range(3)]
    token = first.resumption_token.token
    assert token
    archive.restart()
    rest = Sickle(f"{archive.base}/oai").ListIdentifiers(resumptionToken=token)
    seen += [h.identifier for h in rest]
    assert len(seen) == len(set(seen)) == 4
