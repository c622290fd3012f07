"""ONNX Runtime against torch for the default causal LM's forward pass (issue 15's backend check).

Exports SmolLM2-135M (the float32 copy the transformers backend uses) with the inputs of the
engine's packed calls (token ids, positions, a 4-D additive mask), then times one forward pass
of N tokens in each runtime, one thread, CPU time, and compares the log-probabilities.
Needs `pip install onnx onnxruntime` (not a dependency of unspin: the runtime was measured,
not adopted; docs/benchmarks.md, "Restore with the default LM now").

Usage: python benchmarks/bench_onnx.py [--tokens 64,256,512] [--onnx /tmp/smollm2.onnx]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # this checkout's unspin, not an installed one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", default="64,256,512", help="forward-pass lengths")
    parser.add_argument("--onnx", type=Path, default=Path("/tmp/smollm2-unspin.onnx"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    try:
        import numpy as np
        import onnxruntime as ort
        import torch
        from transformers import AutoModelForCausalLM
    except ImportError as exc:
        raise SystemExit(f"needs torch, transformers, onnx and onnxruntime: {exc}") from exc
    from unspin.resources.lm import converted_gguf_dir, default_gguf_path

    folder = converted_gguf_dir(default_gguf_path())
    if folder is None:
        raise SystemExit("could not make the float32 copy of the default model")
    torch.set_num_threads(1)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()

    class Packed(torch.nn.Module):
        """The model with the packed call's inputs, logits out."""

        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, ids, positions, mask):
            return self.inner(
                input_ids=ids, position_ids=positions, attention_mask=mask, use_cache=False
            ).logits

    packed = Packed(model)

    def inputs(length: int):
        ids = torch.randint(100, 40000, (1, length), generator=torch.Generator().manual_seed(0))
        positions = torch.arange(length)[None]
        mask = torch.full((1, 1, length, length), torch.finfo(torch.float32).min).triu(1)
        return ids, positions, mask

    if not args.onnx.is_file():
        started = time.time()
        torch.onnx.export(
            packed,
            inputs(16),
            str(args.onnx),
            input_names=["ids", "positions", "mask"],
            output_names=["logits"],
            dynamic_axes={
                "ids": {1: "n"},
                "positions": {1: "n"},
                "mask": {2: "n", 3: "m"},
                "logits": {1: "n"},
            },
            opset_version=17,
            dynamo=False,
        )
        print(f"exported in {time.time() - started:.1f} s", file=sys.stderr)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(args.onnx), options, providers=["CPUExecutionProvider"])
    print(
        "| tokens | torch ms (ms a token) | ONNX Runtime ms (ms a token) | max log-prob difference |"
    )
    print("|---:|---:|---:|---:|")
    for length in (int(n) for n in args.tokens.split(",")):
        ids, positions, mask = inputs(length)
        with torch.inference_mode():
            reference = packed(ids, positions, mask)
            started = time.process_time()
            for _ in range(args.repeat):
                reference = packed(ids, positions, mask)
            torch_s = (time.process_time() - started) / args.repeat
        feed = {"ids": ids.numpy(), "positions": positions.numpy(), "mask": mask.numpy()}
        result = session.run(None, feed)[0]
        started = time.process_time()
        for _ in range(args.repeat):
            result = session.run(None, feed)[0]
        ort_s = (time.process_time() - started) / args.repeat
        difference = np.abs(
            torch.log_softmax(reference, -1).numpy()
            - torch.log_softmax(torch.from_numpy(result), -1).numpy()
        ).max()
        print(
            f"| {length} | {1000 * torch_s:.0f} ({1000 * torch_s / length:.2f}) "
            f"| {1000 * ort_s:.0f} ({1000 * ort_s / length:.2f}) | {difference:.1e} |"
        )


if __name__ == "__main__":
    main()
