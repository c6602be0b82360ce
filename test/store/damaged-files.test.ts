import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parseConfig } from '../../firmware/config.js';
import { ConfigOverlay } from '../../firmware/config-overlay.js';
import { TransactionHistory } from '../../firmware/http/history.js';
import { createLogger, type Logger } from '../../firmware/log.js';
import { AuthorizationStore } from '../../firmware/ocpp/model/authorization.js';
import { AvailabilityStore } from '../../firmware/ocpp/model/availability-store.js';
import { CertificateStore } from '../../firmware/ocpp/model/certificate-store.js';
import { OcppConfiguration } from '../../firmware/ocpp/model/configuration.js';
import { LOST_PROFILES_LIMIT_A, ProfileStore } from '../../firmware/ocpp/model/profile-store.js';
import { TxQueue } from '../../firmware/ocpp/model/tx-queue.js';
import { FaultLog } from '../../firmware/safety/fault-log.js';
import { readRunState, writeRunState } from '../../firmware/store/run-state.js';
import { DAMAGES } from '../helpers/damage.js';
import { chargingProfile } from '../helpers/smart-rig.js';

/**
 * Every state file in dataDir × the five damages × a restart: the documented safe side (README,
 * Damaged files). Each file is written by its own store in a first run, damaged, read by a second
 * run (the outcome, an error line naming the file) and by a third (the safe side still holds where
 * it must; no new error).
 */

interface Case {
  /** The first run: the store writes its file. */
  write(dataDir: string, log: Logger): Promise<void>;
  /** A run after the damage: what it must find. */
  check(t: Test, dataDir: string, log: Logger, run: 'after the damage' | 'restarted again'): Promise<void>;
}

const CP_MAX_10A = chargingProfile(
  { chargingProfileId: 7, chargingProfilePurpose: 'ChargePointMaxProfile', stackLevel: 0 },
  { chargingSchedulePeriod: [{ startPeriod: 0, limit: 10 }] },
);

const CASES: Record<string, Case> = {
  'faults.json': {
    async write(dataDir, log) {
      const faults = await FaultLog.load(dataDir, log);
      faults.raised({ kind: 'contactorWelded', sinceMs: 1, cause: 'weld', latch: 'installer' });
      await faults.flush();
    },
    async check(t, dataDir, log) {
      const faults = await FaultLog.load(dataDir, log);
      await faults.flush();
      t.ok(
        faults.latched.some((f) => f.kind === 'storage' && f.latch === 'installer'),
        'latched (storage) until an installer clears it',
      );
    },
  },
  'ocpp-charging-profiles.json': {
    async write(dataDir, log) {
      await (await ProfileStore.load(dataDir, log)).install({ connectorId: 0, profile: CP_MAX_10A });
    },
    async check(t, dataDir, log) {
      const store = await ProfileStore.load(dataDir, log);
      t.equal(store.lostLimitA, LOST_PROFILES_LIMIT_A, `capped at ${LOST_PROFILES_LIMIT_A} A: never above the lost 10 A`);
      t.ok(store.lost !== null, 'reported');
      if (!t.passing()) return;
      const fresh = await ProfileStore.load(join(dataDir, 'scratch'), log);
      t.equal(fresh.lostLimitA, null, 'a fresh dataDir has no cap (control)');
    },
  },
  'ocpp-availability.json': {
    async write(dataDir, log) {
      await (await AvailabilityStore.load(dataDir, log)).set('Inoperative');
    },
    async check(t, dataDir, log) {
      const store = await AvailabilityStore.load(dataDir, log);
      t.equal(store.availability, 'Inoperative', 'Inoperative until set');
      t.ok(store.lost !== null, 'reported');
    },
  },
  'config-overlay.json': {
    async write(dataDir, log) {
      await (await ConfigOverlay.load(parseConfig({ dataDir }), log)).set('modbus.bootCurrentA', 0);
    },
    async check(t, dataDir, log, run) {
      const overlay = await ConfigOverlay.load(parseConfig({ dataDir }), log);
      t.equal(overlay.config.modbus.bootCurrentA ?? null, null, 'the config file applies');
      if (run === 'after the damage') t.ok(overlay.damaged !== null, 'reported');
    },
  },
  'ocpp-configuration.json': {
    async write(dataDir, log) {
      await (await OcppConfiguration.load(dataDir, log)).change('MeterValueSampleInterval', '5');
    },
    async check(t, dataDir, log) {
      t.equal(
        (await OcppConfiguration.load(dataDir, log)).get('MeterValueSampleInterval'),
        (await OcppConfiguration.load(null, log)).get('MeterValueSampleInterval'),
        'the defaults',
      );
    },
  },
  'ocpp-authorization.json': {
    async write(dataDir, log) {
      await (await AuthorizationStore.load(dataDir, log)).updateList(3, 'Full', [{ idTag: 'CARD', idTagInfo: { status: 'Accepted' } }]);
    },
    async check(t, dataDir, log) {
      t.equal(
        (await AuthorizationStore.load(dataDir, log)).lookup('CARD', { listEnabled: true, cacheEnabled: true, nowMs: 0 }),
        null,
        'an empty local list and cache: the backend or the offline rules decide',
      );
    },
  },
  'ocpp-certificates.json': {
    async write(dataDir, log) {
      await CertificateStore.load(dataDir, log);
      writeFileSync(join(dataDir, 'ocpp-certificates.json'), JSON.stringify({ roots: [] }));
    },
    async check(t, dataDir, log) {
      t.ok(await CertificateStore.load(dataDir, log), 'no installed certificates: the config files (ocpp.caFile, certFile) apply');
    },
  },
  'state.json': {
    async write(dataDir, log) {
      await writeRunState(dataDir, { bootId: 'b1', cleanStop: false }, log);
    },
    async check(t, dataDir, log) {
      t.equal(await readRunState(dataDir, log), null, 'no previous run known: a transaction left open is closed as PowerLoss');
    },
  },
  'transaction-history.json': {
    async write(dataDir, log) {
      const history = await TransactionHistory.load(dataDir, log);
      history.add({
        source: 'local',
        transactionId: null,
        idTag: 'X',
        startedAt: '2026-01-01T00:00:00Z',
        stoppedAt: '2026-01-01T01:00:00Z',
        meterStartWh: 0,
        meterStopWh: 10,
        reason: 'Local',
      });
      await history.flush();
    },
    async check(t, dataDir, log) {
      t.ok(await TransactionHistory.load(dataDir, log), 'an empty owner history');
    },
  },
};

