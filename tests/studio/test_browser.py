"""The studio page in a real browser: headless Chromium from Debian driven by Selenium.

One studio server (in a thread, on a free port, with a temporary runs folder) and one browser
serve the whole file. The browser is the system's ``/usr/bin/chromium`` with its
``/usr/bin/chromedriver``; Selenium Manager is kept offline, so nothing is ever downloaded.
With ``CONVLENS_SCREENSHOT=1`` the last test also writes the README's ``docs/studio.png``.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--window-size=1400,1000",
]  # fmt: skip
REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "docs" / "studio.png"

LENET = "conv5x5x6-pool2-conv5x5x16-pool2-fc120-fc84-fc10"
# sklearn's digits are 8x8 grey pictures: a tiny net trains on them in seconds
DIGITS_SPEC, DIGITS_INPUT = "conv3x3x8-relu-pool2-fc10", "1x8x8"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="headless Chromium and chromedriver (Debian packages) are not installed",
    ),
]
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
pytest.importorskip("uvicorn", reason="the studio extra (starlette, uvicorn) is not installed")
pytest.importorskip("sklearn", reason="the digits data set needs scikit-learn")

from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def studio_runs(tmp_path_factory):
    return tmp_path_factory.mktemp("studio-runs").resolve()


@pytest.fixture(scope="session")
def studio_url(studio_runs):
    """A studio server on 127.0.0.1 in a background thread, for the whole test run."""
    import uvicorn

    from convlens.studio.context import Studio
    from convlens.studio.server import create_app

    app = create_app(Studio(runs_root=studio_runs, data="digits"))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True, name="studio-under-test")
    thread.start()
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "api/info", timeout=5) as answer:
                json.load(answer)
            break
        except OSError:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the studio server did not start") from None
            time.sleep(0.1)
    yield url
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="session")
def browser():
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or driver
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    # the console (for errors) and the network log (for every request's host)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def wait(driver, condition, timeout=30, message=""):
    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d), message)


def open_page(driver, url, state=""):
    """Load the page afresh (a new hash alone would not reload it) and wait until it is ready."""
    driver.get("about:blank")
    driver.get(url + (f"#{state}" if state else ""))
    wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"),
         message="the page never became ready")  # fmt: skip


def console_errors(driver):
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def requested_urls(driver):
    """Every URL the browser asked for since the last call, from Chrome's network log."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def tab(driver, name):
    driver.find_element(By.ID, f"tab-{name}").click()
    wait(driver, lambda d: d.find_element(By.ID, f"panel-{name}").is_displayed())


def text(driver, element_id):
    """An element's text, shown or not (a hidden panel's .text would be empty)."""
    return driver.find_element(By.ID, element_id).get_attribute("textContent").strip()


def replace_text(driver, element_id, value):
    field = driver.find_element(By.ID, element_id)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    field.send_keys(value)


def test_page_loads_without_console_errors(browser, studio_url):
    open_page(browser, studio_url)
    assert browser.title == "convlens studio"
    tabs = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "[role=tab]")]
    assert len(tabs) == 5 and "Build" in tabs[0] and "Compare" in tabs[4], tabs
    wait(browser, lambda d: "2,416" in text(d, "layers"), message="the default table never came")
    assert console_errors(browser) == []


def test_every_request_goes_to_loopback(browser, studio_url):
    requested_urls(browser)  # drop what earlier tests left in the log
    open_page(browser, studio_url)
    for name in ("build", "conv", "train", "inspect", "compare"):
        tab(browser, name)
    wait(browser, lambda d: "output size" in text(d, "conv-formula"))
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#runs tbody tr"))
    urls = requested_urls(browser) + browser.execute_script(
        "return performance.getEntriesByType('resource').map((e) => e.name)"
    )
    paths = {urlsplit(u).path for u in urls}
    # the log is not empty: the page, its modules and its API calls were all seen
    assert {"/", "/static/main.js", "/static/studio.css", "/api/info", "/api/spec"} <= paths, paths
    elsewhere = [u for u in urls if urlsplit(u).scheme not in ("data", "blob", "about")
                 and urlsplit(u).hostname != "127.0.0.1"]  # fmt: skip
    assert elsewhere == [], f"the page asked another host: {elsewhere}"
    assert console_errors(browser) == []


