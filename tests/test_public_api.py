import subprocess
import sys

import convlens


def test_every_public_name_resolves():
    for name in convlens.__all__:
        assert getattr(convlens, name) is not None, name


def test_importing_the_package_does_not_import_torch():
    code = "import sys, convlens; convlens.parse_spec('conv3x3x4'); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_summarize_takes_a_zoo_name_as_the_summary_command_does():
    # LECTURES.md's LeNet-5 table: 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706 on 1x32x32
    lenet = convlens.summarize("lenet5")
    assert lenet.in_shape == (1, 32, 32) and lenet.total_params == 61_706
    # ResNet-20 (He et al. 2016, CIFAR): 0.27M parameters; at another input only the shapes change
    small = convlens.summarize("resnet20", (3, 16, 16))
    assert small.in_shape == (3, 16, 16) and small.total_params == 269_722
    import pytest

    with pytest.raises(convlens.SpecError, match="did you mean the zoo model lenet5"):
        convlens.summarize("lenet6")


def test_a_spec_with_its_shape_is_summarised_without_torch():
    code = (
        "import sys, convlens; s = convlens.summarize('conv3x3x4-fc10', (1, 8, 8)); "
        "print(s.total_params, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    # conv 3*3*1*4 + 4 = 40; fc 4*6*6*10 + 10 = 1,450
    assert out.stdout.split() == ["1490", "False"]
