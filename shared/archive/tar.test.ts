import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { TidemarkError } from '../errors/index.ts';
import { extractTar, listTar, safePath } from './tar.ts';

const work = mkdtempSync(join(tmpdir(), 'tidemark-tar-test-'));
after(() => rmSync(work, { recursive: true, force: true }));
let n = 0;
const target = () => join(work, `out-${++n}`);

/** One ustar header block plus padded content. */
function entry(name: string, content: string | Buffer, type = '0', extra: { linkname?: string; prefix?: string } = {}): Buffer {
  const body = typeof content === 'string' ? Buffer.from(content) : content;
  const header = Buffer.alloc(512);
  header.write(name, 0, 100, 'utf8');
  header.write('0000644\0', 100, 'latin1');
  header.write('0000000\0', 108, 'latin1');
  header.write('0000000\0', 116, 'latin1');
  header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  header.write('00000000000\0', 136, 'latin1');
  header.write(type, 156, 'latin1');
  if (extra.linkname) header.write(extra.linkname, 157, 100, 'utf8');
  header.write('ustar\0', 257, 'latin1');
  header.write('00', 263, 'latin1');
  if (extra.prefix) header.write(extra.prefix, 345, 155, 'utf8');
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  const padded = Buffer.alloc(Math.ceil(body.length / 512) * 512);
  body.copy(padded);
  return Buffer.concat([header, padded]);
}

function pax(records: Record<string, string>): Buffer {
  let text = '';
  for (const [k, v] of Object.entries(records)) {
    const rest = ` ${k}=${v}\n`;
    let len = rest.length + 1;
    while (`${len}${rest}`.length !== len) len++;
    text += `${len}${rest}`;
  }
  return entry('PaxHeaders/x', text, 'x');
}

const archive = (...parts: Buffer[]) => Buffer.concat([...parts, Buffer.alloc(1024)]);

async function refused(data: Buffer, code: string, pattern: RegExp, limits = {}): Promise<void> {
  const dir = target();
  await assert.rejects(extractTar(data, dir, 'chart.tgz', limits), (err: unknown) => {
    assert.ok(err instanceof TidemarkError);
    assert.equal(err.code, code);
    assert.equal(err.kind, 'terminal');
    assert.match(err.message, pattern);
    return true;
  });
  assert.throws(() => lstatSync(dir), /ENOENT/, 'nothing is written when the archive is refused');
}

