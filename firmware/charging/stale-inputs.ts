/** The Modbus watchdog settings (CONTRACT §2 `modbus.timeoutS`, `modbus.failsafeCurrentA`). */
export interface ModbusFailsafe {
  readonly timeoutS: number;
  readonly failsafeCurrentA: number;
}

/** The energy manager's input as the charging core holds it. */
export interface ModbusInput {
  readonly limitA: number;
  readonly enabled: boolean;
}

/**
 * The Modbus input to apply while the protocol side gives no sign of life (its inputs are stale):
 * with a Modbus watchdog configured, what the watchdog would do, min(failsafe, last limit); without
 * one, the last limit stays. Never more current than last allowed, and 8094 keeps its value. OCPP
 * has no failsafe of its own: its limit and permission stay frozen at their last values, which
 * never raises the current. Null: nothing to change.
 */
export function staleModbusInput(last: ModbusInput | null, failsafe: ModbusFailsafe): ModbusInput | null {
  if (last === null || failsafe.timeoutS <= 0) return null;
  const limitA = Math.min(failsafe.failsafeCurrentA, last.limitA);
  return limitA === last.limitA ? null : { limitA, enabled: last.enabled };
}
