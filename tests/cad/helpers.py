"""Painted test volumes: a box of lung in soft tissue, with balls of known size."""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from archive.volumes import Volume


def painted_volume(shape=(70, 140, 140), spacing=(1.0, 0.7, 0.7), lung_hu=-860.0, seed=0,
                   noise=20.0) -> Volume:
    """Soft tissue with an ellipsoidal lung of 10 cm x 8 cm x 6 cm in the middle, plus noise."""
    rng = np.random.default_rng(seed)
    z, y, x = (np.indices(shape).astype(np.float32) - (np.array(shape)[:, None, None, None] - 1) / 2)
    z, y, x = z * spacing[0], y * spacing[1], x * spacing[2]
    data = np.full(shape, 40.0, dtype=np.float32)
    data[(x / 40) ** 2 + (y / 40) ** 2 + (z / 30) ** 2 < 1] = lung_hu
    data += rng.normal(0, noise, shape).astype(np.float32)
    return Volume(hu=data.astype(np.int16), spacing=spacing, origin=np.array([-50.0, -50.0, 30.0]),
                  row_dir=np.array([1.0, 0, 0]), col_dir=np.array([0, 1.0, 0]),
                  slice_step=np.array([0, 0, -spacing[0]]), study_instance_uid=generate_uid(),
                  series_instance_uid=generate_uid(), frame_of_reference_uid=generate_uid())


def paint_ball(volume: Volume, centre_mm, diameter_mm: float, hu: float, supersample: int = 4) -> None:
    """A ball with partial-volume edges (each voxel's covered fraction, by supersampling)."""
    spacing = np.array(volume.spacing)
    centre = volume.lps_to_index(centre_mm)
    half = np.ceil(diameter_mm / 2 / spacing).astype(int) + 2
    lo = np.round(centre).astype(int) - half
    hi = np.round(centre).astype(int) + half + 1
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
    sub = np.stack(np.meshgrid(offsets, offsets, offsets, indexing="ij"), -1).reshape(-1, 3)
    box = np.indices(hi - lo).reshape(3, -1).T + lo
    pts = (box[:, None, :] + sub[None]) - centre
    inside = (np.linalg.norm(pts * spacing, axis=2) <= diameter_mm / 2).mean(axis=1)
    region = volume.hu[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]].astype(np.float32)
    fraction = inside.reshape(hi - lo)
    volume.hu[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = np.rint(region + fraction * (hu - (-860.0))).astype(np.int16)


def paint_ellipsoid(volume: Volume, centre_mm, axes_mm, hu: float, supersample: int = 3) -> None:
    """An axis-aligned ellipsoid with full axes (along x, along y, craniocaudal) in mm, edges by supersampling."""
    spacing = np.array(volume.spacing)
    semi = np.array([axes_mm[2], axes_mm[1], axes_mm[0]], dtype=float) / 2  # (z, y, x) as the volume indexes
    centre = volume.lps_to_index(centre_mm)
    half = np.ceil(semi / spacing).astype(int) + 2
    lo = np.round(centre).astype(int) - half
    hi = np.round(centre).astype(int) + half + 1
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
    sub = np.stack(np.meshgrid(offsets, offsets, offsets, indexing="ij"), -1).reshape(-1, 3)
    box = np.indices(hi - lo).reshape(3, -1).T + lo
    pts = (box[:, None, :] + sub[None]) - centre
    inside = ((((pts * spacing) / semi) ** 2).sum(axis=2) <= 1).mean(axis=1)
    region = volume.hu[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]].astype(np.float32)
    fraction = inside.reshape(hi - lo)
    volume.hu[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] = np.rint(region + fraction * (hu - (-860.0))).astype(np.int16)


def volume_datasets(volume: Volume, *, intercept: float = -1024.0) -> list[Dataset]:
    """The volume as CT slices with stored values = HU - intercept (slope 1)."""
    study_uid = volume.study_instance_uid or generate_uid()
    datasets = []
    for k in range(volume.hu.shape[0]):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, volume.series_instance_uid
        ds.FrameOfReferenceUID = volume.frame_of_reference_uid
        ds.PatientName, ds.PatientID, ds.Modality = "TEST^VOLUME", "PID-V", "CT"
        ds.ImagePositionPatient = [float(v) for v in volume.origin + k * volume.slice_step]
        ds.ImageOrientationPatient = [*volume.row_dir.tolist(), *volume.col_dir.tolist()]
        ds.PixelSpacing = [volume.spacing[1], volume.spacing[2]]
        ds.InstanceNumber = k + 1
        ds.Rows, ds.Columns = volume.hu.shape[1:]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.RescaleIntercept, ds.RescaleSlope = intercept, 1
        ds.PixelData = (volume.hu[k].astype(np.int32) - int(intercept)).astype(np.uint16).tobytes()
        datasets.append(ds)
    return datasets
