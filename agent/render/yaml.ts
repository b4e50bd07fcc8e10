import type { CST, Document, ScalarTag, Tags } from 'yaml';
import { Composer, isNode, LineCounter, Parser, visit } from 'yaml';

/**
 * YAML as Kubernetes tooling reads it. The YAML 1.2 core schema, as kustomize reads it
 * (kyaml, go-yaml v3): `yes`, `no`, `on`, `off`, `y`, `n` stay strings, so `enabled: yes` in a
 * ConfigMap is the string "yes" whether or not the directory has a kustomization. (`kubectl
 * apply -f` reads YAML 1.1 through sigs.k8s.io/yaml and turns them into booleans, which the API
 * server then rejects for string fields; Flux, which builds plain directories with kustomize too,
 * keeps them strings, and so do we.)
 *
 * Numbers follow the Go parsers both tools share, where they differ from the 1.2 core schema:
 * `0777` is octal (511), `1_000` is 1000, `0b101` is 5. Timestamps stay the strings they were
 * written as (kubectl's reading; kustomize would rewrite `2024-01-01` as `2024-01-01T00:00:00Z`).
 * `.inf` and `.nan` are refused: no JSON can carry them. Merge keys (`<<`) are honoured, as both
 * Go parsers do.
 */

export interface YamlDocument {
  value: unknown;
  /** 1-based index of the document in its file. */
  index: number;
}

export interface YamlError {
  line: number;
  col: number;
  message: string;
}

export type YamlParse = { ok: true; documents: YamlDocument[] } | { ok: false; error: YamlError };

const INT = /^([-+]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]+|0|[1-9][0-9]*)$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
const NON_FINITE = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** go-yaml's resolution of a plain scalar that starts like a number; anything else stays a string. */
export function resolveGoNumber(source: string, onError: (message: string) => void): number | string {
  if (NON_FINITE.test(source)) {
    onError(`${source} is not a finite number; Kubernetes objects are JSON, which cannot carry it (quote it to keep a string)`);
    return source;
  }
  const plain = source.replaceAll('_', '');
  const int = INT.exec(plain);
  if (int) {
    const [, sign, digits] = int as unknown as [string, string, string];
    // Go reads a leading 0 as octal; BigInt would read it as decimal.
    const normalised = /^0[0-7]+$/.test(digits) ? `0o${digits.slice(1)}` : digits;
    const magnitude = BigInt(normalised);
    const value = sign === '-' ? -magnitude : magnitude;
    if (value >= INT64_MIN && value <= UINT64_MAX) return Number(value);
  }
  if (FLOAT.test(plain)) {
    const value = Number.parseFloat(plain);
    if (Number.isFinite(value)) return value;
  }
  return source;
}

const goNumber: ScalarTag = {
  tag: 'tag:yaml.org,2002:int',
  default: true,
  test: /^[-+.0-9][-+.0-9A-Za-z_]*$/,
  resolve: (source, onError) => resolveGoNumber(source, onError),
};

const numericTags = new Set(['tag:yaml.org,2002:int', 'tag:yaml.org,2002:float']);

const PARSE_OPTIONS = {
  schema: 'core',
  customTags: (tags: Tags): Tags => [...tags.filter((t) => typeof t === 'string' || !numericTags.has(t.tag)), goNumber],
  merge: true,
  uniqueKeys: true,
  prettyErrors: false,
} as const;

/**
 * How deeply collections may nest. The composer recurses once per level and runs out of stack
 * near a thousand (a RangeError mid-parse, whose position says nothing); real manifests, CRD
 * schemas included, stay far below this.
 */
export const MAX_NESTING_DEPTH = 256;

const COLLECTIONS = new Set(['block-map', 'block-seq', 'flow-collection']);

/**
 * The offset of the first collection nested deeper than `max` in one CST document, or undefined.
 * Iterative: the tree it guards against would overflow a recursive walk.
 */
function tooDeep(token: CST.Token, max: number): number | undefined {
  const stack: Array<{ node: unknown; depth: number }> = [{ node: token, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: unknown; depth: number };
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const child of node) stack.push({ node: child, depth });
      continue;
    }
    const record = node as Record<string, unknown>;
    let level = depth;
    if (typeof record.type === 'string' && COLLECTIONS.has(record.type)) {
      level++;
      if (level > max) return typeof record.offset === 'number' ? record.offset : 0;
    }
    for (const [key, child] of Object.entries(record)) {
      if (key !== 'source' && typeof child === 'object') stack.push({ node: child, depth: level });
    }
  }
  return undefined;
}

/** Tags a document may name when `untagged` is asked for: the ones that change nothing. */
const NEUTRAL_TAGS = new Set(['tag:yaml.org,2002:str', 'tag:yaml.org,2002:seq', 'tag:yaml.org,2002:map']);

/**
 * Every document of a YAML (or JSON) stream, or the first error with its position. Aliases are
 * capped so a "billion laughs" file cannot exhaust memory.
 *
 * `untagged`: refuse explicit tags other than !!str, !!seq and !!map. For YAML that kustomize
 * reads, whose parser (go-yaml) reads tags differently: `!!binary` is decoded to a string there
 * (a path we would not see), and unknown tags are dropped.
 */
export function parseYaml(text: string, options: { untagged?: boolean } = {}): YamlParse {
  const lineCounter = new LineCounter();
  // parseAllDocuments, with the nesting checked between the parser (iterative) and the composer.
  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));
  for (const token of tokens) {
    const offset = tooDeep(token, MAX_NESTING_DEPTH);
    if (offset === undefined) continue;
    const pos = lineCounter.linePos(offset);
    const message = `collections nest deeper than ${MAX_NESTING_DEPTH} levels`;
    return { ok: false, error: { line: pos.line, col: pos.col, message } };
  }
  const list: Document.Parsed[] = Array.from(new Composer(PARSE_OPTIONS).compose(tokens));
  const documents: YamlDocument[] = [];
  let index = 0;
  for (const doc of list) {
    index++;
    const error = doc.errors[0];
    if (error) {
      const pos = lineCounter.linePos(error.pos[0]);
      return { ok: false, error: { line: pos.line, col: pos.col, message: firstLine(error.message) } };
    }
    if (options.untagged) {
      let tagged: { tag: string; offset: number } | undefined;
      visit(doc, (_key, node) => {
        if (!isNode(node) || node.tag === undefined || NEUTRAL_TAGS.has(node.tag)) return undefined;
        tagged = { tag: node.tag, offset: node.range?.[0] ?? doc.range[0] };
        return visit.BREAK;
      });
      if (tagged) {
        const pos = lineCounter.linePos(tagged.offset);
        const tag = tagged.tag.replace(/^tag:yaml\.org,2002:/, '!!');
        return { ok: false, error: { line: pos.line, col: pos.col, message: `the YAML tag ${tag} is not accepted here` } };
      }
    }
    try {
      documents.push({ value: doc.toJS({ maxAliasCount: 100 }) as unknown, index });
    } catch (err) {
      return {
        ok: false,
        error: { line: lineCounter.linePos(doc.range[0]).line, col: 1, message: firstLine((err as Error).message) },
      };
    }
  }
  return { ok: true, documents };
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
