import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, parseConfig } from '../../firmware/config.js';
import { boxRigFor } from '../helpers/box-rig.js';
import { runFirmware, startBoxFor } from '../helpers/firmware-process.js';
import { discoveryProblems } from '../helpers/home-assistant.js';
import { brokerFor, subscriberFor, type Received, type Subscriber } from '../helpers/mosquitto.js';
import { makeCertificates, type Certificates } from '../helpers/tls-fixtures.js';
import { HTTP_ON_ANY_PORT, setUpAndLogIn } from '../helpers/web-client.js';

/**
 * The `mqtt` settings (CONTRACT §2): checked naming the key, changed from the web API without a
 * restart (password write-only), Home Assistant discovery on a real broker and its removal, and
 * mqtts:// with a client certificate against mosquitto requiring one. The box in-process on the
 * simulated clock (box-rig.ts) but where the process is the point: exit 2 on a bad certificate
 * file, and the broker's will when the box is killed.
 */

const P = 'wallbox/SIM-000001';
// The cases run side by side (after the certificates): each has its own folder, box and peers,
// and most of their time is waiting for them.
t.jobs = 4;

let certs: Certificates;
t.before(() => {
  const dir = join(t.testdirName, 'certs');
  mkdirSync(dir, { recursive: true });
  certs = makeCertificates(dir);
});

t.test('the mqtt section: defaults, and bad values refused naming the key', async (t) => {
  t.equal(parseConfig({}).mqtt, null);
  t.same(parseConfig({ mqtt: { url: 'mqtt://broker:1883' } }).mqtt, { url: 'mqtt://broker:1883', homeAssistant: true });
  const refused: Array<[unknown, string]> = [
    [{ url: 'http://broker' }, 'mqtt.url'],
    [{}, 'mqtt.url'],
    [{ url: 'mqtt://b', topicPrefix: 'home/#' }, 'mqtt.topicPrefix'],
    [{ url: 'mqtt://b', topicPrefix: 'home/' }, 'mqtt.topicPrefix'],
    [{ url: 'mqtt://b', topicPrefix: '$SYS/x' }, 'mqtt.topicPrefix'],
    [{ url: 'mqtt://b', homeAssistant: 'yes' }, 'mqtt.homeAssistant'],
    [{ url: 'mqtt://b', qos: 2 }, 'mqtt.qos'],
  ];
  for (const [mqtt, key] of refused) {
    const refusedKey = ((): string | null => {
      try {
        parseConfig({ mqtt });
        return null;
      } catch (err) {
        return err instanceof ConfigError ? err.key : String(err);
      }
    })();
    t.equal(refusedKey, key, JSON.stringify(mqtt));
  }
});

t.test('a certificate file that cannot be read, or one with mqtt://: exit 2 naming the key', async (t) => {
  const dir = t.testdir({
    'unreadable.json': JSON.stringify({
      dataDir: 'data',
      http: null,
      modbus: { tcp: null },
      mqtt: { url: 'mqtts://127.0.0.1:1', caFile: '/nonexistent/ca.pem' },
    }),
    'plain.json': JSON.stringify({
      dataDir: 'data',
      http: null,
      modbus: { tcp: null },
      mqtt: { url: 'mqtt://127.0.0.1:1', certFile: '/x.pem', keyFile: '/x.key' },
    }),
  });
  const unreadable = await runFirmware(['--config', join(dir, 'unreadable.json')], dir);
  t.equal(unreadable.code, 2);
  t.match(unreadable.stderr, /^config: mqtt\.caFile: cannot read \/nonexistent\/ca\.pem: ENOENT/);
  const plain = await runFirmware(['--config', join(dir, 'plain.json')], dir);
  t.equal(plain.code, 2);
  t.match(plain.stderr, /^config: mqtt\.certFile: only with an mqtts:\/\/ url/);
});

