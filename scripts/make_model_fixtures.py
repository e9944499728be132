#!/usr/bin/python3
"""Writes models/myfile.pkl and the model-reader fixtures under test/fixtures/models/, with expected.json.

expected.json holds what scikit-learn and numpy themselves compute (predictions on all 442 rows of the
diabetes data, decoded array values, the global a refused pickle names), so the TypeScript reader is
tested against values it did not produce. Run with Debian's Python, which has scikit-learn:
    /usr/bin/python3 scripts/make_model_fixtures.py
"""
import io
import json
import os
import pickle
import platform
import sys
import types
import warnings

import numpy as np
import sklearn
from sklearn import linear_model as lm
from sklearn import svm
from sklearn.datasets import load_diabetes
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler
from sklearn.tree import DecisionTreeRegressor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "test", "fixtures", "models")
FEATURE_NAMES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
PWNED_PATH = "/tmp/predstream-pwned"

X, y = load_diabetes(return_X_y=True)
expected = {
    "generator": {
        "script": "scripts/make_model_fixtures.py",
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
    },
    "data": "data/diabetes.csv",
    "models": {},
    "refused": {},
    "arrays": {},
}


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def fixture_path(name):
    return os.path.join(FIXTURES, name)


def predictions(model, X_in=X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [float(v) for v in np.asarray(model.predict(X_in), dtype=np.float64).ravel()]


def add_model(name, model, protocol=4, path=None, pickler=None, note=None):
    """Pickles a fitted model and records scikit-learn's own predictions for it."""
    if pickler is None:
        data = pickle.dumps(model, protocol=protocol)
    else:
        buf = io.BytesIO()
        pickler(buf, protocol).dump(model)
        data = buf.getvalue()
    rel = path or os.path.relpath(fixture_path(name), ROOT)
    write(os.path.join(ROOT, rel), data)
    entry = {
        "path": rel,
        "class": type(model).__name__,
        "protocol": protocol,
        "n_features": int(model.n_features_in_),
        "predictions": predictions(model),
    }
    if note:
        entry["note"] = note
    expected["models"][name] = entry


class _RefusedGlobal(Exception):
    pass


class _GlobalRecorder(pickle.Unpickler):
    """Python's own unpickler, stopped at the first global outside the allowed set (nothing is imported)."""

    def __init__(self, data, allowed_prefixes):
        super().__init__(io.BytesIO(data))
        self.allowed_prefixes = allowed_prefixes

    def find_class(self, module, name):
        qualified = f"{module}.{name}"
        if any(qualified.startswith(p) for p in self.allowed_prefixes):
            return super().find_class(module, name)
        raise _RefusedGlobal(qualified)


def first_refused_global(data, allowed_prefixes):
    try:
        _GlobalRecorder(data, allowed_prefixes).load()
    except _RefusedGlobal as refused:
        return refused.args[0]
    return None


# Globals a plain linear-model pickle legitimately uses; anything else is what the reader must name.
ORDINARY_GLOBALS = (
    "numpy.core.multiarray.",
    "numpy.core.numeric._frombuffer",
    "numpy.dtype",
    "numpy.ndarray",
    "_codecs.encode",
    "__builtin__.bytes",
    "builtins.bytes",
    "sklearn.linear_model._base.LinearRegression",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
)


def add_refused(name, data, reason, **extra):
    write(fixture_path(name), data)
    entry = {"path": os.path.relpath(fixture_path(name), ROOT), "reason": reason}
    if reason == "forbidden-global":
        entry["global"] = first_refused_global(data, ORDINARY_GLOBALS)
        assert entry["global"], f"{name}: no refused global found"
    entry.update(extra)
    expected["refused"][name] = entry


def fit(model, X_fit=X, y_fit=y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X_fit, y_fit)


class NumpyTwoStylePickler(pickle.Pickler):
    """Writes arrays and scalars the way numpy 2 does: through numpy._core.* instead of numpy.core.*."""

    @staticmethod
    def install_fake_modules():
        # pickle checks that module.name resolves to the very object it saves, so the numpy 2 names
        # must exist here; they are stand-ins that only ever get pickled, never called.
        def reconstruct(*args):
            raise RuntimeError("stand-in")

        def scalar(*args):
            raise RuntimeError("stand-in")

        def frombuffer(*args):
            raise RuntimeError("stand-in")

        core = types.ModuleType("numpy._core")
        multiarray = types.ModuleType("numpy._core.multiarray")
        numeric = types.ModuleType("numpy._core.numeric")
        for fn, mod, fname in (
            (reconstruct, multiarray, "_reconstruct"),
            (scalar, multiarray, "scalar"),
            (frombuffer, numeric, "_frombuffer"),
        ):
            fn.__module__ = mod.__name__
            fn.__qualname__ = fn.__name__ = fname
            setattr(mod, fname, fn)
        sys.modules.update({"numpy._core": core, "numpy._core.multiarray": multiarray, "numpy._core.numeric": numeric})
        return multiarray, numeric

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        multiarray, numeric = self.install_fake_modules()
        renames = {
            "_reconstruct": multiarray._reconstruct,
            "scalar": multiarray.scalar,
            "_frombuffer": numeric._frombuffer,
        }

        def renamed(obj):
            fn, args, *rest = obj.__reduce_ex__(protocol)
            return (renames[fn.__name__], args, *rest)

        self.dispatch_table = {np.ndarray: renamed, np.float64: renamed, np.int64: renamed}


def make_models():
    base = fit(lm.LinearRegression())
    add_model("myfile.pkl", base, protocol=4, path="models/myfile.pkl")
    for protocol in (2, 3, 4, 5):
        add_model(f"linear_regression_p{protocol}.pkl", base, protocol=protocol)

    add_model("ridge.pkl", fit(lm.Ridge(alpha=0.5)))
    add_model("lasso.pkl", fit(lm.Lasso(alpha=0.1)))
    add_model("elastic_net.pkl", fit(lm.ElasticNet(alpha=0.01, l1_ratio=0.7)))
    no_intercept = fit(lm.LinearRegression(fit_intercept=False))
    assert type(no_intercept.intercept_) is float, "fit_intercept=False should leave a plain float"
    add_model("linear_regression_no_intercept.pkl", no_intercept)

    for protocol in (2, 4, 5):
        add_model(
            f"pipeline_scaler_ridge_p{protocol}.pkl",
            fit(Pipeline([("scaler", StandardScaler()), ("ridge", lm.Ridge())])),
            protocol=protocol,
        )
    # The diabetes columns are already centred, so these scalers are fitted on shifted, stretched data: a
    # reader that subtracted mean_ despite with_mean=False (or divided despite with_std=False) would then
    # be far off. Predictions are still on the original rows.
    shifted = X * 40.0 + 7.0
    add_model(
        "pipeline_scaler_without_mean.pkl",
        fit(Pipeline([("scaler", StandardScaler(with_mean=False)), ("lasso", lm.Lasso(alpha=0.05))]), shifted),
    )
    add_model(
        "pipeline_scaler_without_std.pkl",
        fit(
            Pipeline([("scaler", StandardScaler(with_std=False)), ("passthrough", "passthrough"), ("ols", lm.LinearRegression())]),
            shifted,
        ),
    )

    try:
        import pandas as pd

        named = fit(lm.LinearRegression(), pd.DataFrame(X, columns=FEATURE_NAMES))
        note = "fitted on a pandas DataFrame"
    except ImportError:
        # Without pandas, set the attribute fit() would have set: the same object array in the pickle.
        named = fit(lm.LinearRegression())
        named.feature_names_in_ = np.array(FEATURE_NAMES, dtype=object)
        note = "pandas not installed: feature_names_in_ set by hand as the object array a DataFrame fit stores"
    add_model("linear_regression_feature_names.pkl", named, note=note)
    expected["models"]["linear_regression_feature_names.pkl"]["feature_names"] = FEATURE_NAMES

    # 2-D coef_ with one row: y given as a column, still one prediction per row.
    add_model("linear_regression_column_target.pkl", fit(lm.LinearRegression(), X, y.reshape(-1, 1)))

    float32 = fit(lm.LinearRegression())
    float32.coef_ = float32.coef_.astype(np.float32)
    float32.intercept_ = np.float32(float32.intercept_)
    add_model("linear_regression_float32.pkl", float32, note="coef_ and intercept_ cast to float32")
    big_endian = fit(lm.Ridge(alpha=0.1))
    big_endian.coef_ = big_endian.coef_.astype(">f8")
    add_model("ridge_big_endian.pkl", big_endian, note="coef_ stored big-endian")
    add_model(
        "linear_regression_numpy2_style.pkl",
        base,
        pickler=NumpyTwoStylePickler,
        note="arrays and scalars written through numpy._core.* as numpy 2 does",
    )
    add_model(
        "linear_regression_numpy2_style_p5.pkl",
        base,
        protocol=5,
        pickler=NumpyTwoStylePickler,
        note="numpy 2 names, protocol 5 (_frombuffer)",
    )

    others = {
        "ridge_cv.pkl": lm.RidgeCV(),
        "lasso_cv.pkl": lm.LassoCV(cv=3),
        "elastic_net_cv.pkl": lm.ElasticNetCV(cv=3),
        "lars.pkl": lm.Lars(),
        "lasso_lars.pkl": lm.LassoLars(alpha=0.1),
        "lasso_lars_ic.pkl": lm.LassoLarsIC(),
        "lasso_lars_cv.pkl": lm.LassoLarsCV(cv=3),
        "lars_cv.pkl": lm.LarsCV(cv=3),
        "omp.pkl": lm.OrthogonalMatchingPursuit(n_nonzero_coefs=5),
        "omp_cv.pkl": lm.OrthogonalMatchingPursuitCV(cv=3),
        "bayesian_ridge.pkl": lm.BayesianRidge(),
        "ard_regression.pkl": lm.ARDRegression(),
        "huber.pkl": lm.HuberRegressor(max_iter=1000),
        "sgd.pkl": lm.SGDRegressor(random_state=0, max_iter=5000),
        "linear_svr.pkl": svm.LinearSVR(random_state=0, max_iter=100000),
        "theil_sen.pkl": lm.TheilSenRegressor(random_state=0, max_subpopulation=500),
        "ransac.pkl": lm.RANSACRegressor(random_state=0),
        "quantile.pkl": lm.QuantileRegressor(alpha=0, solver="highs"),
        "passive_aggressive.pkl": lm.PassiveAggressiveRegressor(random_state=0),
    }
    for name, model in others.items():
        add_model(name, fit(model))


class Pwn:
    """What an attacker ships: unpickling it in Python runs a shell command."""

    def __reduce__(self):
        return (os.system, (f"touch {PWNED_PATH}",))


class PwnEval:
    def __reduce__(self):
        return (eval, (f"__import__('os').system('touch {PWNED_PATH}')",))


def make_refused():
    add_refused("malicious_os_system.pkl", pickle.dumps(Pwn(), protocol=4), "forbidden-global")
    add_refused("malicious_eval_p2.pkl", pickle.dumps(PwnEval(), protocol=2), "forbidden-global")
    # The payload hides inside an otherwise ordinary model.
    hidden = fit(lm.LinearRegression())
    hidden.coef_ = Pwn()
    add_refused("malicious_inside_model.pkl", pickle.dumps(hidden, protocol=4), "forbidden-global")

    add_refused("decision_tree.pkl", pickle.dumps(fit(DecisionTreeRegressor(max_depth=3, random_state=0)), protocol=4), "forbidden-global")
    add_refused("logistic_regression.pkl", pickle.dumps(fit(lm.LogisticRegression(max_iter=5000), X, y > 140), protocol=4), "forbidden-global")
    add_refused(
        "pipeline_polynomial.pkl",
        pickle.dumps(fit(Pipeline([("poly", PolynomialFeatures(2)), ("ols", lm.LinearRegression())])), protocol=4),
        "forbidden-global",
    )
    two_targets = fit(lm.LinearRegression(), X, np.column_stack([y, y * 2.0]))
    add_refused("multi_output.pkl", pickle.dumps(two_targets, protocol=4), "multi-output", targets=2)
    add_refused("unfitted.pkl", pickle.dumps(lm.LinearRegression(), protocol=4), "invalid-model")
    add_refused("scaler_only.pkl", pickle.dumps(fit(StandardScaler()), protocol=4), "unsupported-model")
    add_refused("plain_dict.pkl", pickle.dumps({"coef": [1.0, 2.0]}, protocol=4), "unsupported-model")

    good = pickle.dumps(fit(lm.LinearRegression()), protocol=4)
    add_refused("truncated.pkl", good[: len(good) // 2], "corrupt")
    add_refused("corrupt.pkl", b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\xff\xfe\xfd garbage", "corrupt")
    add_refused("empty.pkl", b"", "empty")
    add_refused("not_a_pickle.pkl", b"age,sex,bmi\n0.1,0.2,0.3\n", "not-a-pickle")
    add_refused("protocol0.pkl", pickle.dumps(fit(lm.LinearRegression()), protocol=0), "old-protocol")

    try:
        import joblib
    except ImportError:
        print("joblib not importable: joblib fixtures skipped")
        return
    model = fit(lm.LinearRegression())
    buf = io.BytesIO()
    joblib.dump(model, buf)
    add_refused("joblib_dump.pkl", buf.getvalue(), "joblib")
    buf = io.BytesIO()
    joblib.dump(model, buf, compress=3)
    add_refused("joblib_compressed.pkl", buf.getvalue(), "compressed")


def describe_array(a):
    kind = a.dtype.kind
    values = a.ravel(order="C").tolist()
    if kind == "f":
        values = [float(v) for v in values]
    elif kind in "iu":
        values = [int(v) for v in values]
    elif kind == "b":
        values = [bool(v) for v in values]
    return {"dtype": a.dtype.str, "shape": list(a.shape), "values": values}


def make_arrays():
    """Bare numpy values (no model), to test array decoding against numpy's own view of them."""
    rng = np.random.default_rng(7)
    grid = rng.standard_normal((3, 4))
    arrays = {
        "f8_c": grid,
        "f8_fortran": np.asfortranarray(grid),
        "f8_big_endian": grid.astype(">f8"),
        "f4": grid.astype(np.float32),
        "f4_big_endian_fortran": np.asfortranarray(grid.astype(">f4")),
        "i8": np.array([-(2**40), -1, 0, 7, 2**52], dtype=np.int64),
        "i4_big_endian": np.array([-5, 0, 123456], dtype=">i4"),
        "i2": np.array([-32768, 32767], dtype=np.int16),
        "u1": np.array([0, 200, 255], dtype=np.uint8),
        "u8": np.array([0, 2**53], dtype=np.uint64),
        "bool": np.array([True, False, True]),
        "object_strings": np.array(FEATURE_NAMES, dtype=object),
        "unicode": np.array(["age", "s1", "na\u00efve \U0001f600"]),
        "unicode_big_endian": np.array(["bmi", ""], dtype=">U4"),
        "zero_d": np.array(3.25),
        "empty": np.zeros((0,), dtype=np.float64),
        "three_d_fortran": np.asfortranarray(np.arange(24, dtype=np.float64).reshape(2, 3, 4)),
        "sliced": grid[:, ::2],
    }
    for protocol in (2, 3, 4, 5):
        name = f"arrays_p{protocol}.pkl"
        write(fixture_path(name), pickle.dumps(arrays, protocol=protocol))
        expected["arrays"][name] = {
            "path": os.path.relpath(fixture_path(name), ROOT),
            "protocol": protocol,
            "arrays": {k: describe_array(v) for k, v in arrays.items()},
        }
    scalars = {
        "float64": np.float64(-2.5e-300),
        "float32": np.float32(0.1),
        "int64": np.int64(-9000000000),
        "float64_python": 1.0 / 3.0,
    }
    write(fixture_path("scalars_p4.pkl"), pickle.dumps(scalars, protocol=4))
    expected["scalars"] = {
        "path": os.path.relpath(fixture_path("scalars_p4.pkl"), ROOT),
        "values": {k: float(v) for k, v in scalars.items()},
    }


def main():
    if os.path.exists(PWNED_PATH):
        sys.exit(f"{PWNED_PATH} exists before the fixtures are written: remove it so the tests mean something")
    make_models()
    make_refused()
    make_arrays()
    if os.path.exists(PWNED_PATH):
        sys.exit(f"{PWNED_PATH} was created while writing fixtures: the generator itself ran a payload")
    with open(fixture_path("expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print(
        f"wrote {len(expected['models'])} models, {len(expected['refused'])} refused files, "
        f"{len(expected['arrays'])} array files and expected.json under {os.path.relpath(FIXTURES, ROOT)}"
    )


if __name__ == "__main__":
    main()
