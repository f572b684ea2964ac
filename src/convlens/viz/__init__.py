"""Looking inside a network: hand-made kernels, filters, feature maps, attributions, receptive
fields, top activating inputs, class-model images, Deep Dream and pictures of training.

Compute functions return tensors or arrays; ``plot_*`` functions return matplotlib figures (built
without pyplot, so nothing opens a window); ``save_png`` writes one. Layers are named by their
module path (``"conv1"``, ``"layer1.0.conv2"``), so everything works on any ``nn.Module``.
"""

from convlens.viz.activations import (
    TopActivations,
    capture,
    feature_maps,
    plot_feature_maps,
    plot_top_activating,
    top_activating,
)
from convlens.viz.attribution import (
    deconvnet,
    grad_cam,
    grad_cam_layer,
    guided_backprop,
    guided_grad_cam,
    occlusion,
    predicted_class,
    saliency,
    smoothgrad,
)
from convlens.viz.dream import (
    ClassImageConfig,
    DreamConfig,
    class_model_image,
    deep_dream,
    octave_sizes,
)
from convlens.viz.figures import png_bytes, save_png
from convlens.viz.filters import filter_grid, plot_filters
from convlens.viz.images import load_image, sample_image, to_input, to_picture
from convlens.viz.kernels import (
    KERNELS,
    convolve,
    cross_correlate,
    plot_flip,
    plot_hyperparameters,
    plot_kernels,
)
from convlens.viz.layers import conv_layers, find_layer
from convlens.viz.overlays import plot_attributions, plot_signal_attributions
from convlens.viz.receptive import (
    FieldBox,
    choose_unit,
    effective_field,
    field_box,
    plot_receptive_field,
)
from convlens.viz.relu_rules import relu_rule
from convlens.viz.training import (
    confusion_matrix,
    most_confident_wrong,
    plot_confusion,
    plot_history,
    plot_mistakes,
    read_metrics,
)

__all__ = [
    "KERNELS",
    "ClassImageConfig",
    "DreamConfig",
    "FieldBox",
    "TopActivations",
    "capture",
    "choose_unit",
    "class_model_image",
    "confusion_matrix",
    "conv_layers",
    "convolve",
    "cross_correlate",
    "deconvnet",
    "deep_dream",
    "effective_field",
    "feature_maps",
    "field_box",
    "filter_grid",
    "find_layer",
    "grad_cam",
    "grad_cam_layer",
    "guided_backprop",
    "guided_grad_cam",
    "load_image",
    "most_confident_wrong",
    "occlusion",
    "octave_sizes",
    "plot_attributions",
    "plot_confusion",
    "plot_feature_maps",
    "plot_filters",
    "plot_flip",
    "plot_history",
    "plot_hyperparameters",
    "plot_kernels",
    "plot_mistakes",
    "plot_receptive_field",
    "plot_signal_attributions",
    "plot_top_activating",
    "png_bytes",
    "predicted_class",
    "read_metrics",
    "relu_rule",
    "saliency",
    "sample_image",
    "save_png",
    "smoothgrad",
    "to_input",
    "to_picture",
    "top_activating",
]
