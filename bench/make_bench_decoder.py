"""Writes a Llama-style decoder with random weights for the generation benchmark.

4 layers, hidden 256, 8 query heads and 4 key/value heads, SwiGLU 768, RoPE, RMSNorm, the full GPT-2
vocabulary (50,257) and tokenizer, 1,024 positions: a small LLM whose output head dominates each step,
as in the small models people run. Exported with past key/values (onnx/model.onnx, transformers.js layout).
Generated when the benchmark runs, never committed.

    /usr/bin/python3 bench/make_bench_decoder.py OUT_DIR [--layers 4 --hidden 256]
"""
import argparse
import os
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "fixtures"))
import hf_modules as hf  # noqa: E402
import make_fixtures as mf  # noqa: E402
from make_generation_fixtures import export_decoder, llama_config  # noqa: E402
from make_bench_model import write_bench_folder  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=4)
    args = ap.parse_args()
    cfg = hf.LlamaConfig(vocab_size=50257, hidden_size=args.hidden, intermediate_size=3 * args.hidden,
                         num_hidden_layers=args.layers, num_attention_heads=args.heads,
                         num_key_value_heads=args.kv_heads, max_position_embeddings=1024)
    model = hf.LlamaForCausalLM(cfg)
    mf.init_weights(model, seed=1, std=0.05, overrides={"embed_tokens": 1.0})
    model.eval()
    onnx_model = export_decoder(model, cfg.num_hidden_layers, cfg.num_key_value_heads, cfg.hidden_size // cfg.num_attention_heads, with_past=True)
    config = llama_config(cfg)
    config.update({"bos_token_id": 50256, "eos_token_id": 50256})
    write_bench_folder(args.out, onnx_model, config, "gpt2")


if __name__ == "__main__":
    main()