def test_typing_a_spec_fills_the_table_and_a_bad_token_is_underlined(browser, studio_url):
    open_page(browser, studio_url, "input=1x32x32&spec=fc10")
    wait(browser, lambda d: "10" in text(d, "totals"))
    replace_text(browser, "spec", LENET)
    wait(browser, lambda d: "2,416" in text(d, "layers"), message="the LeNet table never came")
    params = {
        row.find_elements(By.TAG_NAME, "td")[0].text: row.find_elements(By.TAG_NAME, "td")[9].text
        for row in browser.find_elements(By.CSS_SELECTOR, "#layers tbody tr")
    }
    # LECTURES.md's LeNet arithmetic: (5*5*1+1)*6 = 156, (5*5*6+1)*16 = 2,416,
    # 16*5*5*120+120 = 48,120, 120*84+84 = 10,164, 84*10+10 = 850; 61,706 in all
    assert [params[n] for n in ("conv1", "conv2", "fc1", "fc2", "fc3")] == [
        "156", "2,416", "48,120", "10,164", "850",
    ]  # fmt: skip
    assert text(browser, "totals").startswith("61,706 parameters")
    assert "spec=conv5x5x6-pool2" in browser.current_url  # the state lives in the URL

    browser.find_element(By.ID, "spec").send_keys("-pol2")
    wait(browser, lambda d: d.find_element(By.ID, "spec-error").is_displayed())
    mark = browser.find_element(By.CSS_SELECTOR, "#spec-echo mark.bad")
    assert mark.text == "pol2"
    assert "pol2" in text(browser, "spec-sentence")
    assert browser.find_element(By.ID, "spec").get_attribute("aria-invalid") == "true"

    # fixing it clears the error; a shared link (the URL) brings the same table back
    browser.find_element(By.ID, "spec").send_keys(Keys.BACKSPACE * 5)
    wait(browser, lambda d: not d.find_element(By.ID, "spec-error").is_displayed())
    shared = browser.current_url
    browser.get("about:blank")
    browser.get(shared)
    wait(browser, lambda d: "2,416" in text(d, "layers"))
    assert browser.find_element(By.ID, "spec").get_attribute("value") == LENET
    assert console_errors(browser) == []


def start_training(driver, epochs, batch_size, model=DIGITS_SPEC):
    tab(driver, "train")
    replace_text(driver, "train-data", "digits")
    replace_text(driver, "train-model", model)
    replace_text(driver, "train-input", DIGITS_INPUT)
    replace_text(driver, "train-epochs", str(epochs))
    replace_text(driver, "train-batch", str(batch_size))
    driver.find_element(By.ID, "train-start").click()
    wait(driver, lambda d: text(d, "train-run"), message="no run started")
    return text(driver, "train-run")


def epoch_values(driver, field):
    cells = driver.find_elements(By.CSS_SELECTOR, f"#epochs td[data-field={field}]")
    return [float(c.get_attribute("data-value")) for c in cells]


def test_a_short_training_streams_and_the_loss_falls(browser, studio_url, studio_runs):
    open_page(browser, studio_url)
    # the Build panel's 1x28x28 is not carried over: a run takes its data's shape (8x8 here)
    tab(browser, "train")
    assert browser.find_element(By.ID, "train-input").get_attribute("value") == ""
    run = start_training(browser, epochs=3, batch_size=64)
    wait(browser, lambda d: text(d, "train-status") == "done", timeout=90,
         message="the run never finished")  # fmt: skip
    losses = epoch_values(browser, "train_loss")
    assert len(losses) == 3, losses
    assert losses[-1] < 0.7 * losses[0], losses
    # each epoch brought its confusion matrix, per-class accuracy and first-layer filters
    assert len(browser.find_elements(By.CSS_SELECTOR, "#per-class .bar")) == 10
    assert "8×1×3×3" in text(browser, "filters-caption")
    # an ordinary run directory, listed by the runs table
    assert (studio_runs / run / "metrics.jsonl").is_file()
    wait(browser, lambda d: run in text(d, "runs"))
    assert console_errors(browser) == []


