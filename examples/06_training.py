"""6. Training: why convolution wins on MNIST-1D, then save, reload and export the model.

MNIST-1D (Greydanus & Kobak, 2020) holds 40-sample signals of ten digit-like shapes placed at a
random offset, with noise. A small conv net shares its kernels across positions and generalises
far better than a fully connected net of similar size, which must learn every offset separately.
The data set is generated on the spot, so nothing is downloaded.

Run: python examples/06_training.py   (CONVLENS_EXAMPLE_QUICK=1 for a few-second version)
The same run from the command line, on 2 processes:
    torchrun --nproc_per_node=2 -m convlens train mnist1d_cnn --data mnist1d --device cpu
"""

import os
from pathlib import Path

import convlens

QUICK = os.environ.get("CONVLENS_EXAMPLE_QUICK") == "1"
EPOCHS = 1 if QUICK else 8

train = convlens.load_dataset("mnist1d", "train")
test = convlens.load_dataset("mnist1d", "test")
print(f"MNIST-1D: {len(train)} training and {len(test)} test signals of shape {train.in_shape}")

config = convlens.TrainConfig(
    epochs=EPOCHS, batch_size=100, lr=0.01, optimizer="adam", weight_decay=0, device="cpu",
    verbose=0,
)  # fmt: skip
out = Path("convlens-runs/examples/06_training")  # under the working directory
out.mkdir(parents=True, exist_ok=True)
results = {}
for name in ("mnist1d_mlp", "mnist1d_cnn"):
    model = convlens.create_model(name)
    params = convlens.summarize(model, train.in_shape).total_params
    history = convlens.fit(model, train, config, val=test, test=test, run_dir=out / name)
    results[name] = model
    best = history.best or {}
    print(
        f"{name}: {params:>6,} parameters, train acc {history['acc'][-1]:.1%}, "
        f"test acc {history.test['acc']:.1%} (best val {best.get('val_acc', float('nan')):.1%} "
        f"at epoch {best.get('epoch')}), {history.hardware}"
    )

# every run directory holds safetensors checkpoints with JSON metadata: reload and re-evaluate
ckpt = convlens.load_checkpoint(out / "mnist1d_cnn" / "last")
metrics = convlens.evaluate(ckpt.model, test)
print(f"reloaded {out / 'mnist1d_cnn' / 'last.safetensors'}: test acc {metrics['acc']:.1%}")
print(f"per-epoch metrics: {out / 'mnist1d_cnn' / 'metrics.csv'}")

try:
    from convlens.export import export_onnx

    check = export_onnx(ckpt.model, out / "mnist1d_cnn.onnx", ckpt.in_shape, dynamo=False)
    print(f"ONNX export checked with onnxruntime: max abs diff {check.max_abs_diff:.1e}")
except convlens.ConfigError as err:  # the optional extra is not installed
    print(f"ONNX export skipped: {err}")
