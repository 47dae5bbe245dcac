// Live mode's pure parts: which work runs after a burst of edits (on a fake clock: no real timers), and the
// selection it follows through edits.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { regionAfterEdit, regionAfterEdits } from '../../../src/ui/live/liveRegion';
import { LiveClock, LiveScheduler, LiveStage } from '../../../src/ui/live/liveScheduler';

/** A clock that only moves when told to. */
class FakeClock implements LiveClock {
  now = 0;
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  setTimeout(fn: () => void, ms: number): unknown {
    const t = { at: this.now + ms, seq: this.seq++, fn };
    this.timers.push(t);
    return t;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t !== handle);
  }
  /** Moves time forward, firing due timers in order, and lets the work they start settle. */
  async advance(ms: number): Promise<void> {
    const end = this.now + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.now = due.at;
      due.fn();
      await settle();
    }
    this.now = end;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** A runner whose work finishes only when the test says so, recording what ran and what was aborted. */
function recorder() {
  const runs: { job: string; stage: LiveStage; aborted: boolean; finished: boolean; finish: () => void }[] = [];
  const run = (job: string, stage: LiveStage, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      const entry = { job, stage, aborted: false, finished: false, finish: () => ((entry.finished = true), resolve()) };
      runs.push(entry);
      signal.addEventListener('abort', () => {
        entry.aborted = true;
        reject(new Error('cancelled'));
      });
    });
  return { runs, run };
}

describe('live mode: when work runs', () => {
  test('a burst of edits runs one first estimate and one refinement, for the last text only', async () => {
    const clock = new FakeClock();
    const { runs, run } = recorder();
    const s = new LiveScheduler(run, { firstDelayMs: 50, refineDelayMs: 300, clock });
    for (const text of ['t', 'th', 'the', 'the f', 'the fi']) {
      s.changed(text);
      await clock.advance(30); // typing faster than the first delay: nothing starts
    }
    assert.equal(runs.length, 0);
    await clock.advance(20);
    assert.deepEqual(runs.map((r) => [r.job, r.stage]), [['the fi', 'first']]);
    runs[0].finish();
    await clock.advance(300);
    assert.deepEqual(runs.map((r) => [r.job, r.stage]), [['the fi', 'first'], ['the fi', 'refined']]);
    runs[1].finish();
    await settle();
    assert.equal(s.pending, false);
  });

  test('an edit while the refinement runs aborts it; the new text gets both stages', async () => {
    const clock = new FakeClock();
    const { runs, run } = recorder();
    const s = new LiveScheduler(run, { firstDelayMs: 50, refineDelayMs: 300, clock });
    s.changed('old');
    await clock.advance(50);
    runs[0].finish();
    await clock.advance(250);
    assert.equal(runs[1].stage, 'refined');
    s.changed('new');
    assert.equal(runs[1].aborted, true, 'the refinement of the old text was cancelled');
    await clock.advance(50);
    runs[2].finish();
    await clock.advance(250);
    assert.deepEqual(runs.slice(2).map((r) => [r.job, r.stage]), [['new', 'first'], ['new', 'refined']]);
  });

  test('the refinement waits for the first estimate of the same text, never beside it', async () => {
    const clock = new FakeClock();
    const { runs, run } = recorder();
    const s = new LiveScheduler(run, { firstDelayMs: 50, refineDelayMs: 300, clock });
    s.changed('slow');
    await clock.advance(1000);
    assert.deepEqual(runs.map((r) => r.stage), ['first'], 'the first estimate is still running');
    runs[0].finish();
    await settle();
    assert.deepEqual(runs.map((r) => r.stage), ['first', 'refined']);
  });

  test('an edit during the first estimate aborts it and its refinement never starts', async () => {
    const clock = new FakeClock();
    const { runs, run } = recorder();
    const s = new LiveScheduler(run, { firstDelayMs: 50, refineDelayMs: 300, clock });
    s.changed('a');
    await clock.advance(60);
    s.changed('ab');
    assert.equal(runs[0].aborted, true);
    await clock.advance(1000);
    assert.deepEqual(runs.map((r) => [r.job, r.stage]), [['a', 'first'], ['ab', 'first']]);
  });

  test('cancel stops the work in flight and what waits; nothing runs afterwards', async () => {
    const clock = new FakeClock();
    const { runs, run } = recorder();
    const s = new LiveScheduler(run, { firstDelayMs: 50, refineDelayMs: 300, clock });
    s.changed('x');
    await clock.advance(50);
    s.cancel();
    assert.equal(runs[0].aborted, true);
    await clock.advance(5000);
    assert.equal(runs.length, 1);
    assert.equal(s.pending, false);
  });

  test('delays given with a change override the defaults (switching on explains at once)', async () => {
    const clock = new FakeClock();
    const { runs, run } = recorder();
    const s = new LiveScheduler(run, { firstDelayMs: 50, refineDelayMs: 300, clock });
    s.changed('now', { firstDelayMs: 0, refineDelayMs: 0 });
    await clock.advance(0);
    runs[0].finish();
    await settle();
    assert.deepEqual(runs.map((r) => r.stage), ['first', 'refined']);
  });
});

describe('live mode: the selection it follows', () => {
  const region = { start: 10, end: 20 };
  test('typing inside or at either end grows it; deleting inside shrinks it', () => {
    assert.deepEqual(regionAfterEdit(region, { rangeOffset: 15, rangeLength: 0, text: 'abc' }), { start: 10, end: 23 });
    assert.deepEqual(regionAfterEdit(region, { rangeOffset: 20, rangeLength: 0, text: 'x' }), { start: 10, end: 21 });
    assert.deepEqual(regionAfterEdit(region, { rangeOffset: 10, rangeLength: 0, text: 'x' }), { start: 10, end: 21 });
    assert.deepEqual(regionAfterEdit(region, { rangeOffset: 12, rangeLength: 3, text: '' }), { start: 10, end: 17 });
  });
  test('edits before it move it; edits after it leave it; a deletion across its start keeps what is left', () => {
    assert.deepEqual(regionAfterEdit(region, { rangeOffset: 2, rangeLength: 1, text: 'xyz' }), { start: 12, end: 22 });
    assert.deepEqual(regionAfterEdit(region, { rangeOffset: 25, rangeLength: 2, text: '' }), region);
    assert.deepEqual(regionAfterEdit(region, { rangeOffset: 5, rangeLength: 7, text: '' }), { start: 5, end: 13 });
  });
  test('deleting all of it ends it; a multi-cursor event applies every change', () => {
    assert.equal(regionAfterEdit(region, { rangeOffset: 8, rangeLength: 15, text: '' }), undefined);
    const changes = [
      { rangeOffset: 0, rangeLength: 0, text: 'ab' },
      { rangeOffset: 14, rangeLength: 0, text: 'c' },
      { rangeOffset: 30, rangeLength: 0, text: 'd' },
    ];
    assert.deepEqual(regionAfterEdits(region, changes), { start: 12, end: 23 });
  });
});
