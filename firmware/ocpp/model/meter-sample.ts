import type { ChargingStatus } from '../../charging/controller.js';
import type { Measurand } from './configuration.js';

type Context = 'Sample.Periodic' | 'Sample.Clock' | 'Transaction.Begin' | 'Transaction.End' | 'Trigger';

export interface SampledValue {
  value: string;
  context: Context;
  measurand: Measurand;
  unit: 'Wh' | 'W' | 'A' | 'V';
  phase?: 'L1' | 'L2' | 'L3';
  location: 'Outlet';
}

const PHASES = ['L1', 'L2', 'L3'] as const;

/** One MeterValue of the measurands asked for, from the charging status; a lost meter gives none but the offer. */
export function meterValue(status: ChargingStatus, measurands: readonly Measurand[], context: Context, timestamp: string) {
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
            sampledValue.push({
              value: a.toFixed(1),
              context,
              measurand,
              unit: 'A',
              phase: PHASES[i] as SampledValue['phase'],
              location: 'Outlet',
            }),
          );
        break;
      case 'Voltage':
        if (live)
          meter.voltagesV.forEach((v, i) =>
            sampledValue.push({
              value: v.toFixed(1),
              context,
              measurand,
              unit: 'V',
              phase: PHASES[i] as SampledValue['phase'],
              location: 'Outlet',
            }),
          );
        break;
      case 'Current.Offered':
        sampledValue.push({ value: status.offeredA.toFixed(1), context, measurand, unit: 'A', location: 'Outlet' });
        break;
    }
  }
  return { timestamp, sampledValue };
}

/** The energy register reading in MeterValue entries (the latest one), or null when they carry none. */
export function registerReading(meterValues: readonly unknown[]): { wh: number; at: string } | null {
  let reading: { wh: number; at: string } | null = null;
  for (const entry of meterValues as Array<{ timestamp?: unknown; sampledValue?: Array<Partial<SampledValue> & { format?: string }> }>) {
    const energy = entry.sampledValue?.find(
      (s) => s.measurand === 'Energy.Active.Import.Register' && (s.unit ?? 'Wh') === 'Wh' && s.format !== 'SignedData',
    );
    const wh = Number(energy?.value);
    if (energy !== undefined && Number.isFinite(wh) && typeof entry.timestamp === 'string') reading = { wh, at: entry.timestamp };
  }
  return reading;
}
