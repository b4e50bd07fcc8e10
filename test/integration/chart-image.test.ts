import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/**
 * The container image recipe, checked statically: Docker does not run on the development machine,
 * so the Dockerfile cannot be built here. What can go wrong without a build is checked instead:
 * base images, the user, remote ADDs, and whether everything the programs load at run time is in
 * the build context and copied into the image.
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Dockerfile syntax as BuildKit reads it: continuations joined, comment lines dropped. */
function parseDockerfile(text: string): { globalArgs: Map<string, string>; stages: Stage[] } {
  const instructions: Instruction[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line)) return;
    if (pending === '' && line.trim() === '') return;
    if (pending === '') startLine = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    pending += line;
    const match = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(pending);
    assert.ok(match, `Dockerfile line ${startLine}: cannot parse ${JSON.stringify(pending.slice(0, 80))}`);
    instructions.push({ keyword: (match[1] ?? '').toUpperCase(), args: (match[2] ?? '').trim(), line: startLine });
    pending = '';
  });
  assert.equal(pending, '', 'Dockerfile ends inside a continuation');

  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const [image = '', as, name] = ins.args.replace(/--platform=\S+\s+/, '').split(/\s+/);
      const from = image.replace(/\$\{?(\w+)\}?/g, (_, v: string) => globalArgs.get(v) ?? '');
      stages.push({ from, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      assert.equal(ins.keyword, 'ARG', `line ${ins.line}: only ARG may come before the first FROM`);
      const [key = '', value = ''] = ins.args.split('=', 2);
      globalArgs.set(key, value);
    } else {
      stages[stages.length - 1]?.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

/** .dockerignore as Docker reads it: the last matching pattern wins; a match on a parent directory counts. */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const include = l.startsWith('!');
      const pattern = normalize(l.replace(/^!/, '')).replace(/^\/+|\/+$/g, '');
      const source = pattern
        .split(/(\*\*\/|\*\*|\*|\?)/)
        .map((part) => {
          if (part === '**/') return '(?:.*/)?';
          if (part === '**') return '.*';
          if (part === '*') return '[^/]*';
          if (part === '?') return '[^/]';
          return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      return { include, regex: new RegExp(`^${source}$`) };
    });
  return (path: string) => {
    const parts = normalize(path).split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) {
      if (candidates.some((c) => rule.regex.test(c))) excluded = !rule.include;
    }
    return excluded;
  };
}

