// The repository stands alone and keeps its layers: nothing tracked points outside the clone, and
// each folder imports only what the README's architecture table allows, without cycles.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { REPO_ROOT } from '../../support/fixtureModels';

const TEXT_FILE = /\.(ts|mjs|js|cjs|json|sh|py|md|txt|yml|yaml|css|html)$|^\.ci\/run$|^\.npmrc$|^\.vscodeignore$|^\.gitignore$/;

function trackedTextFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
  return out
    .split('\0')
    .filter((f) => f && TEXT_FILE.test(f) && f !== 'package-lock.json')
    // Vocabularies and reference tensors are data, not paths; the size limit keeps them out.
    .filter((f) => fs.existsSync(path.join(REPO_ROOT, f)) && fs.statSync(path.join(REPO_ROOT, f)).size < 400_000);
}

/**
 * Every place in `text` (the content of tracked `file`) that names a location outside the repository, as
 * `file:line: why: excerpt`. Lines marked `hostile-path` (test inputs that must be refused) are exempt.
 */
export function outsideReferences(file: string, text: string, exists: (rel: string) => boolean = () => true): string[] {
  const found: string[] = [];
  const dir = path.posix.dirname(file);
  const depth = dir === '.' ? 0 : dir.split('/').length;
  text.split('\n').forEach((line, i) => {
    if (line.includes('hostile-path')) return;
    const hit = (why: string) => found.push(`${file}:${i + 1}: ${why}: ${line.trim().slice(0, 120)}`);
    if (/['"]\.\.['"]\s*,\s*['"]shared['"]/.test(line)) hit('the folder beside the repository');
    if (/\b(?:REPO_ROOT|ROOT)\s*,\s*['"]\.\.['"]/.test(line)) hit('a path above the repository root');
    if (/(?:^|[\s'"`(=:])\/(?:work|home|root|Users|mnt|srv)\/[\w.-]/.test(line)) hit('an absolute path on one machine');
    if (/[A-Za-z]:\\Users\\/.test(line)) hit('an absolute Windows path');
    for (const m of line.matchAll(/(?:^|[\s'"`(=])((?:\.\.\/)+)([\w.-]*)/g)) {
      const ups = m[1].length / 3;
      if (ups > depth) hit(`"${m[1]}" climbs above the repository`);
      else if (m[2] === 'shared' && !exists(path.posix.join(dir, m[1], m[2]))) hit('the folder beside the repository');
    }
  });
  return found;
}

describe('the repository stands alone', () => {
  test('no tracked file refers to the folder beside it or to an absolute path outside it', () => {
    const exists = (rel: string) => fs.existsSync(path.join(REPO_ROOT, rel));
    const problems = trackedTextFiles().flatMap((f) => outsideReferences(f, fs.readFileSync(path.join(REPO_ROOT, f), 'utf8'), exists));
    assert.deepEqual(problems, [], `tracked files point outside the repository:\n${problems.join('\n')}`);
  });

  test('the check itself catches each kind of outside reference', () => {
    assert.equal(outsideReferences('test/unit/x.test.ts', "path.join(ROOT, '..', 'shared', 'tokenizers')").length, 2); // hostile-path
    assert.equal(outsideReferences('scripts/a.py', 'open("../shared/data/x")', () => false).length, 1); // hostile-path
    assert.equal(outsideReferences('webview/src/panel/a.ts', "import { el } from '../shared/dom';", () => true).length, 0); // hostile-path
    assert.equal(outsideReferences('test/unit/hub/a.test.ts', "const evil = '../../../../x.onnx'; // hostile-path").length, 0);
    assert.equal(outsideReferences('README.md', 'see /home/someone/models').length, 1); // hostile-path
    assert.equal(outsideReferences('src/a.ts', "import x from '../../../../elsewhere'").length, 1); // hostile-path
    assert.equal(outsideReferences('src/ui/a.ts', "import x from '../../protocol/engineApi'").length, 0);
    assert.equal(outsideReferences('scripts/run.sh', 'exec /usr/bin/python3 x.py').length, 0);
  });
});

/* ------------------------------------------------------------------------------------------------ */

const SOURCE_ROOTS = ['src', 'webview/src'];

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.ts')) out.push(rel);
    }
  };
  SOURCE_ROOTS.forEach(walk);
  return out.sort();
}

/** Relative imports of a source file, resolved to repository paths (type-only imports included). */
function importsOf(file: string): { target: string; typeOnly: boolean }[] {
  const text = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
  const out: { target: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+'(\.{1,2}\/[^']+)'/gms)) {
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[3]));
    const target = fs.existsSync(path.join(REPO_ROOT, `${resolved}.ts`)) ? `${resolved}.ts` : resolved;
    out.push({ target, typeOnly: Boolean(m[2]) });
  }
  return out;
}

function packageImports(file: string): string[] {
  return packagesIn(fs.readFileSync(path.join(REPO_ROOT, file), 'utf8'));
}

/** The packages a source text loads: `import … from`, `export … from`, bare `import '…'`, `import('…')` and `require('…')`. */
export function packagesIn(text: string): string[] {
  const statics = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^.'][^']*)'/gms)].map((m) => m[1]);
  const bare = [...text.matchAll(/^import\s+['"]([^.'"][^'"]*)['"]/gm)].map((m) => m[1]);
  const dynamic = [...text.matchAll(/\b(?:require|import)\s*\(\s*['"]([^.'"][^'"]*)['"]\s*\)/g)].map((m) => m[1]);
  return [...statics, ...bare, ...dynamic];
}

/** A Node built-in module, with or without the `node:` prefix (`fs`, `node:path`, `fs/promises`). */
export function isNodeModule(name: string): boolean {
  return name.startsWith('node:') || builtinModules.includes(name) || builtinModules.includes(name.split('/')[0]);
}

/**
 * The chain of imports by which `file` loads onnxruntime-node at run time (type-only imports load nothing), or
 * undefined when it does not.
 */
function pathToRuntime(file: string, seen = new Set<string>()): string[] | undefined {
  if (seen.has(file)) return undefined;
  seen.add(file);
  if (packageImports(file).includes('onnxruntime-node')) return [file, 'onnxruntime-node'];
  for (const { target, typeOnly } of importsOf(file)) {
    if (typeOnly || !target.endsWith('.ts')) continue;
    const rest = pathToRuntime(target, seen);
    if (rest) return [file, ...rest];
  }
  return undefined;
}

/** Which folders each layer may import (by path prefix), from the README's architecture table. */
const LAYERS: { layer: string; may: string[] }[] = [
  { layer: 'src/protocol/', may: ['src/protocol/'] },
  { layer: 'src/render/', may: ['src/render/', 'src/protocol/'] },
  { layer: 'src/engine/', may: ['src/engine/', 'src/protocol/'] },
  { layer: 'webview/src/', may: ['webview/src/', 'src/protocol/', 'src/render/'] },
  { layer: 'src/cli/', may: ['src/cli/', 'src/protocol/', 'src/render/', 'src/engine/'] },
  { layer: 'src/ui/', may: ['src/ui/', 'src/protocol/', 'src/render/', 'src/engine/'] },
];

describe('layers', () => {
  test('each folder imports only the layers the architecture allows', () => {
    const problems: string[] = [];
    for (const file of sourceFiles()) {
      const rule = LAYERS.find((l) => file.startsWith(l.layer));
      assert.ok(rule, `${file} belongs to no layer of the README's table`);
      for (const { target } of importsOf(file)) {
        if (!rule.may.some((p) => target.startsWith(p))) problems.push(`${file} imports ${target}`);
      }
      const packages = packageImports(file);
      if (!file.startsWith('src/ui/') && packages.includes('vscode')) problems.push(`${file} imports vscode outside src/ui/`);
      const inWebview = file.startsWith('webview/') || file.startsWith('src/render/') || file.startsWith('src/protocol/');
      for (const p of packages.filter((p) => inWebview && (isNodeModule(p) || p === 'onnxruntime-node'))) {
        problems.push(`${file} imports ${p}, a Node module, but runs in the webview too`);
      }
      if (file.startsWith('src/protocol/')) for (const p of packages) problems.push(`${file} imports the package ${p}; the protocol imports nothing`);
    }
    assert.deepEqual(problems, []);
  });

  test('only the engine\'s model folder loads onnxruntime-node, and its text folder uses nothing else of the engine', () => {
    const problems: string[] = [];
    for (const file of sourceFiles()) {
      if (!file.startsWith('src/engine/model/') && packageImports(file).includes('onnxruntime-node')) problems.push(`${file} imports onnxruntime-node`);
      if (file.startsWith('src/engine/text/')) {
        for (const { target } of importsOf(file)) if (!target.startsWith('src/engine/text/')) problems.push(`${file} imports ${target}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  test('the extension and the CLI never load the runtime: what they use of the engine runs no model', () => {
    // Inference runs in the forked engine process; a path from src/ui or src/cli to onnxruntime-node would put it
    // on the extension host's thread (or load the runtime twice in the CLI).
    const problems: string[] = [];
    for (const file of sourceFiles().filter((f) => f.startsWith('src/ui/') || f.startsWith('src/cli/'))) {
      const runtime = pathToRuntime(file);
      if (runtime) problems.push(runtime.join(' → '));
    }
    assert.deepEqual(problems, []);
  });

  test('the checks above see every way a source file loads a package, and know Node modules by either name', () => {
    const text = [
      "import * as fs from 'fs';",
      "import type { Tensor } from 'onnxruntime-node';",
      "export { x } from 'some-package';",
      "import 'node:worker_threads';",
      "const cp = require('child_process');",
      "const p = await import('node:path');",
      "import { y } from './sibling';",
    ].join('\n');
    assert.deepEqual(packagesIn(text).sort(), ['child_process', 'fs', 'node:path', 'node:worker_threads', 'onnxruntime-node', 'some-package']);
    for (const name of ['fs', 'fs/promises', 'node:fs', 'path', 'child_process', 'node:test']) assert.ok(isNodeModule(name), name);
    for (const name of ['vscode', 'onnxruntime-node', 'fast-json-patch']) assert.ok(!isNodeModule(name), name);
  });

  test('the checks above catch a path to the runtime', () => {
    assert.deepEqual(pathToRuntime('src/engine/process/engineService.ts')?.slice(-1), ['onnxruntime-node']);
    assert.equal(pathToRuntime('src/engine/process/engineClient.ts'), undefined);
  });

  test('no import cycles, type-only imports included', () => {
    const graph = new Map(sourceFiles().map((f) => [f, importsOf(f).map((i) => i.target)]));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, trail: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(f)), f].join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const t of graph.get(f) ?? []) visit(t, [...trail, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    assert.deepEqual(cycles, []);
  });
});
