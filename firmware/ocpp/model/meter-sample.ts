import { Type } from '@sinclair/typebox';
import type { ChargingStatus } from '../../charging/controller.js';
import type { RequestOf } from '../messages.js';
import type { Measurand } from './configuration.js';
import { storedCheck } from './stored-check.js';

/** One MeterValue of OCPP 1.6 (MeterValues.req, StopTransaction.req transactionData), as the schema types it. */
export type MeterValue = RequestOf<'MeterValues'>['meterValue'][number];
type SampledValue = MeterValue['sampledValue'][number];
type Context = 'Sample.Periodic' | 'Sample.Clock' | 'Transaction.Begin' | 'Transaction.End' | 'Trigger';

const PHASES = ['L1', 'L2', 'L3'] as const;

/** One MeterValue of the measurands asked for, from the charging status; a lost meter gives none but the offer. */
export function meterValue(status: ChargingStatus, measurands: readonly Measurand[], context: Context, timestamp: string): MeterValue {
  const sampledValue: SampledValue[] = [];
  const meter = status.meter;
  const lost = status.faults.some((f) => f.kind === 'meterLost');
  const live = meter !== null && !lost;
  for (const measurand of measurands) {
    switch (measurand) {
      case 'Energy.Active.Import.Register':
        if (live) sampledValue.push({ value: String(Math.round(meter.energyWh)), context, measurand, unit: 'Wh', location: 'Outlet' });
        break;
      case 'Power.Active.Import':
        if (live) sampledValue.push({ value: String(Math.round(meter.powerW)), context, measurand, unit: 'W', location: 'Outlet' });
        break;
      case 'Current.Import':
        if (live)
          meter.currentsA.forEach((a, i) =>
            sampledValue.push({ value: a.toFixed(1), context, measurand, unit: 'A', ...phaseOf(i), location: 'Outlet' }),
          );
        break;
      case 'Voltage':
        if (live)
          meter.voltagesV.forEach((v, i) =>
            sampledValue.push({ value: v.toFixed(1), context, measurand, unit: 'V', ...phaseOf(i), location: 'Outlet' }),
          );
        break;
      case 'Current.Offered':
        sampledValue.push({ value: status.offeredA.toFixed(1), context, measurand, unit: 'A', location: 'Outlet' });
        break;
    }
  }
  return { timestamp, sampledValue };
}

/** The phase of the i-th value of a three-phase reading (none beyond L3). */
function phaseOf(i: number): { phase?: (typeof PHASES)[number] } {
  const phase = PHASES[i];
  return phase === undefined ? {} : { phase };
}

/** A MeterValue as a kept payload holds it (read back from the journal: checked, not trusted). */
const isStoredEntry = storedCheck(Type.Object({ timestamp: Type.String(), sampledValue: Type.Array(Type.Unknown()) }));
/** A sampled value of the energy register in Wh, not a signed record. */
const isRegisterValue = storedCheck(
  Type.Object({
    value: Type.Union([Type.String(), Type.Number()]),
    measurand: Type.Literal('Energy.Active.Import.Register'),
    unit: Type.Optional(Type.Literal('Wh')),
    format: Type.Optional(Type.Literal('Raw')),
  }),
);

/** The energy register reading in MeterValue entries (the latest one), or null when they carry none. */
export function registerReading(meterValues: readonly unknown[]): { wh: number; at: string } | null {
  let reading: { wh: number; at: string } | null = null;
  for (const entry of meterValues) {
    if (!isStoredEntry(entry)) continue;
    const energy = entry.sampledValue.find((s): s is { value: string | number } => isRegisterValue(s));
    const wh = Number(energy?.value);
    if (energy !== undefined && Number.isFinite(wh)) reading = { wh, at: entry.timestamp };
  }
  return reading;
}
