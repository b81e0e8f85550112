"""The main-area pipeline graph (labextension/src/pipelineview.tsx) in a real JupyterLab: opened
from a Pipelines row, one @xyflow/react node per step coloured by state, ♻ on reused steps, and a
click on a step opens that step's run."""

from __future__ import annotations

import shutil
from pathlib import Path

from test_pipeline_ui import MAKE_PIPELINE_RUNS


def test_graph_view_of_a_pipeline_run(lab, ui) -> None:
    from playwright.sync_api import expect

    # other sizes than test_pipeline_ui's, so the shared workspace's cache serves neither test
    # the other's steps
    made_here = MAKE_PIPELINE_RUNS.replace("(10, 10, 20)", "(31, 31, 32)")
    made_here = made_here.replace("scoring.run()", "scoring.run(n=31)")
    assert made_here.count("31") == 3
    (lab.root / "make_pipeline_runs.py").write_text(made_here)
    script = "import runpy; runpy.run_path('make_pipeline_runs.py', run_name='__main__')"
    full, _reused, _partly, failed = lab.python(script).stdout.split()[-4:]
    panel = ui.open_panel()
    panel.locator(".nbs-icon-button[title='Refresh now']").click()
    section = panel.locator('[data-section="pipelines"]')
    row = section.locator(f'li[data-pipeline="{failed}"]')
    expect(row).to_be_visible(timeout=15_000)
    row.locator(".nbs-pipeline-graph-link").click()

    page = ui.page
    view = page.locator(f'.nbs-pipeline-page[data-run-id="{failed}"]')
    expect(view).to_be_visible(timeout=15_000)
    nodes = view.locator(".react-flow__node.nbs-pipeline-node")
    # rule: one node per step, coloured (classed) by its state
    expect(nodes).to_have_count(2, timeout=15_000)
    reused = view.locator('.react-flow__node[data-id="gather_measurements_from_every_vineyard"]')
    broken = view.locator('.react-flow__node[data-id="unreliable_scoring_service"]')
    expect(reused).to_have_class(_has("nbs-step-reused"))
    expect(broken).to_have_class(_has("nbs-step-failed"))
    # rule: a reused step carries the recycle mark, a step that ran does not
    expect(reused).to_contain_text("♻")
    expect(broken).not_to_contain_text("♻")
    # rule: the edge between them is drawn, and the xyflow stylesheet is in the built extension
    expect(view.locator(".react-flow__edge")).to_have_count(1)
    position = reused.evaluate("n => getComputedStyle(n).position")
    assert position == "absolute", position
    box_a, box_b = reused.bounding_box(), broken.bounding_box()
    assert box_a is not None
    assert box_b is not None
    # rule: dagre lays the graph out left to right, the producer before its consumer
    assert box_a["x"] + box_a["width"] <= box_b["x"], (box_a, box_b)
    shot = ui.screenshot("pipeline-graph")

    # rule: a click on a step opens that step's run view
    step_run = lab.api(f"pipelines/{failed}")["graph"]["steps"]
    run_of = {s["name"]: s["run_id"] for s in step_run}
    broken.click()
    run_view = page.locator(
        f'.nbs-runview .nbs-view[data-run-id="{run_of["unreliable_scoring_service"]}"]'
    )
    expect(run_view).to_be_visible(timeout=15_000)
    opened = ui.screenshot("pipeline-graph-step-opened")

    # a fully run pipeline: every node finished, none reused
    section.locator(f'li[data-pipeline="{full}"] .nbs-pipeline-graph-link').click()
    whole = page.locator(f'.nbs-pipeline-page[data-run-id="{full}"]')
    expect(whole.locator(".react-flow__node.nbs-step-finished")).to_have_count(2, timeout=15_000)
    expect(whole.locator(".nbs-step-reused")).to_have_count(0)
    keep = Path("/tmp/nbstudio-pipeline-shots")
    keep.mkdir(exist_ok=True)
    for path in (shot, opened):
        shutil.copyfile(path, keep / path.name)


def _has(cls: str):
    import re

    return re.compile(rf"(^|\s){re.escape(cls)}(\s|$)")


SLOW_PIPELINE = """
import time
import nbstudio

@nbstudio.component
def wait_for_the_harvest(seconds: float) -> float:
    time.sleep(seconds)
    return seconds

@nbstudio.component
def press_the_grapes(seconds: float) -> float:
    return seconds * 2

@nbstudio.pipeline
def slow_harvest(seconds=12.0):
    return press_the_grapes(wait_for_the_harvest(seconds))

print(slow_harvest.run().run_id, flush=True)
"""


def test_graph_view_is_live_while_running(lab, ui) -> None:
    from playwright.sync_api import expect

    (lab.root / "slow_pipeline.py").write_text(SLOW_PIPELINE)
    lab.start_python("import runpy; runpy.run_path('slow_pipeline.py', run_name='__main__')")
    panel = ui.open_panel()
    section = panel.locator('[data-section="pipelines"]')
    # the only pipeline running in this workspace
    running = section.locator("li[data-pipeline]").filter(
        has=ui.page.locator(".nbs-status-RUNNING")
    )
    deadline_ms = 30_000
    for _ in range(30):
        panel.locator(".nbs-icon-button[title='Refresh now']").click()
        if running.count():
            break
        ui.page.wait_for_timeout(1000)
    expect(running).to_have_count(1, timeout=deadline_ms)
    running.locator(".nbs-pipeline-graph-link").click()
    view = ui.page.locator('.nbs-pipeline-page[data-status="RUNNING"]')
    # rule: while the pipeline runs, its graph shows the running step and the one still to come
    expect(view.locator(".react-flow__node.nbs-step-running")).to_have_count(1, timeout=15_000)
    expect(view.locator(".react-flow__node.nbs-step-pending")).to_have_count(1)
    ui.screenshot("pipeline-graph-running")
    # rule: without a click, the view follows the run to its end
    done = ui.page.locator('.nbs-pipeline-page[data-status="FINISHED"]')
    expect(done.locator(".react-flow__node.nbs-step-finished")).to_have_count(2, timeout=60_000)
