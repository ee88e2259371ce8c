"""Convert MPII, LSP-extended and the COCO val subset to OpenPose-18 with per-point label masks.

Output (``train/cache/people.npz``):
    xy     (N, 18, 2) float32, source pixels (unlabelled points are 0)
    label  (N, 18) bool, True where the source labels the point
    source (N,) int8, index into SOURCES
    split  (N,) int8, 0 train, 1 val, 2 test
    image  (N,) str, "<source>:<image id>"

Rules:
- neck (OpenPose 1) = mid-shoulders, labelled only where both shoulders are;
- MPII/LSP have no nose/eyes/ears: those points are unlabelled (never penalised);
- LSPET: only flag == 1 points are labels;
- MPII: the three files describe the same images; people are grouped by image
  and duplicates (same joints within a few pixels) are dropped;
- splits are by image: ``train/splits.json`` lists the val and test images,
  every other image is train. It is made once (hash of the image id) and then
  read back, so it never changes silently.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import os
from typing import Dict, List, Tuple

import numpy as np

from . import CACHE_DIR, DEFAULT_DATA_DIR, REPO_ROOT

logger = logging.getLogger(__name__)

SOURCES = ("mpii", "lspet", "coco")
SPLITS = ("train", "val", "test")
SPLITS_PATH = os.path.join(REPO_ROOT, "train", "splits.json")
PEOPLE_PATH = os.path.join(CACHE_DIR, "people.npz")

# OpenPose index for each source joint (-1: no counterpart).
# MPII: 0 R ankle, 1 R knee, 2 R hip, 3 L hip, 4 L knee, 5 L ankle, 6 pelvis, 7 thorax,
# 8 upper neck, 9 head top, 10 R wrist, 11 R elbow, 12 R shoulder, 13 L shoulder, 14 L elbow, 15 L wrist
MPII_TO_OP = (10, 9, 8, 11, 12, 13, -1, -1, -1, -1, 4, 3, 2, 5, 6, 7)
# LSP: 0 R ankle, 1 R knee, 2 R hip, 3 L hip, 4 L knee, 5 L ankle, 6 R wrist, 7 R elbow,
# 8 R shoulder, 9 L shoulder, 10 L elbow, 11 L wrist, 12 neck, 13 head top
LSP_TO_OP = (10, 9, 8, 11, 12, 13, 4, 3, 2, 5, 6, 7, -1, -1)
# COCO: the table in lib_skelext.pose (OpenPose index <- COCO index).
KAGGLE_COLS = ("r ankle", "r knee", "r hip", "l hip", "l knee", "l ankle", "pelvis", "thorax",
               "upper neck", "head top", "r wrist", "r elbow", "r shoulder", "l shoulder",
               "l elbow", "l wrist")
# (test share, val share) per source; COCO is small, so it keeps a larger test share.
SPLIT_SHARES = {"mpii": (0.10, 0.05), "lspet": (0.10, 0.05), "coco": (0.20, 0.10)}


def _to_openpose(joints: np.ndarray, labelled: np.ndarray, table: Tuple[int, ...]) -> Tuple[np.ndarray, np.ndarray]:
    """(N, J, 2) source joints + (N, J) bool -> (N, 18, 2) xy, (N, 18) bool label, neck added."""
    n = len(joints)
    xy = np.zeros((n, 18, 2), np.float64)
    lab = np.zeros((n, 18), bool)
    for j, op in enumerate(table):
        if op >= 0:
            xy[:, op] = joints[:, j]
            lab[:, op] = labelled[:, j]
    both = lab[:, 2] & lab[:, 5]
    xy[both, 1] = (xy[both, 2] + xy[both, 5]) / 2
    lab[:, 1] = both
    xy[~lab] = 0.0
    return xy, lab


def load_mpii(data_dir: str) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    """All MPII people from the three files, deduplicated. Returns xy, label, image names."""
    people: Dict[str, List[Tuple[np.ndarray, np.ndarray]]] = {}

    def add(names, joints, labelled):
        xy, lab = _to_openpose(joints, labelled, MPII_TO_OP)
        for name, p, l in zip(names, xy, lab):
            people.setdefault(str(name), []).append((p, l))

    # hourglass validation set first: it carries explicit labelled flags (0,0 = unlabelled)
    hv = np.load(os.path.join(data_dir, "mpii", "hourglass_valid.npz"))
    part = hv["part"].astype(np.float64)
    add(hv["imgname"].astype(str), part, ~(part == 0).all(-1))
    for fname in ("mobilepose_train_joints.csv", "mobilepose_test_joints.csv"):
        with open(os.path.join(data_dir, "mpii", fname)) as f:
            rows = [r for r in csv.reader(f) if r]
        joints = np.array([r[1:33] for r in rows], np.float64).reshape(-1, 16, 2)
        add([r[0] for r in rows], joints, np.ones(joints.shape[:2], bool))
    with open(os.path.join(data_dir, "mpii", "mpii_human_pose_kaggle.csv")) as f:
        rows = list(csv.DictReader(f))
    joints = np.array([[[float(r[f"{c}_X"]), float(r[f"{c}_Y"])] for c in KAGGLE_COLS] for r in rows])
    add([r["NAME"] for r in rows], joints, ~(joints == -1).all(-1))

    xs, labs, names = [], [], []
    n_in = 0
    for name in sorted(people):
        kept: List[Tuple[np.ndarray, np.ndarray]] = []
        # most labelled first, so the fullest copy of a person is the one kept
        for p, l in sorted(people[name], key=lambda t: -int(t[1].sum())):
            n_in += 1
            dup = False
            for q, m in kept:
                both = l & m
                if both.sum() >= 3 and np.median(np.linalg.norm(p[both] - q[both], axis=1)) < 12.0:
                    dup = True
                    break
            if not dup and l.sum() >= 2:
                kept.append((p, l))
        for p, l in kept:
            xs.append(p)
            labs.append(l)
            names.append(name)
    logger.info("MPII: %d rows -> %d distinct people on %d images", n_in, len(xs), len(people))
    return np.array(xs), np.array(labs), names


def load_lspet(data_dir: str) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    from scipy.io import loadmat

    j = loadmat(os.path.join(data_dir, "lspet", "joints.mat"))["joints"].transpose(2, 0, 1)  # (N,14,3)
    xy, lab = _to_openpose(j[..., :2].astype(np.float64), j[..., 2] == 1, LSP_TO_OP)
    names = [f"im{i + 1:05d}" for i in range(len(j))]
    return xy, lab, names


def load_coco(data_dir: str) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    from lib_skelext.pose import COCO17_TO_OPENPOSE

    with open(os.path.join(data_dir, "coco_val2017_subset", "person_keypoints_val2017_subset.json")) as f:
        coco = json.load(f)
    table = [-1] * 17
    for op, c in enumerate(COCO17_TO_OPENPOSE):
        if c >= 0:
            table[c] = op
    xs, labs, names = [], [], []
    for a in coco["annotations"]:
        if a.get("iscrowd", 0) or a.get("num_keypoints", 0) < 2:
            continue
        kp = np.array(a["keypoints"], np.float64).reshape(17, 3)
        xy, lab = _to_openpose(kp[None, :, :2], kp[None, :, 2] > 0, tuple(table))
        xs.append(xy[0])
        labs.append(lab[0])
        names.append(str(a["image_id"]))
    return np.array(xs), np.array(labs), names


def _hash_unit(key: str) -> float:
    return int(hashlib.sha1(key.encode()).hexdigest()[:12], 16) / float(16 ** 12)


def make_splits(images: Dict[str, List[str]]) -> Dict[str, Dict[str, List[str]]]:
    """{source: [image ids]} -> {"val": {source: ids}, "test": {source: ids}} by a hash of the id."""
    out: Dict[str, Dict[str, List[str]]] = {"val": {}, "test": {}}
    for src, ids in images.items():
        test_share, val_share = SPLIT_SHARES[src]
        u = {i: _hash_unit(f"{src}:{i}") for i in sorted(set(ids))}
        out["test"][src] = sorted(i for i, v in u.items() if v < test_share)
        out["val"][src] = sorted(i for i, v in u.items() if test_share <= v < test_share + val_share)
    return out


def prepare(data_dir: str = DEFAULT_DATA_DIR, out_path: str = PEOPLE_PATH, splits_path: str = SPLITS_PATH) -> str:
    """Build the people cache; (re)use ``splits.json``. Returns the cache path."""
    loaded = {"mpii": load_mpii(data_dir), "lspet": load_lspet(data_dir), "coco": load_coco(data_dir)}
    if os.path.exists(splits_path):
        with open(splits_path) as f:
            splits = json.load(f)
    else:
        splits = make_splits({s: v[2] for s, v in loaded.items()})
        splits["_doc"] = ("Images (ids per source) held out for validation and test; every other image "
                          "is training data. Made by train/prepare.py from a hash of the image id.")
        with open(splits_path, "w") as f:
            json.dump(splits, f, indent=0, sort_keys=True)
    xy_all, lab_all, src_all, split_all, img_all = [], [], [], [], []
    for si, src in enumerate(SOURCES):
        xy, lab, names = loaded[src]
        test, val = set(splits["test"][src]), set(splits["val"][src])
        split = np.array([2 if n in test else 1 if n in val else 0 for n in names], np.int8)
        xy_all.append(xy)
        lab_all.append(lab)
        src_all.append(np.full(len(xy), si, np.int8))
        split_all.append(split)
        img_all.extend(f"{src}:{n}" for n in names)
        logger.info("%s: %d people (train %d, val %d, test %d)", src, len(xy), (split == 0).sum(),
                    (split == 1).sum(), (split == 2).sum())
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    np.savez_compressed(out_path, xy=np.concatenate(xy_all).astype(np.float32), label=np.concatenate(lab_all),
                        source=np.concatenate(src_all), split=np.concatenate(split_all), image=np.array(img_all))
    return out_path


def load_people(path: str = PEOPLE_PATH) -> Dict[str, np.ndarray]:
    """The cache written by ``prepare`` as a dict of arrays."""
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEFAULT_DATA_DIR)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    prepare(args.data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
