"""The bill-run and chunk state machine: which moves the table allows, and what it refuses."""

from __future__ import annotations

import pytest

from bulkbill.core.billing.bill_runs import (
    CHUNK_TRANSITIONS,
    FINAL_STATUSES,
    OPEN_STATUSES,
    RUN_TRANSITIONS,
    BillRunStatus,
    ChunkState,
    RunAction,
    chunk_state_after,
    ensure_run_action,
    finished_status,
    retried_status,
    run_status_after,
)
from bulkbill.core.errors import InvalidStateError

S = BillRunStatus
ALLOWED = {
    RunAction.COMMIT: {S.PLANNED},
    RunAction.START: {S.PENDING},
    RunAction.BILL_CHUNK: {S.PENDING, S.PROCESSING},
    RunAction.FINISH: {S.PENDING, S.PROCESSING},
    RunAction.POST: {S.COMPLETED},
    RunAction.RETRY: {S.ERROR},
}


@pytest.mark.parametrize("action", list(RunAction))
@pytest.mark.parametrize("status", list(BillRunStatus))
def test_an_action_happens_only_in_its_statuses(action: RunAction, status: BillRunStatus) -> None:
    if status in ALLOWED[action]:
        ensure_run_action(action, "BR-00000001", status)
    else:
        with pytest.raises(InvalidStateError) as refused:
            ensure_run_action(action, "BR-00000001", status)
        assert "BR-00000001" in refused.value.message and status.value in refused.value.message


def test_refusals_say_what_the_action_needs() -> None:
    with pytest.raises(InvalidStateError, match="Only Planned bill runs can be committed; bill run BR-7 is Posted"):
        ensure_run_action(RunAction.COMMIT, "BR-7", S.POSTED)
    with pytest.raises(InvalidStateError, match="Only Completed bill runs can be posted; bill run BR-7 is Error"):
        ensure_run_action(RunAction.POST, "BR-7", S.ERROR)
    with pytest.raises(InvalidStateError, match="only runs in Error are retried"):
        ensure_run_action(RunAction.RETRY, "BR-7", S.COMPLETED)
    with pytest.raises(InvalidStateError, match="only Pending runs start"):
        ensure_run_action(RunAction.START, "BR-7", S.PROCESSING)


def test_a_move_must_end_where_the_action_leads() -> None:
    assert run_status_after(RunAction.POST, "BR-1", S.COMPLETED, S.POSTED) == S.POSTED
    assert run_status_after(RunAction.COMMIT, "BR-1", "Planned", S.PENDING) == S.PENDING
    with pytest.raises(ValueError, match="commit cannot lead"):
        run_status_after(RunAction.COMMIT, "BR-1", S.PLANNED, S.PROCESSING)
    with pytest.raises(InvalidStateError):
        run_status_after(RunAction.COMMIT, "BR-1", S.ERROR, S.PENDING)  # a retry's move, not a commit's


def test_no_action_leaves_a_posted_run() -> None:
    assert all(S.POSTED not in starts for starts, _ in RUN_TRANSITIONS.values())
    assert all(S.PLANNED not in ends for _, ends in RUN_TRANSITIONS.values())  # only a new run is Planned


def test_open_and_final_statuses_do_not_overlap() -> None:
    assert not OPEN_STATUSES & FINAL_STATUSES
    assert OPEN_STATUSES | FINAL_STATUSES | {S.PLANNED} == set(BillRunStatus)


@pytest.mark.parametrize(
    ("pending", "failed", "auto_post", "expected"),
    [
        (1, 0, False, None),
        (1, 1, True, None),
        (0, 0, False, S.COMPLETED),
        (0, 0, True, S.POSTED),
        (0, 2, True, S.ERROR),
        (0, 1, False, S.ERROR),
    ],
)
def test_a_run_finishes_once_no_chunk_is_pending(
    pending: int, failed: int, auto_post: bool, expected: BillRunStatus | None
) -> None:
    assert finished_status(pending_chunks=pending, failed_chunks=failed, auto_post=auto_post) == expected
    if expected is not None:
        assert expected in RUN_TRANSITIONS[RunAction.FINISH][1]


def test_a_retried_run_resumes_where_it_was() -> None:
    assert retried_status(0) == S.PENDING
    assert retried_status(3) == S.PROCESSING
    assert {retried_status(0), retried_status(1)} == RUN_TRANSITIONS[RunAction.RETRY][1]


@pytest.mark.parametrize("current", list(ChunkState))
@pytest.mark.parametrize("target", list(ChunkState))
def test_chunk_moves(current: ChunkState, target: ChunkState) -> None:
    legal = {(ChunkState.PENDING, ChunkState.DONE), (ChunkState.PENDING, ChunkState.FAILED)}
    legal.add((ChunkState.FAILED, ChunkState.PENDING))
    if (current, target) in legal:
        assert chunk_state_after(current.value, target) == target
    else:
        with pytest.raises(InvalidStateError):
            chunk_state_after(current.value, target)
    assert ((current, target) in legal) == (target in CHUNK_TRANSITIONS[current])
