import type { BoardContext, Board, BoardFactory } from './board.js';
import { createSimBoard } from './sim.js';
// Board files are bundled with the firmware: a new board is a new JSON file and a line here.
import somRef from './som-ref.json' with { type: 'json' };

const BOARDS: Readonly<Record<string, BoardFactory>> = {
  sim: createSimBoard,
  // Loaded when named: the Linux drivers pull in serialport and modbus-serial, which the
  // simulated board never needs (most of its start-up, issue #21).
  'som-ref': async (context) => (await import('./linux.js')).linuxBoard(somRef, 'board/som-ref.json')(context),
};

export const boardNames = Object.keys(BOARDS);

/** The board named in the config, or undefined when there is no such board. */
export function boardFactory(name: string): BoardFactory | undefined {
  return Object.hasOwn(BOARDS, name) ? BOARDS[name] : undefined;
}

export type { Board, BoardContext };
