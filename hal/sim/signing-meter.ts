import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Identification, SigningMeter, SigningMeterIdentity } from '../meter.js';
import type { SimPlant } from './plant.js';

/** What the simulated meter keeps in its own memory (dataDir), across restarts. */
interface SigningState {
  /** The last transaction pagination number used (OCMF PG "T<n>"); the next record gets one more. */
  pagination: number;
  /** The meter transaction begun and not yet ended. */
  open: Identification | null;
}

const METER_VENDOR = 'SmartWallbox';
const METER_MODEL = 'SIM-OCMF-1';
const METER_SERIAL = 'SIMMTR000001';
const METER_FIRMWARE = '1.0.0';
/** OCMF format version the records follow (SAFE-eV OCMF 1.0). */
const OCMF_VERSION = '1.0';
/** OBIS code of the active energy import register (OCMF RI). */
const OBIS_ENERGY_IMPORT = '1-b:1.8.0';

/** OCMF user assignment per identification type (OCMF tables 11, 13, 14, 17). */
const ASSIGNMENT: Record<Identification['type'], { IS: boolean; IL: string; IF: string[] }> = {
  ISO14443: { IS: true, IL: 'HEARSAY', IF: ['RFID_PLAIN'] },
  CENTRAL: { IS: true, IL: 'TRUSTED', IF: ['OCPP_RS'] },
  LOCAL: { IS: false, IL: 'NONE', IF: [] },
};

/**
 * The simulated board's calibration-law meter (`sim.signedMeter`, CONTRACT §7 and §9): an ECDSA
 * P-256 key pair in `dataDir`, and OCMF records (SAFE-eV OCMF 1.0) of the begin and end
 * readings, signed as ECDSA-secp256r1-SHA256 over the payload section's bytes. Like a real meter
 * it keeps its pagination counter and its open transaction across restarts; with the `meterLost`
 * fault it does not answer.
 */
export class SimSigningMeter implements SigningMeter {
  readonly #plant: SimPlant;
  readonly #privateKey: KeyObject;
  readonly #publicKeyPem: string;
  readonly #statePath: string;
  readonly #state: SigningState;

  private constructor(plant: SimPlant, privateKey: KeyObject, statePath: string, state: SigningState) {
    this.#plant = plant;
    this.#privateKey = privateKey;
    this.#publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
    this.#statePath = statePath;
    this.#state = state;
  }

  /** The meter of `dataDir`: its key pair (made at first use) and its counters. */
  static async open(plant: SimPlant, dataDir: string): Promise<SimSigningMeter> {
    await mkdir(dataDir, { recursive: true });
    const keyPath = join(dataDir, 'sim-meter-key.pem');
    let keyPem = await readFile(keyPath, 'utf8').catch(() => null);
    if (keyPem === null) {
      keyPem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      await writeFile(`${keyPath}.tmp`, keyPem, { mode: 0o600 });
      renameSync(`${keyPath}.tmp`, keyPath);
    }
    const statePath = join(dataDir, 'sim-meter-ocmf.json');
    const stored = await readFile(statePath, 'utf8').catch(() => null);
    const state = stored === null ? { pagination: 0, open: null } : parseState(stored);
    // A meter whose memory is damaged must not start counting again: refused, never reset.
    if (state === null) throw new Error(`${statePath}: the simulated meter's memory is unreadable`);
    return new SimSigningMeter(plant, createPrivateKey(keyPem), statePath, state);
  }

  async identity(): Promise<SigningMeterIdentity> {
    this.#answer();
    return { meterType: `${METER_VENDOR} ${METER_MODEL}`, meterSerialNumber: METER_SERIAL, publicKeyPem: this.#publicKeyPem };
  }

  async beginTransaction(identification: Identification): Promise<string> {
    this.#answer();
    if (this.#state.open !== null) throw new Error('a meter transaction is already open');
    this.#state.open = { idTag: identification.idTag, type: identification.type };
    return this.#record('B');
  }

  async endTransaction(): Promise<string | null> {
    this.#answer();
    if (this.#state.open === null) return null;
    const record = this.#record('E');
    this.#state.open = null;
    this.#keep();
    return record;
  }

  /** A lost meter does not answer (the caller's bound decides how long it waits). */
  #answer(): void {
    if (this.#plant.faults.has('meterLost')) throw new Error('meter does not answer');
  }

  /** One signed record of the register now; the pagination number is kept before the record leaves the meter. */
  #record(flag: 'B' | 'E'): string {
    const open = this.#state.open as Identification;
    this.#state.pagination += 1;
    this.#keep();
    const assignment = ASSIGNMENT[open.type];
    const payload = JSON.stringify({
      FV: OCMF_VERSION,
      GI: `${METER_VENDOR} ${METER_MODEL}`,
      GS: METER_SERIAL,
      GV: METER_FIRMWARE,
      PG: `T${this.#state.pagination}`,
      MV: METER_VENDOR,
      MM: METER_MODEL,
      MS: METER_SERIAL,
      MF: METER_FIRMWARE,
      IS: assignment.IS,
      IL: assignment.IL,
      IF: assignment.IF,
      IT: open.type,
      ID: open.idTag,
      RD: [
        {
          TM: ocmfTime(this.#plant.clock.now()),
          TX: flag,
          RV: Math.floor(this.#plant.meterReading().energyWh) / 1000,
          RI: OBIS_ENERGY_IMPORT,
          RU: 'kWh',
          RT: 'AC',
          EF: '',
          ST: 'G',
        },
      ],
    });
    const signature = sign('sha256', Buffer.from(payload, 'utf8'), { key: this.#privateKey, dsaEncoding: 'der' });
    return `OCMF|${payload}|${JSON.stringify({ SA: 'ECDSA-secp256r1-SHA256', SD: signature.toString('hex').toUpperCase() })}`;
  }

  /** Synchronously and by rename, as the meter's own memory: a kill never reuses a pagination number. */
  #keep(): void {
    writeFileSync(`${this.#statePath}.tmp`, JSON.stringify(this.#state));
    renameSync(`${this.#statePath}.tmp`, this.#statePath);
  }
}

/** OCMF time (`2018-07-24T13:22:04,000+0000 S`): UTC with milliseconds, synchronised. */
function ocmfTime(ms: number): string {
  return `${new Date(ms).toISOString().replace('.', ',').replace('Z', '+0000')} S`;
}

function parseState(text: string): SigningState | null {
  try {
    const state = JSON.parse(text) as Partial<SigningState>;
    if (!Number.isInteger(state.pagination) || (state.pagination as number) < 0) return null;
    const open = state.open;
    const validOpen = open === null || (typeof open === 'object' && typeof open?.idTag === 'string' && open.type in ASSIGNMENT);
    return validOpen ? { pagination: state.pagination as number, open: open ?? null } : null;
  } catch {
    return null;
  }
}
