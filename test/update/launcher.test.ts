import { mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parseStored } from '../../firmware/store/atomic-file.js';
import { startLoggedProcess, type FirmwareProcess } from '../helpers/firmware-process.js';
import { freePort } from '../helpers/ocpp-scenario.js';

/**
 * The launcher (dist/launcher.mjs) on an install folder whose slots hold small stand-in firmwares:
 * the trial rules one by one: commit on health, rollback on an early exit, on the deadline, when the
 * box restarted too often during the trial, when the switch never completed, and the OCPP rule
 * (a reachable backend must see the link up).
 */

const LAUNCHER = new URL('../../dist/launcher.mjs', import.meta.url).pathname;

// The cases run side by side: each has its own install folder and launcher, and most of their
// time is a launcher waiting (three of them for the 3 s health timeout).
t.jobs = 4;

/**
 * A stand-in firmware: logs its slot and what the launcher sends, reports `health` (or nothing),
 * exits on SIGTERM; with `exitCode` it exits at once (only on its first start with `firstRunOnly`).
 */
function fakeFirmware(
  slot: string,
  behaviour: { exitCode?: number; firstRunOnly?: boolean; health?: Record<string, unknown> | null },
): string {
  const health = behaviour.health === undefined ? { controlLoop: true, modbus: true, ocpp: 'off' } : behaviour.health;
  const exit = `process.exit(${String(behaviour.exitCode)});`;
  return `
import { existsSync, writeFileSync } from 'node:fs';
const log = (msg, fields = {}) => console.log(JSON.stringify({ level: 'info', msg, slot: ${JSON.stringify(slot)}, ...fields }));
log('fake firmware');
${behaviour.exitCode === undefined ? '' : behaviour.firstRunOnly ? `if (!existsSync('ran-once')) { writeFileSync('ran-once', ''); ${exit} }` : exit}
process.on('message', (m) => log('message from launcher', { message: m }));
process.on('SIGTERM', () => process.exit(0));
${health === null ? 'setInterval(() => {}, 1000);' : `setInterval(() => process.send({ type: 'health', version: '9.9.9', ...${JSON.stringify(health)} }), 100);`}
`;
}

interface Rig {
  readonly root: string;
  readonly launcher: FirmwareProcess;
  pointer(name: string): Promise<string>;
  result(): Promise<Record<string, unknown> | null>;
}

async function rig(
  t: Test,
  slots: { a: string; b: string },
  options: { current: 'a' | 'b'; trial?: Record<string, unknown>; config?: Record<string, unknown> },
): Promise<Rig> {
  const root = t.testdir({ slots: { a: { 'firmware.mjs': slots.a }, b: { 'firmware.mjs': slots.b } } });
  await symlink(`slots/${options.current}`, join(root, 'current'));
  await symlink('slots/a', join(root, 'good'));
  if (options.trial)
    await writeFile(
      join(root, 'trial.json'),
      JSON.stringify({
        version: '9.9.9',
        fromSlot: 'a',
        toSlot: 'b',
        origin: 'UpdateFirmware',
        attempts: 0,
        switchedAt: new Date().toISOString(),
        ...options.trial,
      }),
    );
  await mkdir(join(root, 'etc'));
  await writeFile(join(root, 'etc/config.json'), JSON.stringify(options.config ?? {}));
  const launcher = startLoggedProcess(
    LAUNCHER,
    ['--install-dir', root, '--config', join(root, 'etc/config.json'), '--health-timeout-s', '3'],
    root,
  );
  t.teardown(() => launcher.kill());
  return {
    root,
    launcher,
    pointer: (name) => readlink(join(root, name)),
    result: () =>
      readFile(join(root, 'result.json'), 'utf8').then(
        (text) => (parseStored(text) as { value: Record<string, unknown> }).value,
        () => null,
      ),
  };
}

const started = (r: Rig): string[] => r.launcher.logs.filter((l) => l['msg'] === 'fake firmware').map((l) => String(l['slot']));

t.test('no trial: the current slot runs, and is started again when it exits', async (t) => {
  const r = await rig(t, { a: fakeFirmware('a', { exitCode: 3, firstRunOnly: true }), b: fakeFirmware('b', {}) }, { current: 'a' });
  await r.launcher.waitForLog((l) => l['msg'] === 'firmware exited; restarting' && l['code'] === 3);
  await r.launcher.waitForLog((l) => started(r).length >= 2 && l['msg'] === 'fake firmware');
  t.same([...new Set(started(r))], ['a']);
  t.equal(await r.result(), null);
  t.equal(await r.launcher.stop(), 0, 'SIGTERM: exit 0');
});

