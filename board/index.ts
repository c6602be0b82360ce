import type { BoardContext, Board, BoardFactory } from './board.js';
import { createSimBoard } from './sim.js';

const BOARDS: Readonly<Record<string, BoardFactory>> = {
  sim: createSimBoard,
};

export const boardNames = Object.keys(BOARDS);

/** The board named in the config, or undefined when there is no such board. */
export function boardFactory(name: string): BoardFactory | undefined {
  return Object.hasOwn(BOARDS, name) ? BOARDS[name] : undefined;
}

export type { Board, BoardContext };
