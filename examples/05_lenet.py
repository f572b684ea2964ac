"""5. LeNet: a whole network written as one line of spec text, measured layer by layer.

The spec language writes a network the way the lectures draw it. convlens infers every
in_channels and in_features from the shape arithmetic, and the summary table shows each layer's
output shape, parameters ((F_w F_h C_in + 1) K for a conv, in*out + out for FC), multiply-adds
and receptive field. In a notebook, the summary renders as an HTML table by itself.

Run: python examples/05_lenet.py
"""

import torch

import convlens

# the lectures' LeNet-style table, input 32x32x1 (the ReLUs are added after each conv and fc)
SPEC = "conv5x5x6-avgpool2-conv5x5x16-avgpool2-conv5x5x120-fc84-fc10"
print(f"spec: {SPEC}")
print(f"parsed and written back: {convlens.format_spec(convlens.parse_spec(SPEC))}\n")

summary = convlens.summarize(SPEC, (1, 32, 32))
print(summary)

print("\nthe lectures' parameter counts, from the table's rows:")
for name in ("conv1", "conv2", "conv3", "fc1", "fc2"):
    row = summary.row(name)
    print(f"  {name}: {'x'.join(map(str, row.out_shape)):>9}  {row.params:>6,} parameters")
for group, (params, macs) in summary.shares().items():
    print(f"  {group}: {params:.0%} of the parameters, {macs:.0%} of the multiply-adds")

# the same spec is a real PyTorch module, and the zoo holds the named architectures
model = convlens.build_model(SPEC, (1, 32, 32))
print(f"\nbuilt: {type(model).__name__} with layers {[n for n, _ in model.named_children()]}")
print(f"output for a batch of 2 images: {tuple(model(torch.zeros(2, 1, 32, 32)).shape)}")
zoo = convlens.summarize(convlens.create_model("alexnet_lecture"), (3, 227, 227))
print(
    f"AlexNet (lectures' version): {zoo.total_params:,} parameters, "
    f"{zoo.param_bytes / 2**20:.0f} MiB of float32 weights"
)
