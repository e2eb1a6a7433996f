"""What /doi/{doi} returns is read by independent citation tools: bibtexparser, rispy,
and citeproc-py (a CSL processor) rendering Arca's CSL-JSON."""

import json
import pathlib
import re

import bibtexparser
import requests
import rispy
from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from tusclient import client

META = {
    "titles": [{"title": "Diffraction data for insulin {form II} at 100 K & 50% humidity"}],
    "creators": [
        {"name": "Hodgkin, Dorothy", "nameType": "Personal", "givenName": "Dorothy", "familyName": "Hodgkin"},
        {"name": "Åström, Björn", "nameType": "Personal"},
        {"name": "Diamond Light Source", "nameType": "Organizational"},
    ],
    "publisher": {"name": "Arca"},
    "publicationYear": 2026,
    "version": "1.2",
    "types": {"resourceTypeGeneral": "Dataset"},
}


def _held_doi(archive, tmp_path) -> str:
    """A deposit taken to 'on hold', so its DOI is registered and resolves."""
    deposit = archive.deposit(META)
    data = tmp_path / "frames.cbf"
    data.write_bytes(b"x" * 1000)
    tus = client.TusClient(f"{archive.base}/api/v1/uploads", headers=archive.auth)
    tus.uploader(str(data), metadata={"deposit": deposit, "filename": "frames.cbf"}).upload()
    return archive.take(deposit, "on_hold")["doi"]


def _get(archive, doi, accept):
    r = requests.get(f"{archive.base}/doi/{doi}", headers={"Accept": accept}, allow_redirects=False)
    assert r.status_code == 200, r.text
    return r


def test_independent_readers_agree_with_what_arca_says(archive, tmp_path):
    doi = _held_doi(archive, tmp_path)

    bib = bibtexparser.loads(_get(archive, doi, "application/x-bibtex").text)
    entry = bib.entries[0]
    assert entry["ENTRYTYPE"] == "misc"
    assert entry["doi"] == doi
    assert entry["year"] == "2026"
    assert entry["author"] == "Hodgkin, Dorothy and Åström, Björn and {Diamond Light Source}"
    # LaTeX specials arrive escaped, so the title prints as written.
    assert r"\{form II\}" in entry["title"] and r"\&" in entry["title"] and r"50\%" in entry["title"]

    ris = rispy.loads(_get(archive, doi, "application/x-research-info-systems").text)[0]
    assert ris["type_of_reference"] == "DATA"
    assert ris["authors"] == ["Hodgkin, Dorothy", "Åström, Björn", "Diamond Light Source"]
    assert ris["doi"] == doi and ris["year"] == "2026" and ris["edition"] == "1.2"

    items = json.loads(_get(archive, doi, "application/vnd.citationstyles.csl+json").text)
    source = CiteProcJSON(items)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    bibliography.register(Citation([CitationItem(items[0]["id"])]))
    rendered = str(bibliography.bibliography()[0])
    assert "Hodgkin" in rendered and "2026" in rendered and "Diamond Light Source" in rendered, rendered


CSL_DIR = pathlib.Path(__file__).resolve().parents[2] / "src" / "metadata" / "citation" / "csl"


def test_arcas_own_csl_styles_render_the_same_in_another_csl_processor(archive, tmp_path):
    """Vancouver and Chicago author-date are CSL files of Arca's own: citeproc-py, a
    second CSL engine, renders them from Arca's CSL-JSON to what Arca itself says."""
    doi = _held_doi(archive, tmp_path)
    items = json.loads(_get(archive, doi, "application/vnd.citationstyles.csl+json").text)
    for style_id in ["vancouver", "chicago-author-date"]:
        ours = _get(archive, doi, f"text/x-bibliography; style={style_id}").text.strip()
        style = CitationStylesStyle(str(CSL_DIR / f"{style_id}.csl"), validate=False)
        bibliography = CitationStylesBibliography(style, CiteProcJSON(items), formatter.plain)
        bibliography.register(Citation([CitationItem(items[0]["id"])]))
        # citeproc-py does not apply the en-US locale's punctuation-in-quote, which
        # Chicago asks for ("…humidity." rather than "…humidity".).
        theirs = str(bibliography.bibliography()[0]).strip().replace("”.", ".”")
        # The engines space a flush-aligned first field (the number) differently.
        number = re.compile(r"^1\.\s*")
        assert number.sub("", ours) == number.sub("", theirs), (style_id, ours, theirs)


def test_content_negotiation_refuses_what_it_cannot_give(archive, tmp_path):
    doi = _held_doi(archive, tmp_path)
    r = requests.get(f"{archive.base}/doi/{doi}", headers={"Accept": "application/pdf"})
    assert r.status_code == 406
    assert "application/x-bibtex" in r.json()["detail"]
    r = requests.get(f"{archive.base}/doi/{doi}", headers={"Accept": "text/html"}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].startswith("/datasets/")


def test_bibtex_compiles_a_document_citing_the_dataset(archive, tmp_path):
    """Debian's bibtex reads Arca's BibTeX as a LaTeX run would (an .aux citing the key)
    and typesets the entry with the standard `plain` style, without errors."""
    import re
    import shutil
    import subprocess

    if shutil.which("bibtex") is None:
        raise RuntimeError("bibtex is needed: apt-get install texlive-binaries texlive-base")
    doi = _held_doi(archive, tmp_path)
    bib = _get(archive, doi, "application/x-bibtex").text
    key = re.match(r"@\w+\{([^,]+),", bib).group(1)
    (tmp_path / "refs.bib").write_text(bib, encoding="utf-8")
    (tmp_path / "paper.aux").write_text(
        f"\\relax\n\\citation{{{key}}}\n\\bibstyle{{plain}}\n\\bibdata{{refs}}\n")
    run = subprocess.run(["bibtex", "paper"], cwd=tmp_path, capture_output=True, text=True)
    log = (tmp_path / "paper.blg").read_text(errors="replace")
    assert run.returncode == 0, run.stdout + log
    assert "error message" not in log and "Warning--" not in log, log
    bbl = (tmp_path / "paper.bbl").read_text(errors="replace")
    assert f"\\bibitem{{{key}}}" in bbl
    # Every author in order, the organisation kept whole, the title with its braces,
    # ampersand and percent escaped as LaTeX needs, and the year. (`plain` prints no DOI
    # field; that the DOI is in the entry bibtex read cleanly is checked above.)
    assert "Dorothy Hodgkin, Björn Åström, and {Diamond Light Source}" in bbl, bbl
    assert "\\{form II\\} at 100 K \\& 50\\% humidity" in bbl, bbl
    assert "2026" in bbl, bbl
    assert doi.lower() in bib.lower()
