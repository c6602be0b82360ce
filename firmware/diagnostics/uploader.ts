import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../hal/clock.js';
import type { Logger } from '../log.js';
import { safeLocation, uploadFile, withRetries } from '../transfer/http-transfer.js';
import type { LogFile } from './log-file.js';

/** OCPP's names (1.6 DiagnosticsStatus; the security extension's UploadLogStatus maps from them). */
export type DiagnosticsStatus = 'Idle' | 'Uploading' | 'Uploaded' | 'UploadFailed';

export type DiagnosticsStatusReport = (status: DiagnosticsStatus, detail?: string) => Promise<void>;

export interface DiagnosticsRequest {
  readonly location: string;
  readonly retries: number;
  readonly retryIntervalS: number;
  /** Log lines from / until (clock ms); null: no bound. */
  readonly fromMs: number | null;
  readonly toMs: number | null;
  /** Which log it is: the whole log (GetDiagnostics, GetLog DiagnosticsLog) or only the security events (GetLog SecurityLog). */
  readonly log?: 'diagnostics' | 'security';
}

export interface DiagnosticsUploaderOptions {
  readonly logFile: LogFile | null;
  /** Where the fault history is (`dataDir`), and where the archive is made (`dataDir/diagnostics`). */
  readonly dataDir: string;
  /** Goes into the file name (the charge box id or the serial number). */
  readonly identity: string;
  readonly firmwareVersion: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly uploadTimeoutMs?: number;
}

/**
 * GetDiagnostics (and the security extension's GetLog): the log lines of the asked period, the
 * fault history and the version, packed as one `.tar.gz` and uploaded by HTTP POST
 * (multipart/form-data) to the location, with retries. Lines in the log file are already redacted.
 */
export class DiagnosticsUploader {
  readonly #o: DiagnosticsUploaderOptions;
  readonly #log: Logger;
  #status: DiagnosticsStatus = 'Idle';

  constructor(options: DiagnosticsUploaderOptions) {
    this.#o = options;
    this.#log = options.log.child({ module: 'diagnostics' });
  }

  get status(): DiagnosticsStatus {
    return this.#status;
  }

  /** Starts an upload; resolves at once with the file name (what GetDiagnostics.conf returns), the upload goes on. */
  upload(request: DiagnosticsRequest, report: DiagnosticsStatusReport): string {
    const stamp = new Date(this.#o.clock.now())
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const fileName = `${request.log === 'security' ? 'security-log' : 'diagnostics'}-${this.#o.identity.replace(/[^A-Za-z0-9_.-]/g, '_')}-${stamp}.tar.gz`;
    void this.#run(request, fileName, report).catch((err: unknown) => this.#log.error('diagnostics failed', { err }));
    return fileName;
  }

  async #run(request: DiagnosticsRequest, fileName: string, report: DiagnosticsStatusReport): Promise<void> {
    const set = async (status: DiagnosticsStatus, detail?: string): Promise<void> => {
      this.#status = status;
      this.#log.info('diagnostics', { status, location: safeLocation(request.location), ...(detail !== undefined && { detail }) });
      await report(status, detail);
    };
    await set('Uploading');
    const workDir = join(this.#o.dataDir, 'diagnostics');
    await mkdir(workDir, { recursive: true });
    const staging = await mkdtemp(join(workDir, 'pack-'));
    const archive = join(staging, fileName);
    try {
      await this.#pack(request, staging, archive);
      await withRetries(
        () => uploadFile(request.location, archive, { timeoutMs: this.#o.uploadTimeoutMs ?? 120_000, contentType: 'application/gzip' }),
        request,
        this.#o.clock,
        (attempt, err) => this.#log.warn('diagnostics upload failed', { attempt, of: request.retries + 1, reason: err.message }),
      );
      await set('Uploaded', fileName);
    } catch (err) {
      await set('UploadFailed', (err as Error).message);
    } finally {
      this.#status = 'Idle';
      await rm(staging, { recursive: true, force: true });
    }
  }

  async #pack(request: DiagnosticsRequest, staging: string, archive: string): Promise<void> {
    const all = (await this.#o.logFile?.linesBetween(request.fromMs, request.toMs)) ?? [];
    // The security log: the lines SecurityEvents wrote (they carry `securityEvent`).
    const lines = request.log === 'security' ? all.filter((line) => line.includes('"securityEvent":')) : all;
    await writeFile(join(staging, 'firmware.log'), lines.map((line) => line + '\n').join(''));
    const files = ['firmware.log', 'info.json'];
    const info = {
      firmwareVersion: this.#o.firmwareVersion,
      identity: this.#o.identity,
      createdAt: new Date(this.#o.clock.now()).toISOString(),
      from: request.fromMs === null ? null : new Date(request.fromMs).toISOString(),
      to: request.toMs === null ? null : new Date(request.toMs).toISOString(),
      lines: lines.length,
    };
    await writeFile(join(staging, 'info.json'), JSON.stringify(info, null, 2));
    const withFaults = request.log !== 'security';
    if (
      withFaults &&
      (await copyFile(join(this.#o.dataDir, 'faults.json'), join(staging, 'faults.json')).then(
        () => true,
        () => false,
      ))
    )
      files.push('faults.json');
    const { create } = await import('tar'); // on first use (issue #21)
    await create({ gzip: true, file: archive, cwd: staging, portable: true }, files);
  }
}
