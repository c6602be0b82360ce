import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import t from 'tap';
import { startCentralSystem, type CentralSystem } from '../helpers/central-system.js';
import { pollUntil, startBoxFor, type RunningBox } from '../helpers/firmware-process.js';
import { makeCertificates } from '../helpers/tls-fixtures.js';
import { startBroker, subscribe } from '../helpers/mosquitto.js';
import { HTTP_ON_ANY_PORT, setUpAndLogIn } from '../helpers/web-client.js';

/**
 * The web page end to end in headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against the built firmware and a real central system, on a phone-sized screen: log in, watch
 * the simulated car start charging live, change the OCPP URL and see the firmware reconnect,
 * upload a CA certificate, connect to an MQTT broker (mosquitto), log out. One browser launch for the whole file.
 * WEB_SCREENSHOT_DIR=folder also copies the screenshot of the status page while charging there.
 */

const PASSWORD = 'owner password 1';
const PHONE = { width: 390, height: 844 };

let browser: Browser;
let page: Page;
let box: RunningBox;
let first: CentralSystem;
let second: CentralSystem;

t.before(async () => {
  [first, second] = await Promise.all([startCentralSystem(), startCentralSystem()]);
  box = await startBoxFor(t, {
    ...HTTP_ON_ANY_PORT,
    sim: { controlPort: 0, signedMeter: true },
    ocpp: { url: first.url, chargeBoxId: 'box-web', fixedIdTag: 'OWNER01' },
    grid: {},
  });
  await setUpAndLogIn(box, PASSWORD);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
  });
  page = await (await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true })).newPage();
  page.setDefaultTimeout(15_000);
});

t.teardown(async () => {
  await browser?.close();
  await first?.close();
  await second?.close();
});

const base = (): string => `http://127.0.0.1:${box.httpPort}`;

t.test('log in', async (t) => {
  await page.goto(base());
  await page.locator('#login-view').waitFor({ state: 'visible' });
  t.ok(await page.locator('#app-view').isHidden(), 'nothing but the login before the password');
  await page.fill('#login-password', 'wrong password');
  await page.click('#login-form button');
  await page.locator('#login-message', { hasText: 'wrong password' }).waitFor();
  await page.fill('#login-password', PASSWORD);
  await page.click('#login-form button');
  await page.locator('#app-view').waitFor({ state: 'visible' });
  await page.locator('#link', { hasText: 'live' }).waitFor();
  t.equal(await page.textContent('#connector'), 'Available');
  t.match(await page.textContent('#ocpp-state'), /^connected \(ws:\/\/127\.0\.0\.1:\d+\/ocpp\)/);
  await page.locator('#meter-key').waitFor({ state: 'visible' });
  t.equal(
    ((await page.textContent('#meter-key')) ?? '').trim(),
    String((await box.sim())['meter'].publicKey).trim(),
    "the page shows the signing meter's public key (CONTRACT §9)",
  );
  t.match(await page.textContent('#signed-meter'), /^SmartWallbox SIM-OCMF-1 SIMMTR000001$/);
  const cookies = await page.context().cookies();
  t.match(cookies, [{ name: 'wallbox_session', httpOnly: true, sameSite: 'Strict' }]);
});

t.test('the simulated car starts charging, seen live; screenshot of the status page', async (t) => {
  await box.simPost('/sim/ev', { state: 'C' });
  await page.locator('#connector', { hasText: 'Charging' }).waitFor();
  await page.locator('#contactor', { hasText: 'closed' }).waitFor();
  t.match(await page.textContent('#offered'), /^32\.0 A on 3 phases, limited by installation limit$/);
  t.match(await page.textContent('#power'), /^2[12]\.\d\d kW$/, 'about 22 kW on three phases at 32 A');
  await page.locator('#session-energy', { hasText: 'OWNER01' }).waitFor();
  // A few live points so the chart shows the ramp.
  await pollUntil(
    async () => Number((await page.textContent('#session-energy'))?.match(/^([\d.]+) kWh/)?.[1] ?? 0),
    (kwh) => kwh >= 0.02,
    15_000,
    200,
  );
  t.ok(await page.locator('#chart canvas').count(), 'the chart is drawn');
  const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
  t.ok(overflow <= 0, `no sideways scrolling on a phone (overflow ${overflow} px)`);

  const phoneShot = join(t.testdirName, 'status-charging-phone.png');
  await page.screenshot({ path: phoneShot, fullPage: false });
  await page.setViewportSize({ width: 1280, height: 900 });
  // The chart follows its card's width (a ResizeObserver): redrawn for the desktop once wider than the phone.
  await page.waitForFunction(`(document.querySelector('#chart canvas')?.clientWidth ?? 0) > ${PHONE.width}`);
  const desktopShot = join(t.testdirName, 'status-charging.png');
  await page.screenshot({ path: desktopShot, fullPage: false });
  await page.setViewportSize(PHONE);
  const keep = process.env['WEB_SCREENSHOT_DIR'];
  if (keep) {
    copyFileSync(desktopShot, join(keep, 'status-charging.png'));
    copyFileSync(phoneShot, join(keep, 'status-charging-phone.png'));
  }
});