function recording(): { log: Logger; errors: () => Array<Record<string, unknown>>; reset(): void } {
  let lines: Array<Record<string, unknown>> = [];
  return {
    log: createLogger({ level: 'error', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }),
    errors: () => lines,
    reset: () => (lines = []),
  };
}

for (const [file, c] of Object.entries(CASES)) {
  for (const [damage, apply] of Object.entries(DAMAGES)) {
    t.test(`${file} ${damage}`, async (t) => {
      const dataDir = t.testdir({});
      const { log, errors, reset } = recording();
      await c.write(dataDir, log);
      t.ok(existsSync(join(dataDir, file)), 'written by its store');
      // The worst case: only the damaged file is left (no previous generation to fall back on).
      for (const name of [`${file}.prev`]) if (existsSync(join(dataDir, name))) writeFileSync(join(dataDir, name), '');
      apply(join(dataDir, file));
      reset();
      await c.check(t, dataDir, log, 'after the damage');
      t.ok(
        errors().some((l) => String(l['path'] ?? '').endsWith(file)),
        'logged at error, naming the file',
      );
      reset();
      await c.check(t, dataDir, log, 'restarted again');
      t.same(
        errors().filter((l) => l['msg'] === 'stored file unreadable'),
        [],
        'the next restart reads a good file',
      );
    });
  }
}

t.test(
  'ocpp-transactions.jsonl: damaged lines skipped and reported; a directory in its place holds new charging (the journal cannot be written)',
  async (t) => {
    for (const [damage, apply] of Object.entries(DAMAGES)) {
      const dataDir = t.testdir({});
      const { log, errors } = recording();
      writeFileSync(join(dataDir, 'ocpp-transactions.jsonl'), '{"k":"ids","nextSeq":5,"nextTx":9}\n');
      apply(join(dataDir, 'ocpp-transactions.jsonl'));
      const stored = await TxQueue.load(dataDir, log);
      t.ok(stored, `${damage}: the queue loads`);
      if (damage === 'directory') {
        t.ok(
          errors().some((l) => l['msg'] === 'journal unreadable; starting empty'),
          'reported',
        );
        stored.journal.append({ k: 'ids', nextSeq: 1, nextTx: 1 });
        await stored.journal.flush();
        t.equal(stored.journal.healthy, false, 'not writable: a new transaction is held (pausedBy storage), see storage-failure.test.ts');
      }
      if (damage === 'garbage' || damage === 'wrongType')
        t.ok(
          errors().some((l) => l['msg'] === 'journal: damaged records skipped'),
          `${damage}: reported`,
        );
    }
  },
);