describe('extractTar', () => {
  it('extracts files and directories of an archive written by GNU tar, gzip-compressed', async () => {
    const src = join(work, 'src');
    mkdirSync(join(src, 'chart', 'templates'), { recursive: true });
    writeFileSync(join(src, 'chart', 'Chart.yaml'), 'name: demo\n');
    writeFileSync(join(src, 'chart', 'templates', 'cm.yaml'), 'kind: ConfigMap\n');
    const tgz = join(work, 'real.tgz');
    execFileSync('tar', ['-czf', tgz, '-C', src, 'chart']);
    const dir = target();
    const result = await extractTar(readFileSync(tgz), dir, 'real.tgz');
    assert.equal(readFileSync(join(dir, 'chart', 'Chart.yaml'), 'utf8'), 'name: demo\n');
    assert.equal(readFileSync(join(dir, 'chart', 'templates', 'cm.yaml'), 'utf8'), 'kind: ConfigMap\n');
    assert.deepEqual(result.entries.map((e) => `${e.type} ${e.path}`).sort(), [
      'directory chart',
      'directory chart/templates',
      'file chart/Chart.yaml',
      'file chart/templates/cm.yaml',
    ]);
    assert.equal(result.bytes, 11 + 16);
  });

  it('reads long names from pax and GNU headers and the ustar prefix', async () => {
    const long = `${'a'.repeat(120)}/values.yaml`;
    const data = archive(
      pax({ path: long }),
      entry('ignored', 'x: 1\n'),
      entry('././@LongLink', 'gnu/long/name.txt\0', 'L'),
      entry('short', 'gnu'),
      entry('name.txt', 'pre', '0', { prefix: 'p/q' }),
    );
    const dir = target();
    await extractTar(gzipSync(data), dir, 'a.tgz');
    assert.equal(readFileSync(join(dir, long), 'utf8'), 'x: 1\n');
    assert.equal(readFileSync(join(dir, 'gnu/long/name.txt'), 'utf8'), 'gnu');
    assert.equal(readFileSync(join(dir, 'p/q/name.txt'), 'utf8'), 'pre');
  });

  it('does not take file modes from the archive', async () => {
    const dir = target();
    await extractTar(archive(entry('run.sh', '#!/bin/sh\n')), dir, 'a.tar');
    assert.equal(lstatSync(join(dir, 'run.sh')).mode & 0o777, 0o644);
  });

  it('refuses paths that leave the target', async () => {
    await refused(archive(entry('../evil', 'x')), 'ArchiveInvalid', /"\.\."/);
    await refused(archive(entry('a/../../evil', 'x')), 'ArchiveInvalid', /"\.\."/);
    await refused(archive(entry('/etc/evil', 'x')), 'ArchiveInvalid', /absolute path/);
    await refused(archive(pax({ path: '../pax-evil' }), entry('fine', 'x')), 'ArchiveInvalid', /pax-evil/);
    await refused(archive(entry('a\\..\\b', 'x')), 'ArchiveInvalid', /backslash/);
  });

  it('refuses links, devices and FIFOs, whatever they point at', async () => {
    await refused(archive(entry('link', '', '2', { linkname: '/etc/passwd' })), 'ArchiveInvalid', /symbolic link/);
    await refused(archive(entry('inside', 'x'), entry('hard', '', '1', { linkname: 'inside' })), 'ArchiveInvalid', /hard link/);
    await refused(archive(entry('dev', '', '3')), 'ArchiveInvalid', /device/);
    await refused(archive(entry('fifo', '', '6')), 'ArchiveInvalid', /FIFO/);
  });

  it('refuses a symbolic link made by GNU tar', async () => {
    const src = join(work, 'linksrc');
    mkdirSync(src);
    symlinkSync('/etc/passwd', join(src, 'passwd'));
    const tgz = join(work, 'link.tgz');
    execFileSync('tar', ['-czf', tgz, '-C', src, 'passwd']);
    await refused(readFileSync(tgz), 'ArchiveInvalid', /"passwd" of type symbolic link/);
  });

  it('refuses a file twice, and a file used as a directory', async () => {
    await refused(archive(entry('a', 'one'), entry('a', 'two')), 'ArchiveInvalid', /"a" twice/);
    await refused(archive(entry('a', 'one'), entry('a/b', 'two')), 'ArchiveInvalid', /both a file and a directory/);
  });

  it('holds to the file count, the size of one file and the total', async () => {
    await refused(archive(entry('a', 'x'), entry('b', 'x'), entry('c', 'x')), 'ArchiveTooLarge', /more than 2 entries/, { maxFiles: 2 });
    await refused(archive(entry('big', 'x'.repeat(100))), 'ArchiveTooLarge', /big is larger than 99 bytes/, { maxFileBytes: 99 });
    await refused(archive(entry('a', 'x'.repeat(60)), entry('b', 'x'.repeat(60))), 'ArchiveTooLarge', /more than 100 bytes/, {
      maxBytes: 100,
    });
  });

  it('stops a gzip bomb at the bound instead of unpacking it', async () => {
    const bomb = gzipSync(archive(entry('zeros', Buffer.alloc(8 * 1024 * 1024))));
    assert.ok(bomb.length < 64 * 1024);
    await refused(bomb, 'ArchiveTooLarge', /unpacks to more than/, { maxBytes: 1024 * 1024, maxFiles: 10 });
  });

  it('refuses what is not a tar archive, or is cut short', async () => {
    await refused(Buffer.from('<html>not found</html>'.padEnd(600, ' ')), 'ArchiveInvalid', /bad header checksum/);
    const whole = archive(entry('a', 'x'.repeat(2000)));
    await refused(whole.subarray(0, 1024), 'ArchiveInvalid', /ends in the middle of an entry/);
    await refused(Buffer.from([0x1f, 0x8b, 1, 2, 3]), 'ArchiveInvalid', /not valid gzip/);
  });

  it('refuses a target that exists, so nothing planted there is followed', async () => {
    const dir = target();
    mkdirSync(dir);
    await assert.rejects(extractTar(archive(entry('a', 'x')), dir, 'a.tar'), /the target exists/);
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe('listTar and safePath', () => {
  it('lists without writing', () => {
    assert.deepEqual(listTar(archive(entry('./c/Chart.yaml', 'n')), 'a'), [{ path: 'c/Chart.yaml', type: 'file', size: 1 }]);
  });

  it('normalises ./ and repeated slashes', () => {
    assert.equal(safePath('./a//b/./c/', 'x'), 'a/b/c');
  });
});
