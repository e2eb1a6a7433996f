"""Metadata from the data, read from files the community's own tools wrote: Pilatus
miniCBF images by fabio (ESRF's image library) and an mmCIF structure by gemmi
(CCP4/Global Phasing). The archive must find what their headers say, group the detector
series and name its missing frames, and suggest form values without applying them."""

import io
import time

import numpy as np
import pytest
import requests

fabio = pytest.importorskip("fabio")
gemmi = pytest.importorskip("gemmi")
from fabio.cbfimage import CbfImage  # noqa: E402
from PIL import Image  # noqa: E402

PILATUS_HEADER = (
    "# Detector: PILATUS 6M, S/N 60-0100 Diamond\r\n"
    "# {time}\r\n"
    "# Pixel_size 172e-6 m x 172e-6 m\r\n"
    "# Exposure_time 0.200000 s\r\n"
    "# Wavelength 0.97950 A\r\n"
    "# Detector_distance 0.24500 m\r\n"
    "# Start_angle {angle:.4f} deg.\r\n"
    "# Angle_increment 0.1000 deg.\r\n"
)


def cbf_frame(n: int, tmp_path) -> bytes:
    """Frame n of a sweep, as fabio writes a Pilatus miniCBF (byte-offset compressed):
    a faint background, one strong spot at (x 40, y 20), and a masked module gap (-1)
    across rows 30 to 33."""
    data = np.full((48, 64), 3 + n, dtype=np.int32)
    data[20, 40] = 200_000
    data[30:34, :] = -1
    header = PILATUS_HEADER.format(time=f"2010-06-09T12:{n:02d}:00.000", angle=10 + 0.1 * (n - 1))
    img = CbfImage(data=data, header={"_array_data.header_convention": "PILATUS_1.2",
                                      "_array_data.header_contents": header})
    path = tmp_path / f"frame_{n}.cbf"
    img.write(str(path))
    return path.read_bytes()


def lysozyme_mmcif() -> bytes:
    """A refined structure as gemmi writes it, with its diffraction experiment."""
    st = gemmi.Structure()
    st.name = "1LYZ"
    st.cell = gemmi.UnitCell(79.1, 79.1, 37.9, 90, 90, 90)
    st.spacegroup_hm = "P 43 21 2"
    model, chain, res = gemmi.Model(1), gemmi.Chain("A"), gemmi.Residue()
    res.name, res.seqid = "GLY", gemmi.SeqId(1, " ")
    atom = gemmi.Atom()
    atom.name, atom.element, atom.pos = "CA", gemmi.Element("C"), gemmi.Position(1, 2, 3)
    res.add_atom(atom)
    chain.add_residue(res)
    model.add_chain(chain)
    st.add_model(model)
    st.setup_entities()
    d = gemmi.DiffractionInfo()
    d.id, d.source, d.synchrotron, d.beamline = "1", "SYNCHROTRON", "ESRF", "ID23-1"
    d.wavelengths, d.collection_date, d.temperature = "0.9763", "2009-11-20", 100
    d.detector, d.detector_make = "PIXEL", "DECTRIS PILATUS 6M"
    crystal = gemmi.CrystalInfo()
    crystal.id, crystal.diffractions = "1", [d]
    exp = gemmi.ExperimentInfo()
    exp.method, exp.diffraction_ids = "X-RAY DIFFRACTION", ["1"]
    meta = st.meta
    meta.crystals, meta.experiments = [crystal], [exp]
    st.meta = meta
    out = io.StringIO()
    out.write(st.make_mmcif_document().as_string())
    return out.getvalue().encode()


def extracted(archive, deposit: str) -> dict:
    """The report once every file has been read (the worker reads them after upload)."""
    url = f"{archive.base}/api/v1/deposits/{deposit}/extracted"
    for _ in range(400):
        r = requests.get(url, headers=archive.auth)
        assert r.status_code == 200, r.text
        if r.json()["pending"] == 0:
            return r.json()
        time.sleep(0.05)
    raise AssertionError(f"files still unread: {r.json()}")


def suggested(report: dict, pointer: str) -> list:
    return [v["value"] for s in report["suggestions"] if s["pointer"] == pointer
            for v in s["values"]]


