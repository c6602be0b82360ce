import type { EnergyManagerCommand } from '../modbus/model.js';
import type { Topics } from './topics.js';

/** A command payload is a short number; anything longer is refused before it is read. */
export const MAX_COMMAND_BYTES = 32;

/** A command turned into the register write it stands for, or why it is refused. */
export type ParsedCommand =
  { readonly ok: true; readonly name: EnergyManagerCommand; readonly raw: number } | { readonly ok: false; readonly reason: string };

export interface CommandRules {
  /** `evse.phaseSwitching.enabled`: set/phases is refused without it (as Modbus 8087 is). */
  readonly phaseSwitchingEnabled: boolean;
}

const NUMBER = /^-?\d+(\.\d+)?$/;

const refuse = (reason: string): ParsedCommand => ({ ok: false, reason });

/**
 * CONTRACT §8: the meaning of a message on a command topic, as a pure function. `set/limit` is
 * 8093 in A (0 or 6..80, kept to 0.1 A), `set/enable` is 8094 (0 / 1), `set/phases` is 8087
 * (1 / 3 phases, only with phase switching). A command the broker kept retained and hands over
 * at subscription is refused: it would be carried out again at every reconnect, over whatever the
 * energy manager wrote since (a retained publish that arrives live is a command like any other).
 */
export function parseCommand(topics: Topics, topic: string, payload: Uint8Array, retained: boolean, rules: CommandRules): ParsedCommand {
  if (payload.length > MAX_COMMAND_BYTES) return refuse(`payload too large (${payload.length} bytes; at most ${MAX_COMMAND_BYTES})`);
  if (retained)
    return refuse(
      'retained command ignored: a command kept by the broker is not carried out at (re)connect; publish commands without the retain flag',
    );
  const text = Buffer.from(payload).toString('utf8').trim();
  switch (topic) {
    case topics.set.limit: {
      if (!NUMBER.test(text)) return refuse(`not a number: ${JSON.stringify(text)}`);
      const limitA = Number(text);
      if (limitA !== 0 && (limitA < 6 || limitA > 80)) return refuse(`out of range: ${text} A (0, or 6..80 A)`);
      return { ok: true, name: 'currentLimit', raw: Math.round(limitA * 10) };
    }
    case topics.set.enable:
      if (text !== '0' && text !== '1') return refuse(`must be 0 or 1: ${JSON.stringify(text)}`);
      return { ok: true, name: 'chargingEnable', raw: Number(text) };
    case topics.set.phases:
      if (text !== '1' && text !== '3') return refuse(`must be 1 or 3: ${JSON.stringify(text)}`);
      if (!rules.phaseSwitchingEnabled) return refuse('phase switching is not enabled (evse.phaseSwitching.enabled)');
      // 8087: 1 = one phase, 0 = three phases.
      return { ok: true, name: 'phaseSelection', raw: text === '1' ? 1 : 0 };
    default:
      return refuse('unknown command topic (set/limit, set/enable, set/phases)');
  }
}
