"""ONNX Lens against the shap and lime libraries, side by side, on the same model and the same sentences.

The same model: the demo model's ONNX weights (models/demo-sentiment/onnx/model.onnx) loaded into the PyTorch
BERT of scripts/fixtures/hf_modules.py (Hugging Face's operations and parameter names), checked to give the
ONNX file's logits. The same sentences: 20 review sentences of 10-45 tokens (test/fixtures/data), spread over
that range. The same question: the POSITIVE logit.

  theirs: shap's Partition explainer (Text masker over the same words, max_evals 500) and lime's
          LimeTextExplainer (5,000 samples), the model run by PyTorch in the batches they ask for;
  ours:   `onnx-lens` Partition SHAP at budget 500 and LIME at 5,000 samples (out/bench/sideBySideOurs.js, the
          whole explain request in process, from a cold cache).

It prints a table of median seconds per sentence and the ratio theirs / ours, and how well the two agree
(Spearman over the words both split the same way). It needs `npx tsc -p tsconfig.test.json` first, and shap
and lime (`pip install shap lime`); without them it says so in one line and stops. `--check-model` only checks
that the PyTorch copy of the model gives the ONNX file's logits (no shap or lime needed).

    /usr/bin/python3 bench/shap_lime_side_by_side.py [--check-model] [--sentences 20]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
sys.path.insert(0, os.path.join(ROOT, "scripts", "demo"))
import hf_modules as hf  # noqa: E402
from wordpiece import WordPieceTokenizer  # noqa: E402

MODEL = os.path.join(ROOT, "models", "demo-sentiment")
DATA = os.path.join(ROOT, "test", "fixtures", "data", "uci-sentiment-labelled")
OURS = os.path.join(ROOT, "out", "bench", "sideBySideOurs.js")
POSITIVE = 1


def torch_model_from_onnx(folder):
    """The ONNX file's weights in hf_modules' BertForSequenceClassification. Named initializers keep their
    parameter names; a Linear layer exported as MatMul stores its weight transposed under an anonymous name,
    found through the node's name (/bert/encoder/layer.0/attention/self/query/MatMul → ….query.weight)."""
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    cfg = hf.BertConfig(vocab_size=config["vocab_size"], hidden_size=config["hidden_size"],
                        num_hidden_layers=config["num_hidden_layers"], num_attention_heads=config["num_attention_heads"],
                        intermediate_size=config["intermediate_size"],
                        max_position_embeddings=config["max_position_embeddings"],
                        type_vocab_size=config.get("type_vocab_size", 2), layer_norm_eps=config.get("layer_norm_eps", 1e-12),
                        num_labels=len(config["id2label"]))
    model = hf.BertForSequenceClassification(cfg).eval()
    graph = onnx.load(os.path.join(folder, "onnx", "model.onnx")).graph
    weights = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    state = {}
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in weights and node.input[1].startswith("onnx::"):
            path = node.name.strip("/").replace("/", ".").rsplit(".", 1)[0]
            state[f"{path}.weight"] = torch.from_numpy(weights[node.input[1]].T.copy())
    for name, value in weights.items():
        if not name.startswith("onnx::"):
            state[name] = torch.from_numpy(value.copy())
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids")]
    if missing or unexpected:
        raise SystemExit(f"the ONNX weights do not fit the PyTorch model: missing {missing}, unexpected {unexpected}")
    return model