t.test('the web API: mqtt applied without a restart, password write-only, discovery published and removed', async (t) => {
  const b = await brokerFor(t);
  const discovery = await subscriberFor(t, b, 'homeassistant/#');
  const box = await boxRigFor(t, { ...HTTP_ON_ANY_PORT });
  // The box's time passes while a subscriber waits (its MQTT timers are on the simulated clock).
  const waitOn = (sub: Subscriber, match: (m: Received) => boolean): Promise<Received> => box.settle(sub.waitFor(match));
  const client = await setUpAndLogIn(box, 'installer secret 1');
  t.equal((await client.call('GET', '/api/status')).body.mqtt, null, 'no mqtt section: off');

  const bad = await client.call('PATCH', '/api/config', { mqtt: { url: 'ws://broker' } });
  t.equal(bad.status, 400);
  t.match(bad.body.error, /^mqtt\.url: /);
  const badFile = await client.call('PATCH', '/api/config', { mqtt: { url: b.url, caFile: '/nonexistent.pem' } });
  t.equal(badFile.status, 400);
  t.match(badFile.body.error, /^mqtt\.caFile: only with an mqtts:\/\/ url/);
  const noUser = await client.call('PATCH', '/api/config', { mqtt: { url: b.url, password: 'x' } });
  t.equal(noUser.status, 400);
  t.match(noUser.body.error, /^mqtt\.username: is required with mqtt\.password/);

  const live = await subscriberFor(t, b, `${P}/#`);
  const reply = await client.call('PATCH', '/api/config', { mqtt: { url: b.url, username: 'box', password: 'broker-secret-9' } });
  t.equal(reply.status, 200);
  t.same(reply.body.changed, [{ key: 'mqtt', apply: 'now' }]);
  t.match(reply.body.config.mqtt, { url: b.url, username: 'box', passwordSet: true, homeAssistant: true });
  t.notOk(JSON.stringify(reply.body).includes('broker-secret-9'), 'the password is never sent back');
  t.notOk(JSON.stringify(box.logs.lines).includes('broker-secret-9'), 'nor logged');
  await waitOn(live, (m) => m.topic === `${P}/status`);
  t.match((await client.call('GET', '/api/status')).body.mqtt, { connected: true, topicPrefix: P });

  // Home Assistant discovery: retained, one device, documented keys only, P/availability for all.
  const configs = new Map<string, Record<string, any>>();
  await waitOn(discovery, (m) => {
    if (m.payload !== '') configs.set(m.topic, JSON.parse(m.payload) as Record<string, any>);
    return configs.size === 9;
  });
  t.same(
    [...configs.keys()].sort(),
    [
      'homeassistant/number/SIM-000001/current_limit/config',
      'homeassistant/sensor/SIM-000001/current_l1/config',
      'homeassistant/sensor/SIM-000001/current_l2/config',
      'homeassistant/sensor/SIM-000001/current_l3/config',
      'homeassistant/sensor/SIM-000001/energy/config',
      'homeassistant/sensor/SIM-000001/offered_current/config',
      'homeassistant/sensor/SIM-000001/power/config',
      'homeassistant/sensor/SIM-000001/status/config',
      'homeassistant/switch/SIM-000001/charging_enabled/config',
    ],
    'no select without phase switching',
  );
  for (const [topic, config] of configs) {
    const component = topic.split('/')[1] as string;
    t.same(discoveryProblems(component, config), [], topic);
    t.equal(config['availability_topic'], `${P}/availability`);
    t.match(config['device'], {
      identifiers: ['wallbox_SIM-000001'],
      serial_number: 'SIM-000001',
      model: 'SW-Controller-1',
      sw_version: String,
    });
  }

  // Switched off: every config becomes an empty retained message (Home Assistant removes the entities).
  const seen = discovery.messages.length;
  const off = await client.call('PATCH', '/api/config', { mqtt: { homeAssistant: false } });
  t.equal(off.status, 200);
  t.match(off.body.config.mqtt, { username: 'box', passwordSet: true, homeAssistant: false }, 'the stored password is kept');
  const removed = new Set<string>();
  await waitOn(discovery, (m) => {
    if (discovery.messages.indexOf(m) >= seen && m.payload === '') removed.add(m.topic);
    return [...configs.keys()].every((topic) => removed.has(topic));
  });
  const late = await subscriberFor(t, b, 'homeassistant/#');
  await waitOn(live, (m) => m.topic === `${P}/availability` && live.messages.indexOf(m) > 0 && m.payload === 'online');
  t.same(
    late.messages.filter((m) => m.payload !== ''),
    [],
    'nothing retained under homeassistant/ any more',
  );

  // A new prefix: the status moves there at once.
  const moved = await subscriberFor(t, b, 'garage/box/#');
  t.equal((await client.call('PATCH', '/api/config', { mqtt: { topicPrefix: 'garage/box' } })).status, 200);
  t.match(await waitOn(moved, (m) => m.topic === 'garage/box/status'), { retained: false });
  t.match(
    await waitOn(live, (m) => m.topic === `${P}/availability` && m.payload === 'offline'),
    { payload: 'offline' },
    'the old prefix says offline',
  );

  t.equal((await client.call('PATCH', '/api/config', { mqtt: null })).status, 200);
  await waitOn(moved, (m) => m.topic === 'garage/box/availability' && m.payload === 'offline');
  t.equal((await client.call('GET', '/api/status')).body.mqtt, null);
});

t.test('mqtts:// with the CA and a client certificate, against mosquitto requiring one', async (t) => {
  const b = await brokerFor(t, { ca: certs.ca, cert: certs.server.cert, key: certs.server.key });
  const live = await subscriberFor(t, b, `${P}/#`);
  const url = `mqtts://127.0.0.1:${String(b.tlsPort)}`;
  const box = await startBoxFor(t, { mqtt: { url, caFile: certs.ca, certFile: certs.client.cert, keyFile: certs.client.key } });
  t.match(await live.waitFor((m) => m.topic === `${P}/availability`), { payload: 'online' });
  await live.waitFor((m) => m.topic === `${P}/status`);
  await box.fw.kill();
  t.match(
    await live.waitFor((m) => m.topic === `${P}/availability` && m.payload === 'offline'),
    { retained: false },
    'the will over TLS too',
  );

  // Without a client certificate the broker refuses the box; it keeps trying and says why, once.
  // (In-process from here: only the will needed a process to kill.)
  const refused = await boxRigFor(t, { mqtt: { url, caFile: certs.ca } });
  const line = await refused.fw.waitForLog((l) => l['msg'] === 'MQTT connection failed; retrying with backoff');
  t.type(line['err'], 'string');
  // Nor does it accept a broker whose certificate does not chain to caFile.
  const otherCa = await boxRigFor(t, { mqtt: { url, caFile: certs.otherCa, certFile: certs.client.cert, keyFile: certs.client.key } });
  t.match(await otherCa.fw.waitForLog((l) => l['msg'] === 'MQTT connection failed; retrying with backoff'), { err: /certificate/ });
});
