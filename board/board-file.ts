import { Type, type Static } from '@sinclair/typebox';
import { compileCheck } from '../firmware/schema-check/compile.js';

/**
 * A Linux board described as data: which pin, bus, channel and address each signal is on, and
 * the polarity and scaling of the analogue front end. Porting to a new board means writing one
 * of these, not code (README "Porting to a board").
 */

const Pin = Type.Object({ pin: Type.Integer({ minimum: 0 }), activeLow: Type.Optional(Type.Boolean()) }, { additionalProperties: false });
const AdcChannel = Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2), Type.Literal(3)]);
const Serial = Type.Object(
  {
    path: Type.String({ minLength: 1 }),
    baudRate: Type.Integer({ minimum: 1200, maximum: 115200 }),
    parity: Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')]),
    dataBits: Type.Union([Type.Literal(7), Type.Literal(8)]),
    stopBits: Type.Union([Type.Literal(1), Type.Literal(2)]),
  },
  { additionalProperties: false },
);

export const BoardFileSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    gpio: Type.Object(
      {
        contactorCoil: Pin,
        contactorMirror: Pin,
        phaseRelay: Pin,
        lockActuator: Pin,
        lockFeedback: Pin,
        rcdTrip: Pin,
        rcdTest: Pin,
        /** The switch that puts the pilot at 0 V (state E); absent: PWM disabled instead. */
        cpStateE: Type.Optional(Pin),
        /** The grid operator's control contact (§14a EnWG); absent: none wired. Closed = active (before activeLow). */
        gridControl: Type.Optional(Pin),
      },
      { additionalProperties: false },
    ),
    /** Debounce of the contactor mirror, RCD and grid operator inputs, ms. */
    inputDebounceMs: Type.Integer({ minimum: 0, maximum: 100 }),
    pwm: Type.Object({ chip: Type.Integer({ minimum: 0 }), channel: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
    adc: Type.Object(
      {
        i2cBus: Type.Integer({ minimum: 0 }),
        address: Type.Integer({ minimum: 0x48, maximum: 0x4b }),
        fullScaleV: Type.Union([Type.Literal(6.144), Type.Literal(4.096), Type.Literal(2.048), Type.Literal(1.024)]),
        cpHigh: AdcChannel,
        cpLow: AdcChannel,
        pp: AdcChannel,
        /** pilot volts = ADC volts × gain + offsetV (the divider and level shift). */
        cpScale: Type.Object({ gain: Type.Number(), offsetV: Type.Number() }, { additionalProperties: false }),
        ppPullUpOhm: Type.Number({ exclusiveMinimum: 0 }),
        ppSupplyV: Type.Number({ exclusiveMinimum: 0 }),
      },
      { additionalProperties: false },
    ),
    watchdog: Type.String({ minLength: 1 }),
    /** The meter on its own RS-485 bus: an SDM630-class meter (default) or an Iskra WM3M4C, which signs (CONTRACT §9). */
    meter: Type.Object(
      {
        ...Serial.properties,
        unitId: Type.Integer({ minimum: 1, maximum: 247 }),
        model: Type.Optional(Type.Union([Type.Literal('sdm630'), Type.Literal('iskra-wm3m4c')])),
      },
      { additionalProperties: false },
    ),
    rfid: Type.Object({ path: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    /** Where the unit's serial number is read from (a file with one line). */
    serialNumberFile: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

export type BoardFile = Static<typeof BoardFileSchema>;

const validate = compileCheck<BoardFile>('first', BoardFileSchema);

/** Checks a board file; an error names the key, like a config error. */
export function parseBoardFile(raw: unknown, source: string): BoardFile {
  if (validate(raw)) return raw;
  const error = validate.errors?.[0];
  const key = (error?.instancePath ?? '').replace(/^\//, '').replaceAll('/', '.') || '(top)';
  throw new Error(
    `board file ${source}: ${key}: ${error?.message ?? 'invalid'}${error?.keyword === 'additionalProperties' ? ` (${String(error.params['additionalProperty'])})` : ''}`,
  );
}