def review_sentences(tok, count):
    rows = []
    for name in ["amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt"]:
        with open(os.path.join(DATA, name), encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(r"^(.*)\t([01])\s*$", line)
                if m and m.group(1).strip():
                    text = m.group(1).strip()
                    n = len(tok.encode(text))
                    if 10 <= n <= 45:
                        rows.append((n, text))
    rows.sort()
    return [rows[(i * len(rows)) // count][1] for i in range(count)]


def run_ours(sentences):
    if not os.path.exists(OURS):
        raise SystemExit("out/bench/sideBySideOurs.js is missing: run `npx tsc -p tsconfig.test.json` first")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(sentences, f)
    try:
        out = subprocess.run(["node", OURS, f.name, MODEL], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(f.name)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def logits_of(model, ids_list):
    width = max(len(ids) for ids in ids_list)
    ids = torch.zeros(len(ids_list), width, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for b, row in enumerate(ids_list):
        ids[b, : len(row)] = torch.tensor(row)
        mask[b, : len(row)] = 1
    with torch.no_grad():
        return model(ids, mask, torch.zeros_like(ids)).numpy()


def check_model(model, ours):
    worst = 0.0
    for r in ours:
        worst = max(worst, float(np.abs(logits_of(model, [r["ids"]])[0] - np.array(r["logits"])).max()))
    print(f"same model: largest |logit difference| between PyTorch and ONNX Lens over {len(ours)} sentences: {worst:.2e}")
    if worst > 1e-4:
        raise SystemExit("the PyTorch copy does not give the ONNX model's logits; the comparison would not be fair")


class WordTokenizer:
    """Words and punctuation marks as BERT pre-tokenizes them, in the minimal tokenizer form shap's Text masker
    takes (a call returning input_ids and offset_mapping), so shap masks the words ONNX Lens explains."""

    def __call__(self, s, return_offsets_mapping=True, **_):
        spans = [m.span() for m in re.finditer(r"\w+|[^\w\s]", s)]
        return {"input_ids": list(range(len(spans))), "offset_mapping": spans}


def spearman(a, b):
    ra = np.argsort(np.argsort(a))
    rb = np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1]) if len(a) > 1 and np.std(ra) > 0 and np.std(rb) > 0 else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check-model", action="store_true", help="only check that the PyTorch copy gives the ONNX logits")
    ap.add_argument("--sentences", type=int, default=20)
    args = ap.parse_args()
    if not args.check_model:
        try:
            import lime.lime_text  # noqa: F401
            import shap  # noqa: F401
        except ImportError:
            print("shap and lime are not installed: run `pip install shap lime` (then rerun this script)")
            sys.exit(2)
    torch.set_num_threads(os.cpu_count() or 1)
    tok = WordPieceTokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    model = torch_model_from_onnx(MODEL)
    sentences = review_sentences(tok, args.sentences)
    ours = run_ours(sentences)
    check_model(model, ours)
    if args.check_model:
        return

    import shap
    from lime.lime_text import LimeTextExplainer

    def positive_logits(texts):
        return logits_of(model, [tok.encode(t) for t in texts])[:, POSITIVE]

    def probabilities(texts):
        logits = logits_of(model, [tok.encode(t) for t in texts])
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    masker = shap.maskers.Text(WordTokenizer())
    partition = shap.explainers.Partition(lambda xs: positive_logits(list(xs)), masker)
    lime_explainer = LimeTextExplainer(class_names=["NEGATIVE", "POSITIVE"], random_state=0)
    rows = {"shap": [], "lime": [], "rho_shap": [], "rho_lime": []}
    for r in ours:
        text = r["text"]
        t0 = time.perf_counter()
        sv = partition([text], max_evals=500, silent=True)
        rows["shap"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        le = lime_explainer.explain_instance(text, probabilities, labels=[POSITIVE], num_samples=5000)
        rows["lime"].append(time.perf_counter() - t0)
        words = [w["text"].lower() for w in r["words"]]
        shap_words = [w.strip().lower() for w in sv.data[0]]
        if [w for w in shap_words if w] == words:
            theirs = [v for w, v in zip(shap_words, sv.values[0]) if w]
            rows["rho_shap"].append(spearman(r["partition"]["values"], theirs))
        lime_weights = dict(le.as_list(label=POSITIVE))
        if all(w in lime_weights for w in words) and len(set(words)) == len(words):
            rows["rho_lime"].append(spearman(r["lime"]["values"], [lime_weights[w] for w in words]))

    def med(xs):
        return statistics.median(xs) if xs else float("nan")

    ours_p = med([r["partition"]["seconds"] for r in ours])
    ours_l = med([r["lime"]["seconds"] for r in ours])
    print(f"\n{len(ours)} sentences, demo model (same weights in both), POSITIVE logit; {os.cpu_count()} CPU cores\n")
    print("| method | ours median s | theirs median s | theirs ÷ ours | Spearman ours vs theirs (median, sentences) |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| Partition SHAP, budget / max_evals 500 | {ours_p:.4f} | {med(rows['shap']):.4f} | {med(rows['shap']) / ours_p:.1f}× | "
          f"{med(rows['rho_shap']):.3f} ({len(rows['rho_shap'])}) |")
    print(f"| LIME, 5,000 samples | {ours_l:.4f} | {med(rows['lime']):.4f} | {med(rows['lime']) / ours_l:.1f}× | "
          f"{med(rows['rho_lime']):.3f} ({len(rows['rho_lime'])}) |")
    print("\nTheirs run PyTorch on the CPU in the batches shap and lime ask for; ours is the whole explain request "
          "(prediction, explanation, faithfulness scores). LIME explains the probability in lime, the logit in ours.")


if __name__ == "__main__":
    main()
