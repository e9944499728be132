#!/usr/bin/python3
"""Writes data/diabetes.csv: scikit-learn's diabetes data set (scaled features), every float exact.

The features service streams this file, so it must equal load_diabetes() bit for bit: floats are
written with repr(), which round-trips. Run with Debian's Python, which has scikit-learn:
    /usr/bin/python3 scripts/make_diabetes.py
"""
import csv
import os
import sys

from sklearn.datasets import load_diabetes

COLUMNS = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6", "target"]


def main() -> None:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_path = os.path.join(root, "data", "diabetes.csv")
    data = load_diabetes()
    if list(data.feature_names) + ["target"] != COLUMNS:
        sys.exit(f"unexpected feature names {data.feature_names}: scikit-learn changed the data set")
    X, y = data.data, data.target
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    with open(out_path, "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row, target in zip(X, y):
            writer.writerow([repr(float(v)) for v in row] + [repr(float(target))])
    print(f"wrote {out_path}: {X.shape[0]} rows, {X.shape[1]} features + target")


if __name__ == "__main__":
    main()
