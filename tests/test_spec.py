import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convlens.errors import SpecError
from convlens.spec import (
    Activation,
    BatchNorm,
    Conv,
    Dropout,
    Flatten,
    GlobalAvgPool,
    Linear,
    LocalConv,
    LocalResponseNorm,
    Maxout,
    Pool,
    RecurrentConv,
    Spec,
    WeightedPool,
    binomial_weights,
    expand_spec,
    format_spec,
    parse_spec,
)

CANONICAL = [
    "conv5x5x6-pool2-conv5x5x16-pool2-fc120-fc84-fc10",
    "conv1d5x25s2p1-relu-conv1d3x25-gap-fc10",
    "conv11x11x96s4-relu-pool3s2-lrn-conv5x5x256p2g2-relu-avgpool3s2p1",
    "conv3x3x64psame-bn-lrelu0.2-drop0.3-conv3x1x8s2x1p1x0d2nobias-sub2-flatten-fc10nobias-softmax",
    "conv3x3x8p1circular-tanh-sigmoid-softplus-gelu-elu-lrn3-drop",
    "conv3x3x8p1-wavgpool3-local3x3x8-tiled3x3x8t2-maxout2-rcl3x3x32t3-gap-fc10",
    "wavgpool5s2p1-local5x3x4s2p1-tiled2x2x4t3s2-maxout4",
]


@pytest.mark.parametrize("text", CANONICAL)
def test_canonical_text_round_trips(text):
    assert format_spec(parse_spec(text)) == text


def test_parse_gives_the_layers_written():
    spec = parse_spec("conv5x5x6s2p1-pool2-fc10")
    assert spec.layers == (
        Conv(6, (5, 5), stride=(2, 2), padding=(1, 1)),
        Pool("max", 2),
        Linear(10),
    )
    assert parse_spec("conv1d5x25s2p1")[0] == Conv(25, (5,), (2,), (1,))


def test_python_objects_build_the_same_spec():
    text = "conv3x3x16p1-relu-pool2-flatten-fc10"
    built = Spec(
        (Conv(16, (3, 3), padding=1), Activation("relu"), Pool("max", 2), Flatten(), Linear(10))
    )
    assert parse_spec(text) == built
    assert format_spec(built) == text


def test_aliases_parse_to_canonical_form():
    assert (
        format_spec("maxpool2-conv3x3x4pvalid-dropout0.5-CONV3x3x4")
        == "pool2-conv3x3x4-drop-conv3x3x4"
    )


@pytest.mark.parametrize(
    ("text", "position", "token"),
    [
        ("conv3x3x6-pool2-fc", 3, "fc"),
        ("conv3x3x6--fc10", 2, "(empty)"),
        ("relu-conv3x3", 2, "conv3x3"),
        ("conv3x3x6s0", 1, "conv3x3x6s0"),
        ("conv3x3x6s2s3", 1, "conv3x3x6s2s3"),
        ("conv3x3x6g4", 1, "conv3x3x6g4"),
        ("wobble", 1, "wobble"),
        ("drop1.5", 1, "drop1.5"),
        ("conv3x3x6-wavgpool4", 2, "wavgpool4"),  # no central pixel
        ("tiled3x3x8", 1, "tiled3x3x8"),  # tiles missing
        ("local3x3x8t2", 1, "local3x3x8t2"),
        ("rcl3x5x8t2", 1, "rcl3x5x8t2"),
        ("rcl4x4x8t2", 1, "rcl4x4x8t2"),
        ("rcl3x3x8t0", 1, "rcl3x3x8t0"),
        ("maxout0", 1, "maxout0"),
    ],
)
def test_errors_name_token_and_position(text, position, token):
    with pytest.raises(SpecError) as err:
        parse_spec(text)
    assert f"token {position} '{token}'" in str(err.value)


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("conv3x3x8,fc10", "conv3x3x8-fc10"),
        ("conv3x3x8_pool2_fc10", "conv3x3x8-pool2-fc10"),
        ("conv5x5x6 pool2", "conv5x5x6-pool2"),
        ("conv3x3x8-pool2/fc10", "pool2-fc10"),  # the second token only
    ],
)
def test_layers_joined_by_another_separator_are_shown_with_dashes(text, written):
    with pytest.raises(SpecError, match=f"layers are joined by dashes, {written}$"):
        parse_spec(text)


def test_a_token_that_is_no_list_of_layers_gets_no_dash_hint():
    with pytest.raises(SpecError) as err:
        parse_spec("conv3x3x8,fcx")
    assert "joined by dashes" not in str(err.value)


