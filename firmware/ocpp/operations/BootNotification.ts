import type { ResponseOf } from '../messages.js';
import type { OcppServices } from '../services.js';
import type { ChargePointIdentity } from '../session.js';

/** What this message uses. */
export type Deps = Pick<OcppServices, 'rpc'>;

/** The signing meter's type and serial number (CONTRACT §9). */
export interface MeterIdentity {
  readonly meterType: string;
  readonly meterSerialNumber: string;
}

/** The schema's CiString25Type for the meter's fields. */
const METER_FIELD_LENGTH = 25;

/** BootNotification (sent by the charge point): who the box is, with its signing meter when it has one. */
export function send(deps: Deps, identity: ChargePointIdentity, meter: MeterIdentity | null): Promise<ResponseOf<'BootNotification'>> {
  return deps.rpc.call('BootNotification', {
    chargePointVendor: identity.vendor,
    chargePointModel: identity.model,
    chargePointSerialNumber: identity.serialNumber,
    firmwareVersion: identity.firmwareVersion,
    ...(meter && {
      meterType: meter.meterType.slice(0, METER_FIELD_LENGTH),
      meterSerialNumber: meter.meterSerialNumber.slice(0, METER_FIELD_LENGTH),
    }),
  });
}