def test_a_remark_about_the_model_is_shown_beside_the_run(browser, studio_url):
    open_page(browser, studio_url)
    start_training(browser, epochs=1, batch_size=64, model=DIGITS_SPEC + "-softmax")
    wait(browser, lambda d: d.find_element(By.ID, "train-notes").is_displayed(),
         message="no note was shown")  # fmt: skip
    assert text(browser, "train-notes").startswith(
        "Note: the model's outputs are already probabilities"
    )
    wait(browser, lambda d: text(d, "train-status") == "done", timeout=90)
    assert console_errors(browser) == []


def draw(driver, canvas, points):
    """One stroke through ``points`` (offsets from the canvas's centre), as a mouse would."""
    chain = ActionChains(driver).move_to_element_with_offset(canvas, *points[0]).click_and_hold()
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        chain.move_by_offset(x1 - x0, y1 - y0)
    chain.release().perform()


INSPECT_SNAPSHOT = """
return JSON.stringify({
  probs: [...document.querySelectorAll('#probs .bar')].map((b) => [b.dataset.label, b.dataset.value]),
  maps: [...document.querySelectorAll('#maps canvas')].map((c) => c.toDataURL()),
});
"""


def test_strokes_change_the_prediction_and_the_feature_maps(browser, studio_url):
    open_page(browser, studio_url, "panel=inspect&spec=conv5x5x6-relu-pool2-fc10&input=1x28x28")
    wait(
        browser, lambda d: d.find_element(By.ID, "inspect-source").get_attribute("value") == "build"
    )
    canvas = browser.find_element(By.ID, "sketch")
    draw(browser, canvas, [(-30, -90), (-15, -30), (0, 30), (10, 90)])
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#probs .bar")) == 10)
    first = json.loads(browser.execute_script(INSPECT_SNAPSHOT))
    assert len(first["maps"]) >= 6, "no feature maps were drawn"
    draw(browser, canvas, [(-90, 0), (-30, 10), (30, 0), (90, -10)])
    wait(browser, lambda d: json.loads(d.execute_script(INSPECT_SNAPSHOT)) != first,
         message="a second stroke changed nothing")  # fmt: skip
    second = json.loads(browser.execute_script(INSPECT_SNAPSHOT))
    assert second["probs"] != first["probs"]
    assert second["maps"] != first["maps"]
    # a convolution's output cell, worked out: window, kernel, sum plus bias
    browser.find_element(By.CSS_SELECTOR, ".layer-maps.conv canvas").click()
    wait(browser, lambda d: d.find_element(By.ID, "cell").is_displayed())
    assert "+ bias" in text(browser, "cell")
    assert console_errors(browser) == []


def test_a_stopped_run_resumes_with_convlens_train(browser, studio_url, studio_runs):
    open_page(browser, studio_url)
    # small batches and many epochs: the run is still going when pause and stop arrive, even on a
    # fast machine (three epochs of digits were over before the pause once)
    run = start_training(browser, epochs=12, batch_size=32)
    browser.find_element(By.ID, "train-pause").click()
    wait(browser, lambda d: text(d, "train-status").startswith("paused"), timeout=60)
    browser.find_element(By.ID, "train-stop").click()
    wait(browser, lambda d: text(d, "train-status") in ("stopped", "done"), timeout=60)
    run_dir = studio_runs / run
    wait(browser, lambda d: (run_dir / "state.json").is_file(), timeout=30)
    metrics = run_dir / "metrics.jsonl"
    done_before = len(metrics.read_text().splitlines()) if metrics.is_file() else 0
    assert done_before < 12

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    exe = shutil.which("convlens") or sys.executable
    cmd = [exe] if exe.endswith("convlens") else [exe, "-m", "convlens"]
    cmd += ["train", "--out", str(run_dir), "--resume", "--verbose", "0", "--no-report"]
    finished = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert finished.returncode == 0, finished.stderr
    records = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert len(records) > done_before
    assert records[-1]["epoch"] == 12
    assert console_errors(browser) == []