def test_empty_spec():
    with pytest.raises(SpecError, match="empty"):
        parse_spec("  ")


@given(st.text(max_size=40))
def test_any_text_gives_a_spec_or_a_spec_error(text):
    try:
        spec = parse_spec(text)
    except SpecError:
        return
    assert isinstance(spec, Spec)


SPEC_ALPHABET = "convpldfcrelusgbxs0123456789-.aeimnty"


@settings(max_examples=300)
@given(st.text(alphabet=SPEC_ALPHABET, max_size=30))
def test_spec_like_text_gives_a_spec_or_a_spec_error(text):
    try:
        spec = parse_spec(text)
    except SpecError:
        return
    # whatever parses formats to text that parses to the same layers
    assert parse_spec(format_spec(spec)) == spec


small = st.integers(1, 4)
conv2d = st.builds(
    Conv,
    out_channels=st.integers(1, 64),
    kernel_size=st.tuples(small, small),
    stride=st.tuples(small, small),
    padding=st.one_of(st.tuples(st.integers(0, 3), st.integers(0, 3)), st.just("same")),
    dilation=st.tuples(small, small),
    bias=st.booleans(),
)
conv1d = st.builds(
    Conv, out_channels=st.integers(1, 64), kernel_size=st.tuples(small), stride=st.tuples(small)
)
layer = st.one_of(
    conv2d,
    conv1d,
    st.builds(Pool, kind=st.sampled_from(["max", "avg"]), kernel_size=st.integers(2, 4)),
    st.builds(Linear, out_features=st.integers(1, 1000), bias=st.booleans()),
    st.builds(WeightedPool, kernel_size=st.sampled_from([1, 3, 5]), stride=st.sampled_from([None, 1, 2])),
    st.builds(LocalConv, out_channels=st.integers(1, 64), kernel_size=st.tuples(small, small),
              tiles=st.integers(0, 3), stride=small, padding=st.integers(0, 2)),
    st.builds(RecurrentConv, out_channels=st.integers(1, 64), kernel_size=st.sampled_from([1, 3, 5]),
              steps=small),
    st.builds(Maxout, pool_size=small),
    st.sampled_from([Activation("relu"), Activation("tanh"), Activation("lrelu", 0.2), BatchNorm(),
                     LocalResponseNorm(3), Dropout(0.25), Flatten(), GlobalAvgPool()]),
)  # fmt: skip


@given(st.lists(layer, min_size=1, max_size=6))
def test_layers_round_trip_through_text(layers):
    spec = Spec(tuple(layers))
    assert parse_spec(format_spec(spec)) == spec


def test_default_activations_follow_each_weighted_layer_but_the_last():
    expanded = expand_spec(parse_spec("conv3x3x4-bn-pool2-conv3x3x4-fc10-fc2"), 3)
    assert format_spec(expanded) == "conv3x3x4-bn-relu-pool2-conv3x3x4-relu-flatten-fc10-relu-fc2"
    # a spec that names an activation is taken as written
    assert (
        format_spec(expand_spec(parse_spec("conv3x3x4-tanh-fc2"), 3))
        == "conv3x3x4-tanh-flatten-fc2"
    )
    assert format_spec(expand_spec(parse_spec("fc10-fc2"), 1, activation=None)) == "fc10-fc2"


def test_the_new_layers_parse_to_the_objects_written():
    spec = parse_spec("wavgpool3s2p1-local3x3x8-tiled3x3x8t2s2-maxout2-rcl3x3x32t3")
    assert spec.layers == (
        WeightedPool(3, 2, 1),
        LocalConv(8, (3, 3)),
        LocalConv(8, (3, 3), tiles=2, stride=2),
        Maxout(2),
        RecurrentConv(32, 3, 3),
    )


def test_weighted_pool_weights_are_pascals_triangle():
    assert binomial_weights(1) == [1.0]
    assert binomial_weights(3) == [0.25, 0.5, 0.25]
    assert binomial_weights(5) == [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16]


def test_the_rcl_and_local_layers_get_the_default_activation_rule():
    # local and tiled convolutions are weighted layers: the default ReLU follows them; an rcl
    # applies its own ReLU at every step, so none is added after it
    expanded = expand_spec(parse_spec("local3x3x4-rcl3x3x4t2-tiled3x3x4t2-fc2"), 3)
    assert format_spec(expanded) == "local3x3x4-relu-rcl3x3x4t2-tiled3x3x4t2-relu-flatten-fc2"
