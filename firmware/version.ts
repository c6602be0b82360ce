/** The firmware's version; a test keeps it equal to package.json's. */
export const FIRMWARE_VERSION = '0.1.0';

/** `major.minor.patch` as one number: major << 24 | minor << 16 | patch (Modbus 8004). */
export function packedVersion(version: string): number {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map((part) => Number.parseInt(part, 10));
  return ((major & 0xff) * 0x1000000 + (minor & 0xff) * 0x10000 + (patch & 0xffff)) >>> 0;
}

/**
 * A time before this firmware was built: a host clock earlier than this is certainly not set (no
 * RTC, no time source yet). Move it forward with each release.
 */
export const CLOCK_FLOOR_MS = Date.parse('2026-11-01T00:00:00Z');
