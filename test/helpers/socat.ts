import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** A virtual null-modem cable: two pseudo terminals joined by socat. */
export interface PtyPair {
  /** The end the slave (the firmware) opens. */
  readonly slavePath: string;
  /** The end the masters open. */
  readonly masterPath: string;
  /** Stops socat (SIGTERM, SIGKILL after 2 s) and resolves once it has exited. */
  close(): Promise<void>;
}

/**
 * Starts `socat -d -d pty,raw,echo=0 pty,raw,echo=0` and resolves with the two /dev/pts paths
 * once socat has started its transfer loop; rejects (and kills socat) after `timeoutMs`.
 */
export function startPtyPair(timeoutMs = 5000): Promise<PtyPair> {
  const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = once(child, 'exit').catch(() => undefined);
  // A test process that ends without its teardown (a tap timeout) must not leave socat behind.
  const onExit = (): void => void child.kill('SIGKILL');
  process.once('exit', onExit);
  child.once('exit', () => process.off('exit', onExit));
  let stderr = '';
  const close = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise<PtyPair>((resolve, reject) => {
    const paths: string[] = [];
    const fail = (why: string): void => {
      clearTimeout(timer);
      void close();
      reject(new Error(`socat: ${why}; stderr: ${stderr}`));
    };
    const timer = setTimeout(() => fail(`no pty pair within ${timeoutMs} ms`), timeoutMs);
    child.on('error', (err) => fail(err.message));
    child.on('exit', (code, signal) => {
      if (paths.length < 2) fail(`exited early (code ${String(code)}, signal ${String(signal)})`);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr += line + '\n';
      const pty = /PTY is (\/dev\/pts\/\d+)/.exec(line);
      if (pty) paths.push(pty[1] as string);
      if (paths.length === 2 && /starting data transfer loop/.test(line)) {
        clearTimeout(timer);
        resolve({ slavePath: paths[0] as string, masterPath: paths[1] as string, close });
      }
    });
  });
}
