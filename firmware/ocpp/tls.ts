import { readFile } from 'node:fs/promises';
import type { SecureContextOptions } from 'node:tls';
import { ConfigError } from '../config.js';

/**
 * The cipher suites the OCPP 1.6 security whitepaper names for TLS 1.2 (security profiles 2 and
 * 3); TLS 1.3 uses Node's own suites, all of them AEAD.
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
].join(':');

export interface TlsSettings {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly insecureTls: boolean;
}

/** What the WebSocket client passes to `tls.connect` for a `wss://` central system. */
export type OcppTlsOptions = SecureContextOptions & { readonly rejectUnauthorized: boolean; readonly minVersion: 'TLSv1.2' };

/**
 * The TLS side of the OCPP link: the server certificate must chain to `ocpp.caFile` (without
 * one, to the system's roots) and match the host name, unless `ocpp.insecureTls` says otherwise;
 * TLS 1.2 or newer; a client certificate and key when both are given (security profile 3). A
 * file that cannot be read is a config error naming its key.
 */
export async function ocppTlsOptions(settings: TlsSettings): Promise<OcppTlsOptions> {
  const read = async (key: 'caFile' | 'certFile' | 'keyFile'): Promise<string | undefined> => {
    const path = settings[key];
    if (path === undefined) return undefined;
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`ocpp.${key}`, `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const [ca, cert, key] = await Promise.all([read('caFile'), read('certFile'), read('keyFile')]);
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError(cert === undefined ? 'ocpp.certFile' : 'ocpp.keyFile', 'a client certificate needs both certFile and keyFile');
  return {
    ...(ca !== undefined && { ca }),
    ...(cert !== undefined && key !== undefined && { cert, key }),
    rejectUnauthorized: !settings.insecureTls,
    minVersion: 'TLSv1.2',
    ciphers: TLS12_CIPHERS,
  };
}
