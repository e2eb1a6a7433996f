"""Metadata from the data, read from files the community's own tools wrote: Pilatus
miniCBF images by fabio (ESRF's image library), an mmCIF structure by gemmi
(CCP4/Global Phasing), and NeXus/NXmx HDF5 as Dectris and DIALS lay it out (a master file
with external links to bitshuffle-LZ4 data files) by h5py and hdf5plugin. The archive
must find what their headers say, group the detector series and name its missing frames
or data files, and suggest form values without applying them."""

import io
import time

import numpy as np
import pytest
import requests

fabio = pytest.importorskip("fabio")
gemmi = pytest.importorskip("gemmi")
h5py = pytest.importorskip("h5py")
hdf5plugin = pytest.importorskip("hdf5plugin")
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


def frames(count: int, first: int = 0) -> "np.ndarray":
    """Eiger-like frames: counts 3 + n on a background, one strong spot at (x 40, y 20),
    and a module gap marked as Eiger marks it (the largest uint32) on rows 30 to 33."""
    data = np.empty((count, 48, 64), dtype=np.uint32)
    for i in range(count):
        data[i] = 3 + first + i
    data[:, 20, 40] = 200_000
    data[:, 30:34, :] = np.iinfo(np.uint32).max
    return data


def h5_bytes(tmp_path, name: str, write) -> bytes:
    path = tmp_path / name
    with h5py.File(path, "w") as f:
        write(f)
    return path.read_bytes()


def nx(group, cls: str):
    group.attrs["NX_class"] = cls
    return group


def data_file(tmp_path, name: str, count: int, first: int, **compression) -> bytes:
    """A Dectris data file: /entry/data/data, one chunk per frame."""
    def write(f):
        g = nx(f.create_group("entry/data"), "NXdata")
        ds = g.create_dataset("data", data=frames(count, first), chunks=(1, 48, 64),
                              **compression)
        ds.attrs["image_nr_low"], ds.attrs["image_nr_high"] = first + 1, first + count
    return h5_bytes(tmp_path, name, write)


def master_file(tmp_path, name: str, data_files: list, announced: int) -> bytes:
    """An NXmx master file: the collection's metadata, and its frames as external links
    to the data files."""
    def write(f):
        entry = nx(f.create_group("entry"), "NXentry")
        entry["definition"] = "NXmx"
        entry["start_time"] = "2024-03-05T10:11:12.5Z"
        entry["end_time"] = "2024-03-05T10:12:40Z"
        data = nx(entry.create_group("data"), "NXdata")
        for i, df in enumerate(data_files, 1):
            data[f"data_{i:06d}"] = h5py.ExternalLink(df, "/entry/data/data")
        inst = nx(entry.create_group("instrument"), "NXinstrument")
        inst["name"] = "DIAMOND BEAMLINE I04"
        beam = nx(inst.create_group("beam"), "NXbeam")
        beam["incident_wavelength"] = 0.9795
        beam["incident_wavelength"].attrs["units"] = "angstrom"
        det = nx(inst.create_group("detector"), "NXdetector")
        det["description"] = "Dectris EIGER2 XE 16M"
        det["serial_number"] = "E-32-0123"
        det["distance"] = 0.2
        det["distance"].attrs["units"] = "m"
        det["count_time"] = 0.01
        det["count_time"].attrs["units"] = "s"
        spec = nx(det.create_group("detectorSpecific"), "NXcollection")
        spec["nimages"], spec["ntrigger"] = np.uint32(announced), np.uint32(1)
        spec["x_pixels_in_detector"], spec["y_pixels_in_detector"] = np.uint32(64), np.uint32(48)
        source = nx(entry.create_group("source"), "NXsource")
        source["name"] = "Diamond Light Source"
        sample = nx(entry.create_group("sample"), "NXsample")
        sample["name"] = "lysozyme"
        sample["temperature"] = 100.0
        sample["temperature"].attrs["units"] = "K"
        gonio = sample.create_group("goniometer")
        gonio["omega"] = np.arange(announced) * 0.1 + 5.0
        gonio["omega"].attrs["units"] = "deg"
    return h5_bytes(tmp_path, name, write)


def picture(archive, deposit: str, path: str) -> "Image.Image":
    url = f"{archive.base}/api/v1/deposits/{deposit}/previews/{path}?size=large"
    r = requests.get(url, headers=archive.auth)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    return Image.open(io.BytesIO(r.content)).convert("RGB")


