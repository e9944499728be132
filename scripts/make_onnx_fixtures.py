#!/usr/bin/python3
"""Writes the ONNX model fixtures under test/fixtures/models/onnx/, with expected.json.

The graphs are built from fitted scikit-learn models with Debian's python3-onnx (skl2onnx is not packaged
there), in the two forms ONNX regressors usually take: plain float64 MatMul + Add, and skl2onnx's
float32 `ai.onnx.ml.LinearRegressor`. expected.json holds scikit-learn's own predictions on all 442 rows
of the diabetes data, so the TypeScript loader is tested against values it did not produce. Run:
    apt-get install python3-sklearn python3-onnx
    /usr/bin/python3 scripts/make_onnx_fixtures.py
"""
import json
import os
import platform

import numpy as np
import onnx
import sklearn
from onnx import TensorProto, helper, numpy_helper
from sklearn import linear_model as lm
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "models", "onnx")
os.makedirs(OUT, exist_ok=True)
X, y = load_diabetes(return_X_y=True)
N = X.shape[1]


def save(name, nodes, inputs, outputs, initializers=(), ml=False):
    opsets = [helper.make_opsetid("", 13)] + ([helper.make_opsetid("ai.onnx.ml", 1)] if ml else [])
    model = helper.make_model(
        helper.make_graph(nodes, name, inputs, outputs, list(initializers)),
        opset_imports=opsets,
        producer_name="predstream scripts/make_onnx_fixtures.py",
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(OUT, name + ".onnx"))


def matmul_add(name, model, out_width=1):
    coef = np.asarray(model.coef_, dtype=np.float64).reshape(out_width, N).T
    intercept = np.asarray(model.intercept_, dtype=np.float64).reshape(out_width)
    save(
        name,
        [helper.make_node("MatMul", ["X", "W"], ["XW"]), helper.make_node("Add", ["XW", "B"], ["Y"])],
        [helper.make_tensor_value_info("X", TensorProto.DOUBLE, [None, N])],
        [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, [None, out_width])],
        [numpy_helper.from_array(coef, "W"), numpy_helper.from_array(intercept, "B")],
    )


expected = {
    "generator": {
        "script": "scripts/make_onnx_fixtures.py",
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "onnx": onnx.__version__,
    },
    "data": "data/diabetes.csv",
    "models": {},
    "refused": {},
}

# float64 MatMul + Add: what a hand-exported linear model looks like.
ridge = lm.Ridge(alpha=0.1).fit(X, y)
matmul_add("ridge_matmul_float64", ridge)
expected["models"]["ridge_matmul_float64"] = {"features": N, "input": "float64", "predictions": ridge.predict(X).tolist()}

# skl2onnx's form of a linear regressor: float32 in, LinearRegressor (ai.onnx.ml), output "variable".
linear = lm.LinearRegression().fit(X, y)
save(
    "linear_regressor_float32",
    [
        helper.make_node(
            "LinearRegressor",
            ["X"],
            ["variable"],
            domain="ai.onnx.ml",
            coefficients=linear.coef_.astype(np.float32).tolist(),
            intercepts=[float(np.float32(linear.intercept_))],
            targets=1,
        )
    ],
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, N])],
    [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
    ml=True,
)
expected["models"]["linear_regressor_float32"] = {"features": N, "input": "float32", "predictions": linear.predict(X).tolist()}

# A random forest as skl2onnx writes one: TreeEnsembleRegressor (ai.onnx.ml), each leaf's value divided by
# the number of trees and summed. Trees compare float32 features, in scikit-learn as in ONNX; the
# thresholds, float64 in scikit-learn, are rounded down to float32 (as a careful converter does).
def float32_at_most(threshold):
    """The largest float32 <= threshold, so that x32 <= it exactly when x32 <= the float64 threshold."""
    t = np.float32(threshold)
    return float(t if t <= threshold else np.nextafter(t, np.float32(-np.inf)))


forest = RandomForestRegressor(n_estimators=5, max_depth=5, random_state=0).fit(X, y)
attrs = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
                         "nodes_truenodeids", "nodes_falsenodeids", "target_treeids", "target_nodeids",
                         "target_ids", "target_weights")}
for t, est in enumerate(forest.estimators_):
    tree = est.tree_
    for i in range(tree.node_count):
        leaf = tree.children_left[i] == -1
        attrs["nodes_treeids"].append(t)
        attrs["nodes_nodeids"].append(i)
        attrs["nodes_featureids"].append(0 if leaf else int(tree.feature[i]))
        attrs["nodes_values"].append(0.0 if leaf else float32_at_most(tree.threshold[i]))
        attrs["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
        attrs["nodes_truenodeids"].append(0 if leaf else int(tree.children_left[i]))
        attrs["nodes_falsenodeids"].append(0 if leaf else int(tree.children_right[i]))
        if leaf:
            attrs["target_treeids"].append(t)
            attrs["target_nodeids"].append(i)
            attrs["target_ids"].append(0)
            attrs["target_weights"].append(float(tree.value[i][0][0]) / len(forest.estimators_))
save(
    "random_forest_float32",
    [helper.make_node("TreeEnsembleRegressor", ["X"], ["variable"], domain="ai.onnx.ml", n_targets=1,
                      aggregate_function="SUM", post_transform="NONE", **attrs)],
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, N])],
    [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
    ml=True,
)
expected["models"]["random_forest_float32"] = {"features": N, "input": "float32", "predictions": forest.predict(X).tolist()}

# Refused: two targets; two inputs; a string input; and below, three more.
two = lm.LinearRegression().fit(X, np.column_stack([y, y * 2]))
matmul_add("two_targets", two, out_width=2)
expected["refused"]["two_targets"] = "multi-output"
save(
    "two_inputs",
    [helper.make_node("Add", ["A", "B"], ["Y"])],
    [helper.make_tensor_value_info(n, TensorProto.DOUBLE, [None, N]) for n in ("A", "B")],
    [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, [None, N])],
)
expected["refused"]["two_inputs"] = "unsupported-model"
save(
    "string_input",
    [helper.make_node("Identity", ["S"], ["Y"])],
    [helper.make_tensor_value_info("S", TensorProto.STRING, [None, 1])],
    [helper.make_tensor_value_info("Y", TensorProto.STRING, [None, 1])],
)
expected["refused"]["string_input"] = "unsupported-model"

# A classifier (its first output an int64 label), a float16 output, a fixed batch of 32 rows.
save(
    "classifier_label",
    [
        helper.make_node("MatMul", ["X", "W"], ["scores"]),
        helper.make_node("ArgMax", ["scores"], ["label"], axis=1, keepdims=0),
    ],
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, N])],
    [
        helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, 3]),
    ],
    [numpy_helper.from_array(np.ones((N, 3), dtype=np.float32), "W")],
)
expected["refused"]["classifier_label"] = "unsupported-model"
save(
    "float16_output",
    [helper.make_node("Cast", ["X"], ["Y"], to=TensorProto.FLOAT16)],
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 1])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT16, [None, 1])],
)
expected["refused"]["float16_output"] = "unsupported-model"
save(
    "fixed_batch",
    [helper.make_node("ReduceSum", ["X"], ["Y"], keepdims=1)],
    [helper.make_tensor_value_info("X", TensorProto.DOUBLE, [32, N])],
    [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, [1, 1])],
)
expected["refused"]["fixed_batch"] = "unsupported-model"

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")
print("wrote", sorted(os.listdir(OUT)))
