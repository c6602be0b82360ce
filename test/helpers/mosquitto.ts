import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { WatchedList } from './watched-list.js';

/** Debian's broker (`mosquitto`) and its clients (`mosquitto_sub`, `mosquitto_pub`) as independent peers. */

export interface BrokerTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface Broker {
  readonly port: number;
  /** The mqtts:// listener (a client certificate signed by the CA required); null without `tls`. */
  readonly tlsPort: number | null;
  readonly url: string;
  /** Stops the broker (SIGTERM, SIGKILL after 2 s); resolves once it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same ports, with nothing retained (persistence is off). */
  restart(): Promise<void>;
}

/** A free loopback port (mosquitto cannot listen on port 0 and tell which port it got). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Kills `child` (SIGTERM, SIGKILL after 2 s) and resolves once it has exited. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

/** Runs `mosquitto -c` with its config in `dir`; resolves when its log says it is running. */
function runBroker(configFile: string, timeoutMs: number): Promise<ChildProcess> {
  const child = spawn('mosquitto', ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  // A test process that ends without its teardown (a tap timeout) must not leave the broker behind.
  const reap = (): void => void child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  let log = '';
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      void terminate(child);
      reject(new Error(`mosquitto: ${why}; log: ${log}`));
    };
    const timer = setTimeout(() => fail(`not running within ${timeoutMs} ms`), timeoutMs);
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code) => fail(`exited with ${String(code)}`));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      log += line + '\n';
      if (/mosquitto version \S+ running/.test(line)) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.once('exit', () => process.off('exit', reap));
        resolve(child);
      }
    });
  });
}

/**
 * Starts Debian's mosquitto on free loopback ports with a config written into `dir`: a plain
 * listener (anonymous), and with `tls` an mqtts:// listener that requires a client certificate.
 */
export async function startBroker(dir: string, tls?: BrokerTls, timeoutMs = 10_000): Promise<Broker> {
  const port = await freePort();
  const tlsPort = tls ? await freePort() : null;
  const lines = [
    // Run as root, mosquitto would become user "mosquitto" and could not read the test's key files.
    `user ${userInfo().username}`,
    'per_listener_settings false',
    'allow_anonymous true',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    `listener ${port} 127.0.0.1`,
  ];
  if (tls && tlsPort !== null)
    lines.push(
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${tls.ca}`,
      `certfile ${tls.cert}`,
      `keyfile ${tls.key}`,
      'require_certificate true',
    );
  const configFile = join(dir, 'mosquitto.conf');
  writeFileSync(configFile, lines.join('\n') + '\n');
  let child = await runBroker(configFile, timeoutMs);
  return {
    port,
    tlsPort,
    url: `mqtt://127.0.0.1:${port}`,
    stop: () => terminate(child),
    async restart() {
      await terminate(child);
      child = await runBroker(configFile, timeoutMs);
    },
  };
}

/** One message as `mosquitto_sub` printed it. */
export interface Received {
  readonly topic: string;
  readonly payload: string;
  readonly retained: boolean;
}

export interface Subscriber {
  readonly messages: Received[];
  /** The first message (past or future) that `match` accepts; rejects after `timeoutMs`. */
  waitFor(match: (m: Received) => boolean, timeoutMs?: number): Promise<Received>;
  stop(): Promise<void>;
}

/**
 * `mosquitto_sub` on `topic` (MQTT 3.1.1 unless told), printing retained flag, payload length,
 * topic and payload per line; resolves once it is subscribed.
 */
export async function subscribe(broker: Broker, topic: string, options: { protocol?: 'mqttv311' | 'mqttv5' } = {}): Promise<Subscriber> {
  // Line-buffered: mosquitto_sub flushes the messages but not the -d protocol lines.
  const child = spawn(
    'stdbuf',
    [
      '-oL',
      'mosquitto_sub',
      '-h',
      '127.0.0.1',
      '-p',
      String(broker.port),
      '-V',
      options.protocol ?? 'mqttv311',
      '-q',
      '1',
      '-d',
      '-F',
      '%r %l %t %p',
      '-t',
      topic,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const reap = (): void => void child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  const list = new WatchedList<Received>();
  let subscribed = false;
  const ready = new WatchedList<true>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    // -d prints the protocol exchange too: the SUBACK tells that the subscription is in force.
    if (/^Client \S+ received SUBACK/.test(line)) {
      subscribed = true;
      ready.push(true);
      return;
    }
    if (/^Client \S+ (sending|received) /.test(line)) return;
    const match = /^([01]) (\d+) (\S+) ?(.*)$/.exec(line);
    if (match) list.push({ retained: match[1] === '1', topic: match[3] as string, payload: match[4] as string });
  });
  await ready.waitFor(
    (items) => items[0],
    5000,
    () => `mosquitto_sub not subscribed to ${topic} (subscribed: ${subscribed})`,
  );
  return {
    messages: list.items,
    waitFor: (match, timeoutMs = 10_000) =>
      list.waitFor(
        (items) => items.find(match),
        timeoutMs,
        () =>
          `no matching message within ${timeoutMs} ms; saw: ${JSON.stringify(list.items.map((m) => `${m.topic} ${m.payload.slice(0, 200)}`))}`,
      ),
    stop: () => terminate(child),
  };
}

/** `mosquitto_pub` of `payload` (a file path with `file`) on `topic`; resolves with its exit code. */
export async function publish(
  broker: Broker,
  topic: string,
  payload: { message: string } | { file: string },
  options: { retain?: boolean } = {},
): Promise<number | null> {
  const body = 'message' in payload ? ['-m', payload.message] : ['-f', payload.file];
  const child = spawn(
    'mosquitto_pub',
    ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', ...(options.retain ? ['-r'] : []), '-t', topic, ...body],
    { stdio: 'ignore' },
  );
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return code;
}

/** The test's teardown registration (tap's `t.teardown`). */
interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A broker for one test, its config in a folder of its own (t.testdir() is the firmware's); stopped and removed at teardown. */
export async function brokerFor(t: Teardown, tls?: BrokerTls): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const broker = await startBroker(dir, tls);
  t.teardown(() => broker.stop());
  return broker;
}

/** A `mosquitto_sub` on `topic` for one test, stopped at teardown. */
export async function subscriberFor(t: Teardown, broker: Broker, topic: string): Promise<Subscriber> {
  const subscriber = await subscribe(broker, topic);
  t.teardown(() => subscriber.stop());
  return subscriber;
}
