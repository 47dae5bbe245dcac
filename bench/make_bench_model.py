"""Writes a BERT-base-sized sentiment classifier with random weights for the benchmarks.

12 layers, hidden 768, 12 heads, intermediate 3072, the full bert-base-uncased vocabulary (30,522),
512 positions: the size of the models people ship. Generated when the benchmark runs, never committed.

    /usr/bin/python3 bench/make_bench_model.py OUT_DIR [--layers 12 --hidden 768 --heads 12]
"""
import argparse
import json
import os
import shutil
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
import hf_modules as hf  # noqa: E402
from make_fixtures import export_onnx  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=30522)
    args = ap.parse_args()
    torch.manual_seed(0)
    cfg = hf.BertConfig(vocab_size=args.vocab, hidden_size=args.hidden, num_hidden_layers=args.layers,
                        num_attention_heads=args.heads, intermediate_size=4 * args.hidden,
                        max_position_embeddings=512, num_labels=2)
    model = hf.BertForSequenceClassification(cfg).eval()
    ids = torch.randint(1000, 2000, (2, 8))
    mask = torch.ones_like(ids)
    onnx_model = export_onnx(model, (ids, mask, torch.zeros_like(ids)), ["input_ids", "attention_mask", "token_type_ids"],
                             ["logits"], {n: {0: "batch", 1: "sequence"} for n in ["input_ids", "attention_mask", "token_type_ids"]} | {"logits": {0: "batch"}}, 14)
    os.makedirs(os.path.join(args.out, "onnx"), exist_ok=True)
    with open(os.path.join(args.out, "onnx", "model.onnx"), "wb") as f:
        f.write(onnx_model.SerializeToString())
    config = {"architectures": ["BertForSequenceClassification"], "model_type": "bert", "hidden_size": args.hidden,
              "num_hidden_layers": args.layers, "num_attention_heads": args.heads, "intermediate_size": 4 * args.hidden,
              "max_position_embeddings": 512, "type_vocab_size": 2, "vocab_size": args.vocab,
              "id2label": {"0": "NEGATIVE", "1": "POSITIVE"}, "label2id": {"NEGATIVE": 0, "POSITIVE": 1}}
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    shared = os.path.join(ROOT, "test", "fixtures", "tokenizers", "bert-base-uncased")
    for name in ["tokenizer.json", "tokenizer_config.json"]:
        shutil.copyfile(os.path.join(shared, name), os.path.join(args.out, name))
    print(f"wrote {args.out} ({sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters)")


if __name__ == "__main__":
    main()
