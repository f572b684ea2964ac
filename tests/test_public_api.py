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
