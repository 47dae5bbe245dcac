import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError, parseArgs } from '../../../src/cli/parseArgs';
import { ProgressLine } from '../../../src/cli/progressLine';
import { barCells, shouldColor, strengthLevel } from '../../../src/cli/terminalOutput';

const SPEC = {
  model: { type: 'string', multiple: true },
  seed: { type: 'string' },
  json: { type: 'boolean' },
  hidden: { type: 'boolean', negatable: true },
  help: { type: 'boolean', short: 'h' },
} as const;

describe('parseArgs', () => {
  test('flags with separate and inline values, repeated flags, negation, and --', () => {
    const r = parseArgs(['--model', 'a', '--model=b', '--seed=-3', '--no-hidden', '-h', 'some', 'text', '--', '--json'], SPEC);
    assert.deepEqual(r.options, { model: ['a', 'b'], seed: '-3', hidden: false, help: true });
    assert.deepEqual(r.positionals, ['some', 'text', '--json']);
  });

  test('mistakes are usage errors with a suggestion', () => {
    assert.throws(() => parseArgs(['--jsno'], SPEC), (e: Error) => e instanceof UsageError && /Did you mean --json\?/.test(e.message));
    assert.throws(() => parseArgs(['--seed'], SPEC), /--seed needs a value/);
    assert.throws(() => parseArgs(['--seed', '1', '--seed', '2'], SPEC), /more than once/);
    assert.throws(() => parseArgs(['--json=yes'], SPEC), /takes no value/);
    assert.throws(() => parseArgs(['--no-json'], SPEC), /Unknown option --no-json/);
  });
});

describe('terminal output', () => {
  test('colour follows NO_COLOR, FORCE_COLOR, the flag and the terminal', () => {
    assert.equal(shouldColor({ isTTY: true }, {}), true);
    assert.equal(shouldColor({ isTTY: false }, {}), false);
    assert.equal(shouldColor({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(shouldColor({ isTTY: false }, { FORCE_COLOR: '1' }), true);
    assert.equal(shouldColor({ isTTY: true }, { NO_COLOR: '1' }, true), false);
    assert.equal(shouldColor({ isTTY: true }, {}, false), false);
  });

  test('bars and strengths scale with the largest value', () => {
    assert.equal(barCells(1, 1, 10), '█'.repeat(10));
    assert.equal(barCells(-0.5, 1, 10), '█'.repeat(5));
    assert.equal(barCells(0, 1, 10), '');
    assert.equal(strengthLevel(0.01, 1), 0);
    assert.equal(strengthLevel(-1, 1), 5);
    assert.equal(strengthLevel(0.5, 1), 3);
  });
});

describe('progress line', () => {
  test('a terminal gets one line rewritten in place, cleared at the end', () => {
    const writes: string[] = [];
    const p = new ProgressLine({ isTTY: true, columns: 60, write: (t: string) => writes.push(t) });
    p.update('Explaining', 1, 4);
    p.update('Explaining', 4, 4);
    p.done();
    assert.ok(writes.length >= 2);
    assert.ok(writes.every((w) => !w.includes('\n')), 'no new lines on a terminal');
    assert.ok(writes[0].startsWith('\r\x1b[2K') && writes[0].includes('Explaining 25%'));
    assert.equal(writes[writes.length - 1], '\r\x1b[2K');
  });

  test('a pipe gets a few whole lines, not one per update', () => {
    const writes: string[] = [];
    const p = new ProgressLine({ isTTY: false, write: (t: string) => writes.push(t) });
    for (let i = 0; i <= 1000; i++) p.update('Explaining', i, 1000);
    p.done();
    assert.ok(writes.length >= 2 && writes.length <= 6, `${writes.length} lines`);
    assert.ok(writes.every((w) => w.endsWith('\n') && !w.includes('\r')));
    assert.equal(writes[writes.length - 1], 'Explaining 100%\n');
  });

  test('quiet writes nothing', () => {
    const writes: string[] = [];
    const p = new ProgressLine({ isTTY: true, write: (t: string) => writes.push(t) }, false);
    p.update('Explaining', 1, 2);
    p.note('opened');
    p.done();
    assert.deepEqual(writes, []);
  });
});
