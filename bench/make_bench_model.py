"""Writes a BERT-base-sized sentiment classifier (or, with --family gpt2, a GPT-2-sized causal LM) with random
weights for the benchmarks.

BERT: 12 layers, hidden 768, 12 heads, intermediate 3072, the full bert-base-uncased vocabulary (30,522),
512 positions. GPT-2: 12 layers, hidden 768, 12 heads, the full gpt2 vocabulary (50,257), 1,024 positions, the
output head tied to the embeddings. The sizes of the models people ship. Generated when the benchmark runs,
never committed.

    /usr/bin/python3 bench/make_bench_model.py OUT_DIR [--family bert|gpt2] [--layers 12 --hidden 768 --heads 12]
"""
import argparse
import os
import shutil
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
import hf_modules as hf  # noqa: E402
import make_fixtures as mf  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=None)
    ap.add_argument("--family", choices=["bert", "gpt2"], default="bert")
    args = ap.parse_args()
    torch.manual_seed(0)
    if args.family == "gpt2":
        write_gpt2(args)
        return
    args.vocab = args.vocab or 30522
    cfg = hf.BertConfig(vocab_size=args.vocab, hidden_size=args.hidden, num_hidden_layers=args.layers,
                        num_attention_heads=args.heads, intermediate_size=4 * args.hidden,
                        max_position_embeddings=512, num_labels=2)
    model = hf.BertForSequenceClassification(cfg).eval()
    ids = torch.randint(1000, 2000, (2, 8))
    mask = torch.ones_like(ids)
    onnx_model = mf.export_onnx(model, (ids, mask, torch.zeros_like(ids)), mf.BERT_INPUTS, ["logits"],
                                {n: {0: "batch", 1: "sequence"} for n in mf.BERT_INPUTS} | {"logits": {0: "batch"}}, 14)
    config = mf.bert_config(cfg, "BertForSequenceClassification", mf.labels({0: "NEGATIVE", 1: "POSITIVE"}))
    write_bench_folder(args.out, onnx_model, config, "bert-base-uncased")
    print(f"wrote {args.out} ({sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters)")


def write_bench_folder(out: str, onnx_model, config: dict, tokenizer: str) -> None:
    """The model folder: onnx/model.onnx, config.json, and the real tokenizer `tokenizer` from test/fixtures/tokenizers."""
    mf.save_model(onnx_model, os.path.join(out, "onnx", "model.onnx"))
    mf.write_json(os.path.join(out, "config.json"), config)
    shared = os.path.join(ROOT, "test", "fixtures", "tokenizers", tokenizer)
    for name in ["tokenizer.json", "tokenizer_config.json"]:
        shutil.copyfile(os.path.join(shared, name), os.path.join(out, name))


def write_gpt2(args) -> None:
    vocab = args.vocab or 50257
    cfg = hf.GPT2Config(vocab_size=vocab, n_embd=args.hidden, n_layer=args.layers, n_head=args.heads,
                        n_inner=4 * args.hidden, n_positions=1024)
    model = hf.GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.02)
    ids = torch.randint(1000, 2000, (2, 8))
    axes = {0: "batch_size", 1: "sequence_length"}
    onnx_model = mf.export_onnx(model, (ids, torch.ones_like(ids)), ["input_ids", "attention_mask"], ["logits"],
                                {"input_ids": axes, "attention_mask": axes, "logits": axes}, 14)
    write_bench_folder(args.out, onnx_model, mf.gpt2_config(cfg), "gpt2")
    print(f"wrote {args.out} ({sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters)")


if __name__ == "__main__":
    main()
