// docs/CLI.md against the command line itself: every command has its section, every flag a command accepts is
// documented there (or under "Common behaviour"), and no section documents a flag its command does not accept.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../../../src/cli/cli';
import { COMMON_OPTIONS, type CommandDefinition } from '../../../src/cli/commandSpec';
import { REPO_ROOT } from '../../support/fixtureModels';

const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'CLI.md'), 'utf8');

/** Flags of other commands that a section refers to (`explain --target` in predict's, `--model` in download's). */
const CROSS_REFERENCES: Record<string, string[]> = { predict: ['target'], download: ['model'] };

/** The text of each `## ...` section, by its heading. */
function sections(): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of doc.split(/^## /m).slice(1)) {
    const heading = part.slice(0, part.indexOf('\n')).trim();
    out.set(heading, part);
  }
  return out;
}

/** Every `--flag` a text names (a `--no-flag` names `flag` too). */
function flagsIn(text: string): Set<string> {
  const found = new Set<string>();
  for (const m of text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)) {
    found.add(m[1]);
    if (m[1].startsWith('no-')) found.add(m[1].slice(3));
  }
  return found;
}

/** The flags a command accepts, as typed (`--max-new-tokens`; negatable ones also as `--no-…`). */
function accepted(cmd: CommandDefinition): Set<string> {
  const names = new Set<string>();
  for (const [name, spec] of Object.entries({ ...cmd.options, ...COMMON_OPTIONS })) {
    const flag = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    names.add(flag);
    if (spec.negatable) names.add(`no-${flag}`);
  }
  return names;
}

describe('docs/CLI.md', () => {
  const bySection = sections();
  // The flags every command shares, from the list above the exit codes.
  const common = flagsIn((bySection.get('Common behaviour') ?? '').split('### Exit codes')[0]);

  test('has a section for every command', () => {
    const missing = COMMANDS.filter((c) => !bySection.has(`\`onnx-lens ${c.name}\``)).map((c) => c.name);
    assert.deepEqual(missing, []);
  });

  for (const cmd of COMMANDS) {
    test(`onnx-lens ${cmd.name}: every flag it accepts is documented, and only those`, () => {
      const section = bySection.get(`\`onnx-lens ${cmd.name}\``) ?? '';
      const documented = flagsIn(section);
      const flags = accepted(cmd);
      const undocumented = [...flags].filter((f) => !f.startsWith('no-') && !documented.has(f) && !common.has(f) && !(f in { help: 1, quiet: 1 }));
      assert.deepEqual(undocumented, [], `flags of ${cmd.name} missing from its section of docs/CLI.md`);
      const unknown = [...documented].filter((f) => !flags.has(f) && !flags.has(`no-${f}`) && !CROSS_REFERENCES[cmd.name]?.includes(f));
      assert.deepEqual(unknown, [], `docs/CLI.md documents flags ${cmd.name} does not accept`);
    });
  }
});
