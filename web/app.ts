import uPlot from 'uplot';

/** The web page: login or first-start setup, then the live status, chart, settings and history. */

interface Sample {
  t: number;
  currentA: number;
  powerW: number;
  offeredA: number;
}
interface Status {
  connector: { status: string; errorCode: string };
  charging: {
    cp: string | null;
    offeredA: number;
    limitA: number;
    limitedBy: string;
    pausedBy: string | null;
    userPaused: boolean;
    phases: number;
    contactorClosed: boolean;
  };
  meter: { energyWh: number; powerW: number; currentsA: number[]; lost: boolean } | null;
  modbus: { limitA: number; enabled: boolean; watchdog: { timeoutS: number; fired: boolean } };
  ocpp: {
    url: string;
    bootState: string;
    online: boolean;
    transaction: { transactionId: number | null; idTag: string; energyWh: number } | null;
    queued: number;
    deadLetters: number;
  } | null;
  signedMeter: { meterType: string | null; meterSerialNumber: string | null; publicKey: string | null; error: string | null } | null;
  mqtt: { connected: boolean; topicPrefix: string } | null;
  faults: Array<{ kind: string; cause: string }>;
  gridLimited: boolean;
  gridActivation: { start: string; limitW: number; limitsA: number[] } | null;
  storage: Array<{ file: string; problem: string; safeSide: string }>;
  sample: Sample;
}
interface BoxEvent {
  seq: number;
  time: string;
  kind: string;
  text: string;
}
interface PastTransaction {
  stoppedAt: string;
  energyWh: number;
  idTag: string | null;
  reason: string;
}
type Json = Record<string, any>;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
};
const input = (id: string): HTMLInputElement => $<HTMLInputElement>(id);
const text = (id: string, value: string): void => void ($(id).textContent = value);

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (res.status === 401 && path !== '/api/login') showLogin();
  if (!res.ok) throw new ApiError(res.status, (data as { error?: string } | null)?.error ?? res.statusText);
  return data;
}

function say(id: string, message: string, error = false): void {
  const el = $(id);
  el.textContent = message;
  el.classList.toggle('error', error);
}

// ---- views -------------------------------------------------------------------------------

let live: EventSource | null = null;

function show(view: 'login' | 'setup' | 'app'): void {
  $('login-view').hidden = view !== 'login';
  $('setup-view').hidden = view !== 'setup';
  $('app-view').hidden = view !== 'app';
  $('logout').hidden = view !== 'app';
}

function showLogin(): void {
  live?.close();
  live = null;
  show('login');
}

async function boot(): Promise<void> {
  const auth = (await api('GET', '/api/auth')) as { passwordSet: boolean; loggedIn: boolean };
  if (auth.loggedIn) return openApp();
  show(auth.passwordSet ? 'login' : 'setup');
}

async function openApp(): Promise<void> {
  show('app');
  await Promise.all([loadConfig(), loadTransactions(), loadEvents()]);
  live?.close();
  live = new EventSource('/api/live');
  live.addEventListener('status', (e) => renderStatus(JSON.parse((e as MessageEvent).data) as Status));
  live.addEventListener('samples', (e) => chart.reset(JSON.parse((e as MessageEvent).data) as Sample[]));
  live.addEventListener('sample', (e) => chart.add(JSON.parse((e as MessageEvent).data) as Sample));
  live.addEventListener('event', (e) => {
    addEvent(JSON.parse((e as MessageEvent).data) as BoxEvent);
    void loadTransactions();
  });
  live.onerror = () => {
    text('link', 'reconnecting');
    $('link').classList.remove('online');
    // A stream refused because the session ended: back to the login.
    void api('GET', '/api/auth').then(
      (a: { loggedIn: boolean }) => a.loggedIn || showLogin(),
      () => {},
    );
  };
}

// ---- status --------------------------------------------------------------------------------

const CP_TEXT: Record<string, string> = {
  A: 'A: no car',
  B: 'B: car connected',
  C: 'C: car charging / ready',
  D: 'D: ventilation',
  E: 'E: no pilot',
  F: 'F: error',
};
const LIMITER: Record<string, string> = {
  hardware: 'installation limit',
  cable: 'cable',
  modbus: 'energy manager',
  ocpp: 'OCPP profile',
  grid: 'grid operator (§14a)',
};
const PAUSE: Record<string, string> = {
  fault: 'a fault',
  storage: 'storage (the transaction start cannot be written to disk)',
  userPaused: 'you (paused)',
  modbusDisabled: 'energy manager (8094 = 0)',
  ocppNotAllowed: 'OCPP: no transaction',
  belowMinimum: 'limit below 6 A',
};
const kw = (w: number): string => `${(w / 1000).toFixed(2)} kW`;
const kwh = (wh: number): string => `${(wh / 1000).toFixed(2)} kWh`;
let paused = false;