def test_a_regression_run_is_shown_with_its_rmse(browser, studio_url, studio_runs):
    import torch

    from convlens.build import build_model
    from convlens.data import from_arrays
    from convlens.train import TrainConfig, fit

    x = torch.linspace(0, 1, 200).unsqueeze(1)
    data = from_arrays(x.numpy(), (3 * x[:, 0] + 1).numpy(), task="regression", name="line")
    torch.manual_seed(0)
    config = TrainConfig(task="regression", epochs=3, optimizer="adam", lr=0.05, verbose=0)
    fit(build_model("fc1", (1,)), data, config, val=data, run_dir=studio_runs / "line-regression")
    open_page(browser, studio_url)
    tab(browser, "train")
    browser.find_element(By.ID, "runs-refresh").click()
    opened = "//table[@id='runs']//tr[td[text()='line-regression']]//button"
    wait(browser, lambda d: d.find_elements(By.XPATH, opened), message="the run is not listed")
    browser.find_element(By.XPATH, opened).click()
    wait(browser, lambda d: len(epoch_values(d, "val_rmse")) == 3, message="no RMSE column")
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#epochs th")]
    assert "val RMSE" in headers and "val acc" not in headers
    # the RMSE column is the square root of the loss column beside it
    for loss, rmse in zip(epoch_values(browser, "val_loss"), epoch_values(browser, "val_rmse")):
        assert rmse == pytest.approx(loss**0.5, rel=1e-6)
    chart = browser.find_element(By.ID, "chart-acc").get_attribute("aria-label")
    assert chart == "RMSE curve"
    assert console_errors(browser) == []


def test_look_inside_a_regression_on_a_table(browser, studio_url, studio_runs, tmp_path):
    import torch

    from convlens.build import build_model
    from convlens.data import load_dataset
    from convlens.train import TrainConfig, fit

    table = tmp_path / "line.csv"
    table.write_text("x,y\n" + "".join(f"{i / 20},{3 * i / 20 + 1}\n" for i in range(40)))
    train = load_dataset(table, "train", task="regression")
    torch.manual_seed(0)
    config = TrainConfig(task="regression", epochs=2, verbose=0)
    fit(build_model("fc1", (1,)), train, config, run_dir=studio_runs / "table-regression")
    open_page(browser, studio_url)
    tab(browser, "inspect")
    source = Select(browser.find_element(By.ID, "inspect-source"))
    wait(browser, lambda d: "run:table-regression" in [o.get_attribute("value") for o in
                                                       source.options])  # fmt: skip
    source.select_by_value("run:table-regression")
    browser.find_element(By.ID, "inspect-example-go").click()
    wait(browser, lambda d: text(d, "probs").startswith("output 0"), message="no output shown")
    # a value, not a probability: the one bar reads the model's output, with no % sign
    assert "%" not in text(browser, "probs")
    assert console_errors(browser) == []  # a one-number input and saliency are painted too


@pytest.mark.skipif(not os.environ.get("CONVLENS_SCREENSHOT"), reason="set CONVLENS_SCREENSHOT=1")
def test_screenshot_for_the_readme(browser, studio_url, studio_runs):
    """The README's picture: a finished digits run in the Train panel."""
    runs = sorted(p.name for p in studio_runs.iterdir() if (p / "metrics.jsonl").is_file())
    if not runs:
        open_page(browser, studio_url)
        runs = [start_training(browser, epochs=3, batch_size=64)]
    open_page(browser, studio_url, f"panel=train&run={runs[0]}")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#epochs tbody tr")) >= 3, 90)
    time.sleep(0.5)  # the curves redraw on the next animation frame
    browser.set_window_size(1400, 1000)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    tmp = SCREENSHOT.with_suffix(".png.tmp")
    tmp.write_bytes(browser.get_screenshot_as_png())
    tmp.replace(SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 20_000
