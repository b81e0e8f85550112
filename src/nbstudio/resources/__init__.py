"""Long-lived workspace resources: one supervisor, thin kinds.

Compute clusters and online endpoints (and, next, batch endpoints and pipeline schedules) are
all the same thing underneath: a record folder ``.nbstudio/<kind>/<name>/`` holding what the user
asked for (the spec) and what a supervised background process reports (the status), a process
that outlives the kernel that launched it, and a state every view derives the same way. This
package owns that machinery once; a kind is a small configuration of it.

Modules:

- `kind`: `Kind`, the configuration of one kind (files, record classes, process module, states,
  restart policy).
- `record`: `Record`, the base of record dataclasses (JSON in and out, unknown fields dropped),
  and `ProcessStatus`, the fields every status of a supervised process has.
- `records`: `ResourceRecords`, the record folder: atomic writes, locked read-modify-write.
- `supervisor`: launch a detached process in its own session, liveness, stop its process tree.
- `state`: the state to show from the recorded state and the process's liveness.
- `reopen`: the restart policy applied when the workspace opens.

Adding a kind (say batch endpoints) takes a record pair, a `Kind`, a process module and one
commands module that the magic, the console command and the REST handler all call::

    from dataclasses import dataclass, field
    from nbstudio.resources.kind import Kind
    from nbstudio.resources.record import ProcessStatus, Record, now_ms
    from nbstudio.resources.records import ResourceRecords


    @dataclass
    class BatchSpec(Record):
        name: str
        model: str
        running: bool = True
        generation: int = 1
        created: int = field(default_factory=now_ms)


    @dataclass
    class BatchStatus(ProcessStatus):  # state, pid, pid_started, reason, updated
        output: str | None = None


    KIND = Kind(
        name="batch",
        spec_class=BatchSpec,
        status_class=BatchStatus,
        module="nbstudio.batch._process",
        spec_file="batch.json",
        log_file="batch.log",
    )


    class Records(ResourceRecords[BatchSpec, BatchStatus]):
        kind = KIND

then register its folder in `reopen.KINDS`, and in its commands module launch with
``supervisor.launch(KIND, recs.folder, name, recs.log_path(name), cwd=root)``, show
``state.derive(KIND, status.state, status.pid, status.pid_started)`` and stop with
``supervisor.stop(status.pid, status.pid_started, timeout)``. The process module
(``python -m nbstudio.batch._process FOLDER NAME``) writes its status with ``pid`` and
``pid_started`` first, then keeps it current.
"""
