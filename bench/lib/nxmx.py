"""Writes an NXmx dataset as an Eiger detector leaves it, with h5py and hdf5plugin: a
master file (the collection's metadata, frames as external links) and data files of
FRAMES_PER_FILE frames each, one bitshuffle-LZ4 chunk per frame, until the data files
hold at least the size asked for.

    python3 bench/lib/nxmx.py DIR GB [SIDE]

Pixels are 32-bit counts; each frame has 16 random low bits per pixel, so bitshuffle-LZ4
keeps about half of its raw size (real frames compress better: this is the worst case
for the store, and the same for the reader, which reads only the metadata)."""

import os
import sys

import h5py
import hdf5plugin
import numpy as np

FRAMES_PER_FILE = 100


def nx(group, cls):
    group.attrs["NX_class"] = cls
    return group


def main():
    out, gb = sys.argv[1], float(sys.argv[2])
    side = int(sys.argv[3]) if len(sys.argv) > 3 else 2048
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    target = gb * 1e9
    written, frame, files = 0, 0, []
    while written < target:
        name = f"bench_data_{len(files) + 1:06d}.h5"
        path = os.path.join(out, name)
        with h5py.File(path, "w") as f:
            g = nx(f.create_group("entry/data"), "NXdata")
            ds = g.create_dataset("data", shape=(FRAMES_PER_FILE, side, side), dtype=np.uint32,
                                  chunks=(1, side, side), **hdf5plugin.Bitshuffle(cname="lz4"))
            for i in range(FRAMES_PER_FILE):
                ds[i] = rng.integers(0, 1 << 16, size=(side, side), dtype=np.uint32)
            ds.attrs["image_nr_low"] = frame + 1
            ds.attrs["image_nr_high"] = frame + FRAMES_PER_FILE
        frame += FRAMES_PER_FILE
        files.append(name)
        written += os.path.getsize(path)
        print(f"{name}: {os.path.getsize(path) / 1e9:.2f} GB", file=sys.stderr)
    with h5py.File(os.path.join(out, "bench_master.h5"), "w") as f:
        entry = nx(f.create_group("entry"), "NXentry")
        entry["definition"] = "NXmx"
        entry["start_time"] = "2026-12-07T10:00:00Z"
        entry["end_time"] = "2026-12-07T10:05:00Z"
        data = nx(entry.create_group("data"), "NXdata")
        for i, name in enumerate(files, 1):
            data[f"data_{i:06d}"] = h5py.ExternalLink(name, "/entry/data/data")
        inst = nx(entry.create_group("instrument"), "NXinstrument")
        inst["name"] = "BENCH BEAMLINE"
        beam = nx(inst.create_group("beam"), "NXbeam")
        beam["incident_wavelength"] = 0.9795
        beam["incident_wavelength"].attrs["units"] = "angstrom"
        det = nx(inst.create_group("detector"), "NXdetector")
        det["description"] = "Dectris EIGER2 XE 16M"
        det["distance"] = 0.2
        det["distance"].attrs["units"] = "m"
        spec = nx(det.create_group("detectorSpecific"), "NXcollection")
        spec["nimages"], spec["ntrigger"] = np.uint32(frame), np.uint32(1)
        # What a real master holds besides: a pixel mask and a flat field per pixel.
        spec.create_dataset("pixel_mask", data=np.zeros((side, side), np.uint32),
                            **hdf5plugin.Bitshuffle(cname="lz4"))
        spec.create_dataset("flatfield", data=np.ones((side, side), np.float32),
                            compression="gzip")
        sample = nx(entry.create_group("sample"), "NXsample")
        sample["name"] = "bench"
        gonio = sample.create_group("goniometer")
        gonio["omega"] = np.arange(frame) * 0.1
    print(f"{len(files)} data files, {frame} frames, {written / 1e9:.2f} GB", file=sys.stderr)


if __name__ == "__main__":
    main()