function renderStatus(s: Status): void {
  $('link').classList.add('online');
  text('link', 'live');
  text('connector', s.connector.status + (s.connector.errorCode !== 'NoError' ? ` (${s.connector.errorCode})` : ''));
  text('power', s.meter && !s.meter.lost ? kw(s.meter.powerW) : 'meter —');
  text('cp', s.charging.cp === null ? '–' : (CP_TEXT[s.charging.cp] ?? s.charging.cp));
  const c = s.charging;
  text(
    'offered',
    c.offeredA > 0
      ? `${c.offeredA.toFixed(1)} A on ${c.phases} phase${c.phases === 1 ? '' : 's'}, limited by ${LIMITER[c.limitedBy] ?? c.limitedBy}`
      : `none${c.pausedBy ? `: paused by ${PAUSE[c.pausedBy] ?? c.pausedBy}` : ''} (limit ${c.limitA.toFixed(1)} A, ${LIMITER[c.limitedBy] ?? c.limitedBy})`,
  );
  text('contactor', c.contactorClosed ? 'closed' : 'open');
  text('currents', s.meter ? s.meter.currentsA.map((a) => `${a.toFixed(1)} A`).join(' · ') : '–');
  text('meter', s.meter ? kwh(s.meter.energyWh) : 'no meter');
  const tx = s.ocpp?.transaction;
  text('session-energy', tx ? `${kwh(tx.energyWh)} (transaction ${tx.transactionId ?? 'pending'}, ${tx.idTag})` : '–');
  text(
    'ocpp-state',
    s.ocpp === null
      ? 'off'
      : `${s.ocpp.online ? 'connected' : 'not connected'} (${s.ocpp.url}) · boot ${s.ocpp.bootState} · queued ${s.ocpp.queued}${s.ocpp.deadLetters ? ` · ${s.ocpp.deadLetters} given up` : ''}`,
  );
  const sm = s.signedMeter;
  text(
    'signed-meter',
    sm === null ? 'none' : `${sm.meterType ?? '?'} ${sm.meterSerialNumber ?? ''}${sm.error ? ` · not answering (${sm.error})` : ''}`,
  );
  $('meter-key').hidden = sm?.publicKey == null;
  text('meter-key', sm?.publicKey ?? '');
  const m = s.modbus;
  text(
    'modbus-state',
    `limit ${m.limitA.toFixed(1)} A, ${m.enabled ? 'enabled' : 'disabled'}${m.watchdog.timeoutS > 0 ? `, watchdog ${m.watchdog.timeoutS} s${m.watchdog.fired ? ' FIRED' : ''}` : ''}`,
  );
  text('mqtt-state', s.mqtt === null ? 'off' : `${s.mqtt.connected ? 'connected' : 'not connected'} · ${s.mqtt.topicPrefix}/…`);
  const grid = s.gridActivation;
  text(
    'grid-state',
    s.gridLimited && grid
      ? `LIMITED since ${new Date(grid.start).toLocaleString()}: ${grid.limitW} W = ${(grid.limitsA.at(-1) ?? 0).toFixed(1)} A`
      : 'not limiting',
  );
  $('grid-state').classList.toggle('fault', s.gridLimited);
  const faults = $('faults');
  faults.textContent = s.faults.length === 0 ? 'none' : s.faults.map((f) => `${f.kind}: ${f.cause}`).join('; ');
  faults.classList.toggle('fault', s.faults.length > 0);
  const storage = $('storage');
  storage.textContent = s.storage.length === 0 ? 'ok' : s.storage.map((p) => `${p.file}: ${p.problem}; ${p.safeSide}`).join('; ');
  storage.classList.toggle('fault', s.storage.length > 0);
  paused = c.userPaused;
  const button = $('pause');
  button.textContent = paused ? 'Resume charging' : 'Pause charging';
  button.classList.toggle('paused', paused);
  chart.live(s.sample);
}

