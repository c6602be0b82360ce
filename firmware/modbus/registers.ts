/**
 * The cFos-compatible register map (CONTRACT §3) as data: the one table that the slave on both
 * transports, the README's register table and the tests read. Addresses are the 0-based numbers
 * on the wire; values are raw integers (a `scale` of 0.1 means the raw value counts tenths).
 */

export type RegisterType = 'uint16' | 'uint32' | 'int32' | 'uint64' | 'string';
export type Access = 'r' | 'w' | 'rw';
/** `persistent` writes go to dataDir; `volatile` ones are RAM only (safe to write every second). */
export type Storage = 'constant' | 'live' | 'persistent' | 'volatile';

export interface RegisterDef {
  readonly address: number;
  readonly name: RegisterName;
  /** Number of 16-bit registers. */
  readonly count: number;
  readonly type: RegisterType;
  readonly access: Access;
  readonly storage: Storage;
  /** Value = raw × scale, in `unit`. */
  readonly scale?: number;
  readonly unit?: string;
  /** The raw values a write may carry: a list of inclusive ranges. */
  readonly writable?: ReadonlyArray<readonly [number, number]>;
  readonly description: string;
}

export type RegisterName =
  | 'vendorId'
  | 'productId'
  | 'firmwareVersion'
  | 'mapVersion'
  | 'serialNumber'
  | 'productName'
  | 'unitId'
  | 'phaseCurrentsValid'
  | 'energyWh'
  | 'powerW'
  | 'currentL1'
  | 'currentL2'
  | 'currentL3'
  | 'installationLimit'
  | 'bootLimit'
  | 'cpDisconnect'
  | 'phaseSelection'
  | 'evseState'
  | 'currentLimit'
  | 'chargingEnable'
  | 'offeredCurrent'
  | 'idTag'
  | 'meterAttached'
  | 'features';

/** The map's window: reads inside it succeed (holes read 0); anything leaving it is exception 02. */
export const WINDOW_START = 8000;
export const WINDOW_END = 8128;

export const REGISTERS: readonly RegisterDef[] = Object.freeze([
  { address: 8000, name: 'vendorId', count: 2, type: 'uint32', access: 'r', storage: 'constant', description: 'vendor id' },
  { address: 8002, name: 'productId', count: 1, type: 'uint16', access: 'r', storage: 'constant', description: 'product id' },
  {
    address: 8004,
    name: 'firmwareVersion',
    count: 2,
    type: 'uint32',
    access: 'r',
    storage: 'constant',
    description: 'firmware version: major << 24, minor << 16, patch',
  },
  {
    address: 8006,
    name: 'mapVersion',
    count: 1,
    type: 'uint16',
    access: 'r',
    storage: 'constant',
    description: 'register map version, 0x0100',
  },
  {
    address: 8008,
    name: 'serialNumber',
    count: 8,
    type: 'string',
    access: 'r',
    storage: 'constant',
    description: 'serial number, ASCII, zero padded',
  },
  {
    address: 8016,
    name: 'productName',
    count: 16,
    type: 'string',
    access: 'r',
    storage: 'constant',
    description: 'product name, ASCII, zero padded',
  },
  {
    address: 8040,
    name: 'unitId',
    count: 1,
    type: 'uint16',
    access: 'rw',
    storage: 'persistent',
    writable: [[1, 247]],
    description: 'Modbus unit id; applies after the reply',
  },
  {
    address: 8057,
    name: 'phaseCurrentsValid',
    count: 1,
    type: 'uint16',
    access: 'r',
    storage: 'live',
    description: 'non-zero: the per-phase currents 8064..8069 are valid',
  },
  {
    address: 8058,
    name: 'energyWh',
    count: 4,
    type: 'uint64',
    access: 'r',
    storage: 'live',
    unit: 'Wh',
    description: 'charging energy total (never 0 once the meter has given a reading)',
  },
  {
    address: 8062,
    name: 'powerW',
    count: 2,
    type: 'int32',
    access: 'r',
    storage: 'live',
    unit: 'W',
    description: 'active power; -1 = meter not available',
  },
  ...([1, 2, 3] as const).map((phase): RegisterDef => ({
    address: 8062 + 2 * phase,
    name: `currentL${phase}`,
    count: 2,
    type: 'int32',
    access: 'r',
    storage: 'live',
    scale: 0.1,
    unit: 'A',
    description: `current L${phase}`,
  })),
  {
    address: 8080,
    name: 'installationLimit',
    count: 1,
    type: 'uint16',
    access: 'r',
    storage: 'constant',
    scale: 0.1,
    unit: 'A',
    description: 'installation limit evse.maxCurrentA',
  },
  {
    address: 8081,
    name: 'bootLimit',
    count: 1,
    type: 'uint16',
    access: 'rw',
    storage: 'persistent',
    scale: 0.1,
    unit: 'A',
    writable: [
      [0, 0],
      [60, 800],
    ],
    description: 'value of 8093 after boot (default: 8080)',
  },
  {
    address: 8086,
    name: 'cpDisconnect',
    count: 1,
    type: 'uint16',
    access: 'w',
    storage: 'volatile',
    unit: 's',
    writable: [[1, 60]],
    description: 'CP disconnect (wake-up) for N seconds',
  },
  {
    address: 8087,
    name: 'phaseSelection',
    count: 1,
    type: 'uint16',
    access: 'rw',
    storage: 'volatile',
    writable: [[0, 1]],
    description: '1 = one phase, 0 = three phases (phase switching enabled only)',
  },
  {
    address: 8092,
    name: 'evseState',
    count: 1,
    type: 'uint16',
    access: 'r',
    storage: 'live',
    description: 'state in the low byte: 0 A, 1 B, 2 C, 3 D, 4 E, 5 F (frozen during a CP disconnect)',
  },
  {
    address: 8093,
    name: 'currentLimit',
    count: 1,
    type: 'uint16',
    access: 'rw',
    storage: 'volatile',
    scale: 0.1,
    unit: 'A',
    writable: [[0, 800]],
    description: 'charging current limit from the energy manager; below 60 pauses',
  },
  {
    address: 8094,
    name: 'chargingEnable',
    count: 1,
    type: 'uint16',
    access: 'rw',
    storage: 'volatile',
    writable: [[0, 1]],
    description: 'charging enable: 1 allowed, 0 paused',
  },
  {
    address: 8095,
    name: 'offeredCurrent',
    count: 1,
    type: 'uint16',
    access: 'r',
    storage: 'live',
    scale: 0.1,
    unit: 'A',
    description: 'current offered to the car on the pilot now (0 = none)',
  },
  {
    address: 8096,
    name: 'idTag',
    count: 15,
    type: 'string',
    access: 'r',
    storage: 'live',
    description: 'idTag of the running or last transaction (cleared in state A)',
  },
  {
    address: 8112,
    name: 'meterAttached',
    count: 1,
    type: 'uint16',
    access: 'r',
    storage: 'constant',
    description: 'non-zero: a meter is attached, 8058..8063 are valid',
  },
  {
    address: 8113,
    name: 'features',
    count: 1,
    type: 'uint16',
    access: 'r',
    storage: 'constant',
    description: 'feature flags: bit 8 = 1p/3p phase switching enabled',
  },
] satisfies RegisterDef[]);

const BY_ADDRESS = new Map(REGISTERS.map((def) => [def.address, def]));

/** The register that starts at `address`, if any. */
export function registerAt(address: number): RegisterDef | undefined {
  return BY_ADDRESS.get(address);
}

/** The value a register holds (numbers for integer types, text for strings). */
export type RegisterValues = Readonly<Record<RegisterName, number | string>>;