t.test('a trial version that reports health is committed: good -> b, result Installed, the firmware told', async (t) => {
  const r = await rig(t, { a: fakeFirmware('a', {}), b: fakeFirmware('b', {}) }, { current: 'b', trial: {} });
  await r.launcher.waitForLog((l) => l['msg'] === 'message from launcher');
  t.equal(await r.pointer('good'), 'slots/b');
  t.equal(await r.pointer('current'), 'slots/b');
  t.match(await r.result(), { status: 'Installed', version: '9.9.9', origin: 'UpdateFirmware' });
  t.same(started(r), ['b']);
  t.equal(await r.launcher.stop(), 0);
});

t.test('a trial version that exits before it is healthy is rolled back at once: a runs, InstallationFailed', async (t) => {
  const r = await rig(t, { a: fakeFirmware('a', {}), b: fakeFirmware('b', { exitCode: 1 }) }, { current: 'b', trial: {} });
  await r.launcher.waitForLog((l) => l['msg'] === 'fake firmware' && l['slot'] === 'a');
  t.same(started(r), ['b', 'a']);
  t.equal(await r.pointer('current'), 'slots/a');
  t.equal(await r.pointer('good'), 'slots/a');
  t.match(await r.result(), { status: 'InstallationFailed', version: '9.9.9', reason: /exited with code 1/ });
  await r.launcher.stop();
});

t.test('a trial version that hangs without health is stopped and rolled back after the health timeout', async (t) => {
  const r = await rig(t, { a: fakeFirmware('a', {}), b: fakeFirmware('b', { health: null }) }, { current: 'b', trial: {} });
  const startMs = Date.now();
  await r.launcher.waitForLog((l) => l['msg'] === 'fake firmware' && l['slot'] === 'a', 10_000);
  t.ok(Date.now() - startMs >= 3000, 'not before the 3 s timeout');
  t.match(await r.result(), { status: 'InstallationFailed', reason: /not healthy within 3 s/ });
  t.equal(await r.pointer('current'), 'slots/a');
  await r.launcher.stop();
});

t.test('a slot that reports health for another version than the one switched to is not taken as healthy', async (t) => {
  const r = await rig(
    t,
    { a: fakeFirmware('a', {}), b: fakeFirmware('b', { health: { version: '1.0.0', controlLoop: true, modbus: true, ocpp: 'off' } }) },
    { current: 'b', trial: {} },
  );
  await r.launcher.waitForLog((l) => l['msg'] === 'fake firmware' && l['slot'] === 'a', 10_000);
  t.match(await r.result(), { status: 'InstallationFailed', reason: /not healthy within/ });
  await r.launcher.stop();
});

t.test('the box restarted during the trial as often as allowed: rolled back without starting it again', async (t) => {
  const r = await rig(t, { a: fakeFirmware('a', {}), b: fakeFirmware('b', {}) }, { current: 'b', trial: { attempts: 2 } });
  await r.launcher.waitForLog((l) => l['msg'] === 'fake firmware');
  t.same(started(r), ['a']);
  t.match(await r.result(), { status: 'InstallationFailed', reason: /not healthy after 2 starts/ });
  await r.launcher.stop();
});

t.test('a trial whose switch never happened (crash before the rename) is dropped; the old version runs', async (t) => {
  const r = await rig(t, { a: fakeFirmware('a', {}), b: fakeFirmware('b', {}) }, { current: 'a', trial: {} });
  await r.launcher.waitForLog((l) => l['msg'] === 'fake firmware');
  t.same(started(r), ['a']);
  t.match(await r.result(), { status: 'InstallationFailed', reason: /did not complete/ });
  await r.launcher.stop();
});

t.test('OCPP: with the backend reachable, a version whose link stays down is not healthy; unreachable, it is', async (t) => {
  const backend = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  t.teardown(() => backend.close());
  const reachableUrl = `ws://127.0.0.1:${(backend.address() as AddressInfo).port}/ocpp`;
  const offline = { controlLoop: true, modbus: true, ocpp: 'offline' };
  const ocpp = (url: string) => ({ ocpp: { url, chargeBoxId: 'x' } });

  const r1 = await rig(
    t,
    { a: fakeFirmware('a', {}), b: fakeFirmware('b', { health: offline }) },
    { current: 'b', trial: {}, config: ocpp(reachableUrl) },
  );
  await r1.launcher.waitForLog((l) => l['msg'] === 'fake firmware' && l['slot'] === 'a', 10_000);
  t.match(await r1.result(), { status: 'InstallationFailed', reason: /not healthy/ }, 'reachable backend, link down: rolled back');
  await r1.launcher.stop();

  const r2 = await rig(
    t,
    { a: fakeFirmware('a', {}), b: fakeFirmware('b', { health: offline }) },
    { current: 'b', trial: {}, config: ocpp(`ws://127.0.0.1:${await freePort()}/ocpp`) },
  );
  await r2.launcher.waitForLog((l) => l['msg'] === 'update committed: the new version is healthy', 10_000);
  t.match(await r2.result(), { status: 'Installed' }, 'backend unreachable: healthy without the link');
  await r2.launcher.stop();
});