// ---- chart ---------------------------------------------------------------------------------

const HOUR_S = 3600;

class Chart {
  /** The firmware's samples (every 10 s, kept there for an hour) and the live points seen on this page (every second). */
  #samples: Sample[] = [];
  #live: Sample[] = [];
  #plot: uPlot | null = null;

  reset(samples: Sample[]): void {
    this.#samples = samples;
    this.#draw();
  }

  add(sample: Sample): void {
    this.#samples.push(sample);
    this.#draw();
  }

  live(sample: Sample): void {
    this.#live.push(sample);
    const oldestMs = Date.now() - HOUR_S * 1000;
    while ((this.#live[0]?.t ?? Infinity) < oldestMs) this.#live.shift();
    this.#draw();
  }

  #data(): uPlot.AlignedData {
    const nowS = Date.now() / 1000;
    const points = [...this.#samples, ...this.#live].filter((p) => p.t / 1000 > nowS - HOUR_S).sort((a, b) => a.t - b.t);
    return [points.map((p) => p.t / 1000), points.map((p) => p.currentA), points.map((p) => p.powerW / 1000)];
  }

  #draw(): void {
    const el = $('chart');
    const width = Math.max(260, el.clientWidth);
    if (this.#plot === null) {
      this.#plot = new uPlot(
        {
          width,
          height: 220,
          series: [
            {},
            { label: 'Current', stroke: '#0b7a4b', width: 2, value: (_u, v) => (v == null ? '–' : `${v.toFixed(1)} A`) },
            { label: 'Power', stroke: '#1f5fa8', width: 2, scale: 'kW', value: (_u, v) => (v == null ? '–' : `${v.toFixed(2)} kW`) },
          ],
          axes: [{}, { label: 'A', size: 50 }, { side: 1, scale: 'kW', label: 'kW', size: 50, grid: { show: false } }],
          // Different headroom on the two scales keeps the current and power lines apart.
          scales: {
            x: { time: true },
            y: { range: (_u, _min, max) => [0, Math.ceil(Math.max(6, max) * 1.1)] },
            kW: { range: (_u, _min, max) => [0, Math.ceil(Math.max(1, max) * 1.4)] },
          },
        },
        this.#data(),
        el,
      );
      new ResizeObserver(() => this.#plot?.setSize({ width: Math.max(260, el.clientWidth), height: 220 })).observe(el);
      return;
    }
    this.#plot.setData(this.#data());
  }
}
const chart = new Chart();

// ---- events and history ----------------------------------------------------------------------

function addEvent(e: BoxEvent): void {
  const list = $('events');
  const li = document.createElement('li');
  const time = document.createElement('time');
  time.textContent = new Date(e.time).toLocaleTimeString();
  li.append(time, `${e.text}`);
  list.prepend(li);
  while (list.children.length > 200) list.lastElementChild?.remove();
}

async function loadEvents(): Promise<void> {
  $('events').replaceChildren();
  for (const e of (await api('GET', '/api/events')) as BoxEvent[]) addEvent(e);
}

async function loadTransactions(): Promise<void> {
  const rows = ((await api('GET', '/api/transactions')) as PastTransaction[])
    .slice()
    .reverse()
    .map((t) => {
      const tr = document.createElement('tr');
      for (const cell of [new Date(t.stoppedAt).toLocaleString(), kwh(t.energyWh), t.idTag ?? '–', t.reason]) {
        const td = document.createElement('td');
        td.textContent = cell;
        tr.append(td);
      }
      return tr;
    });
  $('transactions').replaceChildren(...rows);
}

// ---- settings ------------------------------------------------------------------------------

let config: Json = {};

async function loadConfig(): Promise<void> {
  const reply = (await api('GET', '/api/config')) as { config: Json; pendingRestart: string[] };
  config = reply.config;
  const o = config['ocpp'] as Json | null;
  input('ocpp-enabled').checked = o !== null;
  input('ocpp-url').value = o?.['url'] ?? '';
  input('ocpp-id').value = o?.['chargeBoxId'] ?? '';
  input('ocpp-password').value = '';
  input('ocpp-password').placeholder = o?.['passwordSet'] ? 'set (leave empty to keep)' : 'not set';
  input('ocpp-connector').value = String(o?.['connectorId'] ?? 1);
  input('ocpp-idtag').value = o?.['fixedIdTag'] ?? '';
  input('ocpp-insecure').checked = o?.['insecureTls'] === true;
  text('ca-file', o?.['caFile'] ?? 'system roots');
  text('client-file', o?.['certFile'] ?? 'none');
  const q = config['mqtt'] as Json | null;
  input('mqtt-enabled').checked = q !== null;
  input('mqtt-url').value = q?.['url'] ?? '';
  input('mqtt-username').value = q?.['username'] ?? '';
  input('mqtt-password').value = '';
  input('mqtt-password').placeholder = q?.['passwordSet'] ? 'set (leave empty to keep)' : 'not set';
  input('mqtt-prefix').value = q?.['topicPrefix'] ?? '';
  input('mqtt-ha').checked = q === null || q['homeAssistant'] === true;
  input('mqtt-ca').value = q?.['caFile'] ?? '';
  input('mqtt-cert').value = q?.['certFile'] ?? '';
  input('mqtt-key').value = q?.['keyFile'] ?? '';
  const m = config['modbus'] as Json;
  input('modbus-unit').value = String(m['unitId']);
  input('modbus-timeout').value = String(m['timeoutS']);
  input('modbus-failsafe').value = String(m['failsafeCurrentA']);
  input('modbus-tcp-enabled').checked = m['tcp'] !== null;
  input('modbus-tcp-host').value = m['tcp']?.['host'] ?? '127.0.0.1';
  input('modbus-tcp-port').value = String(m['tcp']?.['port'] ?? 502);
  input('modbus-rtu-enabled').checked = m['rtu'] !== null;
  input('modbus-rtu-path').value = m['rtu']?.['path'] ?? '';
  input('modbus-rtu-baud').value = String(m['rtu']?.['baudRate'] ?? 9600);
  $<HTMLSelectElement>('modbus-rtu-parity').value = m['rtu']?.['parity'] ?? 'none';
  $<HTMLSelectElement>('modbus-rtu-databits').value = String(m['rtu']?.['dataBits'] ?? 8);
  $<HTMLSelectElement>('modbus-rtu-stopbits').value = String(m['rtu']?.['stopBits'] ?? 1);
  const e = config['evse'] as Json;
  input('evse-max').value = String(e['maxCurrentA']);
  $<HTMLSelectElement>('evse-phases').value = String(e['phases']);
  $<HTMLSelectElement>('evse-cable').value = e['cable'];
  input('evse-minoff').value = String(e['minOffS']);
  showPending(reply.pendingRestart);
}

function showPending(keys: string[]): void {
  $('pending').hidden = keys.length === 0;
  text('pending', `Saved, in force after the next restart: ${keys.join(', ')}`);
}

const num = (id: string): number => Number(input(id).value);

function ocppPatch(): Json {
  if (!input('ocpp-enabled').checked) return { ocpp: null };
  const password = input('ocpp-password').value;
  return {
    ocpp: {
      url: input('ocpp-url').value.trim(),
      chargeBoxId: input('ocpp-id').value.trim(),
      connectorId: num('ocpp-connector'),
      fixedIdTag: input('ocpp-idtag').value.trim(),
      insecureTls: input('ocpp-insecure').checked,
      // Left empty: the stored password stays (it is never sent to the page).
      ...(password !== '' && { password }),
    },
  };
}

function mqttPatch(): Json {
  if (!input('mqtt-enabled').checked) return { mqtt: null };
  // An empty field removes the optional key (null in the merge patch); an empty password keeps the stored one.
  const optional = (id: string): string | null => input(id).value.trim() || null;
  const password = input('mqtt-password').value;
  return {
    mqtt: {
      url: input('mqtt-url').value.trim(),
      username: optional('mqtt-username'),
      topicPrefix: optional('mqtt-prefix'),
      homeAssistant: input('mqtt-ha').checked,
      caFile: optional('mqtt-ca'),
      certFile: optional('mqtt-cert'),
      keyFile: optional('mqtt-key'),
      ...(password !== '' && { password }),
    },
  };
}

function modbusPatch(): Json {
  return {
    modbus: {
      unitId: num('modbus-unit'),
      timeoutS: num('modbus-timeout'),
      failsafeCurrentA: num('modbus-failsafe'),
      tcp: input('modbus-tcp-enabled').checked ? { host: input('modbus-tcp-host').value.trim(), port: num('modbus-tcp-port') } : null,
      rtu: input('modbus-rtu-enabled').checked
        ? {
            path: input('modbus-rtu-path').value.trim(),
            baudRate: num('modbus-rtu-baud'),
            parity: $<HTMLSelectElement>('modbus-rtu-parity').value,
            dataBits: Number($<HTMLSelectElement>('modbus-rtu-databits').value),
            stopBits: Number($<HTMLSelectElement>('modbus-rtu-stopbits').value),
          }
        : null,
    },
  };
}

function evsePatch(): Json {
  return {
    evse: {
      maxCurrentA: num('evse-max'),
      phases: Number($<HTMLSelectElement>('evse-phases').value),
      cable: $<HTMLSelectElement>('evse-cable').value,
      minOffS: num('evse-minoff'),
    },
  };
}

function settingsForm(formId: string, messageId: string, patch: () => Json): void {
  $(formId).addEventListener('submit', (ev) => {
    ev.preventDefault();
    say(messageId, 'saving…');
    api('PATCH', '/api/config', patch()).then(
      async (reply: { changed: Array<{ key: string; apply: string }>; pendingRestart: string[] }) => {
        const now = reply.changed.filter((c) => c.apply === 'now').map((c) => c.key);
        const later = reply.changed.filter((c) => c.apply === 'restart').map((c) => c.key);
        say(
          messageId,
          reply.changed.length === 0
            ? 'No change.'
            : [now.length ? `Applied now: ${now.join(', ')}.` : '', later.length ? `After a restart: ${later.join(', ')}.` : '']
                .join(' ')
                .trim(),
        );
        await loadConfig();
      },
      (err: Error) => say(messageId, err.message, true),
    );
  });
}

async function fileText(id: string): Promise<string> {
  const file = input(id).files?.[0];
  if (!file) throw new Error('choose a file first');
  return file.text();
}

function uploadForm(formId: string, messageId: string, path: string, body: () => Promise<Json>): void {
  $(formId).addEventListener('submit', (ev) => {
    ev.preventDefault();
    say(messageId, 'uploading…');
    body()
      .then((b) => api('PUT', path, b))
      .then(
        async (reply: {
          certificates?: Array<{ subject: string; validTo: string }>;
          certificate?: { subject: string; validTo: string };
        }) => {
          const certs = reply.certificates ?? (reply.certificate ? [reply.certificate] : []);
          say(
            messageId,
            `Installed: ${certs.map((c) => `${c.subject.replaceAll('\n', ', ')} (valid to ${c.validTo})`).join('; ')}. OCPP reconnects.`,
          );
          await loadConfig();
        },
        (err: Error) => say(messageId, err.message, true),
      );
  });
}

// ---- wiring --------------------------------------------------------------------------------

$('login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  api('POST', '/api/login', { password: input('login-password').value }).then(
    () => {
      input('login-password').value = '';
      say('login-message', '');
      void openApp();
    },
    (err: Error) => say('login-message', err.message, true),
  );
});

