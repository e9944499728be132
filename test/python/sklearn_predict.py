# Expected values for interop tests: load_diabetes rows and scikit-learn's own prediction for each.
"""Reads row indices (one JSON number per line) on stdin; prints, per row, one JSON line
{"row": i, "y_true": y[i], "features": list(X[i]), "y_pred": model.predict(X[i])[0]},
computed by scikit-learn itself, independently of predstream's model reader."""
import argparse
import json
import pickle
import sys

import numpy as np
from sklearn.datasets import load_diabetes


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--model', default='models/myfile.pkl', help='scikit-learn model pickle')
    args = p.parse_args()
    with open(args.model, 'rb') as pkl_file:
        regressor = pickle.load(pkl_file)
    X, y = load_diabetes(return_X_y=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        row = int(json.loads(line))
        prediction = regressor.predict(np.array(X[row]).reshape(1, -1))[0]
        record = {
            'row': row,
            'y_true': float(y[row]),
            'features': [float(v) for v in X[row]],
            'y_pred': float(prediction),
        }
        sys.stdout.write(json.dumps(record) + '\n')


if __name__ == '__main__':
    main()
