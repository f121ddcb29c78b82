"""The create-once pipeline on its own: claims under a fence, the grace for an earlier run's creates, look-ups.

`FakeRegister` is a fourth kind of Procountor object with only what the pipeline needs: how to send and how to
look up; everything else (claims, in-doubt handling, records, events) is the pipeline's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from spotilla_procountor.adapters.memory import InMemoryStateStore
from spotilla_procountor.domain.create_once import Create, CreateOncePipeline, HoldBack, LinkExisting, PipelineSettings
from spotilla_procountor.domain.errors import LockLost, NotSent, OutcomeUnknown, ProcountorRejected
from spotilla_procountor.domain.reasons import Reason, ReasonCode
from spotilla_procountor.domain.recorder import RunRecorder
from spotilla_procountor.domain.state import EntityKind, Fence, Flow, Outcome, Record, RecordState

ORG = 7


@dataclass
class FakeRegister:
    """Objects by name in a register that answers or loses its answers; ids from 1000."""

    kind: EntityKind = EntityKind.PRODUCT
    flow: Flow = Flow.PRODUCTS
    objects: dict[str, int] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    looked_up: list[int] = field(default_factory=list)
    lose_answers: bool = False

    def send(self, payload: str) -> int:
        self.sent.append(payload)
        self.objects[payload] = 1000 + len(self.objects)
        if self.lose_answers:
            raise OutcomeUnknown("the connection dropped")
        return self.objects[payload]

    def look_up(self, spotilla_id: int, payload: str | None) -> int | None:
        self.looked_up.append(spotilla_id)
        return self.objects.get(f"item-{spotilla_id}")

    def refused(self, spotilla_id: int, error: ProcountorRejected) -> Reason:
        return Reason.of(ReasonCode.REJECTED_BY_PROCOUNTOR, detail=str(error))

    def no_answer(self, spotilla_id: int, error: OutcomeUnknown) -> Reason:
        return Reason.of(ReasonCode.NO_ANSWER, what="It", detail=str(error))

    def created(self, payload: str, procountor_id: int) -> None:
        return None


class Clock:
    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def now(self) -> datetime:
        return self.moment


def _run(state: InMemoryStateStore, fence: Fence, register: FakeRegister, actions, clock: Clock, grace_s: float = 60):
    recorder = RunRecorder(state, None)
    pipeline = CreateOncePipeline(
        state=state,
        recorder=recorder,
        clock=clock,
        fence=fence,
        settings=PipelineSettings(claim_grace=timedelta(seconds=grace_s)),
    )
    records = state.records(ORG, register.kind)
    return pipeline.run(register, actions, records), recorder


def _in_doubt_from_an_earlier_run(state: InMemoryStateStore, register: FakeRegister) -> Fence:
    """Run A claims item 1, its create reaches the register, its answer is lost; then A loses its lock."""
    fence_a = state.acquire_run_lock(ORG, "run-a")
    register.lose_answers = True
    _run(state, fence_a, register, [Create(1, "item-1")], Clock())
    register.lose_answers = False
    state.lose_lock(ORG)
    assert state.records(ORG, register.kind)[1].state == RecordState.SENT
    return state.acquire_run_lock(ORG, "run-b")


def test_a_create_an_earlier_run_claimed_moments_ago_is_left_alone_not_looked_up_or_sent() -> None:
    state, register = InMemoryStateStore(), FakeRegister()
    fence_b = _in_doubt_from_an_earlier_run(state, register)
    results, recorder = _run(state, fence_b, register, [Create(1, "item-1")], Clock(), grace_s=60)
    assert register.sent == ["item-1"] and register.looked_up == []
    assert [e.outcome for e in recorder.events] == [Outcome.WAITING]
    assert results.problems[1][0].code == ReasonCode.CLAIMED_BY_EARLIER_RUN
    assert state.records(ORG, register.kind)[1].state == RecordState.SENT  # still in doubt, for a later run


def test_once_the_grace_is_over_the_earlier_runs_create_is_looked_up_and_adopted_not_sent_again() -> None:
    state, register = InMemoryStateStore(), FakeRegister()
    fence_b = _in_doubt_from_an_earlier_run(state, register)
    later = Clock()
    later.moment += timedelta(seconds=61)
    results, recorder = _run(state, fence_b, register, [Create(1, "item-1")], later, grace_s=60)
    assert register.sent == ["item-1"] and register.looked_up == [1]
    assert [e.outcome for e in recorder.events] == [Outcome.ADOPTED]
    assert results.linked == {1: register.objects["item-1"]}


def test_a_run_that_lost_its_lock_claims_nothing_and_sends_nothing() -> None:
    state, register = InMemoryStateStore(), FakeRegister()
    fence_a = state.acquire_run_lock(ORG, "run-a")
    state.lose_lock(ORG)
    state.acquire_run_lock(ORG, "run-b")
    with pytest.raises(LockLost):
        _run(state, fence_a, register, [Create(1, "item-1"), Create(2, "item-2")], Clock())
    assert register.sent == []
    assert state.records(ORG, register.kind) == {}


def test_an_item_in_doubt_that_is_no_longer_wanted_is_adopted_if_it_exists_else_held_back() -> None:
    state, register = InMemoryStateStore(), FakeRegister()
    fence = state.acquire_run_lock(ORG, "run-a")
    register.lose_answers = True
    _run(state, fence, register, [Create(1, "item-1")], Clock())
    register.lose_answers = False
    record = state.records(ORG, register.kind)[1]
    state.save_record(Record(ORG, register.kind, 2, RecordState.PENDING, claim_epoch=record.claim_epoch))
    reason = Reason.of(ReasonCode.TASK_NOT_COMPLETED, status="cancelled")
    fence = state.acquire_run_lock(ORG, "run-a")
    actions = [HoldBack(1, (reason,)), HoldBack(2, (reason,))]
    results, _ = _run(state, fence, register, actions, Clock(), grace_s=0)
    assert results.linked == {1: register.objects["item-1"]}
    assert state.records(ORG, register.kind)[2].state == RecordState.HELD_BACK
    assert register.sent == ["item-1"]


def test_a_create_not_sent_in_time_stays_claimed_and_the_next_run_sends_it_once() -> None:
    class SlowRegister(FakeRegister):
        def send(self, payload: str) -> int:
            raise NotSent("it waited past its deadline for its turn")

    state, slow = InMemoryStateStore(), SlowRegister()
    results, recorder = _run(state, state.acquire_run_lock(ORG, "run-a"), slow, [Create(1, "item-1")], Clock())
    assert [(e.outcome, e.reason_code) for e in recorder.events] == [(Outcome.FAILED, "NOT_SENT")]
    assert state.records(ORG, slow.kind)[1].state == RecordState.PENDING  # in doubt as far as anyone can tell

    state.release_run_lock(ORG, "run-a")
    register = FakeRegister()
    results, _ = _run(state, state.acquire_run_lock(ORG, "run-b"), register, [Create(1, "item-1")], Clock(), 0)
    assert register.looked_up == [1] and register.sent == ["item-1"]
    assert results.linked == {1: register.objects["item-1"]}


def test_a_run_that_lost_its_lock_cannot_overwrite_what_the_next_run_recorded() -> None:
    state, register = InMemoryStateStore(), FakeRegister()
    fence_a = state.acquire_run_lock(ORG, "run-a")
    state.lose_lock(ORG)
    fence_b = state.acquire_run_lock(ORG, "run-b")
    _run(state, fence_b, register, [Create(1, "item-1")], Clock())  # B invoices item 1
    reason = Reason.of(ReasonCode.NO_ORDER_NUMBER)

    with pytest.raises(LockLost):  # A, working from what it read before, would hold item 1 back
        _run(state, fence_a, register, [HoldBack(1, (reason,))], Clock())

    record = state.records(ORG, register.kind)[1]
    assert (record.state, record.procountor_id) == (RecordState.LINKED, register.objects["item-1"])


def test_a_pairing_that_collides_holds_back_that_item_only_and_counts_each_outcome_once() -> None:
    state, register = InMemoryStateStore(), FakeRegister()
    fence = state.acquire_run_lock(ORG, "run-a")
    actions = [LinkExisting(1, 500), LinkExisting(2, 500), LinkExisting(3, 501)]
    results, recorder = _run(state, fence, register, actions, Clock())
    assert results.linked == {1: 500, 3: 501}
    assert [r.code for r in results.problems[2]] == [ReasonCode.ALREADY_PAIRED]
    assert dict(recorder.counts) == {"products.LINKED": 2, "products.HELD_BACK": 1}


def test_an_unexpected_error_while_sending_fails_that_item_which_is_looked_up_never_sent_again() -> None:
    class BrokenOnce(FakeRegister):
        def send(self, payload: str) -> int:
            if payload == "item-1":
                self.objects[payload] = 999  # it went out before the bug struck
                raise KeyError("a bug")
            return super().send(payload)

    state, broken = InMemoryStateStore(), BrokenOnce()
    fence = state.acquire_run_lock(ORG, "run-a")
    results, _ = _run(state, fence, broken, [Create(1, "item-1"), Create(2, "item-2")], Clock(), grace_s=0)
    assert [r.code for r in results.problems[1]] == [ReasonCode.INTERNAL_ERROR]
    assert 2 in results.linked  # the other item went on
    assert state.records(ORG, broken.kind)[1].state == RecordState.SENT  # in doubt: looked up, not re-sent

    results, _ = _run(state, state.acquire_run_lock(ORG, "run-a"), broken, [Create(1, "item-1")], Clock(), 0)
    assert results.linked == {1: 999}