const IMPORT_FROM = /^\s*(?:import|export)\s+(?!type\b)[^'";]*?\bfrom\s+['"]([^'"]+)['"]/gm;
const IMPORT_BARE = /^\s*import\s+['"]([^'"]+)['"]/gm;
const IMPORT_DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every module a file loads at run time (type-only imports are erased by Node). */
function runtimeImports(source: string): string[] {
  return [IMPORT_FROM, IMPORT_BARE, IMPORT_DYNAMIC].flatMap((re) => [...source.matchAll(re)].map((m) => m[1] ?? ''));
}

const dockerfile = parseDockerfile(read('Dockerfile'));
const finalStage = dockerfile.stages[dockerfile.stages.length - 1];
const ignored = dockerignore(read('.dockerignore'));

/** Build-context paths the final stage copies, with their destination under WORKDIR. */
function contextCopies(stage: Stage): string[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY' && !/--from=/.test(i.args))
    .flatMap((i) => {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      return parts.slice(0, -1);
    });
}

describe('Dockerfile', () => {
  it('is multi-stage on Node 24 slim bases, fetching nothing with ADD', () => {
    assert.ok(dockerfile.stages.length >= 2, 'not a multi-stage build');
    const names = new Set<string>();
    for (const stage of dockerfile.stages) {
      assert.match(
        stage.from,
        /^node:24(?:\.\d+){0,2}(?:-[a-z]+)?-slim(?:@sha256:[a-f0-9]{64})?$/,
        `stage ${stage.name ?? '(final)'} is based on ${stage.from}`,
      );
      if (stage.name) names.add(stage.name);
      for (const ins of stage.instructions) {
        assert.notEqual(ins.keyword, 'ADD', `line ${ins.line}: use COPY (ADD fetches URLs and unpacks archives)`);
        const from = /--from=(\S+)/.exec(ins.args)?.[1];
        if (from) assert.ok(names.has(from), `line ${ins.line}: COPY --from=${from} names no earlier stage`);
      }
    }
    assert.ok(finalStage && finalStage.name === undefined, 'the final stage is the image');
  });

  it('runs as a numeric non-root user, the one the chart runs it as', () => {
    assert.ok(finalStage);
    const users = finalStage.instructions.filter((i) => i.keyword === 'USER');
    const user = users[users.length - 1];
    assert.ok(user, 'the final stage sets no USER: it would run as root');
    const match = /^(\d+):(\d+)$/.exec(user.args);
    assert.ok(match, `USER ${user.args} is not numeric uid:gid (runAsNonRoot needs a number)`);
    assert.ok(Number(match[1]) > 0 && Number(match[2]) > 0, `USER ${user.args} is root`);
    const lastIndex = finalStage.instructions.indexOf(user);
    assert.ok(
      !finalStage.instructions.slice(lastIndex).some((i) => i.keyword === 'RUN'),
      'RUN after USER: the image build would depend on that user',
    );
    const values = parse(read('charts/tidemark/values.yaml')) as {
      podSecurityContext: { runAsUser: number; runAsGroup: number };
    };
    assert.equal(values.podSecurityContext.runAsUser, Number(match[1]), 'chart runAsUser differs from the image user');
    assert.equal(values.podSecurityContext.runAsGroup, Number(match[2]), 'chart runAsGroup differs from the image group');
  });

  it('starts `node [flags] bin/tidemark.ts` and ships git, openssh-client and kubectl (kustomize)', () => {
    assert.ok(finalStage);
    const entrypoint = finalStage.instructions.filter((i) => i.keyword === 'ENTRYPOINT').pop();
    assert.ok(entrypoint, 'no ENTRYPOINT');
    const argv = JSON.parse(entrypoint.args) as unknown;
    assert.ok(Array.isArray(argv), 'ENTRYPOINT is not in exec form (signals would go to a shell)');
    const tail = (argv as string[]).slice(argv.indexOf('node'));
    assert.equal(tail[0], 'node');
    assert.equal(tail.at(-1), 'bin/tidemark.ts');
    const flags = tail.slice(1, -1);
    assert.ok(
      flags.every((f) => /^--[a-z][a-z0-9-]*(=\S+)?$/.test(f)),
      `not node flags: ${JSON.stringify(flags)}`,
    );
    // V8's flags are part of the compile cache's key: a warm-up without them fills a cache no program reads.
    const warmUp = finalStage.instructions.find((i) => i.keyword === 'RUN' && i.args.includes('bin/warm-compile-cache.ts'));
    assert.ok(warmUp, 'the compile cache is not warmed');
    assert.ok(
      warmUp.args.includes(['node', ...flags, 'bin/warm-compile-cache.ts'].join(' ')),
      'the compile cache is warmed with other node flags than the ENTRYPOINT has',
    );
    const runs = finalStage.instructions
      .filter((i) => i.keyword === 'RUN')
      .map((i) => i.args)
      .join('\n');
    for (const pkg of ['git', 'openssh-client'])
      assert.match(runs, new RegExp(`apt-get install[^\\n]*\\s${pkg}(\\s|$)`), `${pkg} is not installed`);
    assert.ok(
      finalStage.instructions.some((i) => i.keyword === 'COPY' && /--from=\S+\s+\S+\s+\/usr\/local\/bin\/kubectl$/.test(i.args)),
      'no /usr/local/bin/kubectl in the image',
    );
    const deps = dockerfile.stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'RUN')
      .map((i) => i.args)
      .join('\n');
    assert.match(deps, /npm ci --omit=dev/, 'production dependencies are not installed with npm ci --omit=dev');
  });

  it('copies only what exists and what .dockerignore lets into the build context', () => {
    assert.ok(finalStage);
    const sources = dockerfile.stages.flatMap(contextCopies);
    assert.ok(sources.length > 0);
    for (const source of sources) {
      assert.ok(existsSync(join(root, source)), `COPY ${source}: no such file`);
      assert.equal(ignored(source), false, `COPY ${source}: excluded by .dockerignore`);
    }
    // The build context stays small and free of secrets and host builds.
    for (const path of [
      'node_modules/re2/package.json',
      '.git/config',
      'test/run.ts',
      'agent/plan.test.ts',
      'charts/tidemark/values.yaml',
    ]) {
      assert.equal(ignored(path), true, `${path} would be sent to the Docker daemon`);
    }
  });

  it('every module the programs load at run time is in the image, and every package is a production dependency', () => {
    assert.ok(finalStage);
    const copied = contextCopies(finalStage).map((s) => s.replace(/\/+$/, ''));
    const pkg = JSON.parse(read('package.json')) as { dependencies?: Record<string, string> };
    const production = new Set(Object.keys(pkg.dependencies ?? {}));
    const builtins = new Set(builtinModules);
    const seen = new Set<string>();
    const queue = ['bin/tidemark.ts'];
    const problems: string[] = [];
    while (queue.length > 0) {
      const file = queue.shift() ?? '';
      if (seen.has(file)) continue;
      seen.add(file);
      const inImage = copied.some((c) => file === c || file.startsWith(`${c}/`)) && !ignored(file);
      if (!inImage) problems.push(`${file} is loaded at run time but not copied into the image`);
      // A file that does not exist yet is the typecheck's business; its place in the image is ours.
      if (!existsSync(join(root, file))) continue;
      const source = read(file);
      // Files read next to the code (package.json for the version) must ship too.
      for (const m of source.matchAll(/new URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g)) {
        const target = relative(root, join(root, dirname(file), m[1] ?? ''));
        if (!copied.some((c) => target === c || target.startsWith(`${c}/`)) || ignored(target))
          problems.push(`${file} reads ${target}, which is not in the image`);
      }
      for (const spec of runtimeImports(source)) {
        if (spec.startsWith('.')) {
          queue.push(relative(root, join(root, dirname(file), spec)));
        } else if (!spec.startsWith('node:') && !builtins.has(spec)) {
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec);
          if (!production.has(name)) problems.push(`${file} imports ${spec}, which npm ci --omit=dev does not install`);
        }
      }
    }
    assert.ok(seen.size > 20, `only ${seen.size} modules reached from bin/tidemark.ts: the import scan is broken`);
    assert.deepEqual(problems, []);
  });
});

describe('Dockerfile checks can fail', () => {
  it('the parser and the .dockerignore matcher see what they should', () => {
    const parsed = parseDockerfile('ARG BASE=node:24-slim\nFROM ${BASE} AS a\n# c\nRUN a \\\n  # inner comment\n  && b\nFROM a\nUSER 0\n');
    assert.deepEqual(
      parsed.stages.map((s) => [s.from, s.name]),
      [
        ['node:24-slim', 'a'],
        ['a', undefined],
      ],
    );
    assert.equal(parsed.stages[0]?.instructions[0]?.args, 'a    && b');
    const ignore = dockerignore('*\n!src/\n**/*.test.ts\n');
    assert.equal(ignore('src/a.ts'), false);
    assert.equal(ignore('src/a.test.ts'), true);
    assert.equal(ignore('secrets.env'), true);
    assert.deepEqual(
      runtimeImports(
        "import type { A } from './a.ts';\nimport { b } from './b.ts';\nexport { c } from './c.ts';\n" +
          "await import('./d.ts');\nimport './e.ts';",
      ),
      ['./b.ts', './c.ts', './e.ts', './d.ts'],
    );
  });
});