def test_an_nxmx_master_with_bitshuffle_lz4_data_files_is_read_checked_and_drawn(
        archive, tmp_path):
    deposit = archive.deposit()
    bitshuffle = hdf5plugin.Bitshuffle(cname="lz4")
    # Ten data files: more links than HDF5 keeps in the group's header (it then keeps
    # them in a heap, by hash), as a real sweep has.
    names = [f"lyso_1_data_{i:06d}.h5" for i in range(1, 11)]
    archive.upload(deposit, "raw/lyso_1_master.h5", master_file(tmp_path, "m.h5", names, 20))
    for i, n in enumerate(names):
        archive.upload(deposit, f"raw/{n}", data_file(tmp_path, n, 2, 2 * i, **bitshuffle))
    report = extracted(archive, deposit)

    # The master stands for its data files.
    [master] = [f for f in report["files"] if f["path"] == "raw/lyso_1_master.h5"]
    assert not any(f["path"].startswith("raw/lyso_1_data") for f in report["files"])
    facts = master["facts"]
    assert master["format"] == "hdf5"
    assert facts["beamline"] == "DIAMOND BEAMLINE I04"
    assert facts["facility"] == "Diamond Light Source"
    assert facts["wavelength_angstrom"] == pytest.approx(0.9795)
    assert facts["detector"] == "Dectris EIGER2 XE 16M"
    assert facts["detector_serial"] == "E-32-0123"
    assert facts["detector_distance_mm"] == pytest.approx(200.0)
    assert facts["exposure_time_s"] == pytest.approx(0.01)
    assert facts["start_angle_deg"] == pytest.approx(5.0)
    assert facts["angle_increment_deg"] == pytest.approx(0.1)
    assert facts["frames"] == 20
    assert facts["image_size"] == [64, 48]
    assert facts["sample"] == "lysozyme"
    assert facts["temperature_kelvin"] == pytest.approx(100)
    assert facts["collected_from"] == "2024-03-05T10:11:12"
    assert facts["collected_until"] == "2024-03-05T10:12:40"
    assert facts["technique"] == "X-RAY DIFFRACTION"
    assert facts["linked_files"] == names

    [m] = report["masters"]
    assert m["data_files"] == [f"raw/{n}" for n in names]
    assert m["missing"] == [] and "problems" not in m
    assert (m["frames_announced"], m["frames_found"]) == (20, 20)
    assert master["picture"] == "raw/lyso_1_data_000001.h5"

    assert suggested(report, "/facility/beamline/name") == ["DIAMOND BEAMLINE I04"]
    assert suggested(report, "/facility/facility/name") == ["Diamond Light Source"]
    assert suggested(report, "/facility/collection/detector") == ["Dectris EIGER2 XE 16M"]
    assert suggested(report, "/facility/sample/name") == ["lysozyme"]
    assert suggested(report, "/facility/collection/start") == ["2024-03-05"]

    # The first frame, decoded from bitshuffle-LZ4: the spot black, the gap masked.
    img = picture(archive, deposit, master["picture"])
    assert img.size == (64, 48)
    assert img.getpixel((40, 20)) == (0, 0, 0)
    assert img.getpixel((5, 31)) == (70, 110, 200)
    assert min(img.getpixel((5, 5))) > 150


@pytest.mark.parametrize("compression", ["none", "gzip", "lz4"])
def test_single_hdf5_image_stacks_are_drawn(archive, tmp_path, compression):
    """Frames in the file itself: contiguous, deflate (h5py's gzip) and the HDF5 LZ4
    filter (hdf5plugin, as Dectris's own data files used before bitshuffle)."""
    kwargs = {"none": {}, "gzip": {"compression": "gzip"}, "lz4": dict(hdf5plugin.LZ4())}[compression]
    deposit = archive.deposit()

    def write(f):
        f.create_dataset("entry/data/data", data=frames(3), chunks=(1, 48, 64) if kwargs else None,
                         **kwargs)
    archive.upload(deposit, "stack.h5", h5_bytes(tmp_path, "stack.h5", write))
    report = extracted(archive, deposit)
    [f] = report["files"]
    assert f["facts"]["frames"] == 3 and f["facts"]["image_size"] == [64, 48]
    assert f["picture"] == "stack.h5"
    img = picture(archive, deposit, "stack.h5")
    assert img.getpixel((40, 20)) == (0, 0, 0)
    assert img.getpixel((5, 31)) == (70, 110, 200)


def test_missing_data_files_wrong_frame_counts_and_broken_hdf5_are_named(archive, tmp_path):
    deposit = archive.deposit()
    bitshuffle = hdf5plugin.Bitshuffle(cname="lz4")
    names = ["a_data_000001.h5", "a_data_000002.h5"]
    # One master's second data file never arrives; another announces more than it has.
    archive.upload(deposit, "a_master.h5", master_file(tmp_path, "a.h5", names, 20))
    archive.upload(deposit, names[0], data_file(tmp_path, names[0], 10, 0, **bitshuffle))
    archive.upload(deposit, "b/b_master.h5",
                   master_file(tmp_path, "b.h5", ["b_data_000001.h5"], 30))
    archive.upload(deposit, "b/b_data_000001.h5",
                   data_file(tmp_path, "b1.h5", 20, 0, **bitshuffle))
    whole = master_file(tmp_path, "c.h5", ["c_data_000001.h5"], 10)
    archive.upload(deposit, "c_master.h5", whole[: len(whole) // 2])
    report = extracted(archive, deposit)

    masters = {m["path"]: m for m in report["masters"]}
    a = masters["a_master.h5"]
    assert a["missing"] == ["a_data_000002.h5"]
    assert "1 of its 2 data files are not in the deposit (a_data_000002.h5)" in a["problems"][0]
    b = masters["b/b_master.h5"]
    assert (b["frames_announced"], b["frames_found"]) == (30, 20)
    assert "announces 30 frames, its data files hold 20" in b["problems"][0]
    cut = {f["path"]: f for f in report["files"]}["c_master.h5"]
    assert "facts" not in cut and "HDF5" in cut["problem"], cut
    assert requests.get(f"{archive.base}/healthz").status_code == 200

    # Verification carries both as warnings (the facility did not make them block).
    d = archive.take(deposit, "approved")
    warned = " ".join(w["problem"] for w in d["verification"]["warnings"])
    assert "a_data_000002.h5" in warned and "announces 30 frames" in warned
