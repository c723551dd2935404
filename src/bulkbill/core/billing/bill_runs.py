"""Bill runs and their chunks: the states they pass through and the moves between them.

A run's life (Zuora's statuses, plus Planned for a frozen plan awaiting its commit):

    Planned --commit--> Pending --start--> billed inline, or left to the workers
    Pending --chunk billed--> Processing
    Pending | Processing --finish--> Completed | Posted (autoPost) | Error (a chunk was given up)
    Completed --post--> Posted
    Error --retry--> Pending | Processing (whether a chunk was already billed)

A chunk (a range of accounts billed in one transaction) is pending until billed (done) or given
up after too many failed attempts (failed); a retry makes a failed chunk pending again.
"""

from __future__ import annotations

from enum import StrEnum

from bulkbill.core.errors import InvalidStateError


class BillRunStatus(StrEnum):
    PLANNED = "Planned"
    PENDING = "Pending"
    PROCESSING = "Processing"
    COMPLETED = "Completed"
    POSTED = "Posted"
    ERROR = "Error"


class RunAction(StrEnum):
    COMMIT = "commit"  # bill a frozen plan
    START = "start"  # bill a Pending run, inline or by the workers
    BILL_CHUNK = "bill_chunk"  # a chunk of the run was billed
    FINISH = "finish"  # no chunk is pending any more
    POST = "post"  # post the Draft documents of a Completed run
    RETRY = "retry"  # give the failed chunks of a run in Error new attempts


class ChunkState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class AccountStatus(StrEnum):
    """An account's membership of a run: planned by a frozen plan, or billed."""

    PLANNED = "Planned"
    BILLED = "Billed"


S = BillRunStatus
# The statuses with chunks left to bill: workers look for runs in these.
OPEN_STATUSES = frozenset({S.PENDING, S.PROCESSING})
# Statuses a run does not leave by itself (a follower stops waiting).
FINAL_STATUSES = frozenset({S.COMPLETED, S.POSTED, S.ERROR})

# The transition table: for each action, the statuses it may start from and those it may lead to.
RUN_TRANSITIONS: dict[RunAction, tuple[frozenset[BillRunStatus], frozenset[BillRunStatus]]] = {
    RunAction.COMMIT: (frozenset({S.PLANNED}), frozenset({S.PENDING})),
    RunAction.START: (frozenset({S.PENDING}), frozenset({S.PENDING})),
    RunAction.BILL_CHUNK: (OPEN_STATUSES, frozenset({S.PROCESSING})),
    RunAction.FINISH: (OPEN_STATUSES, frozenset({S.COMPLETED, S.POSTED, S.ERROR})),
    RunAction.POST: (frozenset({S.COMPLETED}), frozenset({S.POSTED})),
    RunAction.RETRY: (frozenset({S.ERROR}), frozenset({S.PENDING, S.PROCESSING})),
}
_REFUSALS = {
    RunAction.COMMIT: "Only Planned bill runs can be committed; bill run {number} is {status}.",
    RunAction.START: "Bill run {number} is {status}; only Pending runs start.",
    RunAction.POST: "Only Completed bill runs can be posted; bill run {number} is {status}.",
    RunAction.RETRY: "Bill run {number} is {status}; only runs in Error are retried.",
}
CHUNK_TRANSITIONS: dict[ChunkState, frozenset[ChunkState]] = {
    ChunkState.PENDING: frozenset({ChunkState.DONE, ChunkState.FAILED}),
    ChunkState.FAILED: frozenset({ChunkState.PENDING}),
    ChunkState.DONE: frozenset(),
}


def ensure_run_action(action: RunAction, number: str, status: str) -> None:
    """An action happens only in the statuses the transition table lists for it (InvalidStateError)."""
    if status not in RUN_TRANSITIONS[action][0]:
        message = _REFUSALS.get(action, "Bill run {number} is {status}; it cannot " + action.value + ".")
        raise InvalidStateError(message.format(number=number, status=status))


def run_status_after(action: RunAction, number: str, status: str, target: BillRunStatus) -> BillRunStatus:
    """The status a run moves to by an action; refused unless the table allows both ends of the move."""
    ensure_run_action(action, number, status)
    if target not in RUN_TRANSITIONS[action][1]:
        raise ValueError(f"{action.value} cannot lead bill run {number} from {status} to {target}")
    return target


def finished_status(*, pending_chunks: int, failed_chunks: int, auto_post: bool) -> BillRunStatus | None:
    """Once no chunk is pending a run is Error if a chunk was given up, else Posted (autoPost) or Completed."""
    if pending_chunks:
        return None
    if failed_chunks:
        return S.ERROR
    return S.POSTED if auto_post else S.COMPLETED


def retried_status(chunks_done: int) -> BillRunStatus:
    """A retried run is Processing again if it had billed a chunk, else Pending."""
    return S.PROCESSING if chunks_done else S.PENDING


def chunk_state_after(current: str, target: ChunkState) -> ChunkState:
    """A chunk moves pending → done | failed, failed → pending (a retry); a done chunk never moves."""
    if target not in CHUNK_TRANSITIONS[ChunkState(current)]:
        raise InvalidStateError(f"A {current} chunk cannot become {target}.")
    return target