def test_a_fabio_cbf_series_is_read_grouped_and_its_hole_named(archive, tmp_path):
    deposit = archive.deposit()
    for n in [1, 2, 3, 5, 6]:
        archive.upload(deposit, f"images/lyso_1_{n:05d}.cbf", cbf_frame(n, tmp_path))
    archive.upload(deposit, "README.txt", b"Lysozyme, 100 K, one sweep.\n")
    report = extracted(archive, deposit)

    assert report["unrecognised"] == 1
    [first] = report["files"]
    assert first["path"] == "images/lyso_1_00001.cbf"
    assert first["format"] == "cbf"
    assert first["series"] == "images/lyso_1_#####.cbf"
    facts = first["facts"]
    assert facts["detector"] == "PILATUS 6M"
    assert facts["detector_serial"] == "60-0100"
    assert facts["wavelength_angstrom"] == pytest.approx(0.9795)
    assert facts["detector_distance_mm"] == pytest.approx(245.0)
    assert facts["start_angle_deg"] == pytest.approx(10.0)
    assert facts["angle_increment_deg"] == pytest.approx(0.1)
    assert facts["exposure_time_s"] == pytest.approx(0.2)
    assert facts["collected_from"] == "2010-06-09T12:01:00"
    assert facts["image_size"] == [64, 48]
    # A header is read, never a whole file.
    assert 0 < first["bytes_read"] <= 65536

    [series] = report["series"]
    assert (series["first"], series["last"], series["count"]) == (1, 6, 5)
    assert series["missing"] == [[4, 4]]
    assert "1 of 6 frames" in series["problems"][0]

    assert suggested(report, "/facility/collection/wavelength_angstrom") == [pytest.approx(0.9795)]
    assert suggested(report, "/facility/collection/detector") == ["PILATUS 6M"]
    assert suggested(report, "/facility/collection/start") == ["2010-06-09"]
    # Suggestions only: the deposit's metadata is untouched.
    r = requests.get(f"{archive.base}/api/v1/deposits/{deposit}", headers=archive.auth)
    assert "collection" not in (r.json().get("facility") or {})


def test_a_gemmi_mmcif_gives_cell_entry_and_beamline(archive):
    deposit = archive.deposit()
    cif = lysozyme_mmcif()
    archive.upload(deposit, "model/1lyz.cif", cif)
    # The same structure cut in the middle, and a file that only starts like HDF5.
    archive.upload(deposit, "model/cut.cif", cif[: len(cif) // 2])
    archive.upload(deposit, "broken.h5", b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 4)
    report = extracted(archive, deposit)
    by_path = {f["path"]: f for f in report["files"]}

    facts = by_path["model/1lyz.cif"]["facts"]
    assert facts["pdb_id"] == "1LYZ"
    assert facts["cell"] == pytest.approx([79.1, 79.1, 37.9, 90, 90, 90])
    assert facts["space_group"] == "P 43 21 2"
    assert (facts["facility"], facts["beamline"]) == ("ESRF", "ID23-1")
    assert facts["wavelength_angstrom"] == pytest.approx(0.9763)
    assert facts["temperature_kelvin"] == pytest.approx(100)
    assert facts["collected_from"] == "2009-11-20"
    assert facts["technique"] == "X-RAY DIFFRACTION"
    assert facts["detector"] == "DECTRIS PILATUS 6M"

    # What the cut file still holds before the cut is read; nothing breaks.
    assert by_path["model/cut.cif"]["format"] == "mmcif"
    assert by_path["model/cut.cif"]["facts"]["pdb_id"] == "1LYZ"
    broken = by_path["broken.h5"]
    assert broken["format"] == "hdf5" and "facts" not in broken
    assert "HDF5" in broken["problem"]

    assert suggested(report, "/facility/pdb_ids") == [["1LYZ"]]
    assert suggested(report, "/facility/beamline/name") == ["ID23-1"]
    assert suggested(report, "/facility/facility/name") == ["ESRF"]
    assert requests.get(f"{archive.base}/healthz").status_code == 200


def test_a_fabio_frame_is_drawn_spot_dark_and_gap_blue(archive, tmp_path):
    deposit = archive.deposit()
    archive.upload(deposit, "images/lyso_1_00001.cbf", cbf_frame(1, tmp_path))
    archive.upload(deposit, "README.txt", b"not an image")
    extracted(archive, deposit)
    url = f"{archive.base}/api/v1/deposits/{deposit}/previews/images/lyso_1_00001.cbf"
    r = requests.get(url + "?size=large", headers=archive.auth)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(r.content)).convert("RGB")
    assert img.size == (64, 48), "a frame smaller than the view is drawn pixel for pixel"
    assert img.getpixel((40, 20)) == (0, 0, 0), "the spot is black"
    assert img.getpixel((5, 31)) == (70, 110, 200), "the module gap is masked"
    assert min(img.getpixel((5, 5))) > 150, "the background is light"
    small = requests.get(url, headers=archive.auth)
    assert Image.open(io.BytesIO(small.content)).size == (64, 48)
    # A file that is no image says so; someone else's deposit does not exist.
    r = requests.get(f"{archive.base}/api/v1/deposits/{deposit}/previews/README.txt",
                     headers=archive.auth)
    assert r.status_code == 422 and "no preview" in r.json()["detail"]
    assert requests.get(url).status_code == 401