t.test('the grid operator limits (§14a): shown live on the status card, with the export link', async (t) => {
  t.equal(await page.textContent('#grid-state'), 'not limiting');
  await box.simPost('/sim/inputs', { gridControl: true });
  await page.locator('#grid-state', { hasText: 'LIMITED since' }).waitFor();
  t.match(await page.textContent('#grid-state'), /: 4200 W = 6\.0 A$/);
  await page.locator('#offered', { hasText: '6.0 A on 3 phases, limited by grid operator (§14a)' }).waitFor();
  t.equal(await page.getAttribute('a[href="/api/grid/activations"]', 'download'), 'grid-activations.jsonl');
  await box.simPost('/sim/inputs', { gridControl: false });
  await page.locator('#grid-state', { hasText: 'not limiting' }).waitFor();
  await page.locator('#offered', { hasText: '32.0 A on 3 phases' }).waitFor();
  t.pass('released: 32 A again');
});

t.test('change the OCPP URL and see the firmware reconnect', async (t) => {
  await page.fill('#ocpp-url', second.url);
  await page.click('#ocpp-form button[type=submit]');
  await page.locator('#ocpp-message', { hasText: 'Applied now: ocpp.' }).waitFor();
  t.match((await first.waitForCall('StopTransaction')).params, { reason: 'Reboot' });
  await second.waitForCall('BootNotification');
  await page.locator('#ocpp-state', { hasText: `connected (${second.url})` }).waitFor();
  await second.waitForCall('StartTransaction');
  await page.locator('#connector', { hasText: 'Charging' }).waitFor();
  await page.locator('#transactions tr', { hasText: 'Reboot' }).waitFor();
  t.equal(await page.inputValue('#ocpp-url'), second.url);
});

t.test('upload a CA certificate', async (t) => {
  const certs = makeCertificates(t.testdir({}));
  await page.setInputFiles('#ca-upload', certs.ca);
  await page.click('#ca-form button[type=submit]');
  await page.locator('#ca-message', { hasText: 'Installed: CN=Test ca' }).waitFor();
  // The page says "Installed" first, then reloads the configuration that names the file.
  await page.locator('#ca-file', { hasText: /data\/certs\/ocpp-ca\.pem$/ }).waitFor();
  t.match(await page.textContent('#ca-file'), /data\/certs\/ocpp-ca\.pem$/);
  await page.setInputFiles('#ca-upload', {
    name: 'junk.pem',
    mimeType: 'application/x-pem-file',
    buffer: Buffer.from('not a certificate'),
  });
  await page.click('#ca-form button[type=submit]');
  await page.locator('#ca-message.error', { hasText: 'pem: no PEM certificate' }).waitFor();
  t.pass('a bad file is refused with the reason');
});

t.test('connect to an MQTT broker from the settings, without a restart', async (t) => {
  const broker = await startBroker(t.testdir({}));
  t.teardown(() => broker.stop());
  const sub = await subscribe(broker, 'wallbox/#');
  t.teardown(() => sub.stop());
  await page.check('#mqtt-enabled');
  await page.fill('#mqtt-url', broker.url);
  await page.fill('#mqtt-username', 'wallbox');
  await page.fill('#mqtt-password', 'broker pass 1');
  await page.click('#mqtt-form button[type=submit]');
  await page.locator('#mqtt-message', { hasText: 'Applied now: mqtt.' }).waitFor();
  t.match(await sub.waitFor((m) => m.topic === 'wallbox/SIM-000001/status' && m.payload.includes('"status":"Charging"')), {
    payload: /"transaction":\{"transactionId":\d+,"idTag":"OWNER01"/,
  });
  await page.locator('#mqtt-state', { hasText: 'connected · wallbox/SIM-000001/' }).waitFor();
  t.equal(await page.getAttribute('#mqtt-password', 'placeholder'), 'set (leave empty to keep)', 'the password is write-only');
  await page.fill('#mqtt-url', 'http://nope');
  await page.click('#mqtt-form button[type=submit]');
  await page.locator('#mqtt-message.error', { hasText: 'mqtt.url' }).waitFor();
});

t.test('log out', async (t) => {
  await page.click('#logout');
  await page.locator('#login-view').waitFor({ state: 'visible' });
  t.ok(await page.locator('#app-view').isHidden());
  const status = await page.evaluate(async () => (await fetch('/api/status')).status);
  t.equal(status, 401, 'the session is gone on the server too');
});
