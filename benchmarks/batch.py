"""Batch scoring: a warm batch job on a 2-node Dask target vs single-process pyfunc, file by file.

Targets (issue 17), measured in the same run as their baselines:
- 1M rows in 20 Parquet files: at least 1.5x for HistGradientBoosting, at least 0.8x for random
  forest and logistic regression (this box gives two CPU-bound processes ~1.3x at best);
- fixed overhead of a job on a warm cluster at most 2 s, against ``mlflow models predict``'s ~5 s
  of fixed cost per call (both on a 1,000-row file, the model's own predict time subtracted).

``BATCH_ROWS`` (default 1,000,000) scales the data down for a quick look; ``BATCH_MODELS``
(e.g. ``logistic``) measures only the models whose names contain one of its comma-separated words.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _shell import fresh_workspace, median

ROWS = int(os.environ.get("BATCH_ROWS", "1000000"))
FILES, FEATURES = 20, 20


def _timed(func) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


@contextlib.contextmanager
def _one_thread():
    """OpenMP/BLAS and pyarrow limited to one thread, as in a Dask worker process."""
    import pyarrow as pa
    from threadpoolctl import threadpool_limits

    before = pa.cpu_count()
    pa.set_cpu_count(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        pa.set_cpu_count(before)


def main() -> None:
    root = fresh_workspace()
    import mlflow
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    import nbstudio
    import nbstudio.data as data
    from nbstudio.compute import targets

    X, y = make_classification(20_000, FEATURES, n_informative=10, random_state=0)
    columns = [f"f{i}" for i in range(FEATURES)]
    train = pd.DataFrame(X, columns=columns)
    rng = np.random.default_rng(0)
    folder = root / "score-me"
    folder.mkdir()
    per_file = ROWS // FILES
    for i in range(FILES):
        part = pd.DataFrame(rng.standard_normal((per_file, FEATURES)) * 2, columns=columns)
        part.to_parquet(folder / f"part-{i:02d}.parquet", index=False)
    past = time.time() - 60
    for path in folder.iterdir():
        os.utime(path, (past, past))
    data.create("big", folder)
    small = root / "small"
    small.mkdir()
    train.head(1000).to_csv(small / "small.csv", index=False)
    os.utime(small / "small.csv", (past, past))
    data.create("small", small)

    models = {
        "HistGradientBoosting": HistGradientBoostingClassifier(max_iter=100, random_state=0),
        "random forest": RandomForestClassifier(n_estimators=100, max_depth=12, random_state=0),
        "logistic regression": LogisticRegression(max_iter=500),
    }
    with mlflow.start_run():
        for i, model in enumerate(models.values()):
            model.fit(train, y)
            nbstudio.register_model(model, name=f"m{i}", input_example=train.head())

    print(
        "(2-core machine; the single-process baseline may use both cores itself: scikit-learn's "
        "HistGradientBoosting predicts with OpenMP threads, pyarrow reads Parquet with threads)"
    )
    print(f"{ROWS:,} rows in {FILES} Parquet files, {FEATURES} features")
    started = time.perf_counter()
    targets.create("bench", max_nodes=2, idle_seconds=600)
    targets.scale("bench", nodes=2)
    print(
        f"2-node cluster started in {time.perf_counter() - started:.1f} s (cold start, not counted)"
    )
    files = sorted(folder.iterdir())
    wanted = [w for w in os.environ.get("BATCH_MODELS", "").split(",") if w]
    for i, name in enumerate(models):
        if wanted and not any(w in name for w in wanted):
            continue
        pyfunc = mlflow.pyfunc.load_model(f"models:/m{i}/1")

        def file_by_file(pyfunc=pyfunc) -> None:
            for path in files:
                pyfunc.predict(pd.read_parquet(path))

        single = _timed(file_by_file)
        with _one_thread():  # what one Dask worker process gets (OMP_NUM_THREADS=1)
            one_thread = _timed(file_by_file)
        first = _timed(
            lambda i=i: nbstudio.batch.score(
                f"m{i}/1", "big@1", compute="bench", output_action="summary_only"
            ).wait()
        )
        warm = median(
            [
                _timed(
                    lambda i=i: nbstudio.batch.score(
                        f"m{i}/1", "big@1", compute="bench", output_action="summary_only"
                    ).wait()
                )
                for _ in range(2)
            ]
        )
        print(
            f"{name}: single process, pyfunc file by file {single:.2f} s (limited to one "
            f"thread: {one_thread:.2f} s); batch job on 2 nodes warm {warm:.2f} s (first job, "
            f"model loaded on the workers: {first:.2f} s); speed-up {single / warm:.2f}x "
            f"({one_thread / warm:.2f}x against one thread)"
        )

    pyfunc = mlflow.pyfunc.load_model("models:/m2/1")
    frame = pd.read_csv(small / "small.csv")
    predict = median([_timed(lambda: pyfunc.predict(frame)) for _ in range(3)])
    nbstudio.batch.score("m2/1", "small@1", compute="bench").wait()  # model warm on the workers
    job = median(
        [
            _timed(lambda: nbstudio.batch.score("m2/1", "small@1", compute="bench").wait())
            for _ in range(3)
        ]
    )
    env = dict(os.environ, MLFLOW_TRACKING_URI=mlflow.get_tracking_uri())
    cli = str(Path(sys.executable).parent / "mlflow")
    command = [
        cli,
        "models",
        "predict",
        "-m",
        "models:/m2/1",
        "-i",
        str(small / "small.csv"),
        "-t",
        "csv",
        "--env-manager",
        "local",
        "-o",
        str(root / "out.json"),
    ]
    theirs = _timed(lambda: subprocess.run(command, env=env, check=True, capture_output=True))
    print(
        f"fixed overhead per job (1,000 rows, warm cluster, predict's {predict * 1000:.0f} ms "
        f"subtracted): {job - predict:.2f} s (target <= 2 s); mlflow models predict: "
        f"{theirs - predict:.2f} s"
    )
    targets.delete("bench")


if __name__ == "__main__":
    main()
