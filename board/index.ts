import type { BoardContext, Board, BoardFactory } from './board.js';
import { linuxBoard } from './linux.js';
import { createSimBoard } from './sim.js';
// Board files are bundled with the firmware: a new board is a new JSON file and a line here.
import somRef from './som-ref.json' with { type: 'json' };

const BOARDS: Readonly<Record<string, BoardFactory>> = {
  sim: createSimBoard,
  'som-ref': linuxBoard(somRef, 'board/som-ref.json'),
};

export const boardNames = Object.keys(BOARDS);

/** The board named in the config, or undefined when there is no such board. */
export function boardFactory(name: string): BoardFactory | undefined {
  return Object.hasOwn(BOARDS, name) ? BOARDS[name] : undefined;
}

export type { Board, BoardContext };
