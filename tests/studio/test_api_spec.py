"""/api/info, /api/spec and /api/rf: the build panel's table, its errors and receptive fields."""

from __future__ import annotations

from studio_api_client import client

LENET = "conv5x5x6-pool2-conv5x5x16-pool2-fc120-fc84-fc10"


def test_info_lists_presets_and_lecture_examples(tmp_path):
    with client(tmp_path) as c:
        info = c.get("/api/info").json()
    assert info["kernels"]["laplacian"] == [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]
    assert info["kernels"]["edge"] == [[-1, 1]]
    assert info["examples"]["xcorr5"]["kernel"] == [[0, 1, 2], [2, 2, 0], [0, 1, 2]]
    assert info["examples"]["pool4a"] == [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]
    assert info["runs_root"] == str(tmp_path.resolve())


def test_catalog_names_zoo_and_data(tmp_path):
    with client(tmp_path) as c:
        catalog = c.get("/api/catalog").json()
    assert "fashion-mnist" in catalog["datasets"]
    lenet = next(m for m in catalog["zoo"] if m["name"] == "lenet5")
    assert lenet["in_shape"] == [1, 32, 32]


def test_lenet_rows_match_hand_arithmetic(tmp_path):
    with client(tmp_path) as c:
        result = c.post("/api/spec", json={"spec": LENET, "input": "1x32x32"}).json()
    assert result["ok"] is True
    params = {row["name"]: row["params"] for row in result["rows"]}
    # (5*5*1 + 1)*6, (5*5*6 + 1)*16, (16*5*5 + 1)*120, (120 + 1)*84, (84 + 1)*10
    assert (params["conv1"], params["conv2"]) == (156, 2_416)
    assert (params["fc1"], params["fc2"], params["fc3"]) == (48_120, 10_164, 850)
    assert result["totals"]["params"] == 156 + 2_416 + 48_120 + 10_164 + 850
    conv2 = next(r for r in result["rows"] if r["name"] == "conv2")
    assert conv2["out_shape"] == [16, 10, 10] and conv2["rf"] == [14, 14]  # 32 -> 28 -> 14 -> 10
    assert "nn.Conv2d(6, 16, kernel_size=5)" in result["pytorch"]
    assert result["spec"] == LENET


def test_slide_shape_order_is_accepted(tmp_path):
    with client(tmp_path) as c:
        result = c.post("/api/spec", json={"spec": "conv5x5x10p2", "input": "32x32x3"}).json()
    # the slide: 10 filters 5x5 on 32x32x3, pad 2 -> 32x32x10, (5*5*3 + 1)*10 = 760 parameters
    assert result["rows"][0]["out_shape"] == [10, 32, 32]
    assert result["rows"][0]["params"] == 760


def test_bad_token_is_located_to_the_character(tmp_path):
    text = "conv5x5x6-pool2-cnv5-fc10"
    with client(tmp_path) as c:
        result = c.post("/api/spec", json={"spec": text, "input": "1x28x28"}).json()
    assert result["ok"] is False and "cnv5" in result["error"]
    assert result["token"] == 2
    assert text[result["start"] : result["end"]] == "cnv5"


def test_layer_that_does_not_fit_is_located(tmp_path):
    text = "conv5x5x6-pool2-conv13x13x4-fc10"  # 28 -> 24 -> 12: a 13x13 kernel does not fit
    with client(tmp_path) as c:
        result = c.post("/api/spec", json={"spec": text, "input": "1x28x28"}).json()
    assert result["ok"] is False and "does not fit" in result["error"]
    assert text[result["start"] : result["end"]] == "conv13x13x4"
    assert [r["name"] for r in result["rows"]] == ["conv1", "relu1", "pool1"]


def test_border_dropping_layer_is_flagged(tmp_path):
    with client(tmp_path) as c:
        rows = c.post("/api/spec", json={"spec": "conv3x3x4s3", "input": "1x7x7"}).json()["rows"]
    # (7 - 3)/3 + 1 = 2.33 -> 2: the last input column and row are never read
    assert rows[0]["drops_border"] is True and rows[0]["out_shape"] == [4, 2, 2]


def test_bad_input_shape_is_reported_not_raised(tmp_path):
    with client(tmp_path) as c:
        result = c.post("/api/spec", json={"spec": "conv3x3x4", "input": "axb"}).json()
    assert result["ok"] is False and result["field"] == "input"


def test_receptive_field_box(tmp_path):
    body = {"spec": "conv3x3x4-pool2-conv3x3x4", "input": "1x12x12", "layer": 3, "y": 1, "x": 2}
    with client(tmp_path) as c:
        box = c.post("/api/rf", json=body).json()
    # rows: conv1, relu1, pool1, conv2. conv2's field is 3 + 2 + (3 - 1)*2 = 8 pixels with jump
    # 2; its cell (1, 2) starts at 2*1 = 2 down and 2*2 = 4 across: rows 2..9, columns 4..11
    assert box["box"] == [2, 4, 9, 11]
    assert box["unclipped"] == [2, 4, 9, 11]


def test_receptive_field_is_clipped_to_the_input(tmp_path):
    body = {"spec": "conv3x3x4p1", "input": "1x5x5", "layer": 0, "y": 0, "x": 0}
    with client(tmp_path) as c:
        box = c.post("/api/rf", json=body).json()
    assert box["unclipped"] == [-1, -1, 1, 1]  # padding: the field starts one pixel outside
    assert box["box"] == [0, 0, 1, 1]


def test_rf_refuses_a_row_that_does_not_exist(tmp_path):
    with client(tmp_path) as c:
        r = c.post("/api/rf", json={"spec": "conv3x3x4", "input": "1x5x5", "layer": 7})
    assert r.status_code == 400 and "row index" in r.json()["error"]
