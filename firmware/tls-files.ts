import { readFile } from 'node:fs/promises';
import { ConfigError } from './config.js';

/** The certificate files of a TLS client section of the config (`ocpp`, `mqtt`). */
export interface TlsFileSettings {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface TlsFiles {
  readonly ca?: string;
  /** Both or neither: a client certificate with its key. */
  readonly client?: { readonly cert: string; readonly key: string };
}

/**
 * Reads the CA list and the client certificate and key named in `settings`. A file that cannot
 * be read, or a certificate without its key, is a config error naming `section.key`.
 */
export async function readTlsFiles(settings: TlsFileSettings, section: string): Promise<TlsFiles> {
  const read = async (key: keyof TlsFileSettings): Promise<string | undefined> => {
    const path = settings[key];
    if (path === undefined) return undefined;
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`${section}.${key}`, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const [ca, cert, key] = await Promise.all([read('caFile'), read('certFile'), read('keyFile')]);
  if ((cert === undefined) !== (key === undefined))
    throw new ConfigError(
      `${section}.${cert === undefined ? 'certFile' : 'keyFile'}`,
      'a client certificate needs both certFile and keyFile',
    );
  return { ...(ca !== undefined && { ca }), ...(cert !== undefined && key !== undefined && { client: { cert, key } }) };
}
