"""What the studio refuses: paths outside its folders, requests without the token, other hosts."""

from __future__ import annotations

import json

import pytest
from studio_api_client import LOCAL, TestClient, client

from convlens.studio.context import Studio
from convlens.studio.server import create_app


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    (root / "mine").mkdir(parents=True)
    (root / "mine" / "config.json").write_text(json.dumps({"model": "fc2", "epochs": 1}))
    (root / "mine" / "metrics.jsonl").write_text('{"epoch": 1, "loss": 1.0}\n')
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "config.json").write_text("{}")
    (secret / "metrics.jsonl").write_text("")
    (root / "link").symlink_to(secret)
    return root


@pytest.mark.parametrize(
    "url",
    [
        "/api/runs/%2e%2e%2fsecret",
        "/api/runs/%2e%2e%2fsecret/events",
        "/api/runs/%2E%2E/secret",
        "/api/runs/link",
        "/api/runs/link/events",
        "/api/runs/%2Ftmp",
        "/api/compare?a=mine&b=../secret",
        "/api/compare?a=mine&b=/etc",
    ],
)
def test_paths_outside_the_runs_folder_are_forbidden(runs, url):
    with client(runs) as c:
        r = c.get(url)
    assert r.status_code == 403, r.text
    assert "outside" in r.json()["error"]


@pytest.mark.parametrize("run", ["../secret", "/etc", "link", "mine/../../secret"])
def test_request_bodies_cannot_name_outside_runs(runs, run):
    with client(runs) as c:
        export = c.post("/api/export", json={"run": run, "format": "safetensors"})
        inspect = c.post("/api/inspect", json={"run": run, "example": 0})
    assert export.status_code == inspect.status_code == 403


def test_an_existing_run_is_served(runs):
    with client(runs) as c:
        assert c.get("/api/runs/mine").status_code == 200
        assert c.get("/api/runs/nothere").status_code == 404


def test_data_outside_what_the_server_was_given_is_forbidden(tmp_path, runs):
    allowed = tmp_path / "mydata"
    allowed.mkdir()
    with client(runs, data_path=allowed) as c:
        for data in ("/etc", str(tmp_path / "secret"), "../secret", str(allowed / ".." / "secret")):
            r = c.post("/api/train", json={"model": "fc2", "data": data, "epochs": 1})
            assert r.status_code == 403, data
    with client(runs) as c:  # no --data path at all: names only
        assert c.post("/api/train", json={"model": "fc2", "data": str(allowed)}).status_code == 403


def test_token_is_required_on_every_request(runs):
    studio = Studio(runs.resolve(), token="s3cret-token", report=False)
    with TestClient(create_app(studio, warm=False), base_url="http://192.168.1.20:8765") as c:
        assert c.get("/api/info").status_code == 403
        assert c.get("/api/info", params={"token": "wrong"}).status_code == 403
        assert c.get("/", params={"token": "wrong"}).status_code == 403
        assert c.get("/api/runs/mine/events").status_code == 403
        assert c.get("/api/info", params={"token": "s3cret-token"}).status_code == 200
        assert c.post("/api/conv", params={"token": "s3cret-token"},
                      json={"input": [[1]], "kernel": [[2]]}).json()["output"] == [[2]]  # fmt: skip
        # the page's scripts load with a plain <script src>: the package's files need no token,
        # and nothing is cached, so a newer convlens never runs an older page's script
        script = c.get("/static/main.js")
        assert script.status_code == 200 and "import" in script.text
        assert script.headers["cache-control"] == "no-cache"
        assert c.post("/static/main.js").status_code == 403


def test_loopback_server_refuses_other_host_names(runs):
    studio = Studio(runs.resolve(), report=False)
    with TestClient(create_app(studio, warm=False), base_url="http://attacker.example") as c:
        assert c.get("/api/info").status_code == 403
    with TestClient(create_app(studio, warm=False), base_url="http://localhost:8765") as c:
        assert c.get("/api/info").status_code == 200
    assert LOCAL.startswith("http://127.0.0.1")


def test_command_makes_a_token_off_loopback_only(tmp_path):
    import argparse

    from convlens.commands.studio import add_arguments, studio_from_args

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    local = studio_from_args(parser.parse_args([str(tmp_path)]))
    wide = studio_from_args(parser.parse_args([str(tmp_path), "--host", "0.0.0.0"]))
    assert local.token is None
    assert wide.token and len(wide.token) >= 24


def test_command_keeps_the_reading_flags_for_its_own_data_path_only(tmp_path):
    import argparse

    import pytest

    from convlens.commands.studio import add_arguments, studio_from_args
    from convlens.errors import ConfigError, DataError

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    folder = tmp_path / "photos"
    folder.mkdir()
    argv = [str(tmp_path), "--data", str(folder), "--size", "32x32", "--skip-bad"]
    studio = studio_from_args(parser.parse_args(argv))
    assert studio.data_options == {"size": "32x32", "skip_bad": True}
    assert studio.options_for(str(folder)) == {"size": "32x32", "skip_bad": True}
    assert studio.options_for("digits") == {}
    with pytest.raises(ConfigError, match="--size says how to read your own data; give it with"):
        studio_from_args(parser.parse_args([str(tmp_path), "--size", "32x32"]))
    with pytest.raises(DataError, match="--size is for your own data"):
        studio_from_args(parser.parse_args([str(tmp_path), "--data", "digits", "--size", "8x8"]))