$('setup-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  api('POST', '/api/setup', { setupCode: input('setup-code').value, password: input('setup-password').value }).then(
    () => void openApp(),
    (err: Error) => say('setup-message', err.message, true),
  );
});

$('logout').addEventListener('click', () => {
  void api('POST', '/api/logout', {}).finally(() => showLogin());
});

$('password-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  api('POST', '/api/password', { current: input('password-current').value, password: input('password-new').value }).then(
    () => {
      input('password-current').value = '';
      input('password-new').value = '';
      say('password-message', 'Password changed; other browsers were logged out.');
    },
    (err: Error) => say('password-message', err.message, true),
  );
});

$('pause').addEventListener('click', () => {
  void api('POST', '/api/charging', { paused: !paused }).then((s: Status) => renderStatus(s));
});

settingsForm('ocpp-form', 'ocpp-message', ocppPatch);
settingsForm('mqtt-form', 'mqtt-message', mqttPatch);
settingsForm('modbus-form', 'modbus-message', modbusPatch);
settingsForm('evse-form', 'evse-message', evsePatch);
uploadForm('ca-form', 'ca-message', '/api/certs/ca', async () => ({ pem: await fileText('ca-upload') }));
uploadForm('client-form', 'client-message', '/api/certs/client', async () => ({
  cert: await fileText('client-cert-upload'),
  key: await fileText('client-key-upload'),
}));

void boot();
