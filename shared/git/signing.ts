import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { invalidSpec } from './errors.ts';
import { privateTempDir } from './temp-dirs.ts';

const run = promisify(execFile);

export type SigningFormat = 'openpgp' | 'ssh';

/** How git signs a commit: config and environment for the child, and `--gpg-sign=<arg>`. */
export interface SigningContext {
  format: SigningFormat;
  config: Array<[string, string]>;
  env: Record<string, string>;
  /** The value for `--gpg-sign=`; the key file or fingerprint, never key material. */
  keyId: string;
  dispose(): Promise<void>;
}

/** Tells the key kind from its armor. Passphrase-protected keys are not supported. */
export function signingFormatOf(privateKey: string): SigningFormat {
  if (privateKey.includes('-----BEGIN PGP PRIVATE KEY BLOCK-----')) return 'openpgp';
  if (privateKey.includes('-----BEGIN OPENSSH PRIVATE KEY-----')) return 'ssh';
  throw invalidSpec('the signing key is neither an armored OpenPGP private key nor an OpenSSH private key');
}

/**
 * Prepares a throwaway keyring (OpenPGP) or key file (SSH) in a private temp directory. The key
 * reaches gpg and ssh-keygen through files only. A gpg-agent started for the keyring is stopped
 * by dispose().
 */
export async function prepareSigning(privateKey: string): Promise<SigningContext> {
  const format = signingFormatOf(privateKey);
  const temp = await privateTempDir('sign');
  const dir = temp.path;
  const keyFile = join(dir, 'signing.key');
  await writeFile(keyFile, privateKey.endsWith('\n') ? privateKey : `${privateKey}\n`, { mode: 0o600 });
  if (format === 'ssh') {
    return {
      format,
      config: [
        ['gpg.format', 'ssh'],
        ['user.signingKey', keyFile],
      ],
      env: {},
      keyId: keyFile,
      dispose: () => temp.remove(),
    };
  }

  const home = join(dir, 'gnupg');
  await mkdir(home, { mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: home, LC_ALL: 'C' };
  const dispose = async () => {
    await run('gpgconf', ['--kill', 'gpg-agent'], { env }).catch(() => undefined);
    await temp.remove();
  };
  try {
    await run('gpg', ['--batch', '--quiet', '--import', '--', keyFile], { env, timeout: 60_000 });
    await rm(keyFile, { force: true });
    const { stdout } = await run('gpg', ['--batch', '--with-colons', '--list-secret-keys'], { env, timeout: 60_000 });
    const fingerprint = /^fpr:(?::*)([0-9A-F]{40,64}):/m.exec(stdout)?.[1];
    if (!fingerprint) throw invalidSpec('the OpenPGP signing key holds no secret key');
    return { format, config: [['gpg.format', 'openpgp']], env: { GNUPGHOME: home }, keyId: fingerprint, dispose };
  } catch (err) {
    await dispose();
    if (err instanceof Error && 'code' in err && typeof (err as { code: unknown }).code === 'number') {
      throw invalidSpec('the OpenPGP signing key could not be imported (passphrase-protected keys are not supported)');
    }
    throw err;
  }
}
